"""Printing a flow's warnings (:class:`kflow.notices.Notice`) on stderr.

One line each, ``warning: flow.yml:12:3: message``, then the hint indented, as errors are
printed. Plain text (no Rich): ``kflow run --json`` must not load Rich, and stderr is
often a log file. Warnings never change an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

from kflow.cli.safetext import safe
from kflow.notices import Notice

# A flow with thousands of tasks that all carry ``workerGroup`` must not bury its output:
# the first ones are printed, then a count (``--json`` lists every one).
MAX_PRINTED = 20


def print_notices(notices: Iterable[Notice], stream: TextIO | None = None) -> None:
    """Write each notice (with its hint) on ``stream`` (stderr by default)."""
    out = stream if stream is not None else sys.stderr
    items = list(notices)
    color = _color(out)
    label = "\x1b[1;33mwarning:\x1b[0m" if color else "warning:"
    for notice in items[:MAX_PRINTED]:
        out.write(f"{label} {safe(str(notice))}\n")
        if notice.hint:
            out.write(f"  {_dim('hint: ' + safe(notice.hint), color)}\n")
    if len(items) > MAX_PRINTED:
        out.write(f"{label} ... and {len(items) - MAX_PRINTED} more warnings\n")
    out.flush()


def _color(stream: TextIO) -> bool:
    import os

    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _dim(text: str, color: bool) -> str:
    return f"\x1b[2m{text}\x1b[0m" if color else text
