"""``io.kestra.plugin.core.storage.Split``: a stored file split by rows, bytes or partitions
(the algorithm of ForEachItem's batches, ``StorageService.split``).

Streamed: lines are read in blocks and written as they come, so memory holds a line, not
the file."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, extension_of, iter_lines, temp_file

_BUFFER = 1 << 16
# Files written at once when splitting into partitions (one pass over the input per group).
_MAX_OPEN = 64
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_bytes(text: str) -> int:
    """Micronaut's readable bytes ("10KB", "1MB", "512"), powers of 1024."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?B?)\s*", str(text).upper())
    if not m or int(m.group(1)) <= 0:
        raise TaskError(f"invalid `bytes` {text!r}", hint="give a size such as 10KB or 1MB")
    return int(m.group(1)) * _UNITS[m.group(2) if m.group(2) != "K" else "KB"]


class Split(Task):
    type = "io.kestra.plugin.core.storage.Split"
    aliases = ("io.kestra.core.tasks.storages.Split",)
    outputs = {"uris": Output("ARRAY", "kestra:/// URIs of the split files, in order")}
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// file to split"),
        "bytes": Prop(kind="string", doc="A new file once this size is reached (10KB, 1MB...)"),
        "partitions": Prop(kind="int", doc="This many files, lines dealt round-robin"),
        "rows": Prop(kind="int", doc="A new file every this many lines"),
        "separator": Prop(default="\n", kind="string", doc="Written after every line"),
    }

    def _int(self, ctx: RunContext, name: str) -> int | None:
        value = self.prop(name)
        if value is None:
            return None
        value = ctx.render_typed(value) if isinstance(value, str) else value
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise TaskError(f"`{name}` must be an integer, got {value!r}") from exc
        if number <= 0:
            raise TaskError(f"`{name}` must be positive, got {number}")
        return number

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "from"), "from")
        separator = str(self.rendered(ctx, "separator"))
        ext = extension_of(uri)
        size_text = self.rendered(ctx, "bytes")
        partitions = self._int(ctx, "partitions")
        rows = self._int(ctx, "rows")
        tail = separator.encode("utf-8")
        if size_text is not None:
            limit = parse_bytes(str(size_text))
            return {"uris": self._sequential(ctx, uri, ext, tail, lambda n, size: size >= limit)}
        if partitions is not None:
            return {"uris": self._partitions(ctx, uri, ext, tail, partitions)}
        if rows is not None:
            return {"uris": self._sequential(ctx, uri, ext, tail, lambda n, size: n >= rows)}
        raise TaskError("Invalid configuration with no size, count, nor rows")

    def _sequential(
        self,
        ctx: RunContext,
        uri: str,
        ext: str,
        tail: bytes,
        full: Callable[[int, int], bool],
    ) -> list[str]:
        """Consecutive lines per file; a new file starts when ``full(lines, bytes)``
        says the current one is. One file open at a time, each stored once written."""
        uris: list[str] = []
        out: BinaryIO | None = None
        path: Path | None = None
        count = size = 0
        try:
            for line in iter_lines(ctx, uri):
                data = line.encode("utf-8") + tail
                if out is None or full(count, size):
                    if out is not None and path is not None:
                        out.close()
                        uris.append(_store(ctx, path))
                    path = temp_file(ctx, ext)
                    out = open(path, "wb", buffering=_BUFFER)
                    count = size = 0
                out.write(data)
                count += 1
                size += len(data)
        finally:
            if out is not None:
                out.close()
        if path is not None:
            uris.append(_store(ctx, path))
        return uris

    def _partitions(
        self, ctx: RunContext, uri: str, ext: str, tail: bytes, partitions: int
    ) -> list[str]:
        """Lines dealt round-robin to ``partitions`` files; with many partitions, one pass
        over the file per group of files, so that few files are open at once."""
        paths: list[Path] = []
        for first in range(0, partitions, _MAX_OPEN):
            group = range(first, min(first + _MAX_OPEN, partitions))
            group_paths = [temp_file(ctx, ext) for _ in group]
            outs = [open(p, "wb", buffering=_BUFFER) for p in group_paths]
            try:
                for i, line in enumerate(iter_lines(ctx, uri)):
                    slot = i % partitions - first
                    if 0 <= slot < len(outs):
                        outs[slot].write(line.encode("utf-8") + tail)
            finally:
                for out in outs:
                    out.close()
            paths.extend(group_paths)
        # empty files are dropped
        return [_store(ctx, path) for path in paths if path.stat().st_size > 0]


def _store(ctx: RunContext, path: Path) -> str:
    uri = ctx.put_file(path)
    path.unlink()  # the stored copy is enough; frees the disk as the split goes
    return uri
