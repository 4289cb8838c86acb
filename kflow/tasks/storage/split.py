"""``io.kestra.plugin.core.storage.Split``: a stored file split by rows, bytes or partitions
(the algorithm of ForEachItem's batches, ``StorageService.split``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, extension_of, read_lines, temp_file

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
        lines = read_lines(ctx, uri)
        chunks: list[bytearray] = []
        if size_text is not None:
            limit = parse_bytes(str(size_text))
            total = 0
            for line in lines:
                if not chunks or total >= limit:
                    chunks.append(bytearray())
                    total = 0
                data = (line + separator).encode("utf-8")
                chunks[-1] += data
                total += len(data)
        elif partitions is not None:
            chunks = [bytearray() for _ in range(partitions)]
            for i, line in enumerate(lines):
                chunks[i % partitions] += (line + separator).encode("utf-8")
        elif rows is not None:
            count = 0
            for line in lines:
                if not chunks or count >= rows:
                    chunks.append(bytearray())
                    count = 0
                chunks[-1] += (line + separator).encode("utf-8")
                count += 1
        else:
            raise TaskError("Invalid configuration with no size, count, nor rows")
        paths: list[Path] = []
        for chunk in chunks:
            if chunk:  # empty files are dropped
                path = temp_file(ctx, ext)
                path.write_bytes(bytes(chunk))
                paths.append(path)
        return {"uris": [ctx.put_file(path) for path in paths]}
