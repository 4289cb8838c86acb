"""``io.kestra.plugin.serdes.csv.IonToCsv``: an Ion file to CSV, streamed.

Written as Kestra's FastCSV writer writes: the header is the first row's keys, each row's
values in its own key order; a field is quoted when it holds the separator, the quote
character, a line break, or (first field only) starts with ``#``; quotes inside are
doubled; null is an empty field. ``quoteMode`` ALWAYS also quotes empty and null fields,
NON_NUMERIC quotes every non-empty value that is not a plain number. Dates and times print
with ``dateFormat``, ``timeFormat`` and ``dateTimeFormat`` (Java patterns).

Speed: a block of lines that are all flat structs of plain strings (what ``CsvToIon`` and
most queries write) is split by one regex and joined with ``str.join``; a single count of
separators and quotes tells whether any field needs quoting. Other rows go field by field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.serdes.common import (
    CHARSET,
    FROM,
    OUTPUTS,
    TIME_ZONE,
    IonLines,
    JavaText,
    char,
    charset,
    choice,
    finish,
    ion_field,
    output_file,
    source,
    text,
    zone,
)

_LINE_DELIMITERS = ("\n", "\r\n", "\r")
_COMMENT = "#"  # FastCSV's comment character: a first field starting with it is quoted


def _numeric(value: str) -> bool:
    """Kestra's NON_NUMERIC test: an optional sign, digits and at most one point."""
    start = 1 if value[:1] in "+-" else 0
    body = value[start:]
    if not body:
        return False
    return body.replace(".", "", 1).isdigit() and body.isascii()


class IonToCsv(Task):
    """Convert an Ion file (Kestra's storage format) to CSV, row by row."""

    type = "io.kestra.plugin.serdes.csv.IonToCsv"
    aliases = ("io.kestra.plugin.serdes.csv.CsvWriter",)
    outputs = OUTPUTS
    properties = {
        "from": FROM,
        "header": Prop(default=True, kind="bool", doc="Write the first row's keys as a header"),
        "fieldSeparator": Prop(default=",", kind="string", doc="The field separator character"),
        "textDelimiter": Prop(default='"', kind="string", doc="The text delimiter character"),
        "lineDelimiter": Prop(default="\n", kind="string", doc="Written after each row"),
        "alwaysDelimitText": Prop(
            default=False, kind="bool", doc="Quote every field (deprecated: quoteMode ALWAYS)"
        ),
        "quoteMode": Prop(
            kind="string",
            allowed=("ALWAYS", "REQUIRED", "NON_NUMERIC"),
            doc="When fields are quoted; takes precedence over alwaysDelimitText",
        ),
        "charset": CHARSET,
        "dateFormat": Prop(default="yyyy-MM-dd", kind="string", doc="Java pattern for dates"),
        "timeFormat": Prop(default="HH:mm:ss[XXX]", kind="string", doc="Java pattern for times"),
        "dateTimeFormat": Prop(
            default="yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]",
            kind="string",
            doc="Java pattern for date-times",
        ),
        "timeZoneId": TIME_ZONE,
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = source(self, ctx)
        encoding = charset(self, ctx)
        header = self.flag(ctx, "header")
        separator = char(self, ctx, "fieldSeparator")
        quote = char(self, ctx, "textDelimiter")
        line_delimiter = text(self, ctx, "lineDelimiter")
        if line_delimiter not in _LINE_DELIMITERS:
            raise TaskError(
                f"`lineDelimiter` must be a line break (\\n, \\r\\n or \\r), got {line_delimiter!r}"
            )
        if len({separator, quote, _COMMENT}) < 3 or {separator, quote} & {"\r", "\n"}:
            raise TaskError(
                "Control characters must differ (fieldSeparator="
                f"{separator}, quoteCharacter={quote}, commentCharacter={_COMMENT})"
            )
        mode = "REQUIRED"
        if self.prop("quoteMode") is not None:
            mode = choice(self, ctx, "quoteMode", ("ALWAYS", "REQUIRED", "NON_NUMERIC"))
        elif self.flag(ctx, "alwaysDelimitText"):
            mode = "ALWAYS"
        convert = JavaText(
            text(self, ctx, "dateFormat"),
            text(self, ctx, "timeFormat"),
            text(self, ctx, "dateTimeFormat"),
            zone(self, ctx),
        )
        path = output_file(ctx, ".csv")
        try:
            out = path.open("w", encoding=encoding, newline="", buffering=1 << 18)
        except LookupError as exc:  # pragma: no cover - charset() checked the name
            raise TaskError(str(exc)) from None
        with out, ctx.open_file(uri) as fh:
            writer = _CsvWriter(out, separator, quote, line_delimiter, mode)
            try:
                count = _convert(IonLines(fh, uri, ctx), writer, convert, header)
            except UnicodeEncodeError as exc:
                raise TaskError(
                    f"a value cannot be written in {encoding}: {exc.object[exc.start : exc.end]!r}",
                    hint="choose a `charset` that can hold every character, such as UTF-8",
                ) from None
        return finish(ctx, path, count)


def _convert(lines: IonLines, writer: _CsvWriter, convert: JavaText, header: bool) -> int:
    count = 0
    state = {"first": True}
    for block, first_line, n in lines.blocks():
        if lines.keys is not None and not state["first"]:
            if writer.rewrite(block, n, lines.keys):
                count += n
                continue
            found = lines.split(block, n)
            if found is not None:
                writer.rows(found)
                count += n
                continue
        count += _slow(lines.parse(block, first_line), writer, convert, header, state)
    count += _slow(lines.finish(), writer, convert, header, state)
    return count


def _slow(
    rows: list[Any], writer: _CsvWriter, convert: JavaText, header: bool, state: dict[str, bool]
) -> int:
    """Rows parsed from Ion, written value by value; returns how many were read."""
    out: list[Sequence[str | None]] = []
    for row in rows:
        if isinstance(row, dict):
            if state["first"]:
                state["first"] = False
                if header:
                    out.append([convert(k) or "" for k in row])
            out.append([convert(v) for v in row.values()])
        elif isinstance(row, list):
            if header:
                raise TaskError(
                    "Invalid data of type List with header",
                    hint="set header: false to write rows that are lists",
                )
            out.append([convert(v) for v in row])
        # other values (a lone string...) are counted but not written, as in Kestra
    writer.rows(out)
    return len(rows)


class _CsvWriter:
    """FastCSV's writer rules, a block of rows at a time."""

    def __init__(self, out: IO[str], separator: str, quote: str, line: str, mode: str) -> None:
        self.out = out
        self.sep = separator
        self.quote = quote
        self.line = line
        self.mode = mode
        self.always = mode == "ALWAYS"
        self.quote_value: Callable[[str], bool] = (
            (lambda v: True)
            if mode == "ALWAYS"
            else (lambda v: not _numeric(v))
            if mode == "NON_NUMERIC"
            else (lambda v: False)
        )

    def rewrite(self, block: str, count: int, keys: list[str]) -> bool:
        """Write a block whose lines are all ``{k1:"v1",k2:"v2"}`` (keys of the first row,
        plain strings, no escape) by replacing the field markers: a few C passes.

        The markers become NUL between fields (NUL is never in such a block); when no quote
        is left, every quote was part of a marker, so what remains is values, and each
        line started with the first key's marker. The rare lines with a value that needs
        quoting are found with ``str.find`` and written field by field. False (nothing
        written) when the block is not of that shape."""
        if (
            self.mode == "NON_NUMERIC"
            or not block.endswith("\n")
            or "\x00" in block
            or "\\" in block
        ):
            return False
        start = "{" + ion_field(keys[0]) + ':"'
        if not block.startswith(start) or block.count(start) != count:
            return False
        text = block.replace('"}\n', "\n").replace(start, "")
        for key in keys[1:]:
            text = text.replace('",' + ion_field(key) + ':"', "\x00")
        if '"' in text:
            return False
        starts: set[int] = set()
        specials = [c for c in (self.sep, "\r", self.quote) if c != '"']
        if self.always:
            specials = [self.quote] if self.quote != '"' else []
        for special in specials:
            i = text.find(special)
            while i >= 0:
                starts.add(text.rfind("\n", 0, i) + 1)
                i = text.find(special, text.find("\n", i))
        if not self.always:
            if text.startswith(_COMMENT):
                starts.add(0)
            i = text.find("\n" + _COMMENT)
            while i >= 0:
                starts.add(i + 1)
                i = text.find("\n" + _COMMENT, i + 1)
        pieces: list[str] = []
        pos = 0
        for first in sorted(starts):
            last = text.find("\n", first)
            pieces.append(self._plain_lines(text[pos:first]))
            pieces.append(self._row(text[first:last].split("\x00")))
            pos = last + 1
        pieces.append(self._plain_lines(text[pos:]))
        self.out.write("".join(pieces))
        return True

    def _plain_lines(self, text: str) -> str:
        """Whole lines of NUL-separated values that need no quoting, as CSV."""
        if not text:
            return ""
        sep, quote, line = self.sep, self.quote, self.line
        if self.always:
            body = text[:-1].replace("\x00", quote + sep + quote)
            return quote + body.replace("\n", quote + line + quote) + quote + line
        text = text.replace("\x00", sep)
        return text if line == "\n" else text.replace("\n", line)

    def rows(self, rows: Sequence[Sequence[str | None]]) -> None:
        """Write rows; a block of plain strings that needs no quoting is one join."""
        if not rows:
            return
        if self.mode != "NON_NUMERIC" and self._plain(rows):
            return
        self.out.write("".join(self._row(row) for row in rows))

    def _plain(self, rows: Sequence[Sequence[str | None]]) -> bool:
        widths = set(map(len, rows))
        if len(widths) != 1:
            return False
        width = widths.pop()
        if width == 0:
            return False
        sep, line, quote = self.sep, self.line, self.quote
        try:
            body = line.join(map(sep.join, rows))  # type: ignore[arg-type]
        except TypeError:  # a None field
            return False
        # No value holds the separator, a quote or a line break, no row starts with '#':
        # then nothing is quoted (REQUIRED) or every field is, without escapes (ALWAYS).
        if (
            body.count(sep) != len(rows) * (width - 1)
            or quote in body
            or body.count("\n") + body.count("\r") != len(rows) * len(line) - len(line)
            or body.startswith(_COMMENT)
            or (line + _COMMENT) in body
        ):
            return False
        if self.always:
            qsq = quote + sep + quote
            qlq = quote + line + quote
            body = quote + body.replace(sep, qsq).replace(line, qlq) + quote
        self.out.write(body + line)
        return True

    def _row(self, row: Sequence[str | None]) -> str:
        sep, quote = self.sep, self.quote
        fields: list[str] = []
        for index, value in enumerate(row):
            if value is None or value == "":
                fields.append(quote + quote if self.always else "")
                continue
            if (
                quote in value
                or sep in value
                or "\n" in value
                or "\r" in value
                or (index == 0 and value[0] == _COMMENT)
            ):
                fields.append(quote + value.replace(quote, quote + quote) + quote)
            elif self.quote_value(value):
                fields.append(quote + value + quote)
            else:
                fields.append(value)
        return sep.join(fields) + self.line
