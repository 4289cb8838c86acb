"""ISO-8601 durations as Java's ``Duration.parse`` reads them (``PT10S``, ``P2DT3H``)."""

from __future__ import annotations

import re
import threading

_RE = re.compile(
    r"^([-+]?)P(?:([-+]?\d+)D)?"
    r"(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$",
    re.IGNORECASE,
)
# Java's Duration keeps its seconds in a long: Duration.parse rejects anything larger
# ("Text cannot be parsed to a Duration: numeric overflow"), and so does Kestra.
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _whole_seconds(text: str) -> tuple[int, float] | None:
    """(whole seconds, fraction) exactly as Java adds them up, or None for bad syntax."""
    if not isinstance(text, str):
        return None
    s = text.strip()
    m = _RE.match(s)
    if not m or s.upper() in ("P", "PT") or s.upper().endswith("T"):
        return None
    sign, days, hours, minutes, secs, frac = m.groups()
    if not any((days, hours, minutes, secs)):
        return None
    whole = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60
    fraction = 0.0
    if secs:
        whole += int(secs)
        fraction = float("0." + frac) if frac else 0.0
        if secs.startswith("-"):
            fraction = -fraction
    if sign == "-":
        return -whole, -fraction
    return whole, fraction


def _in_java_range(text: str) -> bool:
    m = _RE.match(text.strip())
    if m is None:
        return False
    sign, days, hours, minutes, secs, _frac = m.groups()
    total = 0
    for number, unit in ((days, 86400), (hours, 3600), (minutes, 60), (secs, 1)):
        if number is None:
            continue
        value = int(number)
        # each number is a Java long, each product and the running sum too
        if not _LONG_MIN <= value <= _LONG_MAX or not _LONG_MIN <= value * unit <= _LONG_MAX:
            return False
        total += value * unit
        if not _LONG_MIN <= total <= _LONG_MAX:
            return False
    return sign != "-" or total != _LONG_MIN


def parse_duration(text: str) -> float | None:
    """Seconds for a Java ``Duration`` string, or None when Java would not take it: not a
    duration (no W/M/Y units), or more seconds than Java's ``long`` holds."""
    parts = _whole_seconds(text)
    if parts is None or not _in_java_range(text):
        return None
    whole, fraction = parts
    return whole + fraction


def duration_problem(text: str) -> str:
    """Why ``text`` is refused (for a message after the value), e.g. ``is not an ISO-8601
    duration`` or ``is out of range``."""
    if _whole_seconds(text) is not None and not _in_java_range(text):
        return (
            f"is out of range: a duration holds at most {_LONG_MAX} seconds "
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
