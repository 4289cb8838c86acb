"""Files in and out of a script's working directory.

- ``inputFiles``: written (text) or copied from internal storage before the script runs.
- ``kestra://`` URIs inside command text: downloaded and replaced by a local path
  (Kestra's ``ScriptService.replaceInternalStorage``), so ``cat {{ outputs.x.uri }}`` works.
- ``outputFiles``: Java NIO globs matched against ``<workingDir>/<pattern>``; matching
  regular files are stored and returned as a map relative path → URI.

Every path is checked to stay inside the working directory: a hostile name (``../x``, an
absolute path, a symlink pointing out) fails the task with a message naming it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.ids import id_from
from kflow.tasks.base import RunContext

_STORAGE_URI = re.compile(r"kestra://[-a-zA-Z0-9%._+~#=/]*")


# --------------------------------------------------------------------------- paths


def inside(workdir: Path, name: str, what: str) -> Path:
    """``workdir / name`` after checking it cannot land outside ``workdir``."""
    if not name or name.endswith("/") or "\x00" in name:
        raise TaskError(f"{what} {name!r} is not a valid file name")
    if os.path.isabs(name):
        raise TaskError(
            f"{what} {name!r} is an absolute path: it must be relative to the working directory"
        )
    root = workdir.resolve()
    target = (root / name).resolve()
    if target == root or root not in target.parents:
        raise TaskError(f"{what} {name!r} would be written outside the working directory")
    return target


def _random_name(suffix: str) -> str:
    # Java's Files.createTempFile names: a random positive long plus the suffix.
    return f"{secrets.randbelow(2**63)}{suffix}"


def temp_file(workdir: Path, suffix: str) -> Path:
    """A new, empty file with a random name in ``workdir``."""
    while True:
        path = workdir / _random_name(suffix)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        os.close(fd)
        return path


# --------------------------------------------------------------------------- inputs


def parse_input_files(rendered: Any) -> dict[str, Any]:
    """The ``inputFiles`` map from its rendered value (a map, or a JSON object string)."""
    if rendered is None:
        return {}
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered) if rendered.strip() else {}
        except ValueError as exc:
            raise TaskError(
                f"inputFiles must be a map or a JSON object, got invalid JSON: {exc}"
            ) from exc
    if not isinstance(rendered, Mapping):
        raise TaskError(
            f"inputFiles must be a map of file name to content, got {type(rendered).__name__}"
        )
    return {str(k): v for k, v in rendered.items()}


def write_input_files(ctx: RunContext, workdir: Path, files: Mapping[str, Any]) -> list[Path]:
    """Write each file: a ``kestra://`` value is copied from storage, anything else is text.

    Entries whose value is null are skipped, as Kestra does.
    """
    written: list[Path] = []
    for name, value in files.items():
        if value is None:
            continue
        target = inside(workdir, name, "inputFiles entry")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, str) and value.startswith("kestra://"):
            _download(ctx, value, target, f"inputFiles entry {name!r}")
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def _download(ctx: RunContext, uri: str, target: Path, what: str) -> None:
    try:
        with ctx.open_file(uri) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except KflowError as exc:
        raise TaskError(f"{what}: cannot read {uri}: {exc.message}") from exc
    except OSError as exc:
        raise TaskError(f"{what}: cannot read {uri}: {exc}") from exc


class StorageLocalizer:
    """Replaces ``kestra://`` URIs in command text with local copies (each fetched once)."""

    def __init__(self, ctx: RunContext, workdir: Path) -> None:
        self.ctx = ctx
        self.workdir = workdir
        self.local: dict[str, Path] = {}

    def __call__(self, text: str) -> str:
        """``text`` with every internal-storage URI replaced by an absolute local path."""
        if "kestra://" not in text:
            return text
        return _STORAGE_URI.sub(lambda m: str(self._fetch(m.group(0))), text)

    def _fetch(self, uri: str) -> Path:
        path = self.local.get(uri)
        if path is None:
            last = uri.rstrip("/").rsplit("/", 1)[-1]
            ext = last.rsplit(".", 1)[-1] if "." in last else ""
            path = temp_file(self.workdir, f".{ext}" if ext else ".tmp")
            _download(self.ctx, uri, path, "command")
            self.local[uri] = path
        return path


def copy_namespace_files(ctx: RunContext, workdir: Path, config: Any) -> int:
    """Copy namespace files into ``workdir`` (Kestra's ``NamespaceFilesUtils``).

    ``config`` is the rendered ``namespaceFiles`` block: ``enabled`` (true when the block
    is present), ``include``/``exclude`` patterns matched against ``/dir/file`` (a pattern
    starting with a word character matches at any depth), ``namespaces`` (default: the
    flow's; a file of a later namespace replaces an earlier one's), ``folderPerNamespace``
    (``<namespace>/dir/file`` instead of ``dir/file``) and ``ifExists`` for a file already
    in the directory: OVERWRITE (default), FAIL, WARN or IGNORE. Returns how many were
    copied; logs and counts them as Kestra does.
    """
    if not isinstance(config, Mapping) or not _truthy(config.get("enabled", True)):
        return 0
    started = time.monotonic()
    includes = _str_list(config.get("include"))
    excludes = _str_list(config.get("exclude"))
    namespaces = _str_list(config.get("namespaces")) or [ctx.namespace]
    per_namespace = _truthy(config.get("folderPerNamespace", False))
    if_exists = str(config.get("ifExists") or "OVERWRITE").upper()
    if if_exists not in _IF_EXISTS:
        raise TaskError(
            f"namespaceFiles.ifExists must be one of {', '.join(_IF_EXISTS)}, got {if_exists!r}"
        )
    count = 0
    for namespace in namespaces:
        files = ctx.namespace_files(namespace)
        try:
            matched = files.find(includes, excludes)
        except KflowError as exc:
            raise TaskError(f"namespaceFiles: {exc.message}") from exc
        for path in matched:
            rel = f"{namespace}{path}" if per_namespace else path.lstrip("/")
            target = inside(workdir, rel, "namespace file")
            if target.exists():
                if if_exists == "FAIL":
                    raise TaskError(f"File {target} already exist")
                if if_exists == "WARN":
                    ctx.log("WARN", f"File {target} already exist. It will be ignore")
                if if_exists != "OVERWRITE":
                    continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with files.open(path) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except KflowError as exc:
                raise TaskError(f"namespace file {path!r}: {exc.message}") from exc
            except OSError as exc:
                raise TaskError(f"namespace file {path!r}: {exc}") from exc
            count += 1
    elapsed = time.monotonic() - started
    ctx.metric("namespacefiles.count", "counter", count)
    ctx.metric("namespacefiles.duration", "timer", elapsed)
    ctx.log(
        "INFO",
        f"Loaded {count} namespace files from '{', '.join(namespaces)}' in {_hms(elapsed)}",
    )
    return count


_IF_EXISTS = ("OVERWRITE", "FAIL", "WARN", "IGNORE")


def _hms(seconds: float) -> str:
    """``HH:mm:ss.SSS`` (commons-lang ``DurationFormatUtils.formatDurationHMS``)."""
    millis = int(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _str_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


# --------------------------------------------------------------------------- outputs


def java_glob_to_regex(glob: str) -> str:
    """A Python regex for a Java NIO ``glob:`` pattern (``Globs.toRegexPattern``).

    ``*`` and ``?`` stay within one path segment, ``**`` crosses ``/``, ``[...]`` (``!``
    negates) never matches ``/``, ``{a,b}`` alternates (not nested), ``\\`` escapes.
    """
    out: list[str] = []
    i, n = 0, len(glob)
    in_group = False
    while i < n:
        c = glob[i]
        i += 1
        if c == "\\":
            if i >= n:
                raise ValueError("no character to escape at the end")
            out.append(re.escape(glob[i]))
            i += 1
        elif c == "*":
            if i < n and glob[i] == "*":
                out.append(".*")
                i += 1
            else:
                out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            cls: list[str] = []
            if i < n and glob[i] == "!":
                cls.append("^")
                i += 1
            first = True
            while i < n and (glob[i] != "]" or first):
                ch = glob[i]
                if ch == "/":
                    raise ValueError("a '/' cannot appear inside [...]")
                if ch == "\\" and i + 1 < n:
                    i += 1
                    ch = glob[i]
                cls.append("-" if ch == "-" and not first else re.escape(ch))
                first = False
                i += 1
            if i >= n:
                raise ValueError("missing ']'")
            i += 1
            out.append("(?:(?!/)[" + "".join(cls) + "])")
        elif c == "{":
            if in_group:
                raise ValueError("'{' groups cannot be nested")
            in_group = True
            out.append("(?:")
        elif c == "}" and in_group:
            in_group = False
            out.append(")")
        elif c == "," and in_group:
            out.append("|")
        else:
            out.append(re.escape(c))
    if in_group:
        raise ValueError("missing '}'")
    return "".join(out)


def compile_output_patterns(workdir: Path, patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Regexes matching absolute file paths, one per ``outputFiles`` pattern.

    Plain patterns are relative to the working directory; ``glob:``/``regex:`` prefixed
    ones are matched as written against the absolute path (Kestra's ``PathMatcherPredicate``).
    A pattern written with the working directory's absolute path is made relative.
    """
    root = str(workdir)
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        try:
            if pattern.startswith("regex:"):
                compiled.append(re.compile(pattern[len("regex:") :]))
                continue
            if pattern.startswith("glob:"):
                compiled.append(re.compile(java_glob_to_regex(pattern[len("glob:") :])))
                continue
        except (ValueError, re.error) as exc:
            raise TaskError(f"invalid outputFiles pattern {pattern!r}: {exc}") from exc
        rel = pattern
        if rel.startswith(root + "/"):
            rel = rel[len(root) + 1 :]
        if os.path.isabs(rel):
            raise TaskError(
                f"outputFiles pattern {pattern!r} is an absolute path outside the working "
                "directory: patterns are relative to it (e.g. 'out/*.csv')"
            )
        if ".." in rel.split("/"):
            raise TaskError(f"outputFiles pattern {pattern!r} points outside the working directory")
        try:
            regex = java_glob_to_regex(rel)
        except ValueError as exc:
            raise TaskError(f"invalid outputFiles pattern {pattern!r}: {exc}") from exc
        compiled.append(re.compile(re.escape(root) + "/" + regex))
    return compiled


def find_output_files(workdir: Path, patterns: list[re.Pattern[str]]) -> list[Path]:
    """Regular files under ``workdir`` matching any pattern, sorted; symlinks not followed.

    A matching symlink that points outside the working directory fails the task (it would
    export a file the script does not own); one pointing inside is skipped, as in Kestra.
    """
    if not patterns:
        return []
    root = workdir.resolve()
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(workdir, followlinks=False):
        for name in (*filenames, *dirnames):
            path = os.path.join(dirpath, name)
            if not any(p.fullmatch(path) for p in patterns):
                continue
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                target = Path(path).resolve()
                if target != root and root not in target.parents:
                    rel = os.path.relpath(path, workdir)
                    raise TaskError(
                        f"outputFiles: {rel!r} is a symbolic link to {target}, outside the "
                        "working directory; copy the file instead of linking it"
                    )
            elif stat.S_ISREG(mode):
                found.append(Path(path))
    return sorted(found)


def stored_name(path: Path) -> str:
    """``<IdUtils.from(absolute path)>-<file name>`` (spaces as ``+``, as Kestra 1.x does)."""
    return f"{id_from(str(path))}-{path.name.replace(' ', '+')}"


def upload_output_files(
    ctx: RunContext, workdir: Path, files: Iterable[Path], base: Path | None = None
) -> dict[str, str]:
    """Store each file; returns relative path (to ``base``, default ``workdir``) → URI."""
    base = base or workdir
    result: dict[str, str] = {}
    for path in files:
        result[path.relative_to(base).as_posix()] = ctx.put_file(path, stored_name(path))
    return result
