"""Namespace files: the files a namespace shares with its flows (``read('x.sql')``,
``namespaceFiles`` of scripts, the ``UploadFiles``/``DownloadFiles``/``DeleteFiles`` tasks).

They live at ``kestra:///<namespace as path>/_files/<path>``, in the kflow home's storage,
unless the run binds a local folder to the namespace (``kflow run --namespace-files DIR``,
or a ``_files/<namespace>/`` folder beside the flow file): then that folder *is* the
namespace's files for the run. :class:`NamespaceFolders` routes the namespace's URIs to the
folder, so every reader (``read()``, ``inputFiles: "{{ fileURI('x') }}"``, a ``kestra://``
URI in a command) and every writer (``UploadFiles``) sees the same files.

:class:`NamespaceFiles` is one namespace's view: paths are ``/dir/file``; a path climbing
out with ``..`` is refused as Kestra refuses it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from kflow.errors import NotFoundError, StorageError
from kflow.storage.base import Storage, namespace_path, to_uri, uri_path
from kflow.storage.local import LocalStorage

FILES_DIR = "_files"
"""The folder beside a flow file holding one ``<namespace>/`` folder of files each."""

CONFLICTS = ("OVERWRITE", "ERROR", "SKIP")
"""``UploadFiles.conflict``: what to do when the file exists (Kestra's ``Namespace.Conflicts``)."""

_TRAVERSAL = "File should be accessed with their full path and not using relative '..' path."
_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# /<namespace as path>/_files/<path>: the namespace part is one or more segments
_NAMESPACE_FILE = re.compile(r"/[^/]+(?:/[^/]+)*/_files/.+")


def is_namespace(name: str) -> bool:
    """Whether ``name`` can be a namespace (``company.team``)."""
    return bool(_NAMESPACE.fullmatch(name)) and ".." not in name


def normalize(path: str) -> str:
    """``/dir/file`` for a namespace file path (``dir/file``, ``/dir/file``, ``./dir//file``).

    Raises StorageError for ``..`` (Kestra's message), an empty path or a NUL byte.
    """
    text = str(path).replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise StorageError(_TRAVERSAL, hint=f"use the file's full path in the namespace ({path!r})")
    if not parts or "\x00" in text:
        raise StorageError(f"{path!r} is not a namespace file path")
    return "/" + "/".join(parts)


def files_prefix(namespace: str) -> str:
    """``/company/team/_files``: the storage path of a namespace's files (no scheme)."""
    return f"/{namespace_path(namespace)}/{FILES_DIR}"


def namespace_file_uri(namespace: str, path: str) -> str:
    """``kestra:///company/team/_files/dir/file`` (``path`` normalized)."""
    return to_uri(files_prefix(namespace) + normalize(path))


def is_namespace_file(uri: str) -> bool:
    """Whether a ``kestra:///`` URI addresses a namespace file (of any namespace).

    An execution's file stored under a ``_files`` folder (``…/executions/<id>/tasks/…/
    _files/x``) is not one: a namespace never has an ``executions`` segment here.
    """
    try:
        path = uri_path(uri)
    except StorageError:
        return False
    if not _NAMESPACE_FILE.fullmatch(path):
        return False
    return "executions" not in path.partition("/_files/")[0].split("/")


def default_folders(flow_path: str | Path | None) -> dict[str, Path]:
    """The ``_files/<namespace>/`` folders beside a flow file, by namespace (none when the
    flow has no file or no ``_files`` folder). A dotted namespace is one folder:
    ``_files/company.team/``."""
    if not flow_path:
        return {}
    base = Path(flow_path).parent / FILES_DIR
    if not base.is_dir():
        return {}
    return {
        child.name: child.resolve()
        for child in sorted(base.iterdir())
        if child.is_dir() and is_namespace(child.name)
    }


def run_folders(
    namespace: str,
    flow_path: str | Path | None,
    given: str | Path | Mapping[str, str | Path] | None = None,
) -> dict[str, Path]:
    """The folders a run binds, by namespace.

    ``given`` is what ``kflow run --namespace-files`` received: a folder (the flow's
    namespace's files) or a mapping namespace → folder (the key ``""`` is the flow's
    namespace). Without it, the ``_files/<namespace>/`` folders beside the flow file.
    A given folder must exist (UsageError).
    """
    from kflow.errors import UsageError

    if given is None:
        return default_folders(flow_path)
    pairs = given.items() if isinstance(given, Mapping) else [("", given)]
    folders: dict[str, Path] = {}
    for ns, folder in pairs:
        ns = ns or namespace
        if not is_namespace(ns):
            raise UsageError(f"--namespace-files: {ns!r} is not a namespace")
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise UsageError(
                f"--namespace-files: {path} is not a directory",
                hint="give the folder holding the namespace's files (created beforehand)",
            )
        folders[ns] = path.resolve()
    return folders


def run_storage(
    storage: Storage,
    namespace: str,
    flow_path: str | Path | None,
    given: str | Path | Mapping[str, str | Path] | None = None,
) -> Storage:
    """``storage`` with the run's folders bound (:func:`run_folders`); ``storage`` itself
    when there are none."""
    folders = run_folders(namespace, flow_path, given)
    return NamespaceFolders(storage, folders) if folders else storage


class FolderStorage(LocalStorage):
    """A user's folder as storage: what a flow writes there is readable like any other
    project file (0644), unlike the kflow home's private files."""

    def put(self, uri: str, src: Path | BinaryIO) -> str:
        dest = self.path_of(uri)
        created = [p for p in dest.parents if self.root in p.parents and not p.exists()]
        result = super().put(uri, src)
        try:
            os.chmod(dest, 0o644)
            for folder in created:
                os.chmod(folder, 0o755)
        except OSError:  # a file system without modes: the file is written all the same
            pass
        return result


class NamespaceFolders(Storage):
    """``base`` with some namespaces' files served from local folders.

    ``kestra:///<ns>/_files/<path>`` of a bound namespace is ``<folder>/<path>``; every other
    URI goes to ``base`` unchanged. The folders are used in place: an upload lands in the
    folder, a delete removes the file from it.
    """

    def __init__(self, base: Storage, folders: Mapping[str, Path]) -> None:
        self.base = base
        self.folders = {ns: Path(folder).resolve() for ns, folder in folders.items()}
        # longest prefix first: company.team's files are not company's
        self._routes = sorted(
            (
                (files_prefix(ns) + "/", FolderStorage(folder))
                for ns, folder in self.folders.items()
            ),
            key=lambda route: -len(route[0]),
        )

    def _route(self, uri: str) -> tuple[Storage, str, str]:
        """(storage, URI in it, prefix to put back on listed URIs)."""
        path = uri_path(uri)
        for prefix, storage in self._routes:
            if path.startswith(prefix) or path + "/" == prefix:
                return storage, to_uri("/" + path[len(prefix) :]), prefix[:-1]
        return self.base, uri, ""

    def put(self, uri: str, src: Path | BinaryIO) -> str:
        storage, inner, _ = self._route(uri)
        storage.put(inner, src)
        return uri

    def open(self, uri: str) -> BinaryIO:
        storage, inner, _ = self._route(uri)
        return storage.open(inner)

    def exists(self, uri: str) -> bool:
        storage, inner, _ = self._route(uri)
        return storage.exists(inner)

    def size(self, uri: str) -> int:
        storage, inner, _ = self._route(uri)
        return storage.size(inner)

    def list(self, prefix: str) -> Iterator[str]:
        storage, inner, back = self._route(prefix)
        if not back:
            yield from storage.list(inner)
            return
        for found in storage.list(inner):
            yield to_uri(back + uri_path(found))

    def delete(self, prefix: str) -> int:
        storage, inner, back = self._route(prefix)
        if back and inner == to_uri("/"):
            # the folder is the user's: its files may go, the folder stays
            return sum(storage.delete(uri) for uri in list(storage.list(inner)))
        return storage.delete(inner)

    def local_path(self, uri: str) -> Path | None:
        """The local file behind ``uri`` (None for a backend without local files)."""
        storage, inner, _ = self._route(uri)
        path_of = getattr(storage, "path_of", None)
        return Path(path_of(inner)) if callable(path_of) else None

    def __getattr__(self, name: str) -> object:
        # anything else a backend offers (read_only, root...) is the base's
        return getattr(self.base, name)


class NamespaceFiles:
    """The files of one namespace, in ``storage`` (a :class:`NamespaceFolders` when the run
    binds folders). Paths are ``/dir/file``."""

    def __init__(self, storage: Storage, namespace: str) -> None:
        self.storage = storage
        self.namespace = namespace
        self.prefix = to_uri(files_prefix(namespace))

    def uri(self, path: str) -> str:
        """The ``kestra:///`` URI of ``path`` (normalized; ``..`` refused)."""
        return self.prefix + normalize(path)

    def all(self) -> list[str]:
        """Every file's path, sorted."""
        return sorted(uri[len(self.prefix) :] for uri in self.storage.list(self.prefix))

    def find(self, includes: Iterable[str] = (), excludes: Iterable[str] = ()) -> list[str]:
        """The paths matching any of ``includes`` (all when empty) and none of ``excludes``
        (Kestra's ``PathMatcherPredicate``: globs, ``glob:``/``regex:`` prefixes)."""
        include = [path_matcher(p) for p in includes]
        exclude = [path_matcher(p) for p in excludes]
        return [
            path
            for path in self.all()
            if (not include or any(p.fullmatch(path) for p in include))
            and not any(p.fullmatch(path) for p in exclude)
        ]

    def open(self, path: str) -> BinaryIO:
        """Read a file; NotFoundError (Kestra's message) when it does not exist."""
        normalized = normalize(path)
        try:
            return self.storage.open(self.prefix + normalized)
        except NotFoundError:
            raise self.not_found(normalized) from None

    def not_found(self, path: str) -> NotFoundError:
        return NotFoundError(
            f"File '{normalize(path)}' was not found in namespace '{self.namespace}'.",
            hint=f"namespace files of {self.namespace} are read from "
            f"{self.location()} (kflow run --namespace-files DIR)",
        )

    def location(self) -> str:
        """Where this namespace's files are, for messages."""
        folders = getattr(self.storage, "folders", {})
        folder = folders.get(self.namespace) if isinstance(folders, Mapping) else None
        return str(folder) if folder is not None else self.prefix

    def exists(self, path: str) -> bool:
        return self.storage.exists(self.uri(path))

    def size(self, path: str) -> int:
        normalized = normalize(path)
        try:
            return self.storage.size(self.prefix + normalized)
        except NotFoundError:
            raise self.not_found(normalized) from None

    def put(self, path: str, src: Path | BinaryIO, conflict: str = "OVERWRITE") -> bool:
        """Write a file; returns False when it existed and ``conflict`` is SKIP. ``ERROR``
        raises StorageError (Kestra's message) when it exists."""
        normalized = normalize(path)
        uri = self.prefix + normalized
        if conflict != "OVERWRITE" and self.storage.exists(uri):
            if conflict == "ERROR":
                raise StorageError(
                    f"File '{normalized}' already exists in namespace '{self.namespace}' "
                    "and conflict is set to ERROR"
                )
            return False
        self.storage.put(uri, src)
        return True

    def delete(self, path: str, prune: bool = False) -> bool:
        """Delete a file; False when there was none. ``prune`` also removes the folders the
        deletion left empty (DeleteFiles' ``deleteParentFolder``)."""
        uri = self.uri(path)
        deleted = self.storage.delete(uri) > 0
        if deleted and prune:
            self._prune(uri)
        return deleted

    def _prune(self, uri: str) -> None:
        local = getattr(self.storage, "local_path", None)
        path_of = local if callable(local) else getattr(self.storage, "path_of", None)
        if not callable(path_of):
            return
        root = Path(path_of(self.prefix))
        folder = Path(path_of(uri)).parent
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                return
            folder = folder.parent


def namespaces_with_files(storage: Storage) -> list[str]:
    """The namespaces that hold files in ``storage`` (bound folders included), sorted: the
    purge tasks' stand-in for Kestra's namespaces of its flows."""
    found = set(getattr(storage, "folders", {}) or {})
    root = getattr(storage, "root", None)
    if isinstance(root, Path):
        for dirpath, dirs, _files in os.walk(root):
            if FILES_DIR in dirs:
                rel = Path(dirpath).relative_to(root).as_posix()
                if rel != ".":
                    found.add(rel.replace("/", "."))
            # a namespace segment never starts with "_": no need to look inside _files
            dirs[:] = [d for d in dirs if not d.startswith("_")]
    else:
        for uri in storage.list(to_uri("/")):
            path = uri_path(uri)
            if _NAMESPACE_FILE.fullmatch(path):
                found.add(path[1 : path.index("/" + FILES_DIR + "/")].replace("/", "."))
    return sorted(ns for ns in found if is_namespace(ns))


def path_matcher(pattern: str) -> re.Pattern[str]:
    """A regex for one of Kestra's namespace file patterns, matched against ``/dir/file``.

    ``regex:`` and ``glob:`` prefixed patterns are used as written; a pattern starting with
    a word character matches at any depth (``scripts/*.sh`` is ``**/scripts/*.sh``).
    """
    from kflow.tasks.scripts.files import java_glob_to_regex

    try:
        if pattern.startswith("regex:"):
            return re.compile(pattern[len("regex:") :])
        if pattern.startswith("glob:"):
            return re.compile(java_glob_to_regex(pattern[len("glob:") :]))
        if re.match(r"\w", pattern):
            pattern = "**/" + pattern
        return re.compile(java_glob_to_regex(pattern))
    except (ValueError, re.error) as exc:
        raise StorageError(f"invalid namespace files pattern {pattern!r}: {exc}") from None


__all__ = [
    "CONFLICTS",
    "FILES_DIR",
    "FolderStorage",
    "NamespaceFiles",
    "NamespaceFolders",
    "default_folders",
    "files_prefix",
    "is_namespace",
    "is_namespace_file",
    "namespace_file_uri",
    "normalize",
    "path_matcher",
    "run_folders",
    "run_storage",
]
