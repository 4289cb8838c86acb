"""The head of a stored file as rows or text (Kestra's file preview), for the terminal.

CSV, JSON lines and Ion text become rows on a terminal; everything else (JSON included)
is text, as Kestra's preview shows it. Only the
first ``max_rows`` records are read, so a huge file costs nothing.
"""

from __future__ import annotations

import csv
import json
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
