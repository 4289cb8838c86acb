"""What the namespace file tasks share: the ``namespace`` property, the namespace's files
and Kestra's errors turned into task failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from kflow.errors import KflowError, TaskError
from kflow.storage.namespace import NamespaceFiles
from kflow.tasks.base import Prop, RunContext, Task

_T = TypeVar("_T")

FILES = Prop(
    required=True,
    kind="any",
    doc="A pattern or a list of patterns (globs, glob:/regex: prefixes) of namespace files",
)


def namespace_prop(required: bool) -> Prop:
    if required:
        return Prop(required=True, kind="string", doc="The namespace of the files")
    return Prop(
        default="{{ flow.namespace }}", kind="string", doc="The namespace (default: the flow's)"
    )


def namespace_files(task: Task, ctx: RunContext) -> NamespaceFiles:
    """The files of the task's rendered ``namespace``."""
    rendered = task.rendered(ctx, "namespace")
    name = str(rendered) if rendered not in (None, "") else ctx.namespace
    files: NamespaceFiles = ctx.namespace_files(name)
    return files


def patterns(task: Task, ctx: RunContext, message: str) -> list[str]:
    """``files``: one pattern or a list of them, rendered."""
    value = task.prop("files")
    if not isinstance(value, str | list):
        raise TaskError(message)
    return task.string_list(ctx, "files")


def as_task_error(what: str, call: Callable[[], _T]) -> _T:
    """``call()``, a refused path or a storage failure becoming a TaskError naming ``what``."""
    try:
        return call()
    except TaskError:
        raise
    except KflowError as exc:
        raise TaskError(f"{what}: {exc.message}") from exc
    except OSError as exc:
        raise TaskError(f"{what}: {exc}") from exc


def join(destination: str, path: str) -> str:
    """``destination`` + ``path`` with one ``/`` between them."""
    if not destination:
        return path.lstrip("/")
    return destination.rstrip("/") + "/" + path.lstrip("/")


__all__ = ["FILES", "as_task_error", "join", "namespace_files", "namespace_prop", "patterns"]
