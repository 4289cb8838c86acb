"""Shared helpers of the storage tasks: checked access to this execution's files."""

from __future__ import annotations

import io
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from kflow.errors import TaskError
from kflow.storage.base import uri_path
from kflow.tasks.base import RunContext

# An extension longer than this is not one (Java's createTempFile would fail on it).
_MAX_EXT = 32


def services(ctx: RunContext) -> Any:
    """The execution services (storage and the current execution's prefixes)."""
    svc = ctx.variables.get("_kflow")
    if svc is None:
        raise TaskError("storage tasks need an execution")
    return svc


def check_uri(ctx: RunContext, uri: Any, prop: str) -> str:
    """``uri`` as a checked kestra:/// URI of the current execution (the same refusal as
    ``read()``: a file of another execution, or outside the storage, is refused)."""
    if not isinstance(uri, str) or not uri.strip():
        raise TaskError(f"`{prop}` must be a kestra:/// URI, got {uri!r}")
    text: str = uri.strip()
    uri_path(text)
    services(ctx).check_file(text)
    return text


def extension_of(uri: str) -> str:
    """The extension of a stored file (``FilenameUtils.getExtension``), ``.tmp`` if none."""
    name = uri_path(uri).rsplit("/", 1)[-1]
    ext = os.path.splitext(name)[1]
    return ext if ext and len(ext) > 1 else ".tmp"


def temp_file(ctx: RunContext, extension: str | None) -> Path:
    """A new empty file in the task's working directory, named the way Java's
    ``createTempFile`` names it (random digits + extension; ``.tmp`` when none)."""
    ext = extension or ".tmp"
    if len(ext) > _MAX_EXT or "/" in ext or "\\" in ext or not re.fullmatch(r"[\w.-]*", ext):
        raise TaskError(f"invalid extension {ext!r}", hint="give an extension such as .txt")
    path = ctx.working_dir() / f"{secrets.randbelow(2**63)}{ext}"
    path.touch(mode=0o600, exist_ok=False)
    return path


def iter_lines(ctx: RunContext, uri: str, charset: str = "utf-8") -> Iterator[str]:
    r"""The lines of a stored file as Java's ``BufferedReader.readLine`` gives them (``\n``,
    ``\r\n`` or ``\r`` end a line; a last line without one counts), read in blocks so that
    memory holds one line at a time, never the whole file."""
    with ctx.open_file(uri) as fh:
        text = io.TextIOWrapper(cast(IO[bytes], fh), encoding=charset, newline=None)
        try:
            for line in text:
                yield line[:-1] if line.endswith("\n") else line
        except UnicodeDecodeError as exc:
            raise TaskError(f"cannot read {uri} as {charset}: {exc}",
                            hint="give the file's real `charset`") from exc  # fmt: skip
        finally:
            text.detach()
