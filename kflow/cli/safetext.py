"""Text that is safe to show on a terminal: control characters escaped.

A value, a log line, a file name or an input echoed in an error may hold anything a flow
or a user produced; printed raw, an escape sequence could clear the screen, move the
cursor or set the window title. Newlines and tabs stay, so multi-line text reads as it
was written. No Rich here: warnings are printed without it.
"""

from __future__ import annotations

__all__ = ["safe"]

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]}
_CONTROL.update({0x0D: "\\r", 0x1B: "\\x1b"})
del _CONTROL[0x0A], _CONTROL[0x09]


def safe(text: str) -> str:
    """``text`` with its control characters escaped (``\\x1b``, ``\\r``) for a terminal."""
    return text.translate(_CONTROL)
