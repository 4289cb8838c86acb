"""Flow inputs and flow outputs, typed the way Kestra types them.

Kestra's ``FlowInputOutput`` (``resolveInputs``/``parseType``/``typedOutputs``) and the
``io.kestra.core.models.flows.input.*`` classes decide every rule here: which strings parse,
which Java quirks survive (BOOLEAN never fails, FLOAT is 32-bit, ENUM/SELECT only check
their values when required, DURATION messages start with a capital *It*), and the error
wording (``Invalid input for `x`, <reason>, but received `<raw>```). Values are parsed into
small internal types first (an instant, a date, a duration...), validated, and only then
turned into what an execution stores: JSON-able values, SECRETs encrypted, FILEs uploaded
last so that a refused run leaves no file behind.

Java's ``toString`` of the raw value appears in messages (``[a, b]`` for a list), and the
``java.time`` parse errors are reproduced (``Text 'x' could not be parsed at index 4``) so a
message reads the same under kflow as under Kestra.
"""

from __future__ import annotations

import base64
import datetime as _dt
import difflib
import inspect
import json
import math
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from kflow.errors import InputError, KflowError
from kflow.expr.javaregex import java_regex
from kflow.expr.values import _to_f32, java_float, java_float32
from kflow.flow.loader import YamlDataLoader, load_bounded
from kflow.flow.model import MISSING, InputSpec, OutputSpec
from kflow.notices import Notice
from kflow.secrets import MASK, decrypt_tree, encrypt

__all__ = [
    "INPUT_TYPES",
    "check_input_ids",
    "check_input_spec",
    "check_output_spec",
    "check_output_value",
    "input_context",
    "input_notices",
    "read_as_false",
    "resolve_inputs",
    "resolve_outputs",
]

INPUT_TYPES: frozenset[str] = frozenset(
    {
        "ARRAY", "BOOL", "BOOLEAN", "DATE", "DATETIME", "DURATION", "EMAIL", "ENUM", "FILE",
        "FLOAT", "INT", "JSON", "MULTISELECT", "SECRET", "SELECT", "STRING", "TIME", "URI",
        "YAML",
    }
)  # fmt: skip

ID_RE = re.compile(r"[a-zA-Z0-9][.a-zA-Z0-9_-]*")

# FlowInputOutput.URI_PATTERN and EmailInput.EMAIL_PATTERN, verbatim.
_URI_RE = re.compile(
    r"^[a-z]+:\/\/(?:www\.)?[-a-zA-Z0-9@:%._\+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"(?:[-a-zA-Z0-9()@:%_\+.~#?&\/=]*)$",
    re.ASCII,
)
_EMAIL_RE = re.compile(r"^$|^[a-zA-Z0-9_!#$%&’*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+$")

_COMMON_KEYS = frozenset(
    {"id", "name", "type", "description", "dependsOn", "required", "defaults", "prefill",
     "displayName"}
)  # fmt: skip
_TYPE_KEYS: dict[str, frozenset[str]] = {
    "STRING": frozenset({"validator"}),
    "SECRET": frozenset({"validator"}),
    "INT": frozenset({"min", "max"}),
    "FLOAT": frozenset({"min", "max"}),
    "DURATION": frozenset({"min", "max"}),
    "DATE": frozenset({"after", "before"}),
    "TIME": frozenset({"after", "before"}),
    "DATETIME": frozenset({"after", "before"}),
    "FILE": frozenset({"extension", "allowedFileExtensions"}),
    "ENUM": frozenset({"values"}),
    "SELECT": frozenset({"values", "expression", "allowCustomValue", "isRadio", "autoSelectFirst"}),
    "MULTISELECT": frozenset(
        {"values", "options", "expression", "itemType", "allowCustomValue", "autoSelectFirst"}
    ),
    "ARRAY": frozenset({"itemType"}),
}
_OUTPUT_KEYS = frozenset({"id", "type", "value", "description", "displayName", "required"})

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_NANOS = 1_000_000_000


# --------------------------------------------------------------------------- failures


class _ArgError(Exception):
    """A Java ``IllegalArgumentException``: Kestra keeps its message as the reason."""


class _ParseError(Exception):
    """Any other parse failure: Kestra wraps it as ``Expected `T` but received `v` ...``."""


class _Violation(Exception):
    """A validation rule (min, pattern, values) refused the parsed value."""


# --------------------------------------------------------------------------- Java text


# Java's Double.toString / Float.toString and float32 rounding: one implementation,
# in kflow.expr.values (the printing rules of expressions).
_java_double_str = java_float
_java_float_str = java_float32
_f32 = _to_f32


def _jstr(value: Any) -> str:
    """Java ``toString`` of a value as Jackson would have built it (used in messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_jstr(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_jstr(k)}={_jstr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def _java_type_name(value: Any) -> str:
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer" if _INT_MIN <= value <= _INT_MAX else "Long"
    return {str: "String", float: "Double", dict: "LinkedHashMap"}.get(
        type(value), type(value).__name__
    )


# --------------------------------------------------------------------------- numbers


_JAVA_INT_RE = re.compile(r"[+-]?\d+")  # \d: Character.digit accepts any Unicode digit too
_JAVA_FLOAT_RE = re.compile(
    r"[+-]?(?:NaN|Infinity|(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+)[fFdD]?)",
    re.ASCII,
)
_JAVA_TRIM = "".join(chr(c) for c in range(33))


def _significant(text: str) -> tuple[str, str]:
    """The sign and the digits of ``text`` (an optionally signed run of digits) without
    leading zeros: a number is known to be out of a Java type's range from its length
    alone, before Python's ``int()`` meets its 4,300-digit limit."""
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("+-")
    start = 0
    while start < len(digits) and digits[start].isdigit() and int(digits[start]) == 0:
        start += 1  # any Unicode zero: Java's Character.digit reads them all
    return sign, digits[start:]


def _significant_digits(text: str) -> int:
    return len(_significant(text)[1])


def _small_int(text: str) -> int:
    """``int(text)`` for a run of digits already known to be short once zeros are dropped."""
    sign, digits = _significant(text)
    return int(sign + (digits or "0"))


def _parse_java_int(text: str) -> int:
    """``Integer.valueOf``: 32-bit, no whitespace, no underscores."""
    if _JAVA_INT_RE.fullmatch(text) and _significant_digits(text) <= 10:
        number = _small_int(text)
        if _INT_MIN <= number <= _INT_MAX:
            return number
    raise _ArgError(f'For input string: "{text}"')


def _nearest_f32(exact: Fraction, approx: float) -> float:
    """Round ``exact`` to float32 once (a double then float32 cast can round twice)."""
    try:
        first = _f32(approx)
    except OverflowError:
        return math.copysign(math.inf, approx)
    if math.isinf(first):
        return first
    bits = struct.unpack("<I", struct.pack("<f", first))[0]
    candidates = [first]
    for nb in (bits - 1, bits + 1):
        if 0 <= nb < 2**32:
            cand = float(struct.unpack("<f", struct.pack("<I", nb))[0])
            if math.isfinite(cand):
                candidates.append(cand)

    def key(c: float) -> tuple[Fraction, int]:
        odd = struct.unpack("<I", struct.pack("<f", c))[0] & 1
        return abs(Fraction(c) - exact), odd

    return min(candidates, key=key)


def _parse_java_float(text: str) -> float:
    """``Float.valueOf``: Java's grammar, 32-bit, returned as the float Kestra prints."""
    trimmed = text.strip(_JAVA_TRIM)
    if not trimmed:
        raise _ArgError("empty String")
    if not _JAVA_FLOAT_RE.fullmatch(trimmed):
        raise _ArgError(f'For input string: "{trimmed}"')
    # The grammar ends with exponent digits, so a final f/F/d/D is always the type suffix.
    body = trimmed[:-1] if trimmed[-1] in "fFdD" else trimmed
    if body.lstrip("+-")[:2].lower() == "0x":
        try:
            value = _f32_or_inf(float.fromhex(body))
        except OverflowError:  # past a double: Java's Float.valueOf gives Infinity
            value = math.inf
    elif body.lstrip("+-") in ("NaN", "Infinity"):
        value = math.nan
    elif (magnitude := Decimal(body)).is_zero() or magnitude.adjusted() < -60:
        value = math.copysign(0.0, -1.0 if body.startswith("-") else 1.0)  # under float32's
    elif magnitude.adjusted() > 60:  # past float32's range; skip an exact Fraction of 10**1e9
        value = math.copysign(math.inf, -1.0 if body.startswith("-") else 1.0)
    else:
        value = _nearest_f32(Fraction(Decimal(body)), float(body))
    if not math.isfinite(value):
        # Java would keep NaN/Infinity; they are not JSON, so kflow refuses them.
        raise _ArgError(f'For input string: "{trimmed}" (only finite numbers are accepted)')
    # Store the decimal Java prints for this float (0.1f -> 0.1, not 0.10000000149011612).
    return float(java_float32(value))


def _f32_or_inf(value: float) -> float:
    try:
        return _f32(value)
    except OverflowError:
        return math.copysign(math.inf, value)


# --------------------------------------------------------------------------- java.time


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_length(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def _fmt_year(y: int) -> str:
    if abs(y) < 1000:
        return ("-" if y < 0 else "") + f"{abs(y):04d}"
    return f"+{y}" if y > 9999 else str(y)


def _fraction_groups(nano: int) -> str:
    """``.SSS``/``.SSSSSS``/``.SSSSSSSSS`` as Instant/LocalTime ``toString`` print them."""
    if nano % 1_000_000 == 0:
        return f".{nano // 1_000_000:03d}"
    if nano % 1000 == 0:
        return f".{nano // 1000:06d}"
    return f".{nano:09d}"


@dataclass(frozen=True, order=True)
class _Instant:
    nanos: int  # since 1970-01-01T00:00:00Z

    def __str__(self) -> str:  # Instant.toString == ISO_INSTANT == Jackson's form
        secs, nano = divmod(self.nanos, _NANOS)
        days, sod = divmod(secs, 86400)
        y, m, d = _civil_from_days(days)
        out = (
            f"{_fmt_year(y)}-{m:02d}-{d:02d}T{sod // 3600:02d}:{sod // 60 % 60:02d}:{sod % 60:02d}"
        )
        return out + (_fraction_groups(nano) if nano else "") + "Z"

    def json(self) -> str:
        return str(self)


@dataclass(frozen=True, order=True)
class _Date:
    year: int
    month: int
    day: int

    def __str__(self) -> str:
        return f"{_fmt_year(self.year)}-{self.month:02d}-{self.day:02d}"

    def json(self) -> str:
        return str(self)


@dataclass(frozen=True, order=True)
class _Time:
    nanos: int  # of the day

    def _parts(self) -> tuple[int, int, int, int]:
        secs, nano = divmod(self.nanos, _NANOS)
        return secs // 3600, secs // 60 % 60, secs % 60, nano

    def __str__(self) -> str:  # LocalTime.toString: seconds only when non-zero
        h, m, s, nano = self._parts()
        out = f"{h:02d}:{m:02d}"
        if s or nano:
            out += f":{s:02d}" + (_fraction_groups(nano) if nano else "")
        return out

    def json(self) -> str:  # Jackson: ISO_LOCAL_TIME, seconds always, fraction trimmed
        h, m, s, nano = self._parts()
        return f"{h:02d}:{m:02d}:{s:02d}" + (f".{nano:09d}".rstrip("0") if nano else "")


def _jdiv(a: int, b: int) -> int:
    """Java's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@dataclass(frozen=True, order=True)
class _Duration:
    nanos: int

    def __str__(self) -> str:  # Duration.toString
        if self.nanos == 0:
            return "PT0S"
        seconds, nanos = divmod(self.nanos, _NANOS)
        effective = seconds + 1 if seconds < 0 and nanos > 0 else seconds
        hours = _jdiv(effective, 3600)
        minutes = _jdiv(effective - hours * 3600, 60)
        secs = effective - hours * 3600 - minutes * 60
        buf = "PT"
        if hours:
            buf += f"{hours}H"
        if minutes:
            buf += f"{minutes}M"
        if secs == 0 and nanos == 0 and len(buf) > 2:
            return buf
        buf += "-0" if seconds < 0 and nanos > 0 and secs == 0 else str(secs)
        if nanos > 0:
            frac = str(2 * _NANOS - nanos if seconds < 0 else nanos + _NANOS).rstrip("0")
            buf += "." + frac[1:]
        return buf + "S"

    def json(self) -> str:
        # Kestra's queue mapper writes seconds (kestra#3742); kflow keeps the ISO text (§2.5).
        return str(self)


class _DateTimeParseError(Exception):
    """``java.time.format.DateTimeParseException`` with Java's message."""


class _Fail(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def _abbr(text: str) -> str:
    return text[:64] + "..." if len(text) > 64 else text


def _dt_error(text: str, detail: str) -> _DateTimeParseError:
    return _DateTimeParseError(f"Text '{_abbr(text)}' could not be parsed{detail}")


def _digits2(text: str, pos: int) -> tuple[int, int]:
    """``appendValue(field, 2)``: exactly two ASCII digits, no sign."""
    chunk = text[pos : pos + 2]
    if len(chunk) < 2 or not (chunk.isascii() and chunk.isdigit()):
        raise _Fail(pos)
    return int(chunk), pos + 2


def _literal(text: str, pos: int, char: str, insensitive: bool = False) -> int:
    if pos >= len(text):
        raise _Fail(pos)
    got = text[pos]
    if got != char and not (insensitive and got.lower() == char.lower()):
        raise _Fail(pos)
    return pos + 1


def _year(text: str, pos: int) -> tuple[int, int]:
    """``appendValue(YEAR, 4, 10, SignStyle.EXCEEDS_PAD)`` in strict mode."""
    if pos >= len(text):
        raise _Fail(pos)
    negative = positive = False
    if text[pos] == "+":
        positive, pos = True, pos + 1
    elif text[pos] == "-":
        negative, pos = True, pos + 1
    end = pos
    while end < len(text) and end - pos < 10 and "0" <= text[end] <= "9":
        end += 1
    if end - pos < 4:
        raise _Fail(pos)
    value = int(text[pos:end])
    if negative:
        if value == 0:
            raise _Fail(pos - 1)
        value = -value
    elif positive and end - pos <= 4:
        raise _Fail(pos - 1)
    elif not positive and end - pos > 4:
        raise _Fail(pos)
    return value, end


def _fraction(text: str, pos: int) -> tuple[int, int]:
    """``appendFraction(NANO_OF_SECOND, 0, 9, true)``: optional ``.`` then 0-9 digits."""
    if pos >= len(text) or text[pos] != ".":
        return 0, pos
    pos += 1
    end = pos
    while end < len(text) and end - pos < 9 and "0" <= text[end] <= "9":
        end += 1
    return int(text[pos:end].ljust(9, "0")) if end > pos else 0, end


def _offset_id(text: str, pos: int) -> tuple[int, int]:
    """``appendOffsetId()`` (``+HH:MM:ss`` or ``Z``), case-insensitive as in ISO_INSTANT."""
    if pos >= len(text):
        raise _Fail(pos)
    if text[pos] in "Zz":
        return 0, pos + 1
    if text[pos] not in "+-":
        raise _Fail(pos)
    sign = -1 if text[pos] == "-" else 1

    def two(at: int, colon: bool) -> tuple[int, int] | None:
        if colon:
            if text[at : at + 1] != ":":
                return None
            at += 1
        chunk = text[at : at + 2]
        if len(chunk) < 2 or not ("0" <= chunk[0] <= "9" and "0" <= chunk[1] <= "9"):
            return None
        return (int(chunk), at + 2) if int(chunk) <= 59 else None

    hour = two(pos + 1, False)
    minute = two(hour[1], True) if hour else None
    if hour is None or minute is None:
        raise _Fail(pos)
    second = two(minute[1], True)
    end = second[1] if second else minute[1]
    if hour[0] > 23:
        raise _dt_error(text, ": Value out of range: Hour[0-23], Minute[0-59], Second[0-59]")
    return sign * (hour[0] * 3600 + minute[0] * 60 + (second[0] if second else 0)), end


def _run(text: str, parse: Callable[[str], tuple[Any, int]]) -> Any:
    """DateTimeFormatter.parse: position errors, then 'unparsed text' errors."""
    try:
        value, end = parse(text)
    except _Fail as fail:
        raise _dt_error(text, f" at index {fail.index}") from None
    if end < len(text):
        raise _dt_error(text, f", unparsed text found at index {end}")
    return value


def _local_date_fields(text: str, pos: int) -> tuple[tuple[int, int, int], int]:
    year, pos = _year(text, pos)
    pos = _literal(text, pos, "-")
    month, pos = _digits2(text, pos)
    pos = _literal(text, pos, "-")
    day, pos = _digits2(text, pos)
    return (year, month, day), pos


_MONTHS = (
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
    "OCTOBER", "NOVEMBER", "DECEMBER",
)  # fmt: skip


def _parse_local_date(text: str) -> _Date:
    """``LocalDate.parse`` (ISO_LOCAL_DATE, ResolverStyle.STRICT)."""
    y, m, d = _run(text, lambda t: _local_date_fields(t, 0))
    if not -999_999_999 <= y <= 999_999_999:
        raise _dt_error(
            text, f": Invalid value for Year (valid values -999999999 - 999999999): {y}"
        )
    if not 1 <= m <= 12:
        raise _dt_error(text, f": Invalid value for MonthOfYear (valid values 1 - 12): {m}")
    if not 1 <= d <= 31:
        raise _dt_error(text, f": Invalid value for DayOfMonth (valid values 1 - 28/31): {d}")
    if d > _month_length(y, m):
        if m == 2 and d == 29:
            raise _dt_error(text, f": Invalid date 'February 29' as '{y}' is not a leap year")
        raise _dt_error(text, f": Invalid date '{_MONTHS[m - 1]} {d}'")
    return _Date(y, m, d)


def _parse_local_time(text: str) -> _Time:
    """``LocalTime.parse`` (ISO_LOCAL_TIME: ``HH:mm[:ss[.nnnnnnnnn]]``, STRICT)."""

    def fields(t: str) -> tuple[tuple[int, int, int, int], int]:
        hour, pos = _digits2(t, 0)
        pos = _literal(t, pos, ":")
        minute, pos = _digits2(t, pos)
        second = nano = 0
        try:  # optional section: on failure the position goes back
            second, after = _digits2(t, _literal(t, pos, ":"))
            nano, pos = _fraction(t, after)
        except _Fail:
            pass
        return (hour, minute, second, nano), pos

    h, m, s, nano = _run(text, fields)
    if m > 59:
        raise _dt_error(text, f": Invalid value for MinuteOfHour (valid values 0 - 59): {m}")
    if h > 23:
        raise _dt_error(text, f": Invalid value for HourOfDay (valid values 0 - 23): {h}")
    if s > 59:
        raise _dt_error(text, f": Invalid value for SecondOfMinute (valid values 0 - 59): {s}")
    return _Time(((h * 60 + m) * 60 + s) * _NANOS + nano)


def _parse_instant(text: str) -> _Instant:
    """``Instant.parse`` (ISO_INSTANT, Java 12+: seconds required, ``Z`` or ``+HH:MM``)."""

    def fields(t: str) -> tuple[_Instant, int]:
        (y, mo, d), pos = _local_date_fields(t, 0)
        pos = _literal(t, pos, "T", insensitive=True)
        h, pos = _digits2(t, pos)
        pos = _literal(t, pos, ":")
        mi, pos = _digits2(t, pos)
        pos = _literal(t, pos, ":")
        s, pos = _digits2(t, pos)
        nano, pos = _fraction(t, pos)
        offset, pos = _offset_id(t, pos)
        extra_day = 0
        if h == 24 and mi == 0 and s == 0 and nano == 0:
            h, extra_day = 0, 1
        elif h == 23 and mi == 59 and s == 60:
            s = 59  # a leap second is folded into the previous one
        if not (1 <= mo <= 12 and 1 <= d <= _month_length(y, mo) and h < 24 and mi < 60 and s < 60):
            raise _Fail(0)  # LocalDateTime.of fails inside the parser: index 0
        days = _days_from_civil(y, mo, d) + extra_day
        secs = days * 86400 + h * 3600 + mi * 60 + s - offset
        return _Instant(secs * _NANOS + nano), pos

    instant: _Instant = _run(text, fields)
    if not -31557014167219200 * _NANOS <= instant.nanos < 31556889864403200 * _NANOS:
        raise _dt_error(text, ": Instant exceeds minimum or maximum instant")
    return instant


_DURATION_RE = re.compile(
    r"([-+]?)P(?:([-+]?[0-9]+)D)?"
    r"(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?",
    re.IGNORECASE,
)


def _parse_duration(text: str) -> _Duration:
    """``Duration.parse``: ``PnDTnHnMn.nS`` only (no weeks, months or years)."""
    match = _DURATION_RE.fullmatch(text)
    if not match or match.group(3) == "T" or not any(match.group(i) for i in (2, 4, 5, 6)):
        raise _DateTimeParseError("Text cannot be parsed to a Duration")

    def number(group: int, multiplier: int, name: str) -> int:
        raw = match.group(group)
        if raw and _significant_digits(raw) > 19:  # past a Long, whatever the digits
            raise _DateTimeParseError(f"Text cannot be parsed to a Duration: {name}")
        value = _small_int(raw) if raw else 0
        if not _LONG_MIN <= value <= _LONG_MAX or not _LONG_MIN <= value * multiplier <= _LONG_MAX:
            raise _DateTimeParseError(f"Text cannot be parsed to a Duration: {name}")
        return value * multiplier

    total = sum(
        number(g, mult, name)
        for g, mult, name in ((2, 86400, "days"), (4, 3600, "hours"), (5, 60, "minutes"))
    )
    secs = number(6, 1, "seconds")
    total += secs
    if not _LONG_MIN <= total <= _LONG_MAX:
        raise _DateTimeParseError("Text cannot be parsed to a Duration: overflow")
    fraction = match.group(7) or ""
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    if (match.group(6) or "").startswith("-"):
        nanos = -nanos
    value = total * _NANOS + nanos
    return _Duration(-value if match.group(1) == "-" else value)


# --------------------------------------------------------------------------- regex


def _matches(pattern: str, value: str) -> bool:
    """``Pattern.matches``: the whole string must match."""
    return java_regex(pattern).fullmatch(value) is not None


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class _Secret:
    plaintext: str

    def __repr__(self) -> str:
        return "_Secret(******)"


@dataclass(frozen=True)
class _PendingFile:
    """A local file to upload once every input is known to be valid."""

    path: Path


def _jsonable(value: Any) -> Any:
    """A plain JSON tree (str keys, lists) from whatever YAML/JSON/a caller gave."""
    if isinstance(value, Mapping):
        return {_jstr(k) if not isinstance(k, str) else k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Path):
        return str(value)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise _ParseError(str(exc).split(";")[0]) from None
    except RecursionError:
        raise _ParseError("JSON nested too deeply (more levels than kflow can read)") from None


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _parse_list(value: Any, item_type: str | None, store: bool) -> list[Any]:
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        parsed = _parse_json(value)
        if not isinstance(parsed, list):
            raise _ParseError(f"a JSON array is expected, not a JSON {_json_kind(parsed)}")
        items = parsed
    else:
        raise _ParseError("a list or a JSON array is expected")
    if item_type is None or item_type not in INPUT_TYPES:
        return [_jsonable(v) for v in items]
    out = []
    for item in items:
        try:
            out.append(_parse_value(item_type, item, {}, store))
        except (_ArgError, _ParseError, _DateTimeParseError) as exc:
            raise _ArgError(
                f"Unable to parse array element as `{item_type}` on `{_jstr(item)}`"
            ) from exc
    return out


def _parse_file(value: Any, store: bool) -> Any:
    text = _jstr(value)
    if not isinstance(value, Path):
        scheme = urlparse(text).scheme.lower() if "://" in text else ""
        if scheme == "kestra":
            return text
        if scheme == "file":
            text = unquote(urlparse(text).path)
        elif scheme:
            raise _ParseError(
                f"kflow cannot read `{scheme}://` files; give a local path or a kestra:/// URI"
            )
    if not store:
        raise _ParseError("only a kestra:/// URI is accepted here, not a local path")
    path = Path(text)
    if not path.exists():
        raise _ParseError(f"{text} (No such file or directory)")  # Java's FileNotFoundException
    if path.is_dir():
        raise _ParseError(f"{text} (Is a directory)")
    return _PendingFile(path)


def _parse_value(type_: str, value: Any, props: Mapping[str, Any], store: bool = True) -> Any:
    """Kestra's ``parseType`` (1.x leniency: ``toString()`` of a non-string value)."""
    if type_ in ("STRING", "ENUM", "SELECT", "EMAIL"):
        return _jstr(value)
    if type_ == "SECRET":
        return _Secret(_jstr(value))
    if type_ == "INT":
        if isinstance(value, int) and not isinstance(value, bool) and _INT_MIN <= value <= _INT_MAX:
            return value
        return _parse_java_int(_jstr(value))
    if type_ == "FLOAT":
        return _parse_java_float(_jstr(value))
    if type_ in ("BOOLEAN", "BOOL"):
        return value if isinstance(value, bool) else _jstr(value).lower() == "true"
    if type_ == "DATETIME":
        return _parse_instant(_jstr(value))
    if type_ == "DATE":
        return _parse_local_date(_jstr(value))
    if type_ == "TIME":
        return _parse_local_time(_jstr(value))
    if type_ == "DURATION":
        return _parse_duration(_jstr(value))
    if type_ == "FILE":
        return _parse_file(value, store)
    if type_ in ("JSON", "YAML"):
        if isinstance(value, (Mapping, list, tuple)):
            return _jsonable(value)
        text = _jstr(value)
        if type_ == "JSON":
            return _parse_json(text)
        try:
            return _jsonable(load_bounded(text, YamlDataLoader))
        except yaml.YAMLError as exc:
            raise _ParseError(" ".join(str(exc).split())) from None
    if type_ == "URI":
        text = _jstr(value)
        if not _URI_RE.fullmatch(text):
            raise _ArgError(f"Expected `URI` but received `{text}`")
        return text
    if type_ in ("ARRAY", "MULTISELECT"):
        item_type = props.get("itemType", "STRING" if type_ == "MULTISELECT" else None)
        return _parse_list(value, item_type if isinstance(item_type, str) else None, store)
    raise _ArgError(f"unknown type `{type_}`")


# --------------------------------------------------------------------------- declarations


def _declared(type_: str, key: str, value: Any) -> Any:
    """Parse a ``min``/``max``/``after``/``before`` as Jackson would bind it; raises ValueError."""
    if type_ == "INT":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"`{key}` must be an integer")
        try:
            return _parse_java_int(str(value))
        except _ArgError:
            raise ValueError(f"`{key}` must be a 32-bit integer, not `{value}`") from None
    if type_ == "FLOAT":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"`{key}` must be a number")
        try:
            return _parse_java_float(_jstr(value))
        except _ArgError:
            raise ValueError(f"`{key}` must be a number, not `{value}`") from None
    if type_ == "DURATION":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _Duration(round(Fraction(value) * _NANOS))  # Jackson reads numbers as seconds
        try:
            return _parse_duration(str(value))
        except _DateTimeParseError as exc:
            raise ValueError(f"`{key}` is not a duration like PT5M: {exc}") from None
    parser: dict[str, Callable[[str], Any]] = {
        "DATE": _parse_local_date, "TIME": _parse_local_time, "DATETIME": _parse_instant,
    }  # fmt: skip
    if isinstance(value, (int, float, bool, list, dict)) or value is None:
        raise ValueError(f"`{key}` must be a quoted {type_} text, not `{_jstr(value)}`")
    try:
        return parser[type_](_jstr(value))
    except _DateTimeParseError as exc:
        raise ValueError(f"invalid `{key}`: {exc}") from None


def _close(name: str, candidates: Sequence[str]) -> str:
    upper = [c for c in candidates if c.lower() == name.lower()]
    matches = upper or difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(m) for m in matches)}?)" if matches else ""


def _type_problem(what: str, type_: Any) -> str:
    return f"{what}: unknown type {_jstr(type_)!r}{_close(_jstr(type_), sorted(INPUT_TYPES))}"


def _is_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_is_template(k) or _is_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_is_template(v) for v in value)
    return False


def check_input_spec(spec: InputSpec) -> list[str]:
    """Load-time problems of one input declaration, as Kestra refuses them when saving a flow.

    Kestra fails deserialisation on unknown keys or bad property types, and its validators
    add the ARRAY/FILE rules; kflow reports all of them at once, each naming the input.
    """
    where = f"input {spec.id!r}"
    if spec.type not in INPUT_TYPES:
        return [_type_problem(where, spec.type)]
    problems: list[str] = []
    props = spec.props
    allowed = _COMMON_KEYS | _TYPE_KEYS.get(spec.type, frozenset())
    for key in props:
        if key not in allowed:
            hint = _close(str(key), sorted(allowed))
            problems.append(f"{where}: unknown property {key!r} for type {spec.type}{hint}")
    if "required" in props and not isinstance(props["required"], bool):
        problems.append(f"{where}: 'required' must be true or false")
    name = props.get("displayName")
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        problems.append(f"{where}: 'displayName' must be a text of at most 64 characters")
    problems += _check_depends_on(where, props.get("dependsOn"))

    for key in ("min", "max", "after", "before"):
        if key in props and key in _TYPE_KEYS.get(spec.type, frozenset()):
            try:
                _declared(spec.type, key, props[key])
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
    if "validator" in props and spec.type in ("STRING", "SECRET"):
        validator = props["validator"]
        if not isinstance(validator, str):
            problems.append(f"{where}: 'validator' must be a regular expression text")
        else:
            try:
                java_regex(validator)
            except re.error as exc:
                problems.append(f"{where}: invalid 'validator' regex `{validator}`: {exc}")
    problems += _check_choices(where, spec.type, props)
    if spec.type == "ARRAY":
        item = props.get("itemType")
        if item is None:
            problems.append(
                f"{where}: 'itemType' is required for inputs of type ARRAY (e.g. itemType: STRING)"
            )
        elif item == "ARRAY":
            problems.append(f"{where}: `itemType` cannot be `ARRAY`")
        elif item not in INPUT_TYPES:
            problems.append(_type_problem(f"{where}: itemType", item))
    for key in ("allowCustomValue", "isRadio", "autoSelectFirst"):
        if key in props and key in allowed and not isinstance(props[key], bool):
            problems.append(f"{where}: {key!r} must be true or false")
    if spec.type == "FILE" and spec.defaults is not MISSING:
        problems.append(f"{where}: no `defaults` can be set for inputs of type 'FILE'")
    elif (
        spec.defaults is not MISSING
        and spec.defaults is not None
        and spec.type != "SECRET"
        and not _is_template(spec.defaults)
    ):
        try:
            _parse_value(spec.type, spec.defaults, props, store=False)
        except (_ArgError, _ParseError, _DateTimeParseError) as exc:
            problems.append(f"{where}: invalid `defaults` for type {spec.type}: {exc}")
    return problems


def _check_depends_on(where: str, depends: Any) -> list[str]:
    if depends is None:
        return []
    if not isinstance(depends, Mapping):
        return [f"{where}: 'dependsOn' must be a mapping with 'inputs' and/or 'condition'"]
    keys = ["inputs", "condition"]
    problems = [
        f"{where}: unknown property {key!r} in 'dependsOn'{_close(str(key), keys)}"
        for key in depends
        if key not in keys
    ]
    inputs = depends.get("inputs")
    if inputs is not None and (
        not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs)
    ):
        problems.append(f"{where}: 'dependsOn.inputs' must be a list of input ids")
    if depends.get("condition") is not None and not isinstance(depends["condition"], str):
        problems.append(f"{where}: 'dependsOn.condition' must be an expression text")
    return problems


def _check_choices(where: str, type_: str, props: Mapping[str, Any]) -> list[str]:
    if type_ not in ("ENUM", "SELECT", "MULTISELECT"):
        return []
    problems: list[str] = []
    for key in ("values", "options"):
        if key in props and not (
            isinstance(props[key], list)
            and all(not isinstance(v, (list, Mapping)) and v is not None for v in props[key])
        ):
            problems.append(f"{where}: {key!r} must be a list of texts")
    if "expression" in props and not isinstance(props["expression"], str):
        problems.append(f"{where}: 'expression' must be an expression text")
    has_values = "values" in props or (type_ == "MULTISELECT" and "options" in props)
    if type_ == "ENUM" and "values" not in props:
        problems.append(f"{where}: 'values' is required for inputs of type ENUM")
    elif type_ != "ENUM" and not has_values and "expression" not in props:
        problems.append(
            f"{where}: 'values' (or 'expression') is required for inputs of type {type_}"
        )
    if type_ == "MULTISELECT":
        if "values" in props and "options" in props:
            problems.append(f"{where}: you can't define both `values` and `options`")
        item = props.get("itemType")
        if item in ("ARRAY", "MULTISELECT"):
            problems.append(f"{where}: `itemType` cannot be `ARRAY` nor `MULTISELECT`")
        elif item is not None and item not in INPUT_TYPES:
            problems.append(_type_problem(f"{where}: itemType", item))
    return problems


def check_output_spec(spec: OutputSpec) -> list[str]:
    """Load-time problems of one flow output declaration (``Output.java``)."""
    where = f"flow output {spec.id!r}"
    problems: list[str] = []
    if not ID_RE.fullmatch(spec.id):
        problems.append(f"{where}: the id must match ^[a-zA-Z0-9][.a-zA-Z0-9_-]*")
    if spec.type not in INPUT_TYPES:
        problems.append(_type_problem(where, spec.type))
    for key in spec.props:
        if key not in _OUTPUT_KEYS:
            problems.append(
                f"{where}: unknown property {key!r}{_close(str(key), sorted(_OUTPUT_KEYS))}"
            )
    if "required" in spec.props and not isinstance(spec.props["required"], bool):
        problems.append(f"{where}: 'required' must be true or false")
    return problems


def _has_template(value: Any) -> bool:
    """Whether Pebble would find a tag in ``value`` (``{bad`` renders as itself)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value or "{#" in value
    if isinstance(value, Mapping):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return False


def check_output_value(spec: OutputSpec) -> tuple[str, str | None] | None:
    """A flow output whose ``value`` is a literal (no template) that its ``type`` refuses
    (``type: INT`` with ``value: abc``): (Kestra's message, a hint), found at load instead
    of failing the run once every task is done. Templates are typed after the run; FILE
    values need the run's storage; a null value is the run's business (``required``)."""
    value = spec.value
    if value is None or spec.type not in INPUT_TYPES or spec.type == "FILE":
        return None
    if _has_template(value):
        return None
    _, problem = _typed(
        "output", spec.id, spec.type, spec.props, value, spec.required,
        validate=False, store=False,
    )  # fmt: skip
    if problem is None:
        return None
    hint = _fix_hint(spec.id, spec.type, value, spec.props)
    return problem, hint.replace(" input ", " output ") if hint else None


def check_input_ids(specs: Sequence[InputSpec]) -> list[str]:
    """Problems across the input list: duplicates, bad ids, dotted-id clashes, dependsOn.

    Mirrors ``FlowValidator`` (duplicates, unknown dependencies, cycles) and the id
    ``@Pattern``; a dotted id nests (``a.b`` → ``inputs.a.b``), so ``a`` and ``a.b`` cannot
    both exist (``MapUtils.flattenToNestedMap`` would fail at run time).
    """
    specs = list(specs)
    ids = [s.id for s in specs]
    problems: list[str] = []
    dupes = list(dict.fromkeys(i for i in ids if ids.count(i) > 1))
    if dupes:
        problems.append(f"Duplicate input with name [{', '.join(dupes)}]")
    known = set(ids)
    for iid in dict.fromkeys(ids):
        if not ID_RE.fullmatch(iid):
            problems.append(f"input {iid!r}: the id must match ^[a-zA-Z0-9][.a-zA-Z0-9_-]*")
        elif "" in iid.split("."):
            problems.append(f"input {iid!r}: a dotted id cannot have an empty part")
        parts = iid.split(".")
        for n in range(1, len(parts)):
            prefix = ".".join(parts[:n])
            if prefix in known:
                problems.append(
                    f"input {iid!r} conflicts with input {prefix!r}: '{prefix}' cannot be both "
                    f"a value and the parent of '{iid}'"
                )
    graph: dict[str, list[str]] = {}
    for spec in specs:
        deps = spec.props.get("dependsOn")
        deps = deps.get("inputs") if isinstance(deps, Mapping) else None
        graph.setdefault(spec.id, []).extend(d for d in deps or [] if isinstance(d, str))
    for key, deps in graph.items():
        for dep in deps:
            if dep not in graph:
                problems.append(f"Input with id '{key}' depends on a non-existent input '{dep}'.")
        cycle = _find_cycle(key, graph, set(), set(), [])
        if cycle:
            problems.append(
                f"Cycle dependency detected for input with id '{key}': [{', '.join(cycle)}]"
            )
    return problems


def _find_cycle(
    node: str,
    graph: Mapping[str, list[str]],
    visiting: set[str],
    visited: set[str],
    path: list[str],
) -> list[str] | None:
    if node in visiting:
        return path[path.index(node) :]
    if node in visited:
        return None
    visiting.add(node)
    path.append(node)
    for dep in graph.get(node, []):
        cycle = _find_cycle(dep, graph, visiting, visited, path)
        if cycle:
            return cycle
    visiting.discard(node)
    visited.add(node)
    path.pop()
    return None


# --------------------------------------------------------------------------- resolution


def _validate(spec_type: str, props: Mapping[str, Any], value: Any, required: bool) -> None:
    """The ``validate`` method of each ``*Input`` class; raises :class:`_Violation`."""
    if spec_type in ("INT", "FLOAT", "DURATION"):
        bounds = [("min", "more than"), ("max", "less than")]
        verb = "It must be" if spec_type == "DURATION" else "it must be"
        for key, word in bounds:
            limit = _safe_declared(spec_type, key, props)
            if limit is None:
                continue
            if (key == "min" and value < limit) or (key == "max" and value > limit):
                shown = _java_float_str(limit) if spec_type == "FLOAT" else str(limit)
                raise _Violation(f"{verb} {word} `{shown}`")
    elif spec_type in ("DATE", "TIME", "DATETIME"):
        after = _safe_declared(spec_type, "after", props)
        before = _safe_declared(spec_type, "before", props)
        if after is not None and value < after:
            raise _Violation(f"it must be after `{after}`")
        if before is not None and value > before:
            raise _Violation(f"it must be before `{before}`")
    elif spec_type in ("STRING", "SECRET"):
        pattern = props.get("validator")
        text = value.plaintext if isinstance(value, _Secret) else value
        if isinstance(pattern, str) and not _matches(pattern, text):
            raise _Violation(f"it must match the pattern `{pattern}`")
    elif spec_type == "EMAIL":
        if not _EMAIL_RE.fullmatch(value):
            raise _Violation("The input must be a valid email")
    elif spec_type in ("ENUM", "SELECT"):
        values = _choice_values(props)
        allow_custom = spec_type == "SELECT" and props.get("allowCustomValue") is True
        if values is not None and value not in values and required and not allow_custom:
            raise _Violation(f"it must match the values `{_jstr(values)}`")
    elif spec_type == "MULTISELECT":
        values = _choice_values(props)
        if values is not None and props.get("allowCustomValue") is not True:
            for item in value:
                # Kestra compares the parsed item with the texts; comparing texts keeps a
                # MULTISELECT with itemType INT usable.
                if _jstr(_stored(item, plain=True)) not in values:
                    raise _Violation(f"it must match the values `{_jstr(values)}`")


def _safe_declared(type_: str, key: str, props: Mapping[str, Any]) -> Any:
    if key not in props or props[key] is None:
        return None
    try:
        return _declared(type_, key, props[key])
    except ValueError:
        return None  # reported when the flow was loaded


def _choice_values(props: Mapping[str, Any]) -> list[str] | None:
    values = props.get("values", props.get("options"))
    if not isinstance(values, list):
        return None
    return [_jstr(v) for v in values]


def _stored(value: Any, *, plain: bool = False) -> Any:
    """Internal typed value → what the execution stores (or, ``plain``, what expressions see)."""
    if isinstance(value, (_Instant, _Date, _Time, _Duration)):
        return value.json()
    if isinstance(value, _Secret):
        return value.plaintext if plain else encrypt(value.plaintext)
    if isinstance(value, _PendingFile):
        return str(value.path) if plain else value
    if isinstance(value, list):
        return [_stored(v, plain=plain) for v in value]
    return value


def _accepts_inputs(render: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(render).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "inputs" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _render(render: Callable[..., Any], value: Any, inputs: Mapping[str, Any]) -> Any:
    if _accepts_inputs(render):
        return render(value, inputs=inputs)
    return render(value)


def _render_tree(render: Callable[..., Any], value: Any, inputs: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return _render(render, value, inputs)
    if isinstance(value, Mapping):
        return {k: _render_tree(render, v, inputs) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render_tree(render, v, inputs) for v in value]
    return value


@dataclass
class _State:
    enabled: bool = True
    value: Any = None
    raw: Any = None
    problem: str | None = None
    hint: str | None = None  # how to write the value, when it did not parse


def _shown(spec_type: str, raw: Any) -> str:
    return MASK if spec_type == "SECRET" and raw is not None else _jstr(raw)


def _problem(kind: str, id_: str, reason: str, spec_type: str, raw: Any) -> str:
    """Kestra's wording; a reason that already says what was received (``Expected `T` but
    received `v` with errors: ...``) does not get a second ``but received``."""
    shown = _shown(spec_type, raw)
    if f"but received `{shown}`" in reason:
        return f"Invalid {kind} for `{id_}`, {reason}"
    return f"Invalid {kind} for `{id_}`, {reason}, but received `{shown}`"


_EXPECTED: Mapping[str, str] = {
    "INT": "an integer is expected (a whole number from -2147483648 to 2147483647, e.g. 42)",
    "FLOAT": "a number is expected (e.g. 3.14)",
    "DATETIME": "an ISO-8601 date-time with seconds and an offset is expected "
    "(e.g. 2024-01-31T10:00:00Z)",
    "DATE": "an ISO-8601 date is expected (e.g. 2024-01-31)",
    "TIME": "an ISO-8601 time is expected (e.g. 10:30:00)",
    "DURATION": "an ISO-8601 duration is expected (e.g. PT30S, PT5M, PT1H or P1D)",
    "JSON": 'a JSON value is expected (e.g. {"key": "value"}, [1, 2] or "text")',
    "YAML": "a YAML value is expected (e.g. key: value)",
    "URI": "a URI such as https://example.com/path is expected (Kestra's pattern needs a "
    "host with a dot: localhost is refused)",
}


def _json_items(text: str, item_type: Any) -> str:
    """``x, y`` → ``["x", "y"]`` (numbers stay numbers for a numeric ``itemType``): the JSON
    array to write instead of a comma-separated list."""
    items: list[Any] = [part.strip() for part in text.split(",")] if text.strip() else []
    if item_type in ("INT", "FLOAT"):
        numbers: list[Any] = []
        for item in items:
            try:
                numbers.append(int(item) if item_type == "INT" else float(item))
            except ValueError:
                return json.dumps(items, ensure_ascii=False)
        return json.dumps(numbers)
    return json.dumps(items, ensure_ascii=False)


def _fix_hint(id_: str, type_: str, raw: Any, props: Mapping[str, Any]) -> str | None:
    """How to write a value of ``type_`` that failed to parse, or None when it parses (a
    validation rule refused it: Kestra's message already says which)."""
    try:
        _parse_value(type_, raw, props, store=True)
    except (_ArgError, _ParseError, _DateTimeParseError):
        pass
    else:
        return None
    if type_ in ("ARRAY", "MULTISELECT"):
        text = _jstr(raw)
        if isinstance(raw, str) and not text.lstrip().startswith("["):
            return (f"{type_} input `{id_}` takes a JSON array: write "
                    f"{_json_items(text, props.get('itemType'))}")  # fmt: skip
        item = props.get("itemType")
        return f"{type_} input `{id_}` takes a JSON array" + (
            f" of {item} values" if isinstance(item, str) else ""
        )
    expected = _EXPECTED.get(type_)
    return f"{type_} input `{id_}`: {expected}" if expected else None


def input_notices(specs: Sequence[InputSpec], provided: Mapping[str, Any]) -> list[Notice]:
    """Warnings about provided values Kestra accepts but reads otherwise than written: a
    BOOLEAN input given anything but true/false (``yes``, ``1``, ``on``) is *false*
    (``Boolean.parseBoolean``), never an error."""
    notices: list[Notice] = []
    for spec in specs:
        raw = provided.get(spec.id)
        if spec.type in ("BOOLEAN", "BOOL") and read_as_false(raw):
            notices.append(
                Notice(
                    f"input `{spec.id}` is BOOLEAN and {raw!r} is neither true nor false: "
                    "Kestra reads it as false",
                    hint=f"give {spec.id}=true or {spec.id}=false",
                    code="boolean-input",
                )
            )
    return notices


def read_as_false(raw: Any) -> bool:
    """A BOOLEAN value written as text that is neither ``true`` nor ``false`` (any case):
    Kestra's ``Boolean.parseBoolean`` reads it as false (``yes``, ``1``, `` true``)."""
    return isinstance(raw, str) and raw.lower() not in ("true", "false")


def _typed(
    kind: str,
    id_: str,
    type_: str,
    props: Mapping[str, Any],
    raw: Any,
    required: bool,
    *,
    validate: bool,
    store: bool,
) -> tuple[Any, str | None]:
    """Parse then validate one value; returns (value, problem) in Kestra's wording."""
    if type_ not in INPUT_TYPES:
        return None, f"Invalid {kind} for `{id_}`, unknown type `{type_}`"
    try:
        value = _parse_value(type_, raw, props, store)
        if validate:
            _validate(type_, props, value, required)
    except (_ArgError, _Violation) as exc:
        return None, _problem(kind, id_, str(exc), type_, raw)
    except (_ParseError, _DateTimeParseError) as exc:
        reason = f"Expected `{type_}` but received `{_shown(type_, raw)}` with errors: {exc}"
        return None, _problem(kind, id_, reason, type_, raw)
    return value, None


def resolve_inputs(
    specs: Sequence[InputSpec],
    provided: Mapping[str, Any],
    *,
    render: Callable[..., Any] | None = None,
    store_file: Callable[[str, Path], str] | None = None,
) -> dict[str, Any]:
    """Type, check and store the inputs of a new execution, as Kestra does before creating it.

    Follows ``FlowInputOutput.resolveInputs``: declaration order with ``dependsOn`` inputs
    first, provided value else ``defaults`` (rendered when ``render`` is given, as in 1.x),
    required check, parse, validate; dotted ids become nested maps. Every problem is
    collected and raised together as one :class:`InputError`; FILE inputs are uploaded with
    ``store_file`` only once everything is valid. ``render(value)`` renders a template; if it
    accepts an ``inputs=`` keyword it also receives the dependencies' values, which
    ``dependsOn.condition`` and ``defaults`` expressions may use.
    """
    specs = list(specs)
    by_id: dict[str, InputSpec] = {}
    for spec in specs:
        by_id.setdefault(spec.id, spec)
    states: dict[str, _State] = {}
    busy: set[str] = set()

    def resolve(spec: InputSpec) -> _State:
        if spec.id in states:
            return states[spec.id]
        busy.add(spec.id)
        state = _resolve_one(spec, provided, render, deps_of(spec))
        if store_file is None and state.problem is None and _has_pending(state.value):
            reason = "a local file needs a storage to be uploaded to (no store_file given)"
            state.problem = _problem("input", spec.id, reason, spec.type, state.raw)
        busy.discard(spec.id)
        states[spec.id] = state
        return state

    def deps_of(spec: InputSpec) -> dict[str, _State]:
        depends = spec.props.get("dependsOn")
        ids = depends.get("inputs") if isinstance(depends, Mapping) else None
        # Unknown ids are ignored, as Kestra does; a cycle (refused at load) is cut here.
        return {
            d: resolve(by_id[d])
            for d in ids or []
            if isinstance(d, str) and d != spec.id and d in by_id and d not in busy
        }

    for spec in by_id.values():
        resolve(spec)

    enabled = {i: states[i] for i in by_id if states[i].enabled}  # declaration order
    problems = [s.problem for s in enabled.values() if s.problem]
    nested, conflicts = _nest({i: s.value for i, s in enabled.items()})
    problems += conflicts
    if problems:
        hints = [s.hint for s in enabled.values() if s.problem and s.hint]
        raise _input_error(
            "input", problems, [by_id[i] for i, s in enabled.items() if s.problem], hints
        )
    # Only now: encrypt SECRETs, then upload files (nothing is stored for a refused run).
    result: dict[str, Any] = _store_files(_stored_tree(nested), "", store_file)
    return result


def _resolve_one(
    spec: InputSpec,
    provided: Mapping[str, Any],
    render: Callable[..., Any] | None,
    deps: Mapping[str, _State],
) -> _State:
    depends = spec.props.get("dependsOn")
    condition = depends.get("condition") if isinstance(depends, Mapping) else None
    context, _ = _nest({i: _context_value(s) for i, s in deps.items() if s.enabled})
    if not all(s.enabled for s in deps.values()):
        return _State(enabled=False)
    if isinstance(condition, str) and render is not None:
        try:
            result = _render(render, condition, context)
        except KflowError:
            # Kestra records the error but drops it with the disabled input.
            return _State(enabled=False)
        if not (result is True or (isinstance(result, str) and result.strip().lower() == "true")):
            return _State(enabled=False)

    props = dict(spec.props)
    expression = props.get("expression")
    if spec.type in ("SELECT", "MULTISELECT") and isinstance(expression, str):
        values, problem = _expression_values(spec.id, expression, render, context)
        if problem:
            return _State(problem=problem)
        props["values"] = values
        props.pop("options", None)

    raw = provided.get(spec.id)
    if raw is None and spec.defaults is not MISSING and spec.defaults is not None:
        raw = spec.defaults
        if render is not None:
            try:
                raw = _render_tree(render, raw, context)
            except KflowError as exc:
                reason = f"unable to render `defaults`: {exc.message}"
                return _State(
                    raw=spec.defaults,
                    problem=_problem("input", spec.id, reason, spec.type, spec.defaults),
                )
    if raw is None:
        if spec.required:
            return _State(
                problem=_problem("input", spec.id, "missing required input", spec.type, None)
            )
        return _State(value=None)
    value, problem = _typed(
        "input", spec.id, spec.type, props, raw, spec.required, validate=True, store=True
    )
    hint = _fix_hint(spec.id, spec.type, raw, props) if problem else None
    return _State(value=value, raw=raw, problem=problem, hint=hint)


def _has_pending(value: Any) -> bool:
    if isinstance(value, _PendingFile):
        return True
    return isinstance(value, list) and any(_has_pending(v) for v in value)


def _stored_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stored_tree(v) for k, v in value.items()}
    return _stored(value)


def _context_value(state: _State) -> Any:
    if state.problem:
        return state.raw
    return _stored(state.value, plain=True)


def _expression_values(
    id_: str, expression: str, render: Callable[..., Any] | None, context: Mapping[str, Any]
) -> tuple[list[str], str | None]:
    """``SelectInput.render``: the ``expression`` must give a list (its items as texts)."""
    if render is None:
        return [], f"Invalid input for `{id_}`, Cannot render 'expression'. Cause: no renderer"
    try:
        result = _render(render, expression, context)
    except KflowError as exc:
        return [], f"Invalid input for `{id_}`, Cannot render 'expression'. Cause: {exc.message}"
    if isinstance(result, str) and result.lstrip().startswith("["):
        try:  # a renderer that only returns text: the list comes back as JSON
            result = json.loads(result)
        except ValueError:
            pass
    if not isinstance(result, (list, tuple)):
        reason = f"Expected a list of strings, but received {_java_type_name(result)}"
        return [], f"Invalid input for `{id_}`, Invalid expression result. {reason}"
    return [_jstr(v) for v in result if v is not None], None


def _nest(flat: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``MapUtils.flattenToNestedMap``: ``a.b`` → ``{"a": {"b": ...}}``, keys sorted."""
    result: dict[str, Any] = {}
    made: set[int] = {id(result)}
    problems: list[str] = []
    for key in sorted(flat):
        parts = key.split(".")
        current = result
        for n, part in enumerate(parts[:-1]):
            if part not in current:
                current[part] = {}
                made.add(id(current[part]))
            elif id(current[part]) not in made:
                prefix = ".".join(parts[: n + 1])
                problems.append(f"Invalid input for `{key}`, Conflict at key: '{prefix}'")
                break
            current = current[part]
        else:
            if parts[-1] in current:
                problems.append(f"Invalid input for `{key}`, Conflict at key: '{parts[-1]}'")
            else:
                current[parts[-1]] = flat[key]
    return result, problems


def _store_files(value: Any, input_id: str, store_file: Callable[[str, Path], str] | None) -> Any:
    if isinstance(value, _PendingFile):
        assert store_file is not None  # refused earlier without a storage
        return store_file(input_id, value.path)
    if isinstance(value, dict):
        return {
            k: _store_files(v, f"{input_id}.{k}" if input_id else k, store_file)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_store_files(v, input_id, store_file) for v in value]
    return value


def _input_error(
    kind: str, problems: list[str], specs: Sequence[Any], hints: Sequence[str] = ()
) -> InputError:
    if len(problems) == 1:
        message = problems[0]
    else:
        message = f"{len(problems)} invalid {kind}s: " + "; ".join(problems)
    parts = list(hints)
    if any("missing required input" in p for p in problems):
        parts.append("give a value with -i ID=VALUE (or declare `defaults:` in the flow)")
    hint = "; ".join(parts) or None
    loc = specs[0].location if len(problems) == 1 and len(specs) == 1 else None
    return InputError(
        message,
        problems=problems,
        hint=hint,
        path=loc.path if loc else None,
        line=loc.line if loc else None,
        column=loc.column if loc else None,
    )


def input_context(values: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as expressions see them (RunVariables): SECRETs decrypted, the rest as stored."""
    result: dict[str, Any] = decrypt_tree(dict(values))
    return result


def resolve_outputs(specs: Sequence[OutputSpec], rendered: Mapping[str, Any]) -> dict[str, Any]:
    """Type the rendered flow outputs (``FlowInputOutput.typedOutputs``).

    Each value goes through the same parsing as an input (no min/max: outputs have no such
    rules); SECRET becomes the encrypted value; an optional output left null stays null.
    Every failure is collected into one :class:`InputError` (Kestra then fails the run).
    """
    result: dict[str, Any] = {}
    problems: list[str] = []
    bad: list[OutputSpec] = []
    for spec in specs:
        raw = rendered.get(spec.id)
        if raw is None:
            if spec.required:
                problems.append(
                    _problem("output", spec.id, "missing required output", spec.type, None)
                )
                bad.append(spec)
            else:
                result[spec.id] = None
            continue
        value, problem = _typed(
            "output",
            spec.id,
            spec.type,
            spec.props,
            raw,
            spec.required,
            validate=False,
            store=False,
        )
        if problem:
            problems.append(problem)
            bad.append(spec)
        else:
            result[spec.id] = _stored(value)
    if problems:
        raise _input_error("output", problems, bad)
    return result
