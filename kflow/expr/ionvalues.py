"""Ion values as Kestra's ``fromIon()`` hands them to an expression.

Kestra reads Ion with Jackson's untyped mapping through its own ``IonParser``: structs are
maps, lists (and s-expressions) lists, integers ``Integer``/``Long``/``BigInteger`` by size,
floats ``Double``, decimals ``BigDecimal``. Timestamps become ``java.time`` values: one in
UTC (or with an unknown offset) is an ``Instant`` — a ``LocalDate`` when it falls exactly on
midnight — and one with another offset a ``ZonedDateTime`` at that offset. Strings
annotated with a ``java.time`` class name (``LocalDateTime::"2024-01-01T10:00:00"``, as
FileSerde writes such values) are parsed back into that class. Those classes print as Java
prints them (``toString`` alone, Jackson's ISO form inside a map) through
:mod:`kflow.java.isotime`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from kflow.expr.values import BigInteger, Long
from kflow.java import isotime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2}(?::\d{2})?)(\[[^\]]*\])?$")


def _offset_seconds(text: str) -> int:
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    parts = [int(p) for p in text[1:].split(":")]
    return sign * (parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0))


def _local_date_time(text: str) -> isotime.LocalDateTime:
    day, _, clock = text.partition("T")
    return isotime.LocalDateTime(isotime.parse_local_date(day), isotime.parse_local_time(clock))


def _with_offset(text: str) -> tuple[str, int]:
    m = _OFFSET.search(text)
    if m is None:
        raise ValueError(f"Text '{text}' has no offset")
    return text[: m.start()], _offset_seconds(m.group(1))


def _annotated(kind: str, text: str) -> Any:
    """A string annotated ``kind::`` (FileSerde's java.time values), parsed as Java does."""
    if kind == "Instant":
        return isotime.parse_instant(text)
    if kind in ("OffsetDateTime", "ZonedDateTime"):
        local, offset = _with_offset(text)
        return isotime.OffsetDateTime(_local_date_time(local), offset, f"java.time.{kind}")
    if kind == "LocalDateTime":
        return _local_date_time(text)
    if kind == "LocalDate":
        return isotime.parse_local_date(text)
    if kind == "OffsetTime":
        local, offset = _with_offset(text)
        return isotime.OffsetTime(isotime.parse_local_time(local), offset)
    if kind == "LocalTime":
        return isotime.parse_local_time(text)
    return text


def _timestamp(value: datetime) -> Any:
    offset = value.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if seconds == 0:
        delta = value - _EPOCH
        nanos = (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        if nanos % (86400 * 1_000_000_000) == 0:
            return isotime.LocalDate(value.year, value.month, value.day)
        return isotime.Instant(nanos)
    local = isotime.LocalDateTime(
        isotime.LocalDate(value.year, value.month, value.day),
        isotime.LocalTime(
            ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000_000
            + value.microsecond * 1000
        ),
    )
    return isotime.OffsetDateTime(local, seconds)


def to_expression(value: Any) -> Any:
    """``value`` as read by :func:`kflow.ion.read_rows`, turned into the Java values
    Kestra's ``fromIon`` gives (see the module docstring)."""
    from kflow.ion import AnnotatedStr

    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, AnnotatedStr):
        return _annotated(value.annotations[0] if value.annotations else "", str(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return int(value)
        if -(2**63) <= value < 2**63:
            return Long(value)
        return BigInteger(value)
    if isinstance(value, dict):
        return {str(k): to_expression(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_expression(v) for v in value]
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return isotime.LocalDate(value.year, value.month, value.day)
    return value  # float, Decimal, bytes
