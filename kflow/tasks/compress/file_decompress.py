"""``io.kestra.plugin.compress.FileDecompress``: one stored compressed file (GZIP, BZIP2, XZ,
LZMA or DEFLATE) decompressed, streamed block by block."""

from __future__ import annotations

import shutil
from pathlib import Path

from kflow.tasks.base import Output, Prop, RunContext
from kflow.tasks.compress.common import (
    CHUNK,
    READ_ERRORS,
    compression_prop,
    decompressor,
    unreadable,
)
from kflow.tasks.compress.file_compress import FileCompress


class FileDecompress(FileCompress):
    """Decompresses one stored file; the result is a ``.tmp`` file, as in Kestra. Only the
    transformation differs from :class:`FileCompress`."""

    type = "io.kestra.plugin.compress.FileDecompress"
    outputs = {"uri": Output("URI", "kestra:/// URI of the decompressed file")}
    properties = {
        "from": Prop(required=True, kind="string", doc="kestra:/// URI of the compressed file"),
        "compression": compression_prop(True, "GZIP, BZIP2, XZ, LZMA or DEFLATE"),
    }

    def transform(self, ctx: RunContext, uri: str, name: str, path: Path) -> None:
        try:
            with ctx.open_file(uri) as raw, decompressor(name, raw) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
        except READ_ERRORS as exc:
            raise unreadable(uri, name, exc) from exc
