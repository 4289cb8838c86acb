"""``io.kestra.plugin.serdes.csv.CsvToIon``: a CSV file to Ion, one row per line, streamed.

Every value stays a string (no type inference), ``\\N`` is null; with ``header`` each row
is a struct keyed by the header, else a list. A leading UTF-8 byte-order mark is dropped.
Bad lines (a field count that differs from the header, a malformed quote) follow
``onBadLines``: ERROR fails with the line number, WARN logs, SKIP drops them silently.

Speed: rows are parsed by the ``csv`` module (C) and written a block at a time; a block of
rows with the header's field count and no character Ion must escape is formatted by one
``%`` on a per-block template built from precomputed per-column prefixes (``{id:"%s",...}``),
so the common file costs a few C calls per thousand rows.
"""

from __future__ import annotations

import csv
import io
import itertools
from typing import IO, Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.serdes.common import (
    CHARSET,
    FROM,
    OUTPUTS,
    char,
    charset,
    choice,
    finish,
    integer,
    ion_field,
    output_file,
    source,
    stop_if_cancelled,
    warn,
)

_CHUNK = 2048  # rows per block
_DEFAULT_MAX = 16 * 1024 * 1024  # Kestra's maxBufferSize / maxFieldSize defaults
_NULL = "\\N"
# ASCII characters FileSerde escapes in a string (kflow.ion.NEEDS_ESCAPE, as bytes).
_ESCAPED_BYTES = bytes(range(0x20)) + b'\x7f"\\'
_MALFORMED_HINT = (
    "check the quotes on that line, or set onBadLines: WARN or SKIP "
    "(allowExtraCharsAfterClosingQuote: true accepts text after a closing quote)"
)


def _line_breaks(row: list[str]) -> int:
    """Line breaks inside a record's quoted fields (\\r\\n counts once), so that the next
    record's line number can be known without asking the reader for every row."""
    n = 0
    for field in row:
        if "\n" in field or "\r" in field:
            n += field.count("\n") + field.count("\r") - field.count("\r\n")
    return n


def _java_names(names: list[str], mode: str, ctx: RunContext) -> tuple[list[str], int]:
    """The header after ``onEmptyHeader``: (names, columns kept). DROP drops a trailing run
    of unnamed columns (keeping one); RENAME names each unnamed one ``col_<index>``."""
    if mode == "RENAME":
        taken = set(names)
        out = list(names)
        for index, name in enumerate(names):
            if name:
                continue
            attempt = 1
            while True:
                candidate = f"col_{index}" if attempt == 1 else f"col_{index}_{attempt}"
                if candidate not in taken:
                    break
                attempt += 1
            taken.add(candidate)
            out[index] = candidate
        return out, len(out)
    named = [i for i, name in enumerate(names) if name]
    kept = (named[-1] if named else len(names) - 1) + 1
    if kept < len(names):
        warn(
            ctx,
            f"Dropped {len(names) - kept} trailing unnamed header column(s); their values "
            "are not emitted. Set onEmptyHeader=RENAME to keep them.",
        )
    distinct = len(set(names[:kept]))
    if distinct < kept:
        warn(
            ctx,
            f"Header has {kept - distinct} duplicate or empty column name(s) among the kept "
            "columns. Colliding columns share one output key and only the last value is "
            "kept. Set onEmptyHeader=RENAME to keep every column.",
        )
    return names, kept


class CsvToIon(Task):
    """Convert a CSV file to Ion (Kestra's storage format), row by row."""

    type = "io.kestra.plugin.serdes.csv.CsvToIon"
    aliases = ("io.kestra.plugin.serdes.csv.CsvReader",)
    outputs = OUTPUTS
    properties = {
        "from": FROM,
        "header": Prop(default=True, kind="bool", doc="The first line is the header"),
        "fieldSeparator": Prop(default=",", kind="string", doc="The field separator character"),
        "textDelimiter": Prop(default='"', kind="string", doc="The text delimiter character"),
        "skipEmptyRows": Prop(default=False, kind="bool", doc="Skip empty lines"),
        "skipRows": Prop(default=0, kind="int", doc="Records to skip after the header"),
        "charset": CHARSET,
        "onBadLines": Prop(
            default="ERROR",
            kind="string",
            allowed=("ERROR", "WARN", "SKIP"),
            doc="ERROR fails, WARN logs and skips, SKIP skips a bad line",
        ),
        "onEmptyHeader": Prop(
            default="DROP",
            kind="string",
            allowed=("DROP", "RENAME"),
            doc="DROP trailing unnamed columns, or RENAME unnamed ones col_<index>",
        ),
        "maxBufferSize": Prop(
            default=_DEFAULT_MAX,
            kind="int",
            doc="Largest field accepted, in characters (kflow has no record buffer: "
            "the smaller of this and maxFieldSize bounds a field)",
        ),
        "maxFieldSize": Prop(default=_DEFAULT_MAX, kind="int", doc="Largest field, in characters"),
        "allowExtraCharsAfterClosingQuote": Prop(
            default=False, kind="bool", doc='Accept "ab"c (read as abc) instead of failing'
        ),
        "errorOnDifferentFieldCount": Prop(
            kind="bool",
            ignored="deprecated in Kestra and no longer read by the plugin: use onBadLines",
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = source(self, ctx)
        options = _Options(self, ctx)
        path = output_file(ctx, ".ion")
        with path.open("w", encoding="utf-8", newline="", buffering=1 << 18) as out:
            count = _Converter(ctx, uri, options, out).run()
        return finish(ctx, path, count)


class _Options:
    """The rendered properties."""

    def __init__(self, task: Task, ctx: RunContext) -> None:
        self.encoding = charset(task, ctx)
        self.header = task.flag(ctx, "header")
        self.separator = char(task, ctx, "fieldSeparator")
        self.quote = char(task, ctx, "textDelimiter")
        if self.separator == self.quote or {self.separator, self.quote} & {"\r", "\n"}:
            raise TaskError(
                "`fieldSeparator` and `textDelimiter` must be two different characters, "
                "neither a line break"
            )
        self.skip_empty = task.flag(ctx, "skipEmptyRows")
        self.skip_rows = integer(task, ctx, "skipRows")
        self.on_bad = choice(task, ctx, "onBadLines", ("ERROR", "WARN", "SKIP"))
        self.on_empty_header = choice(task, ctx, "onEmptyHeader", ("DROP", "RENAME"))
        self.max_field = min(
            integer(task, ctx, "maxFieldSize", 1), integer(task, ctx, "maxBufferSize", 1)
        )
        self.strict = not task.flag(ctx, "allowExtraCharsAfterClosingQuote")


class _Converter:
    """One conversion: reader, writer, counters and line bookkeeping."""

    def __init__(self, ctx: RunContext, uri: str, options: _Options, out: IO[str]) -> None:
        self.ctx = ctx
        self.uri = uri
        self.o = options
        self.out = out
        self.count = 0
        self.names: list[str] | None = None  # the header
        self.kept = 0
        self.to_skip = options.skip_rows
        self.templates: dict[int, str] = {}
        self.template: str | None = None  # the struct template, when the header allows one

    # ------------------------------------------------------------------ reading
    def _open(self, strict: bool) -> tuple[IO[str], Any]:
        encoding = self.o.encoding
        if encoding == "utf-8":
            encoding = "utf-8-sig"  # Kestra strips a UTF-8 byte-order mark (only for UTF-8)
        raw = self.ctx.open_file(self.uri)
        fh = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(
            fh,
            delimiter=self.o.separator,
            quotechar=self.o.quote,
            doublequote=True,
            strict=strict,
        )
        return fh, reader

    def run(self) -> int:
        # The csv module's field limit is process-wide; Kestra's default (16 MiB) is far
        # above Python's (128 KiB), so it is set for every conversion.
        csv.field_size_limit(self.o.max_field)
        fh, reader = self._open(self.o.strict)
        line = 1  # the line the next record starts on
        with fh:
            while True:
                stop_if_cancelled(self.ctx)
                chunk: list[list[str]] = []
                append = chunk.append
                try:
                    for row in reader:
                        append(row)
                        if len(chunk) >= _CHUNK:
                            break
                except csv.Error as exc:
                    start = self._lines_after(chunk, line)
                    self._rows(chunk, line)
                    if "unexpected end of data" in str(exc):
                        # A quote left open at the end of the file: FastCSV keeps the
                        # rest of the file as the field, so the last record is read
                        # again leniently.
                        self._tail(start)
                        break
                    self._malformed(exc, reader.line_num)
                    break
                except UnicodeDecodeError as exc:
                    raise TaskError(
                        f"{self.uri}: not {self.o.encoding} text after line "
                        f"{reader.line_num} ({exc.reason})",
                        hint="set `charset` to the file's encoding",
                    ) from None
                if not chunk:
                    break
                self._rows(chunk, line)
                line = reader.line_num + 1
        return self.count

    def _lines_after(self, rows: list[list[str]], line: int) -> int:
        for row in rows:
            line += 1 + _line_breaks(row)
        return line

    def _tail(self, start: int) -> None:
        fh, _ = self._open(False)
        with fh:
            rest = itertools.islice(fh, start - 1, None)
            reader = csv.reader(
                rest, delimiter=self.o.separator, quotechar=self.o.quote, strict=False
            )
            self._rows(list(reader), start)

    def _malformed(self, exc: csv.Error, line: int) -> None:
        message = f"malformed CSV at line {line}: {exc}"
        if "field larger than field limit" in str(exc):
            message = (
                f"a field at line {line} is larger than maxFieldSize/maxBufferSize "
                f"({self.o.max_field} characters)"
            )
        if self.o.on_bad == "ERROR":
            raise TaskError(f"{self.uri}: {message}", hint=_MALFORMED_HINT)
        if self.o.on_bad == "WARN":
            # Kestra's reader stops at a parse error (the rest of the file is not read).
            warn(
                self.ctx,
                f"Bad line encountered (skipped): {message}; the rest of the file is not read",
            )

    # ------------------------------------------------------------------ writing
    def _rows(self, rows: list[list[str]], line: int) -> None:
        """Convert a block of records that starts at ``line``."""
        if not rows:
            return
        if self.names is None and self.o.header:
            rows, line = self._take_header(rows, line)
            if not rows:
                return
        if self.to_skip:
            rows, line = self._skip(rows, line)
            if not rows:
                return
        if self._fast(rows):
            return
        self._slow(rows, line)

    def _take_header(self, rows: list[list[str]], line: int) -> tuple[list[list[str]], int]:
        for index, row in enumerate(rows):
            line += 1 + _line_breaks(row)
            if not row:
                if self.o.skip_empty:
                    continue
                row = [""]
            names, kept = _java_names(row, self.o.on_empty_header, self.ctx)
            self.names, self.kept = names, kept
            if len(set(names[:kept])) == kept:
                # Precomputed per-column prefixes: `name:"` ... `"`, a dropped column eats
                # its value with %.0s. Field names as FileSerde writes them.
                parts = [ion_field(k).replace("%", "%%") + ':"%s"' for k in names[:kept]]
                self.template = "{" + ",".join(parts) + "%.0s" * (len(names) - kept) + "}\n"
            return rows[index + 1 :], line
        return [], line

    def _skip(self, rows: list[list[str]], line: int) -> tuple[list[list[str]], int]:
        """Drop the first ``skipRows`` records (empty lines skipped by ``skipEmptyRows`` do
        not count); returns the rest of the block and the line it starts on."""
        for index, row in enumerate(rows):
            if not row and self.o.skip_empty:
                line += 1
                continue
            if not self.to_skip:
                return rows[index:], line
            self.to_skip -= 1
            line += 1 + _line_breaks(row)
        return [], line

    def _fast(self, rows: list[list[str]]) -> bool:
        """The whole block in one formatting call, when every row has the expected field
        count and no value needs an Ion escape (nor is ``\\N``, which has a backslash)."""
        from kflow.ion import NEEDS_ESCAPE

        lengths = set(map(len, rows))
        if len(lengths) != 1:
            return False
        width = lengths.pop()
        if self.o.header:
            template = self.template
            if template is None or self.names is None or width != len(self.names):
                return False
        else:
            if width == 0:
                return False
            template = self.templates.get(width)
            if template is None:
                template = "[" + ",".join(['"%s"'] * width) + "]\n"
                self.templates[width] = template
        values = tuple(itertools.chain.from_iterable(rows))
        joined = "".join(values)
        if joined.isascii():  # O(1) on a str; then one C pass over bytes, not a regex
            data = joined.encode("ascii")
            if len(data.translate(None, _ESCAPED_BYTES)) != len(data):
                return False
        elif NEEDS_ESCAPE.search(joined) is not None:
            return False
        self.out.write((template * len(rows)) % values)
        self.count += len(rows)
        return True

    def _slow(self, rows: list[list[str]], line: int) -> None:
        from kflow.ion import dumps

        out: list[str] = []
        names = self.names
        for row in rows:
            here = line
            line += 1 + _line_breaks(row)
            if not row:
                if self.o.skip_empty:
                    continue
                row = [""]  # FastCSV reads an empty line as one empty field
            values = [None if v == _NULL else v for v in row]
            if names is None:
                out.append(dumps(values) + "\n")
                self.count += 1
                continue
            if len(row) != len(names):
                message = (
                    "Bad line encountered (field count mismatch): Expected "
                    f"{len(names)}, got {len(row)} fields."
                )
                if self.o.on_bad == "ERROR":
                    self.out.write("".join(out))
                    raise TaskError(
                        f"{self.uri}: line {here}: {message}",
                        hint="fix that line, or set onBadLines: WARN or SKIP to drop such lines",
                    )
                if self.o.on_bad == "WARN":
                    warn(self.ctx, f"{message} (line {here})")
                continue
            record = {names[i]: values[i] for i in range(self.kept)}
            out.append(dumps(record) + "\n")
            self.count += 1
        self.out.write("".join(out))
