"""Amazon Ion text, the subset Kestra writes for query results and serdes files.

Kestra stores rows as Ion text, one top-level value per line (``FileSerde``, ion-java's
text writer): structs with unquoted field names, strings, ints, floats with an exponent
(``1.5e0``), decimals (``12.50``), timestamps (``2024-01-01T10:00:00.000Z``, or a day
``2024-01-01T`` for a date), blobs, and Java time types as annotated strings
(``LocalTime::"10:00:00"``). This module writes byte for byte what ion-java writes for
those values and reads them back (plus the rest of Ion text a person may type), so kflow
does not need the heavy ``amazon.ion`` package.

Python ⇄ Ion::

    None ⇄ null        bool ⇄ bool       int ⇄ int        float ⇄ float
    Decimal ⇄ decimal  str ⇄ string      bytes ⇄ blob     date ⇄ day timestamp
    aware datetime ⇄ timestamp (written in UTC with milliseconds, as Java's Instant)
    AnnotatedStr ⇄ annotated string      list ⇄ list      dict ⇄ struct
    naive datetime → LocalDateTime::"…"  time → LocalTime::"…" or OffsetTime::"…"

On reading, symbols become ``str``, clobs ``bytes``, s-expressions lists, and annotations
on anything but a string are dropped. :func:`to_jsonable` turns what :func:`read_rows`
yields into plain JSON values (for previews and outputs).
"""

from __future__ import annotations

import base64
import functools
import io
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from kflow.java.isotime import iso_local_time, offset_id
from kflow.java.numbers import double_to_string

__all__ = [
    "AnnotatedStr",
    "IonError",
    "dumps",
    "dumps_line",
    "format_local_time",
    "format_offset",
    "loads",
    "read_rows",
    "to_jsonable",
    "write_rows",
]


class IonError(ValueError):
    """Text that is not valid Ion, or a Python value Ion cannot hold.

    A ``ValueError`` so callers that try a format and fall back (the file preview) catch it
    with the other parse errors; tasks turn it into a ``TaskError`` naming the file.
    """


class _Incomplete(IonError):
    """The text ended inside a value: more lines may complete it."""


class AnnotatedStr(str):
    """A string carrying Ion annotations, e.g. ``LocalTime::"10:00:00"``.

    Kestra writes Java time types this way; keeping the annotation lets a file be read
    and written back unchanged, while everywhere else (JSON, templates) it is a ``str``.
    """

    annotations: tuple[str, ...]

    def __new__(cls, text: str, *annotations: str) -> AnnotatedStr:
        obj = super().__new__(cls, text)
        obj.annotations = tuple(annotations)
        return obj

    @property
    def annotation(self) -> str:
        """The first annotation (the Java class name for Kestra's time values)."""
        return self.annotations[0] if self.annotations else ""

    def __repr__(self) -> str:
        args = ", ".join(repr(a) for a in (str(self), *self.annotations))
        return f"AnnotatedStr({args})"


# --------------------------------------------------------------------------- writing

# ion-java's escapes for double-quoted strings and quoted symbols: control characters,
# DEL and the C1 controls (U+80..U+9F) as \xHH; other non-ASCII text is written as is.
_COMMON_ESCAPES = {
    0: "\\0",
    7: "\\a",
    8: "\\b",
    9: "\\t",
    10: "\\n",
    11: "\\v",
    12: "\\f",
    13: "\\r",
    92: "\\\\",
}
for _c in (*range(0x20), *range(0x7F, 0xA0)):
    _COMMON_ESCAPES.setdefault(_c, f"\\x{_c:02x}")
_STRING_ESCAPES = str.maketrans({**_COMMON_ESCAPES, 34: '\\"'})
_SYMBOL_ESCAPES = str.maketrans({**_COMMON_ESCAPES, 39: "\\'"})
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_KEYWORDS = frozenset({"null", "true", "false", "nan"})
_SYMBOL_ID = re.compile(r"\$[0-9]+")


_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f-\x9f]')


def _string(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:  # the common case, without a per-character pass
        return '"' + text + '"'
    return '"' + text.translate(_STRING_ESCAPES) + '"'


@functools.lru_cache(maxsize=4096)
def _symbol(text: str) -> str:
    # Cached: the same few field names are written on every row.
    if _IDENTIFIER.fullmatch(text) and text not in _KEYWORDS and not _SYMBOL_ID.fullmatch(text):
        return text
    return "'" + text.translate(_SYMBOL_ESCAPES) + "'"


def _float(x: float) -> str:
    if x == 0:
        return "-0e0" if math.copysign(1.0, x) < 0 else "0e0"
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    text = double_to_string(x)  # ion-java prints floats with Double.toString
    if text.endswith(".0"):
        return text[:-2] + "e0"
    return text if "E" in text else text + "e0"


def _decimal(d: Decimal) -> str:
    """ion-java's ``printDecimal``: ``5.``, ``12.50``, ``0.05``, ``5d-9``, ``12d3``."""
    if not d.is_finite():
        raise IonError(f"Ion decimals cannot hold {d}; use a float")
    text = str(d)
    # Python prints plain notation exactly when ion-java does (exponent <= 0 and adjusted
    # exponent >= -6); only the exponent-0 case needs ion's trailing point.
    if "E" not in text:
        return text if "." in text else text + "."
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    unscaled = "".join(map(str, digits)).lstrip("0") or "0"
    out = "-" if sign else ""
    if exp == 0:
        return f"{out}{unscaled}."
    if exp > 0:
        return f"{out}{unscaled}d{exp}"
    scale = -exp
    significant = len(unscaled)
    adjusted = significant - 1 - scale
    if adjusted >= 0:
        whole = significant - scale
        return f"{out}{unscaled[:whole]}.{unscaled[whole:]}"
    if adjusted >= -6:
        return f"{out}0.{'0' * (scale - significant)}{unscaled}"
    return f"{out}{unscaled}d-{scale}"


def format_local_time(t: time | datetime) -> str:
    """``DateTimeFormatter.ISO_LOCAL_TIME``: ``10:00:00``, ``10:00:00.5``."""
    return iso_local_time(t.hour, t.minute, t.second, t.microsecond * 1000)


def format_offset(offset: timedelta | None) -> str:
    """An ISO offset as Java prints it: ``Z``, ``+01:00``, ``-03:30``, ``+00:00:30``."""
    return offset_id(int(offset.total_seconds()) if offset is not None else 0)


def _day(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _write_struct(value: Mapping[Any, Any], out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in value.items():
        if not first:
            out.append(",")
        first = False
        out.append(_symbol(key if type(key) is str else str(key)) + ":")
        _write(item, out)
    out.append("}")


def _write_list(value: list[Any] | tuple[Any, ...], out: list[str]) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _write(item, out)
    out.append("]")


# Writers by exact type: most values take one dict lookup instead of an isinstance chain.
_WRITERS: dict[type, Callable[[Any, list[str]], None]] = {
    str: lambda v, out: out.append(_string(v)),
    int: lambda v, out: out.append(str(v)),
    float: lambda v, out: out.append(_float(v)),
    bool: lambda v, out: out.append("true" if v else "false"),
    type(None): lambda v, out: out.append("null"),
    dict: _write_struct,
    list: _write_list,
    tuple: _write_list,
    Decimal: lambda v, out: out.append(_decimal(v)),
    date: lambda v, out: out.append(v.isoformat() + "T"),
}


def _instant(dt: datetime) -> str:
    # Timestamp.forDateZ(Date): UTC, always milliseconds.
    u = dt.astimezone(UTC)
    return f"{_day(u)}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond // 1000:03d}Z"


def _write(value: Any, out: list[str]) -> None:
    writer = _WRITERS.get(type(value))
    if writer is not None:
        writer(value, out)
    elif isinstance(value, str):
        if isinstance(value, AnnotatedStr):
            out.extend(_symbol(a) + "::" for a in value.annotations)
        out.append(_string(value))
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, Mapping):
        _write_struct(value, out)
    elif isinstance(value, list | tuple):
        _write_list(value, out)
    elif isinstance(value, Decimal):
        out.append(_decimal(value))
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            text = f"{_day(value)}T{format_local_time(value)}"
            out.append("LocalDateTime::" + _string(text))
        else:
            out.append(_instant(value))
    elif isinstance(value, date):
        out.append(_day(value) + "T")
    elif isinstance(value, time):
        if value.tzinfo is None or value.utcoffset() is None:
            out.append("LocalTime::" + _string(format_local_time(value)))
        else:
            text = format_local_time(value) + format_offset(value.utcoffset())
            out.append("OffsetTime::" + _string(text))
    elif isinstance(value, bytes | bytearray | memoryview):
        out.append("{{" + base64.b64encode(bytes(value)).decode("ascii") + "}}")
    elif isinstance(value, uuid.UUID):
        out.append(_string(str(value)))
    else:
        raise IonError(f"cannot write a {type(value).__name__} value as Ion: {value!r}")


def dumps(value: Any) -> str:
    """One value as compact Ion text (no spaces, no newline), as ion-java writes it."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def dumps_line(record: Any) -> str:
    """One row as one line of Ion text, without the newline (rows never contain one:
    newlines inside strings are escaped)."""
    return dumps(record)


def write_rows(rows: Iterable[Any], fh: IO[str] | IO[bytes]) -> int:
    """Write rows one per line (text or binary file); returns how many were written.

    ``None`` rows are skipped, as Kestra's ``FileSerde`` does.
    """
    binary = not isinstance(fh, io.TextIOBase)
    count = 0
    for row in rows:
        if row is None:
            continue
        line = dumps(row) + "\n"
        fh.write(line.encode("utf-8") if binary else line)  # type: ignore[arg-type]
        count += 1
    return count


# --------------------------------------------------------------------------- reading

_WHITESPACE = " \t\n\r\v\f"
_OPERATOR_CHARS = frozenset("!#%&*+-./;<=>?@^`|~")
_NUMBER_CHARS = frozenset("0123456789abcdefABCDEFxXTZ_.+-:")
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_IDENT_PART = _IDENT_START | frozenset("0123456789")
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "f": "\f",
    "r": "\r",
    "v": "\v",
    "?": "?",
    "0": "\0",
    "'": "'",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "\n": "",
}
_INT = re.compile(r"-?[0-9][0-9_]*")
_RADIX_INT = re.compile(r"-?0(?:[xX][0-9a-fA-F_]+|[bB][01_]+)")
_FLOAT = re.compile(r"-?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][+-]?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[dD][+-]?[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?T?")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]+))?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_SKIP = object()  # a system value ($ion_1_0, a symbol table): not a row


class _Parser:
    def __init__(self, text: str, first_line: int = 1) -> None:
        self.s = text
        self.i = 0
        self.first_line = first_line

    # ------------------------------------------------------------- helpers
    def where(self, pos: int | None = None) -> str:
        pos = self.i if pos is None else pos
        line = self.first_line + self.s.count("\n", 0, pos)
        column = pos - (self.s.rfind("\n", 0, pos) + 1) + 1
        return f"line {line}, column {column}"

    def fail(self, message: str, pos: int | None = None) -> IonError:
        return IonError(f"invalid Ion at {self.where(pos)}: {message}")

    def incomplete(self, what: str) -> _Incomplete:
        return _Incomplete(f"invalid Ion at {self.where()}: the text ends inside {what}")

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.s[j] if j < len(self.s) else ""

    def skip(self) -> None:
        """Skip whitespace and comments."""
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c in _WHITESPACE:
                self.i += 1
            elif c == "/" and self.peek(1) == "/":
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end + 1
            elif c == "/" and self.peek(1) == "*":
                end = s.find("*/", self.i + 2)
                if end < 0:
                    raise self.incomplete("a /* comment */")
                self.i = end + 2
            else:
                return

    # ------------------------------------------------------------- values
    def top_level(self) -> Any:
        start = self.i
        value = self.value()
        if isinstance(value, _Symbol):
            if re.fullmatch(r"\$ion_[0-9]+_[0-9]+", value) and not value.annotations:
                return _SKIP
            return str(value)
        if self.s.startswith("$ion_symbol_table::", start):
            return _SKIP
        return value

    def value(self) -> Any:
        annotations: list[str] = []
        while True:
            self.skip()
            if self.i >= len(self.s):
                raise self.incomplete("a value")
            atom = self.atom()
            if isinstance(atom, _Symbol):
                self.skip()
                if self.s.startswith("::", self.i):
                    self.i += 2
                    annotations.append(str(atom))
                    continue
                atom.annotations = tuple(annotations)
                return atom
            if annotations and isinstance(atom, str):
                return AnnotatedStr(atom, *annotations)
            return atom

    def atom(self) -> Any:
        c = self.s[self.i]
        if c == "{":
            if self.peek(1) == "{":
                return self.lob()
            return self.struct()
        if c == "[":
            return self.sequence("]")
        if c == "(":
            return self.sequence(")")
        if c == '"':
            return self.short_string()
        if c == "'":
            if self.s.startswith("'''", self.i):
                return self.long_strings()
            return _Symbol(self.quoted_symbol())
        if c.isdigit() or (c == "-" and self.peek(1).isdigit()):
            return self.number()
        if c in "+-" and self.s.startswith("inf", self.i + 1):
            self.i += 4
            return math.inf if c == "+" else -math.inf
        if c in _IDENT_START:
            return self.keyword_or_symbol()
        raise self.fail(f"unexpected character {c!r}")

    def keyword_or_symbol(self) -> Any:
        word = self.identifier()
        if word == "null":
            if self.peek() == "." and self.peek(1) in _IDENT_START:
                self.i += 1
                self.identifier()
            return None
        if word == "true":
            return True
        if word == "false":
            return False
        if word == "nan":
            return math.nan
        return _Symbol(word)

    def identifier(self) -> str:
        start = self.i
        s, n = self.s, len(self.s)
        while self.i < n and s[self.i] in _IDENT_PART:
            self.i += 1
        return s[start : self.i]

    def struct(self) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        while True:
            self.skip()
            c = self.peek()
            if c == "}":
                self.i += 1
                return out
            if not c:
                raise self.incomplete("a struct")
            key = self.field_name()
            self.skip()
            if self.peek() != ":" or self.peek(1) == ":":
                if not self.peek():
                    raise self.incomplete("a struct")
                raise self.fail("expected ':' after a field name")
            self.i += 1
            out[key] = self.plain(self.value())
            self.skip()
            c = self.peek()
            if c == ",":
                self.i += 1
            elif c != "}":
                if not c:
                    raise self.incomplete("a struct")
                raise self.fail("expected ',' or '}' in a struct")

    def field_name(self) -> str:
        c = self.s[self.i]
        if c == '"':
            return self.short_string()
        if c == "'":
            if self.s.startswith("'''", self.i):
                return self.long_strings()
            return self.quoted_symbol()
        if c in _IDENT_START:
            return self.identifier()
        raise self.fail(f"expected a field name, found {c!r}")

    def sequence(self, close: str) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        sexp = close == ")"
        while True:
            self.skip()
            c = self.peek()
            if c == close:
                self.i += 1
                return out
            if not c:
                raise self.incomplete("a list" if not sexp else "an s-expression")
            if sexp and c in _OPERATOR_CHARS and not (c == "-" and self.peek(1).isdigit()):
                start = self.i
                while self.i < len(self.s) and self.s[self.i] in _OPERATOR_CHARS:
                    self.i += 1
                out.append(self.s[start : self.i])
                continue
            out.append(self.plain(self.value()))
            if sexp:
                continue
            self.skip()
            c = self.peek()
            if c == ",":
                self.i += 1
            elif c != close:
                if not c:
                    raise self.incomplete("a list")
                raise self.fail("expected ',' or ']' in a list")

    @staticmethod
    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, _Symbol) else value

    def short_string(self) -> str:
        self.i += 1
        s = self.s
        parts: list[str] = []
        start = self.i
        while True:
            j = self.i
            # find the next quote, backslash or (forbidden) newline
            while j < len(s) and s[j] not in '"\\\n':
                j += 1
            if j >= len(s):
                raise self.incomplete("a string")
            c = s[j]
            parts.append(s[start:j])
            if c == '"':
                self.i = j + 1
                return "".join(parts)
            if c == "\n":
                raise self.fail("a newline inside a double-quoted string", j)
            self.i = j
            parts.append(self.escape())
            start = self.i

    def long_strings(self) -> str:
        parts: list[str] = []
        while self.s.startswith("'''", self.i):
            self.i += 3
            start = self.i
            s = self.s
            while True:
                j = self.i
                while j < len(s) and s[j] not in "'\\":
                    j += 1
                if j >= len(s):
                    raise self.incomplete("a '''long string'''")
                parts.append(s[start:j])
                if s[j] == "'":
                    if s.startswith("'''", j):
                        self.i = j + 3
                        break
                    parts.append("'")
                    self.i = j + 1
                else:
                    self.i = j
                    parts.append(self.escape())
                start = self.i
            self.skip()
        return "".join(parts)

    def quoted_symbol(self) -> str:
        self.i += 1
        s = self.s
        parts: list[str] = []
        start = self.i
        while True:
            j = self.i
            while j < len(s) and s[j] not in "'\\\n":
                j += 1
            if j >= len(s):
                raise self.incomplete("a 'quoted symbol'")
            parts.append(s[start:j])
            if s[j] == "'":
                self.i = j + 1
                return "".join(parts)
            if s[j] == "\n":
                raise self.fail("a newline inside a quoted symbol", j)
            self.i = j
            parts.append(self.escape())
            start = self.i

    def escape(self) -> str:
        """Decode the escape sequence at ``self.i`` (which is a backslash)."""
        c = self.peek(1)
        if not c:
            raise self.incomplete("an escape sequence")
        simple = _SIMPLE_ESCAPES.get(c)
        if simple is not None:
            self.i += 2
            return simple
        if c == "\r":
            self.i += 3 if self.peek(2) == "\n" else 2
            return ""
        width = {"x": 2, "u": 4, "U": 8}.get(c)
        if width is None:
            raise self.fail(f"unknown escape \\{c}")
        digits = self.s[self.i + 2 : self.i + 2 + width]
        if len(digits) < width:
            raise self.incomplete("an escape sequence")
        try:
            code = int(digits, 16)
        except ValueError:
            raise self.fail(f"bad escape \\{c}{digits}") from None
        self.i += 2 + width
        if 0xD800 <= code < 0xDC00 and self.s.startswith("\\u", self.i):
            low = self.s[self.i + 2 : self.i + 6]
            try:
                low_code = int(low, 16)
            except ValueError:
                low_code = 0
            if 0xDC00 <= low_code < 0xE000:
                self.i += 6
                code = 0x10000 + ((code - 0xD800) << 10) + (low_code - 0xDC00)
        try:
            return chr(code)
        except (ValueError, OverflowError):
            raise self.fail(f"bad code point \\{c}{digits}") from None

    def lob(self) -> bytes:
        self.i += 2
        self.skip()
        c = self.peek()
        if c == '"' or c == "'":
            text = self.short_string() if c == '"' else self.long_strings()
            data = text.encode("latin-1", errors="replace")
        else:
            end = self.s.find("}}", self.i)
            if end < 0:
                raise self.incomplete("a {{blob}}")
            raw = "".join(self.s[self.i : end].split())
            try:
                data = base64.b64decode(raw, validate=True)
            except ValueError:
                raise self.fail("a blob that is not base64") from None
            self.i = end
        self.skip()
        if not self.s.startswith("}}", self.i):
            if self.i >= len(self.s):
                raise self.incomplete("a lob")
            raise self.fail("expected '}}' to close a lob")
        self.i += 2
        return data

    def number(self) -> Any:
        start = self.i
        s, n = self.s, len(self.s)
        self.i += 1
        while self.i < n and s[self.i] in _NUMBER_CHARS:
            # a '-' or '+' only continues a number after an exponent or inside a timestamp
            if s[self.i] in "+-" and s[self.i - 1] not in "eEdD0123456789":
                break
            self.i += 1
        token = s[start : self.i]
        try:
            return _number(token)
        except ValueError:
            raise self.fail(f"{token!r} is not a number or timestamp", start) from None


class _Symbol(str):
    """A symbol while parsing (it may turn out to be an annotation)."""

    annotations: tuple[str, ...] = ()


def _number(token: str) -> Any:
    if "T" in token or (len(token) == 10 and token[4:5] == "-" and token[7:8] == "-"):
        return _timestamp(token)
    if _INT.fullmatch(token):
        return int(token.replace("_", ""))
    if _RADIX_INT.fullmatch(token):
        return int(token.replace("_", ""), 0)
    if _FLOAT.fullmatch(token):
        return float(token.replace("_", ""))
    if _DECIMAL.fullmatch(token):
        try:
            return Decimal(token.replace("_", "").replace("d", "e").replace("D", "e"))
        except InvalidOperation:
            raise ValueError(token) from None
    raise ValueError(token)


def _timestamp(token: str) -> date | datetime:
    m = _DATE.fullmatch(token)
    if m:
        year, month, day = m.groups()
        return date(int(year), int(month or 1), int(day or 1))
    m = _DATETIME.fullmatch(token)
    if not m:
        raise ValueError(token)
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if offset == "Z" or offset == "-00:00":
        tz = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        tz = timezone(sign * delta) if delta else UTC
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz
    )


def loads(text: str) -> Any:
    """The one Ion value in ``text`` (``IonError`` if there is none or more than one)."""
    values = list(read_rows(io.StringIO(text)))
    if len(values) != 1:
        raise IonError(f"expected one Ion value, found {len(values)}")
    return values[0]


def read_rows(
    fh: IO[str] | IO[bytes] | Iterable[str | bytes], limit: int | None = None
) -> Iterator[Any]:
    """The top-level values of an Ion text file, in order, at most ``limit`` of them.

    Reads line by line, so the head of a huge file costs little; a value may still span
    lines. ``fh`` may be text or binary (UTF-8). Raises ``IonError`` with a line number.
    """
    if limit is not None and limit <= 0:
        return
    count = 0
    buf = ""
    first_line = 1
    for raw in fh:
        try:
            buf += raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            line = first_line + buf.count("\n")
            raise IonError(f"invalid Ion at line {line}: not UTF-8 text ({exc.reason})") from None
        parser = _Parser(buf, first_line)
        consumed = 0
        while True:
            try:
                parser.skip()
                if parser.i >= len(buf):
                    consumed = parser.i
                    break
                value = parser.top_level()
            except _Incomplete:
                break  # wait for the next line
            consumed = parser.i
            if value is not _SKIP:
                yield value
                count += 1
                if limit is not None and count >= limit:
                    return
        first_line += buf.count("\n", 0, consumed)
        buf = buf[consumed:]
    parser = _Parser(buf, first_line)
    while True:
        parser.skip()  # at the end of the file an unfinished value is an error
        if parser.i >= len(buf):
            return
        value = parser.top_level()
        if value is not _SKIP:
            yield value
            count += 1
            if limit is not None and count >= limit:
                return


# --------------------------------------------------------------------------- JSON


def to_jsonable(value: Any) -> Any:
    """A plain JSON value for what :func:`read_rows` yields, as Kestra's JSON mapper would
    print it: decimals as numbers, timestamps and dates as ISO strings, blobs as base64,
    annotated strings as their text, NaN and infinities as the strings Jackson writes."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return f"{_day(value)}T{format_local_time(value)}"
        # Jackson writes an Instant with ISO_INSTANT: fraction digits in groups of three.
        u = value.astimezone(UTC)
        micro = u.microsecond
        fraction = f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
        fraction = fraction if micro else ""
        return f"{_day(u)}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}{fraction}Z"
    if isinstance(value, date):
        return _day(value)
    if isinstance(value, time):
        offset = format_offset(value.utcoffset()) if value.utcoffset() is not None else ""
        return format_local_time(value) + offset
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)
