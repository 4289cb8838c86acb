"""``io.kestra.plugin.compress.FileCompress``: one stored file compressed (GZIP, BZIP2, XZ,
LZMA or DEFLATE), streamed block by block."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.compress.common import CHUNK, compression, compression_prop, compressor
from kflow.tasks.storage.common import check_uri, temp_file


class FileCompress(Task):
    """Compresses one stored file; the result is a ``.tmp`` file, as in Kestra."""

    type = "io.kestra.plugin.compress.FileCompress"
    outputs = {"uri": Output("URI", "kestra:/// URI of the compressed file")}
    properties = {
        "from": Prop(required=True, kind="string", doc="kestra:/// URI of the file to compress"),
        "compression": compression_prop(True, "GZIP, BZIP2, XZ, LZMA or DEFLATE"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "from"), "from")
        name = compression(self, ctx)
        if name is None:
            raise TaskError(
                "`compression` is required", hint="use GZIP, BZIP2, XZ, LZMA or DEFLATE"
            )
        path = temp_file(ctx, None)
        self.transform(ctx, uri, name, path)
        return {"uri": ctx.put_file(path)}

    def transform(self, ctx: RunContext, uri: str, name: str, path: Path) -> None:
        """Write ``uri`` compressed with ``name`` to ``path`` (FileDecompress overrides)."""
        try:
            with ctx.open_file(uri) as src, open(path, "wb") as raw, compressor(name, raw) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
        except OSError as exc:
            raise TaskError(f"cannot compress {uri} with {name}: {exc}") from exc
