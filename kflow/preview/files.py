"""Where a task's output files are: the ``kestra:///`` URIs in its outputs, found by the
name a user knows (``kflow preview last my_task out.csv``)."""

from __future__ import annotations

import re
from typing import Any


def stored_files(outputs: Any, key: str | None = None) -> list[tuple[str | None, str]]:
    """Every ``kestra:///`` URI in a task run's outputs, with the output key that holds it
    (``outputFiles`` keys are file names; ``uri`` for a download...), in output order."""
    found: list[tuple[str | None, str]] = []
    if isinstance(outputs, str):
        if outputs.startswith("kestra:///"):
            found.append((key, outputs))
    elif isinstance(outputs, dict):
        for k, v in outputs.items():
            found.extend(stored_files(v, str(k)))
    elif isinstance(outputs, list):
        for v in outputs:
            found.extend(stored_files(v, key))
    return found


# FriendlyId is base62 without padding: a 128-bit id is 22 characters, 21 for about one in
# eight, fewer now and then (a fixed 22 left the prefix on one name in eight)
_UNIQUE_PREFIX = re.compile(r"[0-9A-Za-z]{16,22}-(.+)")


def _file_name(uri: str) -> str:
    """The name a user knows: the URI's last segment without the ``{id}-`` prefix that
    keeps stored names unique (``3Sfs...m6b-out.csv`` → ``out.csv``)."""
    from urllib.parse import unquote

    segment = unquote(uri.rstrip("/").rsplit("/", 1)[-1])
    unique = _UNIQUE_PREFIX.fullmatch(segment)
    return unique.group(1) if unique else segment


def _names(key: str | None, uri: str) -> set[str]:
    from urllib.parse import unquote

    return {unquote(uri.rstrip("/").rsplit("/", 1)[-1]), _file_name(uri), *([key] if key else [])}


def find_output_file(execution: Any, task_id: str, name: str) -> str:
    """The URI of the output file ``name`` of task ``task_id`` in ``execution``, so users
    preview it without copying a long URI. ``name`` is the file's name (the URI's last
    segment) or the output key holding it. No match, or more than one, is a usage error
    that lists the candidates."""
    from kflow.errors import NotFoundError, UsageError

    runs = [tr for tr in execution.task_runs if tr.task_id == task_id]
    if not runs:
        ids = sorted({tr.task_id for tr in execution.task_runs})
        raise NotFoundError(
            f"execution {execution.id} has no run of task {task_id!r}",
            hint=f"tasks in this execution: {', '.join(ids) or 'none'}",
        )
    files: list[tuple[str | None, str]] = []
    for tr in runs:
        for item in stored_files(tr.outputs):
            if item[1] not in (uri for _, uri in files):
                files.append(item)
    matches = [uri for key, uri in files if name in _names(key, uri)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(
            f"{len(matches)} output files of task {task_id!r} match {name!r}: "
            + ", ".join(matches),
            hint="preview one of them by its kestra:/// URI",
        )
    names = sorted({_file_name(uri) for _, uri in files})
    raise NotFoundError(
        f"task {task_id!r} of execution {execution.id} has no output file {name!r}",
        hint=f"its output files: {', '.join(names)}"
        if names
        else "it has no output files (kflow outputs EXEC --task TASK shows its outputs)",
    )
