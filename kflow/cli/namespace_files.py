"""``kflow run --namespace-files [NAMESPACE=]DIR``: which folder holds which namespace's files."""

from __future__ import annotations

from pathlib import Path

from kflow.errors import UsageError


def parse_namespace_files(items: list[str]) -> dict[str, Path] | None:
    """``DIR`` (the flow's namespace, key ``""``) and ``NAMESPACE=DIR`` items as a mapping;
    None when none was given (the run then looks for ``_files/<namespace>/`` beside the
    flow)."""
    from kflow.storage.namespace import is_namespace

    if not items:
        return None
    folders: dict[str, Path] = {}
    for item in items:
        namespace, sep, folder = item.partition("=")
        if not sep or Path(item).is_dir() or not is_namespace(namespace):
            namespace, folder = "", item
        if namespace in folders:
            shown = f"namespace {namespace}" if namespace else "the flow's namespace"
            raise UsageError(
                f"--namespace-files: two folders for {shown}",
                hint="give one DIR for the flow's namespace and NAMESPACE=DIR for others",
            )
        folders[namespace] = Path(folder)
    return folders
