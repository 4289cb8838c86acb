"""ISO-8601 durations as Java's ``Duration.parse`` reads them (``PT10S``, ``P2DT3H``)."""

from __future__ import annotations

import re

_RE = re.compile(
    r"^([-+]?)P(?:([-+]?\d+)D)?"
    r"(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$",
    re.IGNORECASE,
)


def parse_duration(text: str) -> float | None:
    """Seconds for a Java ``Duration`` string, or None when it is not one (no W/M/Y units)."""
    if not isinstance(text, str):
        return None
    m = _RE.match(text.strip())
    if not m or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        return None
    sign, days, hours, minutes, secs, frac = m.groups()
    if not any((days, hours, minutes, secs)):
        return None
    total = 0.0
    total += int(days or 0) * 86400
    total += int(hours or 0) * 3600
    total += int(minutes or 0) * 60
    if secs:
        s = int(secs)
        f = float("0." + frac) if frac else 0.0
        total += s - f if secs.startswith("-") else s + f
    return -total if sign == "-" else total
