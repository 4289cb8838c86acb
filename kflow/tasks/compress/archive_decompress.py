"""``io.kestra.plugin.compress.ArchiveDecompress``: every file of a stored archive (ZIP, JAR
or TAR, optionally compressed) stored on its own.

Entries are extracted one at a time into the task's working directory, never outside it:
an entry with an absolute name, a name that leaves the directory (``../x``), a symbolic or
hard link pointing outside the archive, or a device file or FIFO fails the task with a
message naming the entry. No link is ever created on disk: a link to a file extracted
earlier is stored as a copy of that file.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from kflow.errors import TaskError
from kflow.ids import id_from
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.compress.common import (
    CHUNK,
    READ_ERRORS,
    algorithm_prop,
    archive_algorithm,
    compression,
    compression_prop,
    decompressor,
    entry_path,
    unreadable,
)
from kflow.tasks.storage.common import check_uri

# The longest symbolic-link target read from a ZIP entry (its data is the target path).
_MAX_LINK = 4096


class ArchiveDecompress(Task):
    """Extracts an archive; ``files`` maps each entry name to its stored URI."""

    type = "io.kestra.plugin.compress.ArchiveDecompress"
    outputs = {
        "files": Output("MAP", "Entry path in the archive → kestra:/// URI", dynamic=True),
    }
    properties = {
        "from": Prop(required=True, kind="string", doc="kestra:/// URI of the archive"),
        "algorithm": algorithm_prop(),
        "compression": compression_prop(
            False, "Compressor around the archive (GZIP, BZIP2, XZ, LZMA, DEFLATE); none if unset"
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "from"), "from")
        algo = archive_algorithm(self, ctx)
        compress = compression(self, ctx)
        extractor = _Extractor(ctx, ctx.working_dir())
        what = algo if compress is None else f"{algo} compressed with {compress}"
        try:
            with ctx.open_file(uri) as raw:
                if algo == "TAR":
                    stream = raw if compress is None else decompressor(compress, raw)
                    with stream, tarfile.open(fileobj=stream, mode="r|") as tar:
                        extractor.tar(tar)
                else:
                    with _seekable_archive(raw, compress, extractor.root) as local:
                        with zipfile.ZipFile(local) as zf:
                            extractor.zip(zf)
        except READ_ERRORS as exc:
            raise unreadable(uri, what, exc) from exc
        ctx.metric("size", "counter", extractor.size)
        ctx.metric("count", "counter", len(extractor.files))
        return {"files": extractor.files}


@contextlib.contextmanager
def _seekable_archive(raw: BinaryIO, compress: str | None, workdir: Path) -> Iterator[IO[bytes]]:
    """The archive as a seekable file (zipfile reads the central directory at its end): the
    stored file itself, or a (decompressed) copy in the working directory."""
    if compress is None and raw.seekable():
        yield raw
        return
    path = workdir / "archive.tmp"
    src = raw if compress is None else decompressor(compress, raw)
    try:
        with open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        with open(path, "rb") as local:
            yield local
    finally:
        path.unlink(missing_ok=True)


class _Extractor:
    """Writes entries under ``<workdir>/entries`` and stores them, checking each name."""

    def __init__(self, ctx: RunContext, workdir: Path) -> None:
        self.ctx = ctx
        self.root = workdir
        self.base = workdir / "entries"
        self.base.mkdir()
        self.files: dict[str, str] = {}
        self.local: dict[str, Path] = {}  # normalized entry path → extracted file
        self.stored_names: set[str] = set()
        self.size = 0

    # ------------------------------------------------------------------ formats
    def tar(self, tar: tarfile.TarFile) -> None:
        for member in tar:
            if member.isdir():
                continue
            name = member.name
            entry_path(name, "archive entry")
            if member.isreg():
                fh = tar.extractfile(member)
                if fh is None:  # pragma: no cover - regular members always have data
                    raise TaskError(f"Unable to read entry '{name}'")
                with fh:
                    self._store(name, fh)
            elif member.issym() or member.islnk():
                self._link(name, member.linkname, hard=member.islnk())
            else:
                kind = "a device file" if member.ischr() or member.isblk() else "a FIFO"
                raise TaskError(
                    f"archive entry {name!r} is {kind}: refusing to extract it",
                    hint="only regular files (and links to them) are extracted",
                )

    def zip(self, zf: zipfile.ZipFile) -> None:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if info.flag_bits & 0x1:
                raise TaskError(f"Unable to read entry '{name}': it is encrypted",
                                hint="kflow cannot read password-protected ZIP entries")  # fmt: skip
            entry_path(name, "archive entry")
            # Unix mode bits (made on Unix: create_system 3); many writers leave the type 0
            kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
            if kind == stat.S_IFLNK:
                with zf.open(info) as fh:
                    target = fh.read(_MAX_LINK + 1)
                if len(target) > _MAX_LINK:
                    raise TaskError(f"archive entry {name!r} is a link with a too long target")
                self._link(name, target.decode("utf-8", "replace"), hard=False)
                continue
            if kind not in (0, stat.S_IFREG):
                raise TaskError(
                    f"archive entry {name!r} is not a regular file: refusing to extract it",
                    hint="only regular files (and links to them) are extracted",
                )
            with zf.open(info) as fh:
                self._store(name, fh)

    # ------------------------------------------------------------------ entries
    def _target(self, name: str) -> tuple[str, Path]:
        normalized = entry_path(name, "archive entry")
        if normalized in self.local:
            raise TaskError(f"archive entry {name!r} appears twice in the archive",
                            hint="Kestra fails on a repeated entry too")  # fmt: skip
        # Kestra writes entries with spaces turned into underscores (stored names show it)
        path = self.base / normalized.replace(" ", "_")
        parent = os.path.realpath(path.parent)
        base = os.path.realpath(self.base)
        if parent != base and not parent.startswith(base + os.sep):  # pragma: no cover
            raise TaskError(
                f"archive entry {name!r} would be written outside the working directory"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            collides = path.exists()
        except OSError:  # a parent is a file extracted earlier
            collides = True
        if collides:
            raise TaskError(f"archive entry {name!r} collides with an earlier entry "
                            f"({path.relative_to(self.base)})")  # fmt: skip
        return normalized, path

    def _store(self, name: str, src: IO[bytes]) -> None:
        normalized, path = self._target(name)
        with open(path, "xb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        self._put(name, normalized, path)

    def _link(self, name: str, target: str, hard: bool) -> None:
        kind = "hard link" if hard else "symbolic link"
        if not target or target.startswith(("/", "\\")) or "\x00" in target:
            raise TaskError(
                f"archive entry {name!r} is a {kind} to {target!r}, outside the archive: "
                "refusing to extract it"
            )
        normalized = entry_path(name, "archive entry")
        # a symbolic link is relative to its own directory, a hard link to the archive root
        joined = target if hard else posixpath.join(posixpath.dirname(normalized), target)
        resolved = posixpath.normpath(joined)
        if resolved == ".." or resolved.startswith("../"):
            raise TaskError(
                f"archive entry {name!r} is a {kind} to {target!r}, outside the target "
                "directory: refusing to extract it"
            )
        source = self.local.get(resolved)
        if source is None:
            raise TaskError(
                f"archive entry {name!r} is a {kind} to {target!r}, which is not a file "
                "extracted before it: kflow does not create links"
            )
        with open(source, "rb") as src:
            self._store(name, src)

    def _put(self, name: str, normalized: str, path: Path) -> None:
        stored = path.name
        if stored in self.stored_names:
            # Kestra stores every entry under its base name, so a second dir/x.txt would
            # overwrite the first; kflow keeps both
            stored = f"{id_from(normalized)}-{stored}"
        self.stored_names.add(stored)
        self.local[normalized] = path
        self.size += path.stat().st_size
        self.files[name] = self.ctx.put_file(path, stored)
