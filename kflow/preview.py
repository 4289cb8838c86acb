"""The head of a stored file as rows or text (Kestra's file preview), for the terminal.

CSV, JSON lines, JSON arrays and Ion text become rows; everything else is text. Only the
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
        return Preview("table", reader[0], reader[1 : max_rows + 1], truncated=truncated)
    if ext in ("jsonl", "ion", "json"):
        lines, truncated = _lines(fh, max_rows if ext != "json" else 100_000)
        if ext == "json":
            try:
                data = json.loads("\n".join(lines))
            except ValueError:
                return Preview("text", text="\n".join(lines[:max_rows]), truncated=truncated)
            records = data if isinstance(data, list) else [data]
            return _table(records[:max_rows], len(records) > max_rows)
        records = []
        for line in lines:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line) if ext == "jsonl" else parse_ion_line(line))
            except ValueError:
                return Preview("text", text="\n".join(lines), truncated=truncated)
        return _table(records, truncated)
    lines, truncated = _lines(fh, max_rows)
    return Preview("text", text="\n".join(lines), truncated=truncated)


def parse_ion_line(line: str) -> Any:
    """One Ion text value with the subset Kestra writes (structs, lists, strings, numbers,
    timestamps, null, annotations). amazon.ion is used when installed."""
    try:
        import amazon.ion.simpleion as ion  # type: ignore[import-not-found]

        value = ion.loads(line)
        return json.loads(json.dumps(value, default=str))
    except ImportError:
        pass
    return _IonParser(line).value()


class _IonParser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n,":
            self.i += 1

    def value(self) -> Any:
        self.ws()
        if self.i >= len(self.s):
            raise ValueError("unexpected end of Ion value")
        c = self.s[self.i]
        if c == "{":
            self.i += 1
            out: dict[str, Any] = {}
            while True:
                self.ws()
                if self.s[self.i] == "}":
                    self.i += 1
                    return out
                key = self.symbol()
                self.ws()
                if self.s[self.i] != ":":
                    raise ValueError("expected ':' in Ion struct")
                self.i += 1
                out[key] = self.value()
        if c == "[":
            self.i += 1
            items = []
            while True:
                self.ws()
                if self.s[self.i] == "]":
                    self.i += 1
                    return items
                items.append(self.value())
        if c == '"':
            return self.string('"')
        if c == "'":
            name = self.string("'")
            return self._after_symbol(name)
        start = self.i
        while self.i < len(self.s) and self.s[self.i] not in ",}] \t\n":
            if self.s[self.i] == ":" and self.s[self.i + 1 : self.i + 2] == ":":
                break
            self.i += 1
        token = self.s[start : self.i]
        if self.s[self.i : self.i + 2] == "::":
            self.i += 2
            return self.value()  # annotation: keep the value
        return _scalar(token)

    def _after_symbol(self, name: str) -> Any:
        if self.s[self.i : self.i + 2] == "::":
            self.i += 2
            return self.value()
        return name

    def symbol(self) -> str:
        if self.s[self.i] in "\"'":
            return self.string(self.s[self.i])
        start = self.i
        while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] in "_$"):
            self.i += 1
        return self.s[start : self.i]

    def string(self, quote: str) -> str:
        self.i += 1
        out = []
        while self.s[self.i] != quote:
            if self.s[self.i] == "\\":
                self.i += 1
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(self.s[self.i], self.s[self.i]))
            else:
                out.append(self.s[self.i])
            self.i += 1
        self.i += 1
        return "".join(out)


def _scalar(token: str) -> Any:
    if token in ("null", "null.null") or token.startswith("null."):
        return None
    if token == "true":
        return True
    if token == "false":
        return False
    try:
        return int(token.replace("_", ""))
    except ValueError:
        pass
    try:
        return float(token.replace("e", "E").replace("d", "E"))
    except ValueError:
        return token  # timestamps and symbols as text
