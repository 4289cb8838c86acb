"""A closed stdout (``kflow run flow.yml | head -1``) drops output, never a result.

Python ignores SIGPIPE, so a write to a pipe whose reader has gone raises
``BrokenPipeError``, in whichever thread happens to print: a task's log line could then
fail the task, or the run could stop half-way. On the first such error stdout is pointed
at /dev/null, as the Python documentation advises
(https://docs.python.org/3/library/signal.html#note-on-sigpipe): the run goes on to its
real end state and later writes, the flush at exit included, succeed silently.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

_lock = threading.Lock()
_dropped = False


def drop_stdout() -> None:
    """Send whatever is still written to stdout to /dev/null (once; thread-safe)."""
    global _dropped
    with _lock:
        if _dropped:
            return
        _dropped = True
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):  # not a real file (tests)
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def stdout_dropped() -> bool:
    """True once stdout was found closed."""
    return _dropped


def write_stdout(text: str) -> None:
    """Write and flush ``text`` to stdout; a closed pipe drops it."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()


def flush_stdout() -> None:
    """Flush stdout now, so that a closed pipe is not reported by the interpreter at exit
    ("Exception ignored ... BrokenPipeError", exit status 120)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        drop_stdout()
    except (AttributeError, OSError, ValueError):
        pass


@functools.cache
def console_class() -> type[Console]:
    """A Rich ``Console`` that goes quiet when stdout is closed, instead of Rich's default
    of ending the program with ``SystemExit(1)`` from whichever thread printed. (Made on
    first use: ``kflow run --json`` does not load Rich.)"""
    from rich.console import Console

    class PipeSafeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            drop_stdout()

    return PipeSafeConsole
