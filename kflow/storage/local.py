"""Internal storage on the local file system, rooted in ``<KFLOW_HOME>/storage``."""

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


class LocalStorage(Storage):
    """Files under ``root`` mirroring the URI path; writes go to a temp file then rename."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path_of(self, uri: str) -> Path:
        """The local file behind ``uri``; refuses anything resolving outside the root."""
        rel = uri_path(uri).lstrip("/")
        path = (self.root / rel).resolve()
        if path != self.root and self.root not in path.parents:
            raise StorageError(f"refusing URI {uri}: it resolves outside the internal storage")
        return path

    def put(self, uri: str, src: Path | BinaryIO) -> str:
        dest = self.path_of(uri)
        dest.parent.mkdir(parents=True, exist_ok=True)
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

    def exists(self, uri: str) -> bool:
        return self.path_of(uri).is_file()

    def size(self, uri: str) -> int:
        try:
            return self.path_of(uri).stat().st_size
        except FileNotFoundError as exc:
            raise NotFoundError(f"no file in internal storage at {uri}") from exc

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
        base = self.path_of(prefix)
        if base.is_file():
            base.unlink()
            return 1
        if not base.is_dir():
            return 0
        count = sum(len(files) for _d, _s, files in os.walk(base))
        shutil.rmtree(base)
        return count
