"""Task outputs as JSON values, converted once when a task run ends.

Kestra turns a task's output object into a map with its Jackson mapper before storing it,
so what a later task, ``kflow outputs`` or the store sees is always plain JSON: dates and
times as ISO strings, decimals as numbers, bytes as base64, any collection as an array.
kflow does the same, once, in the executor (not in each task, and not again in the store):
a task may return the Python values it has at hand, and every reader after it gets one
shape. A value with no JSON form fails the task with a message naming its key, instead of
being silently written as some ``str()`` text.

The scalar conversions themselves are the ones :func:`kflow.ion.to_jsonable` makes for
rows read from Ion files (one writer of Jackson's forms); this module adds the walk, the
collections and the refusal of unknown types.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from enum import Enum
from pathlib import PurePath
from typing import Any

from kflow.errors import TaskError

__all__ = ["to_json_outputs", "to_json_value"]

_PLAIN = (str, int, float, bool, type(None))


def to_json_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """A task run's outputs as JSON values; the same dict when nothing needed converting
    (the common case costs one walk, no copy).

    Raises :class:`~kflow.errors.TaskError` naming the key of a value that has no JSON form.
    """
    converted = to_json_value(outputs, "")
    assert isinstance(converted, dict)
    return converted


def to_json_value(value: Any, where: str = "") -> Any:
    """``value`` as Jackson writes it (``where``, its key path, goes into the error)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict or isinstance(value, Mapping):
        out: dict[str, Any] | None = None if kind is dict else {}
        for i, (key, item) in enumerate(value.items()):
            name = _key(key, where)
            path = f"{where}.{name}" if where else name
            new = to_json_value(item, path)
            if out is None and (new is not item or type(key) is not str):
                out = dict(list(value.items())[:i])  # first change: copy what came before
            if out is not None:
                out[name] = new
        return value if out is None else out
    if kind is list or isinstance(value, tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        new_items = [to_json_value(item, f"{where}[{i}]") for i, item in enumerate(items)]
        if kind is list and all(a is b for a, b in zip(new_items, value, strict=True)):
            return value
        return new_items
    if isinstance(value, bool | int | float | str):  # subclasses (IntEnum, AnnotatedStr...)
        if isinstance(value, Enum):
            return value.name
        return (bool if isinstance(value, bool) else int if isinstance(value, int)
                else float if isinstance(value, float) else str)(value)  # fmt: skip
    # rare types: decimal and uuid are imported here, off a one-task run's start-up path
    from decimal import Decimal
    from uuid import UUID

    if isinstance(value, Decimal | date | time | bytes | bytearray | memoryview):
        from kflow.ion import to_jsonable

        return to_jsonable(value)
    if isinstance(value, timedelta):  # Jackson: a Duration as its number of seconds
        seconds = value.total_seconds()
        return int(seconds) if seconds.is_integer() else seconds
    if isinstance(value, Enum):  # Jackson writes an enum's name
        return value.name
    if isinstance(value, UUID | PurePath):
        return str(value)
    raise TaskError(
        f"output '{where or '(root)'}' is a {kind.__module__}.{kind.__qualname__} value, "
        "which has no JSON form",
        hint="return strings, numbers, booleans, lists, maps, dates or bytes "
        "(convert the value in the task)",
    )


def _key(key: Any, where: str) -> str:
    """A map key as Jackson writes it: strings as they are, numbers and booleans as text."""
    if type(key) is str:
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    from decimal import Decimal
    from uuid import UUID

    if isinstance(key, str | int | float | Decimal | UUID | Enum) or key is None:
        return key.name if isinstance(key, Enum) else "null" if key is None else str(key)
    raise TaskError(
        f"output '{where or '(root)'}' has a key of type {type(key).__qualname__}, "
        "which has no JSON form",
        hint="use string keys in the outputs",
    )
