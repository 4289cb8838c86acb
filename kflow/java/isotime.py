"""java.time's ISO values as Kestra reads typed inputs: ``Instant.parse``,
``LocalDate.parse``, ``LocalTime.parse`` (strict ISO formatters, Java's exact messages) and
their ``toString``/Jackson forms.

Values cover Java's whole range (an ``Instant`` from year -1e9 to 1e9), beyond what
``datetime`` holds, so they are plain integers of nanoseconds or fields, not ``datetime``s.
The pattern formatter, zones and locales of Pebble's date filters live in
:mod:`kflow.java.time`; this module stays separate because it is small and imported on
every run that has inputs, while that one loads zone data. The ISO printing (years, dates,
times, offsets, ``Instant.toString``) and the calendar helpers are written here once:
:mod:`kflow.java.time` and :mod:`kflow.ion` import them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kflow.java.duration import NANOS
from kflow.java.exceptions import DateTimeParseError


def is_leap(year: int) -> bool:
    """``Year.isLeap`` (proleptic Gregorian, any year)."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_length(year: int, month: int) -> int:
    """``YearMonth.lengthOfMonth``: 28 to 31 days."""
    if month == 2:
        return 29 if is_leap(year) else 28
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


def iso_year(y: int) -> str:
    """The year of the ISO formats (``SignStyle.EXCEEDS_PAD``, width 4): ``0024``,
    ``-0050``, ``2024``, ``+12024``."""
    if abs(y) < 1000:
        return ("-" if y < 0 else "") + f"{abs(y):04d}"
    return f"+{y}" if y > 9999 else str(y)


def iso_local_date(year: int, month: int, day: int) -> str:
    """``DateTimeFormatter.ISO_LOCAL_DATE`` (``LocalDate.toString``): ``2024-03-09``."""
    return f"{iso_year(year)}-{month:02d}-{day:02d}"


def _fraction_groups(nano: int) -> str:
    """``.SSS``/``.SSSSSS``/``.SSSSSSSSS`` as Instant/LocalTime ``toString`` print them."""
    if nano % 1_000_000 == 0:
        return f".{nano // 1_000_000:03d}"
    if nano % 1000 == 0:
        return f".{nano // 1000:06d}"
    return f".{nano:09d}"


def iso_local_time(hour: int, minute: int, second: int, nano: int = 0) -> str:
    """``DateTimeFormatter.ISO_LOCAL_TIME``: seconds always, the fraction without trailing
    zeros (``10:00:00``, ``10:00:00.5``), as Jackson and the ISO formatters print a time."""
    return f"{hour:02d}:{minute:02d}:{second:02d}" + (f".{nano:09d}".rstrip("0") if nano else "")


def offset_id(seconds: int) -> str:
    """``ZoneOffset.getId()``: ``Z``, ``+02:00``, ``-05:30``, ``+01:00:30``."""
    if seconds == 0:
        return "Z"
    sign = "+" if seconds > 0 else "-"
    h, rem = divmod(abs(seconds), 3600)
    m, sec = divmod(rem, 60)
    return f"{sign}{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


@dataclass(frozen=True, order=True)
class Instant:
    """A ``java.time.Instant`` over Java's whole range (years ±1e9, beyond ``datetime``)."""

    nanos: int  # since 1970-01-01T00:00:00Z

    def __str__(self) -> str:  # Instant.toString == ISO_INSTANT == Jackson's form
        secs, nano = divmod(self.nanos, NANOS)
        days, sod = divmod(secs, 86400)
        out = f"{iso_local_date(*_civil_from_days(days))}T"
        out += f"{sod // 3600:02d}:{sod // 60 % 60:02d}:{sod % 60:02d}"
        return out + (_fraction_groups(nano) if nano else "") + "Z"

    def json(self) -> str:
        return str(self)


@dataclass(frozen=True, order=True)
class LocalDate:
    """A ``java.time.LocalDate``; ``str()`` is its ``toString``."""

    year: int
    month: int
    day: int

    def __str__(self) -> str:
        return iso_local_date(self.year, self.month, self.day)

    def json(self) -> str:
        return str(self)


@dataclass(frozen=True, order=True)
class LocalTime:
    """A ``java.time.LocalTime``; ``str()`` is its ``toString``, ``json()`` Jackson's form."""

    nanos: int  # of the day

    def _parts(self) -> tuple[int, int, int, int]:
        secs, nano = divmod(self.nanos, NANOS)
        return secs // 3600, secs // 60 % 60, secs % 60, nano

    def __str__(self) -> str:  # LocalTime.toString: seconds only when non-zero
        h, m, s, nano = self._parts()
        out = f"{h:02d}:{m:02d}"
        if s or nano:
            out += f":{s:02d}" + (_fraction_groups(nano) if nano else "")
        return out

    def json(self) -> str:  # Jackson: ISO_LOCAL_TIME, seconds always, fraction trimmed
        return iso_local_time(*self._parts())


@dataclass(frozen=True, order=True)
class LocalDateTime:
    """A ``java.time.LocalDateTime``; ``str()`` is its ``toString``, ``json()`` Jackson's."""

    date: LocalDate
    time: LocalTime

    def __str__(self) -> str:
        return f"{self.date}T{self.time}"

    def json(self) -> str:
        return f"{self.date}T{self.time.json()}"


@dataclass(frozen=True, order=True)
class OffsetDateTime:
    """A ``ZonedDateTime`` whose zone is a fixed offset (what Kestra reads from an Ion
    timestamp with an offset): ``toString`` is the local date-time plus the offset id;
    Jackson writes ``ISO_OFFSET_DATE_TIME`` (seconds always)."""

    local: LocalDateTime
    offset_seconds: int
    java_class: str = field(default="java.time.ZonedDateTime", compare=False)

    def __str__(self) -> str:
        return f"{self.local}{offset_id(self.offset_seconds)}"

    def json(self) -> str:
        return f"{self.local.json()}{offset_id(self.offset_seconds)}"


@dataclass(frozen=True, order=True)
class OffsetTime:
    """A ``java.time.OffsetTime``."""

    time: LocalTime
    offset_seconds: int

    def __str__(self) -> str:
        return f"{self.time}{offset_id(self.offset_seconds)}"

    def json(self) -> str:
        return f"{self.time.json()}{offset_id(self.offset_seconds)}"


class _StrictFail(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def _abbr(text: str) -> str:
    return text[:64] + "..." if len(text) > 64 else text


def _dt_error(text: str, detail: str) -> DateTimeParseError:
    return DateTimeParseError(f"Text '{_abbr(text)}' could not be parsed{detail}")


def _strict_digits2(text: str, pos: int) -> tuple[int, int]:
    """``appendValue(field, 2)``: exactly two ASCII digits, no sign."""
    chunk = text[pos : pos + 2]
    if len(chunk) < 2 or not (chunk.isascii() and chunk.isdigit()):
        raise _StrictFail(pos)
    return int(chunk), pos + 2


def _strict_literal(text: str, pos: int, char: str, insensitive: bool = False) -> int:
    if pos >= len(text):
        raise _StrictFail(pos)
    got = text[pos]
    if got != char and not (insensitive and got.lower() == char.lower()):
        raise _StrictFail(pos)
    return pos + 1


def _strict_year(text: str, pos: int) -> tuple[int, int]:
    """``appendValue(YEAR, 4, 10, SignStyle.EXCEEDS_PAD)`` in strict mode."""
    if pos >= len(text):
        raise _StrictFail(pos)
    negative = positive = False
    if text[pos] == "+":
        positive, pos = True, pos + 1
    elif text[pos] == "-":
        negative, pos = True, pos + 1
    end = pos
    while end < len(text) and end - pos < 10 and "0" <= text[end] <= "9":
        end += 1
    if end - pos < 4:
        raise _StrictFail(pos)
    value = int(text[pos:end])
    if negative:
        if value == 0:
            raise _StrictFail(pos - 1)
        value = -value
    elif positive and end - pos <= 4:
        raise _StrictFail(pos - 1)
    elif not positive and end - pos > 4:
        raise _StrictFail(pos)
    return value, end


def _strict_fraction(text: str, pos: int) -> tuple[int, int]:
    """``appendFraction(NANO_OF_SECOND, 0, 9, true)``: optional ``.`` then 0-9 digits."""
    if pos >= len(text) or text[pos] != ".":
        return 0, pos
    pos += 1
    end = pos
    while end < len(text) and end - pos < 9 and "0" <= text[end] <= "9":
        end += 1
    return int(text[pos:end].ljust(9, "0")) if end > pos else 0, end


def _strict_offset_id(text: str, pos: int) -> tuple[int, int]:
    """``appendOffsetId()`` (``+HH:MM:ss`` or ``Z``), case-insensitive as in ISO_INSTANT."""
    if pos >= len(text):
        raise _StrictFail(pos)
    if text[pos] in "Zz":
        return 0, pos + 1
    if text[pos] not in "+-":
        raise _StrictFail(pos)
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
        raise _StrictFail(pos)
    second = two(minute[1], True)
    end = second[1] if second else minute[1]
    if hour[0] > 23:
        raise _dt_error(text, ": Value out of range: Hour[0-23], Minute[0-59], Second[0-59]")
    return sign * (hour[0] * 3600 + minute[0] * 60 + (second[0] if second else 0)), end


def _strict_run(text: str, parse: Callable[[str], tuple[Any, int]]) -> Any:
    """DateTimeFormatter.parse: position errors, then 'unparsed text' errors."""
    try:
        value, end = parse(text)
    except _StrictFail as fail:
        raise _dt_error(text, f" at index {fail.index}") from None
    if end < len(text):
        raise _dt_error(text, f", unparsed text found at index {end}")
    return value


def _local_date_fields(text: str, pos: int) -> tuple[tuple[int, int, int], int]:
    year, pos = _strict_year(text, pos)
    pos = _strict_literal(text, pos, "-")
    month, pos = _strict_digits2(text, pos)
    pos = _strict_literal(text, pos, "-")
    day, pos = _strict_digits2(text, pos)
    return (year, month, day), pos


_UPPER_MONTHS = (
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
    "OCTOBER", "NOVEMBER", "DECEMBER",
)  # fmt: skip


def invalid_date(year: int, month: int, day: int) -> str | None:
    """Java's detail for a day past the end of its month (``LocalDate.of``): ``Invalid date
    'APRIL 31'``, or the leap-year wording for 29 February; None for a real date."""
    if day <= month_length(year, month):
        return None
    if month == 2 and day == 29:
        return f"Invalid date 'February 29' as '{year}' is not a leap year"
    return f"Invalid date '{_UPPER_MONTHS[month - 1]} {day}'"


def parse_local_date(text: str) -> LocalDate:
    """``LocalDate.parse`` (ISO_LOCAL_DATE, ResolverStyle.STRICT)."""
    y, m, d = _strict_run(text, lambda t: _local_date_fields(t, 0))
    if not -999_999_999 <= y <= 999_999_999:
        raise _dt_error(
            text, f": Invalid value for Year (valid values -999999999 - 999999999): {y}"
        )
    if not 1 <= m <= 12:
        raise _dt_error(text, f": Invalid value for MonthOfYear (valid values 1 - 12): {m}")
    if not 1 <= d <= 31:
        raise _dt_error(text, f": Invalid value for DayOfMonth (valid values 1 - 28/31): {d}")
    invalid = invalid_date(y, m, d)
    if invalid is not None:
        raise _dt_error(text, ": " + invalid)
    return LocalDate(y, m, d)


def parse_local_time(text: str) -> LocalTime:
    """``LocalTime.parse`` (ISO_LOCAL_TIME: ``HH:mm[:ss[.nnnnnnnnn]]``, STRICT)."""

    def fields(t: str) -> tuple[tuple[int, int, int, int], int]:
        hour, pos = _strict_digits2(t, 0)
        pos = _strict_literal(t, pos, ":")
        minute, pos = _strict_digits2(t, pos)
        second = nano = 0
        try:  # optional section: on failure the position goes back
            second, after = _strict_digits2(t, _strict_literal(t, pos, ":"))
            nano, pos = _strict_fraction(t, after)
        except _StrictFail:
            pass
        return (hour, minute, second, nano), pos

    h, m, s, nano = _strict_run(text, fields)
    if m > 59:
        raise _dt_error(text, f": Invalid value for MinuteOfHour (valid values 0 - 59): {m}")
    if h > 23:
        raise _dt_error(text, f": Invalid value for HourOfDay (valid values 0 - 23): {h}")
    if s > 59:
        raise _dt_error(text, f": Invalid value for SecondOfMinute (valid values 0 - 59): {s}")
    return LocalTime(((h * 60 + m) * 60 + s) * NANOS + nano)


def parse_instant(text: str) -> Instant:
    """``Instant.parse`` (ISO_INSTANT, Java 12+: seconds required, ``Z`` or ``+HH:MM``)."""

    def fields(t: str) -> tuple[Instant, int]:
        (y, mo, d), pos = _local_date_fields(t, 0)
        pos = _strict_literal(t, pos, "T", insensitive=True)
        h, pos = _strict_digits2(t, pos)
        pos = _strict_literal(t, pos, ":")
        mi, pos = _strict_digits2(t, pos)
        pos = _strict_literal(t, pos, ":")
        s, pos = _strict_digits2(t, pos)
        nano, pos = _strict_fraction(t, pos)
        offset, pos = _strict_offset_id(t, pos)
        extra_day = 0
        if h == 24 and mi == 0 and s == 0 and nano == 0:
            h, extra_day = 0, 1
        elif h == 23 and mi == 59 and s == 60:
            s = 59  # a leap second is folded into the previous one
        if not (1 <= mo <= 12 and 1 <= d <= month_length(y, mo) and h < 24 and mi < 60 and s < 60):
            raise _StrictFail(0)  # LocalDateTime.of fails inside the parser: index 0
        days = _days_from_civil(y, mo, d) + extra_day
        secs = days * 86400 + h * 3600 + mi * 60 + s - offset
        return Instant(secs * NANOS + nano), pos

    instant: Instant = _strict_run(text, fields)
    if not -31557014167219200 * NANOS <= instant.nanos < 31556889864403200 * NANOS:
        raise _dt_error(text, ": Instant exceeds minimum or maximum instant")
    return instant


__all__ = [
    "DateTimeParseError",
    "Instant",
    "LocalDate",
    "LocalTime",
    "invalid_date",
    "is_leap",
    "iso_local_date",
    "iso_local_time",
    "iso_year",
    "month_length",
    "offset_id",
    "parse_instant",
    "parse_local_date",
    "parse_local_time",
]
