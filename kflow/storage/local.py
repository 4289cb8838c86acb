"""Internal storage on the local file system, rooted in ``<KFLOW_HOME>/storage``.

Directories are created 0700 and files 0600 (``mkstemp``'s mode, kept by the rename):
stored files hold task data that other users of the machine must not read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kflow.errors import NotFoundError, StorageError
from kflow.storage.base import Storage, to_uri, uri_path

_CHUNK = 1 << 20


def _short(uri: str, limit: int = 120) -> str:
    return uri if len(uri) <= limit else f"{uri[: limit - 20]}…{uri[-19:]} ({len(uri)} characters)"


def _os_error(uri: str, exc: OSError) -> StorageError:
    """An OSError on a stored file as one clear line (a name too long, a full disk...)."""
    reason = exc.strerror or str(exc)
    return StorageError(
        f"cannot use internal-storage file {_short(uri)}: {reason}",
        hint="check the kestra:/// URI (kflow outputs lists the files a run stored)",
    )


def _mkdirs(path: Path) -> None:
    """``mkdir -p`` with every created level 0700 (``Path.mkdir`` gives parents 0777)."""
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=0o700)
        except FileExistsError:
            pass


class LocalStorage(Storage):
    """Files under ``root`` mirroring the URI path; writes go to a temp file then rename.
    A ``read_only`` storage (a read-only kflow home) refuses ``put`` and ``delete``."""

    def __init__(self, root: Path, *, read_only: bool = False) -> None:
        self.root = Path(root).resolve()
        self.read_only = read_only

    def _check_writable(self, uri: str) -> None:
        if self.read_only:
            raise StorageError(
                f"cannot write {_short(uri)}: the kflow home is read-only",
                hint="point KFLOW_HOME to a writable directory",
            )

    def path_of(self, uri: str) -> Path:
        """The local file behind ``uri``; refuses anything resolving outside the root."""
        rel = uri_path(uri).lstrip("/")
        try:
            path = (self.root / rel).resolve()
        except OSError as exc:
            raise _os_error(uri, exc) from None
        if path != self.root and self.root not in path.parents:
            raise StorageError(f"refusing URI {uri}: it resolves outside the internal storage")
        return path

    def put(self, uri: str, src: Path | BinaryIO) -> str:
        self._check_writable(uri)
        dest = self.path_of(uri)
        try:
            _mkdirs(dest.parent)
        except OSError as exc:
            raise _os_error(uri, exc) from None
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(src, (str, Path)):
                    with open(src, "rb") as inp:
                        shutil.copyfileobj(inp, out, _CHUNK)
                else:
                    shutil.copyfileobj(src, out, _CHUNK)
            os.replace(tmp, dest)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return uri

    def open(self, uri: str) -> BinaryIO:
        path = self.path_of(uri)
        try:
            return open(path, "rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"no file in internal storage at {uri}") from exc
        except IsADirectoryError as exc:
            raise StorageError(f"{uri} is a directory, not a file") from exc
        except OSError as exc:
            raise _os_error(uri, exc) from None

    def exists(self, uri: str) -> bool:
        try:
            return self.path_of(uri).is_file()
        except OSError as exc:
            raise _os_error(uri, exc) from None

    def size(self, uri: str) -> int:
        try:
            return self.path_of(uri).stat().st_size
        except FileNotFoundError as exc:
            raise NotFoundError(f"no file in internal storage at {uri}") from exc
        except OSError as exc:
            raise _os_error(uri, exc) from None

    def list(self, prefix: str) -> Iterator[str]:
        base = self.path_of(prefix)
        if base.is_file():
            yield prefix
            return
        if not base.is_dir():
            return
        for dirpath, _dirs, files in os.walk(base):
            for name in sorted(files):
                if name.startswith(".tmp-"):
                    continue
                rel = Path(dirpath, name).relative_to(self.root).as_posix()
                yield to_uri("/" + rel)

    def delete(self, prefix: str) -> int:
        self._check_writable(prefix)
        base = self.path_of(prefix)
        if base.is_file():
            base.unlink()
            return 1
        if not base.is_dir():
            return 0
        count = sum(len(files) for _d, _s, files in os.walk(base))
        shutil.rmtree(base)
        return count
