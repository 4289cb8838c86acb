"""``read_ion(...)`` in DuckDB queries without the ``ion`` community extension.

Kestra's DuckDB plugin loads the ``ion`` community extension by default
(``communityExtensions: [ion]``), so flows read stored Ion with
``SELECT * FROM read_ion('data.ion')``. DuckDB extensions cannot be downloaded offline, so
when ``read_ion`` is not a function of the session, each call is rewritten before the query
runs: the Ion files are converted (streamed, value by value) to JSON lines in a private
temporary directory, and the call becomes a subquery over DuckDB's own ``read_json`` with
the same options. Top-level fields whose values are all Ion decimals are cast back to
``DECIMAL(18, scale)`` and blobs back to ``BLOB``, as the extension types them; timestamps
arrive as ``TIMESTAMP WITH TIME ZONE`` and days as ``DATE`` through ``read_json``'s own
detection. ``records := false`` gives the single column ``ion``; ``format := 'array'``
reads one top-level Ion list.

The rewrite scans the SQL text once, skipping string literals, quoted identifiers and
comments, so ``'read_ion('`` inside a string is left alone.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from kflow.errors import TaskError

_NAME = re.compile(r"read_ion\s*\(", re.IGNORECASE)
_NAMED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|=)\s*(.*)$", re.DOTALL)
# options read_ion shares with read_json, passed through unchanged
_PASS_THROUGH = {
    "columns",
    "sample_size",
    "maximum_depth",
    "union_by_name",
    "maximum_sample_files",
    "field_appearance_threshold",
    "map_inference_threshold",
}
_OWN = {"format", "records", "conflict_mode", "use_extractor"}


def _skip_quoted(sql: str, i: int) -> int:
    """The index after the literal or comment starting at ``i`` (``i`` if there is none)."""
    ch = sql[i]
    if ch in "'\"":
        j = i + 1
        while j < len(sql):
            if sql[j] == ch:
                if j + 1 < len(sql) and sql[j + 1] == ch:
                    j += 2
                    continue
                return j + 1
            j += 1
        return len(sql)
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end
    if sql.startswith("/*", i):
        end = sql.find("*/", i + 2)
        return len(sql) if end < 0 else end + 2
    return i


def _arguments(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments from ``start`` up to the first unmatched closing
    bracket (or the end), and that bracket's index (``len(text)`` if there is none)."""
    args: list[str] = []
    depth = 0
    begin = i = start
    while i < len(text):
        after = _skip_quoted(text, i)
        if after != i:
            i = after
            continue
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(text[begin:i])
            begin = i + 1
        i += 1
    args.append(text[begin:i])
    return args, i


def _calls(sql: str) -> Iterator[tuple[int, int, list[str]]]:
    """``(start, end, arguments)`` of each ``read_ion(...)`` call outside literals."""
    i = 0
    while i < len(sql):
        after = _skip_quoted(sql, i)
        if after != i:
            i = after
            continue
        m = _NAME.match(sql, i)
        if m and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] in "_.")):
            args, close = _arguments(sql, m.end())
            if close >= len(sql):
                raise TaskError("read_ion( is not closed in the SQL", hint="add the missing ')'")
            yield i, close + 1, [a for a in args if a.strip()]
            i = close + 1
            continue
        i += 1


def _literal(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    raise TaskError(
        f"read_ion: expected a quoted path, got {text!r}",
        hint="write read_ion('file.ion') or read_ion(['a.ion', 'b.ion'])",
    )


def _paths(arg: str, sql_dir: Path) -> list[Path]:
    arg = arg.strip()
    items = [arg]
    if arg.startswith("[") and arg.endswith("]"):
        items = [a for a in _arguments(arg[1:-1], 0)[0] if a.strip()]
    found: list[Path] = []
    for item in items:
        pattern = _literal(item)
        full = pattern if os.path.isabs(pattern) else str(sql_dir / pattern)
        matches = sorted(glob.glob(full)) if glob.has_magic(full) else [full]
        if not matches or not all(os.path.isfile(p) for p in matches):
            raise TaskError(
                f"read_ion: no file matches {pattern!r}",
                hint="give the file in inputFiles, or a path relative to the working directory",
            )
        found.extend(Path(p) for p in matches)
    return found


def _bool_option(value: str) -> bool | None:
    v = value.strip().strip("'").lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    if v == "auto":
        return None
    raise TaskError(f"read_ion: records must be true, false or 'auto', got {value.strip()}")


class _Columns:
    """What the extension types differently from read_json: decimals and blobs."""

    def __init__(self) -> None:
        self.scale: dict[str, int] = {}
        self.other: set[str] = set()
        self.blob: set[str] = set()

    def see(self, row: Any) -> None:
        if not isinstance(row, dict):
            return
        for key, value in row.items():
            if value is None:
                continue
            name = str(key)
            if isinstance(value, Decimal) and name not in self.other:
                exponent = value.as_tuple().exponent
                scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
                self.scale[name] = max(self.scale.get(name, 0), scale)
            elif isinstance(value, bytes | bytearray):
                self.blob.add(name)
            else:
                self.other.add(name)
                self.scale.pop(name, None)


def _jsonable(value: Any) -> Any:
    from kflow import ion

    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return ion.to_jsonable(value)


def _convert(paths: list[Path], target: Path, array: bool, wrap: bool, cols: _Columns) -> None:
    from kflow import ion

    with target.open("w", encoding="utf-8") as out:
        for path in paths:
            with path.open("rb") as fh:
                try:
                    for value in ion.read_rows(fh):
                        rows = value if array and isinstance(value, list) else [value]
                        for row in rows:
                            row = {"ion": row} if wrap else row
                            cols.see(row)
                            out.write(json.dumps(_jsonable(row), ensure_ascii=False))
                            out.write("\n")
                except ion.IonError as exc:
                    raise TaskError(f"read_ion: {path.name}: {exc}") from None


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rewrite(sql: str, sql_dir: Path, temp_dir: Path) -> str:
    """``sql`` with every ``read_ion(...)`` call replaced by a subquery over ``read_json``
    of converted copies written under ``temp_dir`` (see the module docstring)."""
    parts: list[str] = []
    last = 0
    for number, (start, end, args) in enumerate(_calls(sql)):
        if not args:
            raise TaskError("read_ion needs a file path", hint="read_ion('data.ion')")
        options: dict[str, str] = {}
        for arg in args[1:]:
            m = _NAMED.match(arg)
            if not m:
                raise TaskError(f"read_ion: unexpected argument {arg.strip()!r}")
            options[m.group(1).lower()] = m.group(2).strip()
        unknown = set(options) - _PASS_THROUGH - _OWN
        if unknown:
            raise TaskError(f'Invalid named parameter "{sorted(unknown)[0]}" for function read_ion')
        fmt = options.get("format", "'auto'").strip("'").lower()
        if fmt not in ("auto", "newline_delimited", "array", "unstructured"):
            raise TaskError(f"read_ion: format must be auto, newline_delimited, array or unstructured, got {fmt!r}")
        records = _bool_option(options.get("records", "auto"))
        paths = _paths(args[0], sql_dir)
        target = temp_dir / f"read_ion_{number}.jsonl"
        cols = _Columns()
        _convert(paths, target, fmt == "array", records is False, cols)
        json_args = [
            "'" + str(target).replace("'", "''") + "'",
            "format='newline_delimited'",
        ]
        json_args += [f"{k}={v}" for k, v in options.items() if k in _PASS_THROUGH]
        casts = [
            f"CAST({_quote_ident(n)} AS DECIMAL({18 if s <= 18 else 38},{s}))"
            f" AS {_quote_ident(n)}"
            for n, s in cols.scale.items()
            if "columns" not in options and s <= 38
        ]
        casts += [
            f"from_base64({_quote_ident(n)}) AS {_quote_ident(n)}"
            for n in sorted(cols.blob - cols.other)
            if "columns" not in options
        ]
        select = "*" if not casts else "* REPLACE (" + ", ".join(casts) + ")"
        parts.append(sql[last:start])
        parts.append(f"(SELECT {select} FROM read_json({', '.join(json_args)}))")
        last = end
    if not parts:
        return sql
    parts.append(sql[last:])
    return "".join(parts)


def mentions(sql: str | None) -> bool:
    """Whether ``sql`` may call ``read_ion`` (a cheap test before the real scan)."""
    return bool(sql) and "read_ion" in sql.lower()  # type: ignore[union-attr]
