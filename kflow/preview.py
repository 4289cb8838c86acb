"""The head of a stored file as rows or text (Kestra's file preview), for the terminal.

CSV, JSON lines and Ion text become rows on a terminal; everything else (JSON included)
is text, as Kestra's preview shows it. Only the
first ``max_rows`` records are read, so a huge file costs nothing.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO


@dataclass
class Preview:
    kind: str  # "table" or "text"
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    text: str = ""
    truncated: bool = False
    # the file's own lines (CSV) or its records (Ion, JSON lines), for plain-text output
    lines: list[str] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)


def _lines(fh: BinaryIO, limit: int) -> tuple[list[str], bool]:
    out: list[str] = []
    for raw in iter(fh.readline, b""):
        if len(out) >= limit:
            return out, True
        out.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    return out, False


def _table(records: list[Any], truncated: bool) -> Preview:
    columns: list[str] = []
    for rec in records:
        if isinstance(rec, dict):
            for key in rec:
                if key not in columns:
                    columns.append(str(key))
    if not columns:
        return Preview("table", ["value"], [[r] for r in records], truncated=truncated)
    rows = [[rec.get(c) if isinstance(rec, dict) else rec for c in columns] for rec in records]
    return Preview("table", columns, rows, truncated=truncated)


def read_preview(name: str, fh: BinaryIO, max_rows: int = 100) -> Preview:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if ext == "csv":
        lines, truncated = _lines(fh, max_rows + 1)
        reader = list(csv.reader(lines))
        if not reader:
            return Preview("text", text="")
        return Preview("table", reader[0], reader[1 : max_rows + 1], truncated=truncated,
                       lines=lines[: max_rows + 1])  # fmt: skip
    if ext in ("jsonl", "ion"):
        lines, truncated = _lines(fh, max_rows)
        records = []
        for line in lines:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line) if ext == "jsonl" else parse_ion_line(line))
            except ValueError:  # IonError is a ValueError
                return Preview("text", text="\n".join(lines), truncated=truncated)
        table = _table(records, truncated)
        # in a pipe: Ion as one JSON object per row (Kestra's LIST preview), JSON lines as is
        if ext == "ion":
            table.records = records
        else:
            table.lines = lines
        return table
    lines, truncated = _lines(fh, max_rows)
    return Preview("text", text="\n".join(lines), truncated=truncated)


def parse_ion_line(line: str) -> Any:
    """One Ion text value (the subset Kestra writes), as JSON-able data."""
    from kflow import ion

    return ion.to_jsonable(ion.loads(line))


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
