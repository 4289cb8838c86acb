"""Shared code of the compress tasks: the algorithm names, streamed (de)compressors and the
checks that keep archive entries inside the task's working directory.

Kestra's plugin uses Apache Commons Compress; kflow uses the standard library, so it
handles the formats the standard library reads and writes and refuses the others by name:

- archives: ZIP, JAR (a ZIP) and TAR; not AR, ARJ, CPIO or DUMP;
- compressions: GZIP, BZIP2, XZ, LZMA (the ``.lzma`` "alone" format) and DEFLATE (a zlib
  stream, Commons Compress's default); not BROTLI, DEFLATE64, LZ4BLOCK, LZ4FRAME, SNAPPY,
  SNAPPYFRAME, Z or ZSTD.

Everything streams in blocks: no archive or file is read whole into memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import posixpath
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task, as_text

# Kestra's enums (AbstractArchive.ArchiveAlgorithm, AbstractTask.CompressionAlgorithm).
ARCHIVE_ALGORITHMS = ("AR", "ARJ", "CPIO", "DUMP", "JAR", "TAR", "ZIP")
COMPRESSIONS = (
    "BROTLI", "BZIP2", "DEFLATE", "DEFLATE64", "GZIP", "LZ4BLOCK", "LZ4FRAME", "LZMA",
    "SNAPPY", "SNAPPYFRAME", "XZ", "Z", "ZSTD",
)  # fmt: skip
SUPPORTED_ARCHIVES = ("ZIP", "JAR", "TAR")
SUPPORTED_COMPRESSIONS = ("GZIP", "BZIP2", "XZ", "LZMA", "DEFLATE")

ARCHIVE_REFUSAL = (
    "kflow reads and writes ZIP, JAR and TAR archives (Python's standard library); "
    "AR, ARJ, CPIO and DUMP need Kestra's plugin"
)
COMPRESSION_REFUSAL = (
    "kflow handles GZIP, BZIP2, XZ, LZMA and DEFLATE (Python's standard library); "
    "BROTLI, DEFLATE64, LZ4BLOCK, LZ4FRAME, SNAPPY, SNAPPYFRAME, Z and ZSTD need Kestra's plugin"
)

CHUNK = 1 << 18  # bytes copied at a time


def algorithm_prop(required: bool = True) -> Prop:
    """The ``algorithm`` property of the archive tasks."""
    return Prop(
        required=required,
        kind="string",
        doc="Archive format: ZIP, JAR or TAR (AR, ARJ, CPIO, DUMP are refused)",
        allowed=SUPPORTED_ARCHIVES,
        refused=ARCHIVE_REFUSAL,
    )


def compression_prop(required: bool, doc: str) -> Prop:
    """The ``compression`` property: required for single files, optional for archives."""
    return Prop(
        required=required,
        kind="string",
        doc=doc,
        allowed=SUPPORTED_COMPRESSIONS,
        refused=COMPRESSION_REFUSAL,
    )


def _choice(
    task: Task,
    ctx: RunContext,
    name: str,
    known: tuple[str, ...],
    supported: tuple[str, ...],
    refusal: str,
) -> str | None:
    value = task.rendered(ctx, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().upper()
    if text not in known:
        raise TaskError(
            f"unknown `{name}` {value!r}: Kestra's are {', '.join(known)}",
            hint=f"use {' or '.join(supported)}",
        )
    if text not in supported:
        raise TaskError(f"`{name}` {text} is not supported by kflow: {refusal}",
                        hint=f"use {' or '.join(supported)}")  # fmt: skip
    return text


def archive_algorithm(task: Task, ctx: RunContext) -> str:
    """The rendered, checked ``algorithm`` (ZIP, JAR or TAR)."""
    algo = _choice(task, ctx, "algorithm", ARCHIVE_ALGORITHMS, SUPPORTED_ARCHIVES, ARCHIVE_REFUSAL)
    if algo is None:
        raise TaskError("`algorithm` is required", hint="use ZIP, JAR or TAR")
    return algo


def compression(task: Task, ctx: RunContext) -> str | None:
    """The rendered, checked ``compression``, or None when not set."""
    return _choice(
        task, ctx, "compression", COMPRESSIONS, SUPPORTED_COMPRESSIONS, COMPRESSION_REFUSAL
    )


# --------------------------------------------------------------------------- streams


class _ZlibWriter(io.RawIOBase):
    """A write-only zlib (DEFLATE with zlib header) stream over ``raw``."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._z = zlib.compressobj()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._raw.write(self._z.compress(view))
        return view.nbytes

    def close(self) -> None:
        if not self.closed:
            self._raw.write(self._z.flush())
        super().close()


class _ZlibReader(io.RawIOBase):
    """A read-only zlib stream over ``raw``; stops at the end of the zlib stream."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._z = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            if self._z.eof:
                return 0
            data = self._z.unconsumed_tail or self._raw.read(CHUNK)
            if not data:
                raise EOFError("the DEFLATE stream ends before its end marker")
            self._pending = self._z.decompress(data, len(view))
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class WriteOnly(io.RawIOBase):
    """Hides ``tell``/``seek`` of a compressor, so zipfile writes a streamed ZIP (data
    descriptors) instead of seeking back into compressed output."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()


def compressor(name: str, raw: BinaryIO) -> BinaryIO:
    """A write stream compressing into ``raw`` (closing it does not close ``raw``). Levels
    are Commons Compress's defaults; the gzip header carries no name and time 0."""
    stream: Any
    if name == "GZIP":
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
    elif name == "BZIP2":
        stream = bz2.BZ2File(raw, "wb")
    elif name == "XZ":
        stream = lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_XZ)
    elif name == "LZMA":
        stream = lzma.LZMAFile(raw, "wb", format=lzma.FORMAT_ALONE)
    elif name == "DEFLATE":
        stream = io.BufferedWriter(_ZlibWriter(raw), CHUNK)
    else:  # pragma: no cover - names are checked before
        raise TaskError(f"compression {name} is not supported by kflow: {COMPRESSION_REFUSAL}")
    result: BinaryIO = stream
    return result


def decompressor(name: str, raw: BinaryIO) -> BinaryIO:
    """A read stream decompressing ``raw``."""
    stream: Any
    if name == "GZIP":
        stream = gzip.GzipFile(mode="rb", fileobj=raw)
    elif name == "BZIP2":
        stream = bz2.BZ2File(raw, "rb")
    elif name == "XZ":
        stream = lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_XZ)
    elif name == "LZMA":
        stream = lzma.LZMAFile(raw, "rb", format=lzma.FORMAT_ALONE)
    elif name == "DEFLATE":
        stream = io.BufferedReader(_ZlibReader(raw), CHUNK)
    else:  # pragma: no cover - names are checked before
        raise TaskError(f"compression {name} is not supported by kflow: {COMPRESSION_REFUSAL}")
    result: BinaryIO = stream
    return result


# Errors a damaged or mislabelled input raises while it is read.
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    tarfile.TarError,
    zipfile.BadZipFile,
    NotImplementedError,  # a ZIP compression method zipfile lacks
    RuntimeError,  # zipfile: an encrypted entry
)


def unreadable(uri: str, what: str, exc: BaseException) -> TaskError:
    """The error for an input that is not what ``what`` says (bad data or wrong format)."""
    detail = str(exc) or type(exc).__name__
    return TaskError(
        f"cannot read {uri} as {what}: {detail}",
        hint="check that `algorithm`/`compression` name the file's real format",
    )


# --------------------------------------------------------------------------- entry names


def entry_path(name: str, what: str) -> str:
    """An archive entry name as a normalized relative path that stays inside the target
    directory; anything else (absolute, ``..`` leaving it, NUL) fails naming the entry."""
    if not name or "\x00" in name:
        raise TaskError(f"{what} {name!r} is not a valid file name")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        raise TaskError(
            f"{what} {name!r} is an absolute path: refusing to write it outside the "
            "task's working directory",
            hint="archive entries must be relative paths such as dir/file.txt",
        )
    normalized = posixpath.normpath(name)
    if normalized == ".." or normalized.startswith("../") or normalized == ".":
        raise TaskError(
            f"{what} {name!r} leaves the target directory ('..'): refusing to write it "
            "outside the task's working directory",
            hint="archive entries must be relative paths such as dir/file.txt",
        )
    return normalized


def parse_from_map(ctx: RunContext, value: Any) -> dict[str, str]:
    """ArchiveCompress's ``from`` (Kestra's ``Data.From``) as entry name → URI: a map; a
    list of maps; or text (an expression) giving one of those, a JSON object, or the
    kestra:/// URI of an Ion file whose rows are such maps. Keys and values are rendered."""
    if isinstance(value, str):
        value = ctx.render_typed(value)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("kestra://"):
                return _merge(_ion_rows(ctx, text))
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise TaskError(
                    "`from` must be a map of entry name to kestra:/// URI (or a list of "
                    f"maps, a JSON object, an Ion file URI); got invalid JSON: {exc}"
                ) from exc
    else:
        value = _render_keys(ctx, value)
    rows = value if isinstance(value, list) else [value]
    return _merge(rows)


def _render_keys(ctx: RunContext, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {as_text(ctx.render(k)): ctx.render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_keys(ctx, item) for item in value]
    return value


def _ion_rows(ctx: RunContext, uri: str) -> Iterator[Any]:
    from kflow.tasks.storage.common import check_uri
    from kflow.tasks.storage.items import items

    for _line, row in items(ctx, check_uri(ctx, uri, "from")):
        yield row


def _merge(rows: Iterable[Any]) -> dict[str, str]:
    result: dict[str, str] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            raise TaskError(
                "`from` must be a map of entry name to kestra:/// URI (or a list of maps), "
                f"got {as_text(row)!r}"
            )
        for key, uri in row.items():
            if not isinstance(uri, str):
                raise TaskError(f"`from` entry {key!r} must be a kestra:/// URI, got {uri!r}")
            result[str(key)] = uri
    return result
