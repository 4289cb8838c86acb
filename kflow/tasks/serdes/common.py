"""What the text serdes tasks share: typed properties, charsets, the output file and the
streamed reading of a stored Ion file.

Every conversion reads its source as a stream and writes a temp file in the task's working
directory that is then stored (``ctx.put_file``), so memory stays flat whatever the file
size. Outputs are Kestra's: ``uri`` and ``size`` (the record count, added to the plugin in
2026), plus a ``records`` counter metric.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from kflow.errors import KflowError, TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, temp_file

# Files are read and written in blocks of about this many bytes (fewer system calls
# than one write per row, bounded memory).
BLOCK = 1 << 18

OUTPUTS = {
    "uri": Output("URI", "kestra:/// URI of the converted file"),
    "size": Output("INTEGER", "The number of records converted"),
}

FROM = Prop(required=True, kind="string", doc="The kestra:/// file to convert")
CHARSET = Prop(default="UTF-8", kind="string", doc="The name of a supported charset")
TIME_ZONE = Prop(
    kind="string",
    doc="Zone used for values without one (Kestra: the JVM zone; kflow: UTC)",
)

# ion-java's binary version marker: Kestra 1.x may write binary Ion files.
_BINARY_ION = b"\xe0\x01\x00\xea"


def source(task: Task, ctx: RunContext) -> str:
    """The checked ``from`` URI (a file of this execution)."""
    return check_uri(ctx, task.rendered(ctx, "from"), "from")


def text(task: Task, ctx: RunContext, name: str) -> str:
    """A string property, rendered."""
    value = task.rendered(ctx, name)
    if value is None:
        raise TaskError(f"`{name}` is required")
    return value if isinstance(value, str) else str(value)


def char(task: Task, ctx: RunContext, name: str) -> str:
    """A ``Character`` property: exactly one character once rendered."""
    value = text(task, ctx, name)
    if len(value) != 1:
        raise TaskError(
            f"`{name}` must be exactly one character, got {value!r}",
            hint=f'write it quoted in YAML, e.g. {name}: ";"',
        )
    return value


def integer(task: Task, ctx: RunContext, name: str, minimum: int = 0) -> int:
    """An integer property (literal or expression), at least ``minimum``."""
    value = task.prop(name)
    if isinstance(value, str):
        value = ctx.render_typed(value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise TaskError(f"`{name}` must be an integer, got {value!r}") from None
    if number < minimum:
        raise TaskError(f"`{name}` must be at least {minimum}, got {number}")
    return number


def choice(task: Task, ctx: RunContext, name: str, choices: tuple[str, ...]) -> str:
    """An enum property, one of ``choices`` (Kestra's enum names, upper case)."""
    value = text(task, ctx, name).strip()
    if value not in choices:
        raise TaskError(f"`{name}` must be one of {', '.join(choices)}, got {value!r}")
    return value


def charset(task: Task, ctx: RunContext, name: str = "charset") -> str:
    """The Python codec for a Java charset name (``UTF-8``, ``ISO-8859-1``, ``Cp1252``…)."""
    value = text(task, ctx, name).strip()
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise TaskError(
            f"unknown charset {value!r} in `{name}`",
            hint="use a charset name such as UTF-8, ISO-8859-1 or windows-1252",
        ) from None


def zone(task: Task, ctx: RunContext, name: str = "timeZoneId") -> Any:
    """The :class:`kflow.java.time.Zone` of a ``timeZoneId`` property (UTC when unset)."""
    from kflow.java.time import zone_of

    value = task.rendered(ctx, name)
    try:
        return zone_of(None if value is None else str(value))
    except KflowError as exc:
        raise TaskError(
            f"`{name}`: {exc.message}", hint="give a zone such as UTC or Europe/Paris"
        ) from None


def output_file(ctx: RunContext, extension: str) -> Path:
    """A new temp file for the converted data, named as Kestra names it (digits + ext)."""
    return temp_file(ctx, extension)


def finish(ctx: RunContext, path: Path, count: int) -> dict[str, Any]:
    """Store the converted file and report Kestra's outputs and ``records`` metric."""
    ctx.metric("records", "counter", count)
    return {"uri": ctx.put_file(path), "size": count}


def stop_if_cancelled(ctx: RunContext) -> None:
    """Raise when the task must stop (timeout, kill); converters call it once per block."""
    if ctx.cancelled.is_set():
        raise TaskError("the conversion was interrupted (timeout or kill)")


def warn(ctx: RunContext, message: str) -> None:
    """A WARN log line of the task run (Kestra's ``logger().warn``)."""
    ctx.log("WARN", message)


# --------------------------------------------------------------------------- Ion input


def ion_field(name: str) -> str:
    """A struct field name as FileSerde writes it (``name``, ``'my field'``)."""
    from kflow.ion import dumps

    return dumps({name: 0})[1:-3]


def _check_text_ion(head: bytes, uri: str) -> None:
    if head.startswith(_BINARY_ION):
        raise TaskError(
            f"{uri} is a binary Ion file, which kflow does not read",
            hint="write the file as Ion text (kflow and Kestra's FileSerde text writer do)",
        )


def ion_rows(ctx: RunContext, uri: str) -> Iterator[Any]:
    """The rows of a stored Ion text file, streamed; bad Ion is a ``TaskError`` naming the
    file and line."""
    from kflow import ion

    with ctx.open_file(uri) as fh:
        head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
        _check_text_ion(head, uri)
        try:
            for count, row in enumerate(ion.read_rows(fh)):
                if count % 4096 == 0:
                    stop_if_cancelled(ctx)
                yield row
        except ion.IonError as exc:
            raise TaskError(
                f"{uri}: {exc}",
                hint="the source must be an Ion file, one value per line "
                "(the output of a query with store: true or of a ...ToIon task)",
            ) from None


class IonLines:
    """A stored Ion file read block by block, with fast paths for the common line.

    Kestra's files are one flat struct per line, often all strings (``CsvToIon`` output).
    :meth:`blocks` yields blocks of whole lines; a caller may handle a block of such lines
    its own fast way (``IonToCsv`` rewrites it with a few ``str.replace``), else
    :meth:`split` splits it with one regex built from the first row's field names (one C
    call per block), else :meth:`parse` parses it line by line with the general parser.
    """

    def __init__(self, fh: IO[bytes], uri: str, ctx: RunContext | None = None) -> None:
        self.fh = fh
        self.uri = uri
        self.ctx = ctx
        self.keys: list[str] | None = None  # field names of the first row, when all strings
        self._fast: re.Pattern[str] | None = None
        self.pending: list[str] = []  # lines of a value spanning several lines
        self._pending_line = 0

    def _compile(self, keys: list[str]) -> None:
        parts = [re.escape(ion_field(k)) + ':"([^"\\\\\\n]*)"' for k in keys]
        self._fast = re.compile(r"^\{" + ",".join(parts) + r"\}$", re.M)
        self.keys = keys

    def blocks(self) -> Iterator[tuple[str, int, int]]:
        """``(text, first line number, line count)`` for each block of whole lines."""
        fh = self.fh
        head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
        _check_text_ion(head, self.uri)
        line = 1
        while True:
            if self.ctx is not None:
                stop_if_cancelled(self.ctx)
            data = fh.read(BLOCK)
            if not data:
                return
            if not data.endswith(b"\n"):
                data += fh.readline()
            try:
                block = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = line + data.count(b"\n", 0, exc.start)
                raise TaskError(
                    f"{self.uri}: invalid Ion at line {bad}: not UTF-8 text ({exc.reason})"
                ) from None
            count = block.count("\n") + (0 if block.endswith("\n") else 1)
            yield block, line, count
            line += count

    def split(self, block: str, count: int) -> list[tuple[str, ...]] | None:
        """Every line of the block as a tuple of the first row's string values (in its key
        order), or None when some line is not such a struct."""
        if self._fast is None or self.pending:
            return None
        found = self._fast.findall(block)
        if len(found) != count:
            return None
        if found and not isinstance(found[0], tuple):  # one column
            return [(v,) for v in found]
        return found

    def parse(self, block: str, first_line: int) -> list[Any]:
        """The values of a block's lines, parsed one line at a time (a value may span lines)."""
        from kflow import ion

        rows: list[Any] = []
        for number, text in enumerate(block.splitlines(keepends=True), first_line):
            if self.pending:
                self.pending.append(text)
                try:
                    values = list(ion.read_rows(["".join(self.pending)]))
                except ion.IonError:
                    continue  # still incomplete (or bad: reported at the end)
                self.pending = []
                rows.extend(values)
                continue
            if not text.strip():
                continue
            fast = self._fast.fullmatch(text.rstrip("\n")) if self._fast is not None else None
            if fast is not None:
                rows.append(dict(zip(self.keys or (), fast.groups(), strict=True)))
                continue
            try:
                values = list(ion.read_rows([text]))
            except ion.IonError as exc:
                if "ends inside" in str(exc):
                    self.pending = [text]
                    self._pending_line = number
                    continue
                raise TaskError(
                    f"{self.uri}: {_at_line(str(exc), number)}",
                    hint="the source must be an Ion file, one value per line",
                ) from None
            for parsed in values:
                if self._fast is None and isinstance(parsed, dict) and parsed:
                    if all(type(v) is str for v in parsed.values()):
                        self._compile(list(parsed))
                rows.append(parsed)
        return rows

    def finish(self) -> list[Any]:
        """What is left at the end of the file (a value that never ended is an error)."""
        from kflow import ion

        if not self.pending:
            return []
        try:
            return list(ion.read_rows(["".join(self.pending)]))
        except ion.IonError as exc:
            raise TaskError(f"{self.uri}: {_at_line(str(exc), self._pending_line)}") from None


def _at_line(message: str, first_line: int) -> str:
    """An IonError message about a piece of text that starts at ``first_line`` of the file,
    renumbered to lines of the file."""
    return re.sub(
        r"line (\d+)", lambda m: f"line {int(m.group(1)) + first_line - 1}", message, count=1
    )


def batched(items: Iterable[str], out: IO[str]) -> None:
    """Write strings in blocks of about :data:`BLOCK` characters."""
    buf: list[str] = []
    size = 0
    for item in items:
        buf.append(item)
        size += len(item)
        if size >= BLOCK:
            out.write("".join(buf))
            buf.clear()
            size = 0
    if buf:
        out.write("".join(buf))


# --------------------------------------------------------------------------- Java values as text

_DATE_LETTERS = frozenset("GuyYQqMLwWdDFgEec")
_TIME_LETTERS = frozenset("aBhKkHmsSAnN")
_OFFSET_LETTERS = frozenset("XxZO")
_ALL_LETTERS = _DATE_LETTERS | _TIME_LETTERS | _OFFSET_LETTERS | frozenset("Vvz")
# Java's ISO text of a date-time with an optional offset and [zone] (annotated Ion strings).
ZONED_TEXT = re.compile(
    r"(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d\d:\d\d(?::\d\d)?)?(?:\[([^\]]+)\])?"
)
_TIME = re.compile(r"(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:\d\d(?::\d\d)?)?")


def offset_seconds(text: str | None) -> int | None:
    """The seconds of an ISO offset (``Z``, ``+02:00``), None without one."""
    if not text:
        return None
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    parts = [int(p) for p in text[1:].split(":")]
    return sign * (parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0))


class JavaText:
    """Kestra's ``AbstractTextWriter.convert``: how ``IonToCsv`` prints a value read from Ion.

    Instants (Ion timestamps) and local date-times print with ``dateTimeFormat`` in UTC,
    zoned and offset date-times in ``timeZoneId``, dates with ``dateFormat``, times with
    ``timeFormat``; an optional section (``[XXX]``) prints only when the value has the
    fields it needs (a local time has no offset). Anything else prints as Java's
    ``toString``.
    """

    def __init__(
        self, date_format: str, time_format: str, date_time_format: str, zone: Any
    ) -> None:
        from kflow.java.time import compile_pattern

        for name, pattern in (
            ("dateFormat", date_format),
            ("timeFormat", time_format),
            ("dateTimeFormat", date_time_format),
        ):
            try:
                compile_pattern(pattern)
            except KflowError as exc:
                raise TaskError(f"`{name}` {pattern!r}: {exc.message}") from None
        self.date_format = date_format
        self.time_format = time_format
        self.date_time_format = date_time_format
        self.zone = zone

    def __call__(self, value: Any) -> str | None:
        """The text of one value (None stays None: an empty field)."""
        from datetime import date, datetime

        from kflow.ion import AnnotatedStr
        from kflow.java.strings import to_string

        if value is None or type(value) is str:
            return value
        if isinstance(value, AnnotatedStr):
            return self._annotated(value)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                return self._format(value, 0, self.date_time_format, _DATE_LETTERS | _TIME_LETTERS)
            return self._instant(value)
        if isinstance(value, date):
            return self._format(
                datetime(value.year, value.month, value.day), 0, self.date_format, _DATE_LETTERS
            )
        if isinstance(value, bytes | bytearray):
            import base64

            return base64.b64encode(bytes(value)).decode("ascii")
        return to_string(value)

    def _instant(self, value: Any) -> str:
        from datetime import UTC

        return self._format(
            value.astimezone(UTC),
            value.microsecond * 1000,
            self.date_time_format,
            _ALL_LETTERS,
            utc=True,
        )

    def _annotated(self, value: Any) -> str:
        from datetime import datetime, timedelta, timezone

        kind = value.annotation
        text = str(value)
        if kind in ("ZonedDateTime", "OffsetDateTime", "LocalDateTime"):
            m = ZONED_TEXT.fullmatch(text)
            if m is None:
                return text
            year, month, day, hour, minute, second, fraction, offset, _ = m.groups()
            nano = int((fraction or "0").ljust(9, "0"))
            local = datetime(
                int(year),
                int(month),
                int(day),
                int(hour),
                int(minute),
                int(second or 0),
                nano // 1000,
            )
            seconds = offset_seconds(offset)
            if kind == "LocalDateTime" or seconds is None:
                return self._format(
                    local, nano, self.date_time_format, _DATE_LETTERS | _TIME_LETTERS
                )
            aware = local.replace(tzinfo=timezone(timedelta(seconds=seconds)))
            return self._format(
                aware.astimezone(self.zone.tz),
                nano,
                self.date_time_format,
                _ALL_LETTERS,
                zoned=True,
            )
        if kind in ("LocalTime", "OffsetTime"):
            m = _TIME.fullmatch(text)
            if m is None:
                return text
            hour, minute, second, fraction, offset = m.groups()
            nano = int((fraction or "0").ljust(9, "0"))
            seconds = offset_seconds(offset)
            tz = timezone(timedelta(seconds=seconds)) if seconds is not None else None
            moment = datetime(
                1970, 1, 1, int(hour), int(minute), int(second or 0), nano // 1000, tzinfo=tz
            )
            letters = _TIME_LETTERS | (_OFFSET_LETTERS if tz is not None else frozenset())
            return self._format(moment, nano, self.time_format, letters)
        return text

    def _format(
        self,
        moment: Any,
        nano: int,
        pattern: str,
        letters: frozenset[str],
        utc: bool = False,
        zoned: bool = False,
    ) -> str:
        """``DateTimeFormatter.ofPattern(pattern).format`` of a value that has only the
        fields in ``letters``: optional sections lacking one are dropped, a required one is
        an error (Java's ``Unsupported field``)."""
        from datetime import UTC

        from kflow.java.time import JavaDateTime, compile_pattern, format_pattern, offset_zone

        if moment.tzinfo is None:
            aware = moment.replace(tzinfo=UTC)
            jzone = offset_zone(0)
        elif zoned:
            aware = moment
            jzone = self.zone
        elif utc:
            aware = moment
            jzone = offset_zone(0)
        else:
            off = moment.utcoffset()
            aware = moment
            jzone = offset_zone(int(off.total_seconds()) if off is not None else 0)
        jdt = JavaDateTime(aware, nano, jzone)
        stack: list[tuple[list[str], bool]] = [([], True)]
        for tok in compile_pattern(pattern):
            if tok.kind == "opt":
                stack.append(([], True))
            elif tok.kind == "end":
                parts, ok = stack.pop()
                if ok:
                    stack[-1][0].extend(parts)
            elif tok.kind == "lit":
                stack[-1][0].append(tok.text)
            elif tok.kind == "field":
                if tok.letter not in letters:
                    if len(stack) == 1:
                        raise TaskError(
                            f"cannot format {moment!s} with {pattern!r}: the value has no "
                            f"'{tok.letter}' field",
                            hint="use dateFormat, timeFormat and dateTimeFormat patterns that "
                            "fit the values, or put the field in an optional [section]",
                        )
                    parts, _ = stack[-1]
                    stack[-1] = (parts, False)
                    continue
                try:
                    stack[-1][0].append(format_pattern(jdt, tok.letter * tok.count))
                except KflowError as exc:
                    raise TaskError(
                        f"cannot format a date with {pattern!r}: {exc.message}"
                    ) from None
        return "".join(stack[0][0])
