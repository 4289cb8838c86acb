"""Java's ``java.time.Duration``: ``Duration.parse`` (``PT10S``, ``P2DT3H``) and
``Duration.toString``, for every place kflow reads a duration: task ``timeout``, ``retry``
intervals, ``Sleep``, HTTP timeouts and ``DURATION`` inputs.

:func:`parse` is exact (nanoseconds, Java's messages); :func:`parse_duration` gives the
seconds as a float for waits and timeouts, None where Java would refuse the text.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from kflow.java.exceptions import DateTimeParseError
from kflow.java.numbers import LONG_MAX, LONG_MIN, significant_digits, small_int

NANOS = 1_000_000_000


def _jdiv(a: int, b: int) -> int:
    """Java's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@dataclass(frozen=True, order=True)
class Duration:
    """A ``java.time.Duration``, exact to the nanosecond; ``str()`` is ``Duration.toString``."""

    nanos: int

    def __str__(self) -> str:  # Duration.toString
        if self.nanos == 0:
            return "PT0S"
        seconds, nanos = divmod(self.nanos, NANOS)
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
            frac = str(2 * NANOS - nanos if seconds < 0 else nanos + NANOS).rstrip("0")
            buf += "." + frac[1:]
        return buf + "S"

    def json(self) -> str:
        # Kestra's queue mapper writes seconds (kestra#3742); kflow keeps the ISO text (§2.5).
        return str(self)


_DURATION_RE = re.compile(
    r"([-+]?)P(?:([-+]?[0-9]+)D)?"
    r"(T(?:([-+]?[0-9]+)H)?(?:([-+]?[0-9]+)M)?(?:([-+]?[0-9]+)(?:[.,]([0-9]{0,9}))?S)?)?",
    re.IGNORECASE,
)


def parse(text: str) -> Duration:
    """``Duration.parse``: ``PnDTnHnMn.nS`` only (no weeks, months or years)."""
    match = _DURATION_RE.fullmatch(text)
    if not match or match.group(3) == "T" or not any(match.group(i) for i in (2, 4, 5, 6)):
        raise DateTimeParseError("Text cannot be parsed to a Duration")

    def number(group: int, multiplier: int, name: str) -> int:
        raw = match.group(group)
        if raw and significant_digits(raw) > 19:  # past a Long, whatever the digits
            raise DateTimeParseError(f"Text cannot be parsed to a Duration: {name}")
        value = small_int(raw) if raw else 0
        if not LONG_MIN <= value <= LONG_MAX or not LONG_MIN <= value * multiplier <= LONG_MAX:
            raise DateTimeParseError(f"Text cannot be parsed to a Duration: {name}")
        return value * multiplier

    total = sum(
        number(g, mult, name)
        for g, mult, name in ((2, 86400, "days"), (4, 3600, "hours"), (5, 60, "minutes"))
    )
    secs = number(6, 1, "seconds")
    total += secs
    if not LONG_MIN <= total <= LONG_MAX:
        raise DateTimeParseError("Text cannot be parsed to a Duration: overflow")
    fraction = match.group(7) or ""
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    if (match.group(6) or "").startswith("-"):
        nanos = -nanos
    value = total * NANOS + nanos
    if match.group(1) == "-":
        value = -value
    # Duration.ofSeconds then negated(): seconds stay a Java long
    if not LONG_MIN * NANOS <= value <= LONG_MAX * NANOS + NANOS - 1:
        raise DateTimeParseError("Text cannot be parsed to a Duration: overflow")
    return Duration(value)


def format_seconds(seconds: float) -> str:
    """``Duration.toString`` of a number of seconds, to the microsecond (``PT1.2S``,
    ``PT1H0.5S``): how a measured duration (a task run's) prints."""
    return str(Duration(round(seconds * 1_000_000) * 1000))


def parse_duration(text: str) -> float | None:
    """Seconds for a Java ``Duration`` string, or None when Java would not take it: not a
    duration (no W/M/Y units), or more seconds than Java's ``long`` holds. Surrounding
    whitespace is ignored (YAML block scalars leave a newline)."""
    if not isinstance(text, str):
        return None
    try:
        return parse(text.strip()).nanos / NANOS
    except DateTimeParseError:
        return None


def duration_problem(text: str) -> str:
    """Why ``text`` is refused (for a message after the value), e.g. ``is not an ISO-8601
    duration`` or ``is out of range``."""
    try:
        parse(text.strip())
    except DateTimeParseError as exc:
        if ":" in str(exc):  # "...: days", "...: overflow": the syntax was right
            return (
                f"is out of range: a duration holds at most {LONG_MAX} seconds "
                "(about 292 billion years), as in Java"
            )
    return "is not an ISO-8601 duration"


def wait_for(event: threading.Event, seconds: float) -> bool:
    """``event.wait(seconds)`` for any duration: Python refuses waits longer than
    ``threading.TIMEOUT_MAX`` (about 292 years) with an OverflowError, Java does not."""
    while seconds > threading.TIMEOUT_MAX:
        if event.wait(threading.TIMEOUT_MAX):
            return True
        seconds -= threading.TIMEOUT_MAX
    return event.wait(max(seconds, 0.0))


__all__ = [
    "NANOS",
    "Duration",
    "duration_problem",
    "format_seconds",
    "parse",
    "parse_duration",
    "wait_for",
]
