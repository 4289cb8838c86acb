"""Internal storage: files addressed by ``kestra:///`` URIs, laid out as Kestra lays them out.

``Storage`` is the small interface every backend implements (local files now; object
stores through fsspec later). This module owns the layout, slugs and path checks, so a
backend only maps a checked path to bytes.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from kflow.errors import StorageError

SCHEME = "kestra://"


def slugify(text: str) -> str:
    """Kestra's ``Slugify.of``: whitespace → '-', accents dropped, only [a-z0-9-] kept."""
    text = re.sub(r"\s+", "-", text)
    text = unicodedata.normalize("NFD", text)
    text = re.sub(r"[^A-Za-z0-9_-]", "", text)
    text = text.replace("_", "-")
    text = re.sub(r"-{2,}", "-", text)
    return text.strip("-").lower()


def namespace_path(namespace: str) -> str:
    return namespace.replace(".", "/")


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """``/{ns/as/path}/{flow-slug}/executions/{id}`` (no scheme)."""
    return f"/{namespace_path(namespace)}/{slugify(flow_id)}/executions/{execution_id}"


def taskrun_prefix(
    namespace: str, flow_id: str, execution_id: str, task_id: str, taskrun_id: str
) -> str:
    return (
        f"{execution_prefix(namespace, flow_id, execution_id)}/tasks/"
        f"{slugify(task_id)}/{taskrun_id}"
    )


def input_prefix(namespace: str, flow_id: str, execution_id: str, input_id: str) -> str:
    return f"{execution_prefix(namespace, flow_id, execution_id)}/inputs/{input_id}"


def to_uri(path: str) -> str:
    return SCHEME + (path if path.startswith("/") else "/" + path)


def uri_path(uri: str) -> str:
    """The path part of a ``kestra:///`` URI, checked: no ``..``, no empty segments abuse."""
    if not isinstance(uri, str) or not uri.startswith(SCHEME):
        raise StorageError(
            f"not an internal-storage URI: {uri!r}",
            hint="internal storage files are addressed as kestra:///namespace/flow/...",
        )
    path = uri[len(SCHEME) :]
    if not path.startswith("/"):
        # kestra://host/path is not a form Kestra writes
        raise StorageError(f"malformed internal-storage URI (expected kestra:///...): {uri}")
    from urllib.parse import unquote

    decoded = unquote(path)
    parts = decoded.split("/")
    if ".." in parts or "\x00" in decoded or "\\" in decoded:
        raise StorageError(
            f"refusing URI {uri}: it would resolve outside the internal storage",
            hint="File should be accessed with their full path (no '..')",
        )
    return decoded


class Storage(ABC):
    """Where task files live. Every method takes a ``kestra:///`` URI."""

    @abstractmethod
    def put(self, uri: str, src: Path | BinaryIO) -> str:
        """Store ``src`` at ``uri`` (atomically); returns the URI."""

    @abstractmethod
    def open(self, uri: str) -> BinaryIO:
        """Open a stored file for streamed reading."""

    @abstractmethod
    def exists(self, uri: str) -> bool: ...

    @abstractmethod
    def size(self, uri: str) -> int: ...

    @abstractmethod
    def list(self, prefix: str) -> Iterator[str]:
        """URIs of the files under a ``kestra:///`` prefix."""

    @abstractmethod
    def delete(self, prefix: str) -> int:
        """Delete a file or every file under a prefix; returns how many were deleted."""
