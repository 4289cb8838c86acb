"""Amazon Ion text, the subset Kestra writes for query results and serdes files.

Kestra stores rows as Ion text, one top-level value per line (``FileSerde``, ion-java's
text writer): structs with unquoted field names, strings, ints, floats with an exponent
(``1.5e0``), decimals (``12.50``), timestamps (``2024-01-01T10:00:00.000Z``, or a day
``2024-01-01T`` for a date), blobs, and Java time types as annotated strings
(``LocalTime::"10:00:00"``). This module writes byte for byte what ion-java writes for
those values and reads them back (plus the rest of Ion text a person may type), so kflow
does not need the heavy ``amazon.ion`` package.

Two styles, one writer. Kestra writes Ion in two places, and they print some values
differently, so :func:`dumps` takes an :class:`IonStyle`:

* :data:`FILESERDE` (the default): ``FileSerde.write``, ion-java's text writer, with which
  Kestra writes every ``.ion`` storage file; kflow uses it through :func:`write_rows` (the
  DuckDB query task's stored results). Nulls are kept, floats print as ion-java's
  ``printFloat`` (``2e0``, ``1.0E10``), decimals as its ``printDecimal`` (``5d-9``), dates
  and times as timestamps or annotated strings.
* :data:`MAPPER`: ``JacksonMapper.ofIon()``, Jackson's Ion ``ObjectMapper`` behind the
  ``toIon`` Pebble filter (:mod:`kflow.expr.filters`). It writes only what Jackson
  serialises: null fields are dropped (``NON_NULL``), floats keep Java's digits with a
  lower-case exponent (``2.0e0``, ``1.0e7``), decimals are plain (``0.000000005``), and
  values Jackson has no Ion type for go through their Java ``toString``. The expression
  layer plugs its own Java views in through the style's two hooks.

Both styles share the walk over structs and lists and the quoting of strings and symbols;
each difference is one branch. Null fields, float exponents and keys are pinned by tests
taken from Kestra (this module's tests for FileSerde, ``cases_filters.yaml`` ``toion*`` for
the mapper). The mapper's shorter escape set, plain decimals and bare ``$1`` symbols are
what kflow's ``toIon`` has always printed and no Kestra test covers; Jackson hands strings
and decimals to ion-java, so Kestra may print these as FileSerde does (unverified: the
oracle has no ``toIon``).

Python ⇄ Ion (FileSerde)::

    None ⇄ null        bool ⇄ bool       int ⇄ int        float ⇄ float
    Decimal ⇄ decimal  str ⇄ string      bytes ⇄ blob     date ⇄ day timestamp
    aware datetime ⇄ timestamp (written in UTC with milliseconds, as Java's Instant)
    AnnotatedStr ⇄ annotated string      list ⇄ list      dict ⇄ struct
    naive datetime → LocalDateTime::"…"  time → LocalTime::"…" or OffsetTime::"…"

On reading, symbols become ``str``, clobs ``bytes``, s-expressions lists, and annotations
on anything but a string are dropped. :func:`to_jsonable` turns what :func:`read_rows`
yields into plain JSON values (for previews and outputs).

Java's own text (``Double.toString``, ``ISO_LOCAL_TIME``, offsets, ``Instant.toString``)
comes from :mod:`kflow.java`; only ion-java's formats are written here.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from kflow.java.isotime import Instant, iso_local_date, iso_local_time, offset_id
from kflow.java.numbers import double_to_string
from kflow.java.strings import to_string

__all__ = [
    "FILESERDE",
    "MAPPER",
    "NEEDS_ESCAPE",
    "AnnotatedStr",
    "IonError",
    "IonStyle",
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


def _java_string(value: Any) -> str:
    """``String.valueOf`` (the mapper style's default hook)."""
    return to_string(value)


@dataclass(frozen=True)
class IonStyle:
    """Which of Kestra's two Ion writers :func:`dumps` imitates (see the module docstring).

    ``mapper=False`` is FileSerde (storage files), ``mapper=True`` the Jackson Ion mapper
    (``toIon``). The hooks matter to the mapper only: they let a caller whose values stand
    for Java objects (the Pebble layer's ``Float``, ``Map.Entry``…) say what Java sees.
    """

    mapper: bool = False
    java_string: Callable[[Any], str] = _java_string
    """``String.valueOf``: field names, a float's digits, values Jackson prints as text."""
    java_value: Callable[[Any], Any] = _java_string
    """What Jackson serialises for a value with no Ion type of its own: by default its
    ``toString``; a caller may return another value to write instead (a map, say)."""


FILESERDE = IonStyle()
"""Kestra's ``FileSerde``: ion-java's text writer, for storage files."""

MAPPER = IonStyle(mapper=True)
"""Kestra's Jackson Ion mapper (``JacksonMapper.ofIon()``), for the ``toIon`` filter."""


# Escapes for double-quoted strings and quoted symbols. ion-java escapes control
# characters, DEL and the C1 controls (U+80..U+9F), with short forms (\0, \a, \v…); the
# mapper style escapes C0 controls and DEL only, \t \n \r short, the rest as \xHH.
# Other non-ASCII text is written as is by both.
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
_MAPPER_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}
_MAPPER_ESCAPES.update({9: "\\t", 10: "\\n", 13: "\\r", 92: "\\\\"})
_STRING_ESCAPES = str.maketrans({**_COMMON_ESCAPES, 34: '\\"'})
_SYMBOL_ESCAPES = str.maketrans({**_COMMON_ESCAPES, 39: "\\'"})
_MAPPER_STRING_ESCAPES = str.maketrans({**_MAPPER_ESCAPES, 34: '\\"'})
_MAPPER_SYMBOL_ESCAPES = str.maketrans({**_MAPPER_ESCAPES, 39: "\\'"})
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f-\x9f]')
_MAPPER_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')
NEEDS_ESCAPE = _NEEDS_ESCAPE
"""Finds a character FileSerde escapes in a string: text without one is written as is
(writers that format many strings at once test a whole block with one search)."""
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_KEYWORDS = frozenset({"null", "true", "false", "nan"})
_SYMBOL_ID = re.compile(r"\$[0-9]+")


def _string(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:  # the common case, without a per-character pass
        return '"' + text + '"'
    return '"' + text.translate(_STRING_ESCAPES) + '"'


def _mapper_string(text: str) -> str:
    if _MAPPER_NEEDS_ESCAPE.search(text) is None:
        return '"' + text + '"'
    return '"' + text.translate(_MAPPER_STRING_ESCAPES) + '"'


def _bare_symbol(text: str, mapper: bool) -> bool:
    """Whether a symbol may go unquoted: an identifier that is no keyword (and, for
    ion-java, no ``$12`` symbol id, which would name a symbol table slot)."""
    return (
        _IDENTIFIER.fullmatch(text) is not None
        and text not in _KEYWORDS
        and (mapper or _SYMBOL_ID.fullmatch(text) is None)
    )


@functools.lru_cache(maxsize=4096)
def _symbol(text: str) -> str:
    # Cached: the same few field names are written on every row.
    if _bare_symbol(text, mapper=False):
        return text
    return "'" + text.translate(_SYMBOL_ESCAPES) + "'"


@functools.lru_cache(maxsize=1024)
def _mapper_symbol(text: str) -> str:
    if _bare_symbol(text, mapper=True):
        return text
    return "'" + text.translate(_MAPPER_SYMBOL_ESCAPES) + "'"


def _special_float(x: float) -> str | None:
    """``nan``, ``+inf``, ``-inf``: the same in both styles."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    return None


def _float(x: float) -> str:
    """ion-java's ``printFloat``: ``Double.toString`` without a ``.0`` (``2e0``, ``1.0E10``)."""
    if x == 0:
        return "-0e0" if math.copysign(1.0, x) < 0 else "0e0"
    special = _special_float(x)
    if special is not None:
        return special
    text = double_to_string(x)
    if text.endswith(".0"):
        return text[:-2] + "e0"
    return text if "E" in text else text + "e0"


def _mapper_float(x: float, java_string: Callable[[Any], str]) -> str:
    """The mapper style: Java's digits kept, exponent in lower case (``2.0e0``, ``1.0e7``)."""
    special = _special_float(x)
    if special is not None:
        return special
    text = java_string(x)
    return text.replace("E", "e") if "E" in text else text + "e0"


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


def _mapper_decimal(d: Decimal) -> str:
    """The mapper style: plain digits (``toPlainString``) and a point (``5.``, ``0.000000005``)."""
    text = format(d, "f")
    return text if "." in text else text + "."


def format_local_time(t: time | datetime) -> str:
    """``DateTimeFormatter.ISO_LOCAL_TIME``: ``10:00:00``, ``10:00:00.5``."""
    return iso_local_time(t.hour, t.minute, t.second, t.microsecond * 1000)


def format_offset(offset: timedelta | None) -> str:
    """An ISO offset as Java prints it: ``Z``, ``+01:00``, ``-03:30``, ``+00:00:30``."""
    return offset_id(int(offset.total_seconds()) if offset is not None else 0)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _day(d: date) -> str:
    return iso_local_date(d.year, d.month, d.day)


def _timestamp_text(dt: datetime) -> str:
    # ion-java's Timestamp.forDateZ(Date): UTC, always milliseconds (not Instant.toString).
    u = dt.astimezone(UTC)
    return f"{_day(u)}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond // 1000:03d}Z"


def _fileserde_text(value: Any) -> str | None:
    """FileSerde's Ion for Python's date, time, bytes and uuid values (None for others)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return "LocalDateTime::" + _string(f"{_day(value)}T{format_local_time(value)}")
        return _timestamp_text(value)
    if isinstance(value, date):
        return _day(value) + "T"
    if isinstance(value, time):
        if value.tzinfo is None or value.utcoffset() is None:
            return "LocalTime::" + _string(format_local_time(value))
        text = format_local_time(value) + format_offset(value.utcoffset())
        return "OffsetTime::" + _string(text)
    if isinstance(value, bytes | bytearray | memoryview):
        return "{{" + base64.b64encode(bytes(value)).decode("ascii") + "}}"
    if isinstance(value, uuid.UUID):
        return _string(str(value))
    return None


class _Writer:
    """The one Ion text writer: a walk over values that calls the style's primitives.

    Most values are written through one dict lookup by exact type (rows are large and
    plain); subclasses and the rarer types go through :meth:`other`.
    """

    def __init__(self, style: IonStyle) -> None:
        mapper = style.mapper
        self.style = style
        string = _mapper_string if mapper else _string
        symbol = _mapper_symbol if mapper else _symbol
        java_string = style.java_string
        float_: Callable[[float], str] = (
            functools.partial(_mapper_float, java_string=java_string) if mapper else _float
        )
        decimal = _mapper_decimal if mapper else _decimal
        self.string = string
        self.float = float_
        self.decimal = decimal
        field_name = java_string if mapper else str
        keep_nulls = not mapper  # Jackson's NON_NULL inclusion drops null fields

        def write(value: Any, out: list[str]) -> None:
            writer = by_type.get(type(value))
            if writer is not None:
                writer(value, out)
            else:
                self.other(value, out)

        def struct(value: Mapping[Any, Any], out: list[str]) -> None:
            out.append("{")
            first = True
            items = (
                value.items() if keep_nulls else [kv for kv in value.items() if kv[1] is not None]
            )
            for key, item in items:
                if not first:
                    out.append(",")
                first = False
                out.append(symbol(key if type(key) is str else field_name(key)) + ":")
                write(item, out)
            out.append("}")

        def sequence(value: Iterable[Any], out: list[str]) -> None:
            out.append("[")
            for index, item in enumerate(value):
                if index:
                    out.append(",")
                write(item, out)
            out.append("]")

        by_type: dict[type, Callable[[Any, list[str]], None]] = {
            str: lambda v, out: out.append(string(v)),
            int: lambda v, out: out.append(str(v)),
            float: lambda v, out: out.append(float_(v)),
            bool: lambda v, out: out.append("true" if v else "false"),
            type(None): lambda v, out: out.append("null"),
            dict: struct,
            list: sequence,
            tuple: sequence,
            Decimal: lambda v, out: out.append(decimal(v)),
        }
        if not mapper:
            by_type[date] = lambda v, out: out.append(v.isoformat() + "T")
        self.write = write
        self.struct = struct
        self.sequence = sequence

    def other(self, value: Any, out: list[str]) -> None:
        """Values whose exact type is not in the table: subclasses, then the rarer types."""
        mapper = self.style.mapper
        if isinstance(value, str):
            if not mapper and isinstance(value, AnnotatedStr):
                out.extend(_symbol(a) + "::" for a in value.annotations)
            out.append(self.string(value))
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, int):
            out.append(str(int(value)))
        elif isinstance(value, float):
            out.append(self.float(value))
        elif isinstance(value, Decimal):
            out.append(self.decimal(value))
        elif isinstance(value, Mapping):
            self.struct(value, out)
        elif isinstance(value, list | tuple):
            self.sequence(value, out)
        elif mapper:
            self.mapper_other(value, out)
        else:
            text = _fileserde_text(value)
            if text is None:
                raise IonError(f"cannot write a {type(value).__name__} value as Ion: {value!r}")
            out.append(text)

    def mapper_other(self, value: Any, out: list[str]) -> None:
        """Jackson: any other collection is an array; anything else what the hook says."""
        if isinstance(value, Iterable):
            self.sequence(value, out)
            return
        java = self.style.java_value(value)
        if isinstance(java, str):
            out.append(self.string(java))
        elif isinstance(java, Mapping | list | tuple):
            self.write(java, out)
        else:  # not a value the hook may hand back: write its toString
            out.append(self.string(self.style.java_string(java)))


@functools.lru_cache(maxsize=16)
def _writer(style: IonStyle) -> _Writer:
    return _Writer(style)


def dumps(value: Any, style: IonStyle = FILESERDE) -> str:
    """One value as compact Ion text (no spaces, no newline), as Kestra's ion-java writer
    (:data:`FILESERDE`) or Jackson Ion mapper (:data:`MAPPER`) writes it."""
    out: list[str] = []
    _writer(style).write(value, out)
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
    write = _writer(FILESERDE).write
    count = 0
    for row in rows:
        if row is None:
            continue
        out: list[str] = []
        write(row, out)
        line = "".join(out) + "\n"
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
        # Jackson writes an Instant with its toString (ISO_INSTANT).
        delta = value - _EPOCH
        seconds = delta.days * 86400 + delta.seconds
        return str(Instant(seconds * 1_000_000_000 + delta.microseconds * 1000))
    if isinstance(value, date):
        return _day(value)
    if isinstance(value, time):
        offset = format_offset(value.utcoffset()) if value.utcoffset() is not None else ""
        return format_local_time(value) + offset
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)
