"""``io.kestra.plugin.core.storage.Reverse``: a stored file with its lines in reverse order.

Streamed, so a file larger than memory reverses: one forward pass writes the lines (any
charset, any line end) as UTF-8, one per ``\\n``, to a scratch file; the scratch file is then
read backwards in blocks. Memory holds a block and the longest line, not the file.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from typing import IO, Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, extension_of, iter_lines, temp_file

_BLOCK = 1 << 16


class Reverse(Task):
    type = "io.kestra.plugin.core.storage.Reverse"
    aliases = ("io.kestra.core.tasks.storages.Reverse",)
    outputs = {"uri": Output("URI", "kestra:/// URI of the reversed file (source extension)")}
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// file to reverse"),
        "separator": Prop(default="\n", kind="string", doc="Written after every line"),
        "charset": Prop(default="UTF-8", kind="string", doc="The file's charset"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "from"), "from")
        separator = str(self.rendered(ctx, "separator"))
        charset = str(self.rendered(ctx, "charset"))
        try:
            utf8 = codecs.lookup(charset).name == "utf-8"
        except LookupError as exc:
            raise TaskError(f"unknown charset {charset!r}") from exc
        scratch = temp_file(ctx, ".lines")
        with open(scratch, "wb", buffering=_BLOCK) as lines_out:
            for line in iter_lines(ctx, uri, charset):
                lines_out.write(line.encode("utf-8"))
                lines_out.write(b"\n")
        path = temp_file(ctx, extension_of(uri))
        tail = separator.encode("utf-8")
        with open(scratch, "rb") as lines_in, open(path, "wb", buffering=_BLOCK) as out:
            for raw in lines_backwards(lines_in, os.fstat(lines_in.fileno()).st_size):
                if utf8:
                    out.write(raw)
                    out.write(tail)
                else:  # encoded whole, as before: a BOM-writing charset writes one per line
                    out.write((raw.decode("utf-8") + separator).encode(charset))
        scratch.unlink()
        return {"uri": ctx.put_file(path)}


def lines_backwards(fh: IO[bytes], size: int, block: int = _BLOCK) -> Iterator[bytes]:
    """The ``\\n``-terminated lines of a seekable file, last first, without their ``\\n``;
    read in blocks from the end (a line longer than a block is joined once, at its start)."""
    if size <= 0:
        return
    pos = size - 1  # the last byte is the last line's "\n"
    pending: list[bytes] = []  # pieces of the current line, the latest first
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        parts = fh.read(step).split(b"\n")
        if len(parts) == 1:
            pending.append(parts[0])
            continue
        pending.append(parts[-1])
        yield b"".join(reversed(pending))
        yield from reversed(parts[1:-1])
        pending = [parts[0]]
    yield b"".join(reversed(pending))
