"""YAML text → plain Python data that remembers where each value was written.

Mappings become :class:`LineDict` (a dict with ``line``/``column`` and ``key_marks``) and
sequences :class:`LineList`, so validation can say ``flow.yml:12:5``. Timestamps are kept
as strings and only ``true``/``false`` are booleans, as Jackson reads Kestra flows.

Every YAML reader of kflow goes through here (flows, ``--inputs``/``--context`` files, YAML
inputs, the ``yaml()`` function): ``BoundedSafeLoader`` refuses more than 50 aliases, as
Kestra's SnakeYAML does, and ``load_bounded`` turns Python's own limits (recursion,
4,300-digit integers) into ``yaml.YAMLError`` that callers report like any other. Those
two live in :mod:`kflow.flow.yamlio` (PyYAML is imported there only) and are reachable
from here; a flow parsed before comes from the parse cache without loading PyYAML.
"""

from __future__ import annotations

import marshal
import os
import zlib
from pathlib import Path
from typing import Any

from kflow.errors import FlowSyntaxError, NotFoundError


class LineDict(dict):  # type: ignore[type-arg]
    """A mapping from YAML with the (1-based) position of itself and of each key."""

    line: int | None = None
    column: int | None = None
    key_marks: dict[Any, tuple[int, int]]

    def mark(self, key: Any) -> tuple[int | None, int | None]:
        marks: dict[Any, tuple[int, int]] = getattr(self, "key_marks", {})
        if key in marks:
            return marks[key]
        return self.line, self.column


class LineList(list):  # type: ignore[type-arg]
    """A sequence from YAML with its position and each item's position."""

    line: int | None = None
    column: int | None = None
    item_marks: list[tuple[int, int]]


MAX_ALIASES = 50  # SnakeYAML's default maxAliasesForCollections (Kestra's YAML parser)
TOO_DEEP = "nested too deeply (more levels than kflow can read)"


def too_long_number(exc: ValueError) -> str:
    """A readable message for Python's "Exceeds the limit (4300 digits)" ``ValueError``."""
    return f"a number is too long: {str(exc).split(';')[0]}"


_LAZY = ("BoundedSafeLoader", "YamlDataLoader", "load_bounded")


def __getattr__(name: str) -> Any:
    """The PyYAML-based readers, loaded on first use (see :mod:`kflow.flow.yamlio`)."""
    if name in _LAZY:
        from kflow.flow import yamlio

        return getattr(yamlio, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_yaml(text: str, path: str | None = None) -> Any:
    """Parse a flow's YAML text; a syntax error becomes a :class:`FlowSyntaxError` with
    file:line:col. A text parsed before comes from the parse cache (:func:`_cached`)."""
    found = _cached(text)
    if found is not None:
        return found
    from kflow.flow.yamlio import parse_yaml as parse_with_yaml

    data = parse_with_yaml(text, path)
    _remember(text, data)
    return data


# ------------------------------------------------------------------ the parse cache
# Most runs read a flow that has not changed since the last one (an edit-run loop, a CI
# runner re-running a job). Its parsed tree, with the positions validation quotes, is kept
# under the kflow home as a ``marshal`` image next to the exact text it came from: a hit
# compares the whole text, so a stale or colliding entry is never used, and the name also
# carries the format version. Nothing is written when the home does not exist yet (``kflow
# validate`` never creates one), is read-only, or the tree holds other values than YAML's.

_CACHE_FORMAT = 1
_CACHE_FILES = 256  # the newest ones kept


def _cache_file(text: str) -> Path | None:
    home = os.environ.get("KFLOW_HOME")
    if home:
        root = Path(home).expanduser()
    else:
        from kflow.home import kflow_home

        root = kflow_home()
    if not root.is_dir():
        return None
    data = text.encode("utf-8", "surrogatepass")
    name = f"{zlib.crc32(data):08x}-{zlib.adler32(data):08x}-{len(data)}-v{_CACHE_FORMAT}"
    return root / "cache" / "flows" / name


def _cached(text: str) -> Any:
    try:
        file = _cache_file(text)
        if file is None:
            return None
        kept_text, tree = marshal.loads(file.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if kept_text != text:
        return None
    try:
        return _thaw(tree)
    except (ValueError, TypeError, IndexError):
        return None


def _remember(text: str, data: Any) -> None:
    if "&" in text:  # anchors share one object between places: a copy would not
        return
    try:
        file = _cache_file(text)
        if file is None:
            return
        image = marshal.dumps((text, _freeze(data)))
        for folder in (file.parent.parent, file.parent):  # cache/ and cache/flows/: 0700
            folder.mkdir(exist_ok=True, mode=0o700)
        part = file.with_name(f"{file.name}.{os.getpid()}.part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(image)
        os.replace(part, file)  # whole or absent, for a concurrent reader
        entries = list(file.parent.iterdir())
        if len(entries) > _CACHE_FILES:
            entries.sort(key=lambda p: p.stat().st_mtime)
            for old in entries[: len(entries) - _CACHE_FILES // 2]:
                old.unlink(missing_ok=True)
    except (OSError, ValueError, TypeError, RecursionError):
        return  # a cache: any failure just means parsing again next time


_SCALARS = (str, int, float, bool, type(None))


def _freeze(value: Any) -> Any:
    """A marshal-able image: ``("d", line, column, [(key, line, column, value)...])`` for
    a LineDict, ``("l", line, column, marks, [items])`` for a LineList, scalars as is."""
    if isinstance(value, LineDict):
        marks = getattr(value, "key_marks", {})
        return ("d", value.line, value.column,
                [(k, *marks.get(k, (None, None)), _freeze(v)) for k, v in value.items()])  # fmt: skip
    if isinstance(value, LineList):
        return ("l", value.line, value.column, getattr(value, "item_marks", None),
                [_freeze(v) for v in value])  # fmt: skip
    if isinstance(value, _SCALARS):
        return value
    raise TypeError(f"not cached: {type(value).__name__}")


def _thaw(image: Any) -> Any:
    if isinstance(image, tuple):
        if image[0] == "d":
            out = LineDict()
            out.line, out.column = image[1], image[2]
            out.key_marks = {}
            for key, line, column, value in image[3]:
                out[key] = _thaw(value)
                if line is not None:
                    out.key_marks[key] = (line, column)
            return out
        items = LineList(_thaw(v) for v in image[4])
        items.line, items.column = image[1], image[2]
        if image[3] is not None:
            items.item_marks = image[3]
        return items
    return image


def read_flow_text(path: str | Path) -> str:
    """Read a flow file, with one clear error when it is missing or unreadable."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(
            f"flow file not found: {path}", hint="check the path (relative to this directory)"
        ) from None
    except IsADirectoryError:
        raise NotFoundError(f"{path} is a directory, not a flow file") from None
    except UnicodeDecodeError as exc:
        raw = p.read_bytes()
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise FlowSyntaxError(
            f"invalid UTF-8 byte 0x{raw[exc.start]:02x}: flow files must be UTF-8 text",
            path=str(path),
            line=line,
            column=column,
            hint="save the file as UTF-8",
        ) from None
    except OSError as exc:
        raise NotFoundError(f"cannot read {path}: {exc.strerror}") from None
