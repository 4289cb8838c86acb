"""``io.kestra.plugin.serdes.json.JsonToIon``: JSON to Ion, one row per line, streamed.

With ``newLine`` (the default) the file is JSON Lines: one value per line, each a row.
Without it the file is one JSON value: an array gives one row per item (streamed item by
item, where Kestra loads the whole file), anything else one row. Numbers keep Jackson's
types: integers stay integers, numbers with a fraction or exponent are doubles (Ion floats).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import IO, Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.serdes.common import (
    BLOCK,
    CHARSET,
    FROM,
    OUTPUTS,
    charset,
    finish,
    output_file,
    source,
    stop_if_cancelled,
)

_HINT_LINES = (
    "each line must be one JSON value (JSON Lines); for one JSON document set newLine: false"
)
_HINT_DOC = "the file must hold one JSON value; for one value per line set newLine: true"


def _no_constant(name: str) -> Any:
    # Jackson refuses NaN and Infinity (ALLOW_NON_NUMERIC_NUMBERS is off)
    raise ValueError(f"non-standard number {name}")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


class JsonToIon(Task):
    """Convert a JSON or JSON Lines file to Ion (Kestra's storage format)."""

    type = "io.kestra.plugin.serdes.json.JsonToIon"
    aliases = ("io.kestra.plugin.serdes.json.JsonReader",)
    outputs = OUTPUTS
    properties = {
        "from": FROM,
        "charset": CHARSET,
        "newLine": Prop(default=True, kind="bool", doc="One JSON value per line (JSON Lines)"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow import ion

        uri = source(self, ctx)
        encoding = charset(self, ctx)
        lines = self.flag(ctx, "newLine")
        path = output_file(ctx, ".ion")
        count = 0
        with ctx.open_file(uri) as raw, path.open("wb") as out:
            text = io.TextIOWrapper(raw, encoding=encoding)
            values = _checked(ctx, _lines(text, uri) if lines else _document(text, uri))
            try:
                count = ion.write_rows(values, out)
            except UnicodeDecodeError as exc:
                raise TaskError(
                    f"{uri}: not {encoding} text ({exc.reason})",
                    hint="set `charset` to the file's encoding",
                ) from None
        return finish(ctx, path, count)


def _checked(ctx: RunContext, values: Iterator[Any]) -> Iterator[Any]:
    for count, value in enumerate(values):
        if count % 4096 == 0:
            stop_if_cancelled(ctx)
        yield value


def _error(uri: str, line: int, column: int, message: str, hint: str) -> TaskError:
    return TaskError(f"{uri}: invalid JSON at line {line}, column {column}: {message}", hint=hint)


def _lines(fh: IO[str], uri: str) -> Iterator[Any]:
    decode = _DECODER.decode
    for number, line in enumerate(fh, 1):
        if not line.strip():
            continue  # Kestra's Jackson fails on a blank line; kflow lets it pass
        try:
            yield decode(line)
        except ValueError as exc:
            column = getattr(exc, "colno", 1)
            message = getattr(exc, "msg", str(exc))
            raise _error(uri, number, column, message, _HINT_LINES) from None


class _Buffer:
    """Text read block by block, with the position and line of what was consumed."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.text = ""
        self.pos = 0
        self.line = 1  # line of text[0]
        self.eof = False

    def more(self) -> bool:
        """Read another block (dropping what was consumed); False at the end."""
        if self.eof:
            return False
        self.line += self.text.count("\n", 0, self.pos)
        data = self.fh.read(BLOCK)
        self.text = self.text[self.pos :] + data
        self.pos = 0
        if not data:
            self.eof = True
        return bool(data)

    def skip_space(self) -> str:
        """The next non-space character ('' at the end)."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(text):
                return text[pos]
            if not self.more():
                return ""

    def where(self, pos: int) -> tuple[int, int]:
        line = self.line + self.text.count("\n", 0, pos)
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return line, column


def _document(fh: IO[str], uri: str) -> Iterator[Any]:
    buf = _Buffer(fh)
    first = buf.skip_space()
    if first == "":
        return  # an empty file: no row
    if first != "[":
        while buf.more():  # one value that is not an array: read it whole, as Kestra
            pass
        yield _value(buf, uri)
        return
    buf.pos += 1
    if buf.skip_space() == "]":
        return
    while True:
        yield _value(buf, uri)
        c = buf.skip_space()
        if c == "]":
            return
        if c != ",":
            line, column = buf.where(buf.pos)
            found = repr(c) if c else "the end of the file"
            raise _error(
                uri,
                line,
                column,
                f"expected ',' or ']' after an array item, found {found}",
                _HINT_DOC,
            )
        buf.pos += 1
        buf.skip_space()


def _value(buf: _Buffer, uri: str) -> Any:
    """The JSON value at the buffer's position; reads more while the value is cut off."""
    while True:
        try:
            value, end = _DECODER.raw_decode(buf.text, buf.pos)
        except ValueError as exc:
            if buf.more():
                continue  # perhaps cut off by the block end: try again with more text
            pos = getattr(exc, "pos", buf.pos)
            line, column = buf.where(pos)
            raise _error(uri, line, column, getattr(exc, "msg", str(exc)), _HINT_DOC) from None
        if end >= len(buf.text) and not buf.eof and not isinstance(value, dict | list | str):
            # a number or literal at the very end of the block may continue in the next one
            if buf.more():
                continue
        buf.pos = end
        return value
