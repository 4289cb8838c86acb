"""Java's ``String.valueOf``: how Kestra prints any value inside a message or a string.

Pebble's ``~`` and ``+`` on strings, the input-validation messages and the Ion mapper's
fallback all print values through Java's ``toString``: ``null``, ``true``, ``[1, 2]``,
``{k=v}``, ``1.0E10``. One function does it for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from typing import Any

from kflow.java.numbers import double_to_string, float_to_string

__all__ = ["to_string"]


def to_string(value: Any) -> str:
    """``String.valueOf(value)`` for the values kflow holds. A ``float`` subclass with a
    true ``java_float32`` attribute is a ``java.lang.Float`` (``Float.toString``); any
    other object prints with its own ``str`` (its ``toString``)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if getattr(value, "java_float32", False):
            return float_to_string(value)
        return double_to_string(value)
    if isinstance(value, Decimal):  # BigDecimal.toString: 1E+3, 1.5E-7
        return str(value).replace("e", "E")
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{to_string(k)}={to_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(to_string(v) for v in value) + "]"
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
