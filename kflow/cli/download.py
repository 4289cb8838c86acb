"""``kflow download``: copy a stored file out of the internal storage.

Streamed in chunks (memory stays flat for a file of any size), written to a temporary
file beside the target and renamed into place, so an interrupted download never leaves a
half file under the name asked for; an existing file is kept unless ``--force``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from kflow.errors import UsageError

_CHUNK = 1 << 20


def download_command(source: list[str], output: str | None, force: bool) -> None:
    """``source`` is one ``kestra:///`` URI or ``EXEC TASK FILE`` (a task's output file
    found by name, as ``kflow preview`` takes it); ``output`` a path, a directory, ``-``
    (stdout) or None (the file's own name, in the current directory)."""
    from kflow.api import open_home
    from kflow.preview import _file_name, find_output_file

    if len(source) not in (1, 3) or (len(source) == 1 and not source[0].startswith("kestra://")):
        raise UsageError(
            "download takes one kestra:/// URI or EXEC TASK FILE",
            hint="e.g. kflow download kestra:///company/team/flow/executions/ID/tasks/t/RUN/out.csv "
            "or kflow download last rename output.tmp",
        )
    with open_home() as home:
        if len(source) == 3:
            uri = find_output_file(home.store.get_execution(source[0]), source[1], source[2])
        else:
            uri = source[0]
        with home.storage.open(uri) as src:
            if output == "-":
                shutil.copyfileobj(src, sys.stdout.buffer, _CHUNK)
                sys.stdout.buffer.flush()
                return
            target = Path(output).expanduser() if output else Path(_file_name(uri))
            if target.is_dir():
                target = target / _file_name(uri)
            if target.exists() and not force:
                raise UsageError(
                    f"{target} exists: not overwritten",
                    hint="pass --force to replace it, or -o to choose another name",
                )
            size = _write(src, target)
    sys.stderr.write(f"{uri} -> {target} ({size:,} bytes)\n")


def _write(src: BinaryIO, target: Path) -> int:
    """Copy into a temporary file beside ``target``, then rename it into place."""
    parent = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise UsageError(f"cannot write to {parent}: {exc.strerror}",
                         hint="choose another directory with -o") from None  # fmt: skip
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
            size = out.tell()
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return size
