"""``io.kestra.plugin.compress.ArchiveCompress``: stored files packed into one archive (ZIP,
JAR or TAR), optionally compressed (TAR + GZIP gives a ``.tar.gz``)."""

from __future__ import annotations

import contextlib
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from kflow.errors import KflowError, TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.compress.common import (
    CHUNK,
    WriteOnly,
    algorithm_prop,
    archive_algorithm,
    compression,
    compression_prop,
    compressor,
    entry_path,
    parse_from_map,
)
from kflow.tasks.storage.common import check_uri, temp_file


class ArchiveCompress(Task):
    """Packs stored files into an archive; the entry names are the keys of ``from``."""

    type = "io.kestra.plugin.compress.ArchiveCompress"
    outputs = {"uri": Output("URI", "kestra:/// URI of the archive (a .tmp file, as in Kestra)")}
    properties = {
        "from": Prop(
            required=True,
            kind="any",
            doc="Entry name (may hold '/') → kestra:/// URI: a map, a list of maps, a JSON "
            "object, or the URI of an Ion file of such maps",
        ),
        "algorithm": algorithm_prop(),
        "compression": compression_prop(
            False, "Compressor around the archive (GZIP, BZIP2, XZ, LZMA, DEFLATE); none if unset"
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        algo = archive_algorithm(self, ctx)
        compress = compression(self, ctx)
        files = parse_from_map(ctx, self.prop("from"))
        entries: list[tuple[str, str]] = []
        seen: set[str] = set()
        for key, uri in files.items():
            if key.endswith("/"):
                raise TaskError(f"`from` entry {key!r} names a directory: give a file name")
            name = entry_path(key, "`from` entry")
            if name in seen:
                raise TaskError(f"`from` names the archive entry {name!r} twice")
            seen.add(name)
            entries.append((name, check_uri(ctx, uri, f"from.{key}")))

        workdir = ctx.working_dir()
        out_path = temp_file(ctx, None)
        try:
            with open(out_path, "wb") as raw:
                if compress is None:
                    self._write(ctx, algo, raw, entries, workdir)
                else:
                    with compressor(compress, raw) as packed:
                        self._write(ctx, algo, cast(BinaryIO, WriteOnly(packed)), entries, workdir)
        except (OSError, zipfile.LargeZipFile, tarfile.TarError) as exc:
            raise TaskError(f"cannot write the {algo} archive: {exc}") from exc
        return {"uri": ctx.put_file(out_path)}

    def _write(
        self,
        ctx: RunContext,
        algo: str,
        out: BinaryIO,
        entries: list[tuple[str, str]],
        workdir: Path,
    ) -> None:
        if algo == "TAR":
            # "w|": a plain stream (no seeking back), PAX headers for long names and big sizes
            with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for name, uri in entries:
                    with _local_copy(ctx, uri, workdir) as local:
                        info = tar.gettarinfo(str(local), arcname=name)
                        info.mode, info.uid, info.gid, info.uname, info.gname = 0o644, 0, 0, "", ""
                        with open(local, "rb") as fh:
                            tar.addfile(info, fh)
            return
        # ZIP and JAR (a JAR is a ZIP; Kestra adds no manifest either)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for name, uri in entries:
                with _local_copy(ctx, uri, workdir) as local:
                    zf.write(local, arcname=name)


@contextlib.contextmanager
def _local_copy(ctx: RunContext, uri: str, workdir: Path) -> Iterator[Path]:
    """The stored file copied into the working directory (an entry header needs the size
    first), removed once added."""
    path = workdir / "entry.tmp"  # one entry at a time
    try:
        with ctx.open_file(uri) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
    except KflowError as exc:
        raise TaskError(f"cannot read {uri}: {exc.message}") from exc
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
