"""Who runs an execution: host, process id and process start time, and whether it still lives.

A ``kill -9`` (or a power cut) leaves an execution RUNNING in the store for ever. To tell
such an orphan from a run still going on, the store records the running process's
identity, and the next process that opens the home writably asks :func:`is_dead`.

A pid alone is not enough: pids are reused, so the process start time is recorded with it
(Linux: field 22 of ``/proc/<pid>/stat``, clock ticks since boot, plus the boot id, so a
reboot is seen, plus the pid namespace, since a pid means nothing in another one). A run on
another machine sharing the store (an NFS home) is never judged: only its own host can.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path
from typing import NamedTuple

_PROC = Path("/proc")


class ProcessIdentity(NamedTuple):
    """What the store records about the process running an execution (a named tuple: as
    immutable as a frozen dataclass, at a third of its import time)."""

    host: str
    pid: int
    # "<boot id>/<pid namespace>/<start ticks>" on Linux, None where it cannot be known
    start: str | None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/<pid>/stat`` (the command name, field 2, may hold spaces)."""
    text = _read(_PROC / str(pid) / "stat")
    if text is None or ")" not in text:
        return None
    return text[text.rindex(")") + 1 :].split()


def _pid_namespace() -> str:
    try:
        return os.readlink(_PROC / "self" / "ns" / "pid")
    except OSError:
        return ""


def _start_token(pid: int) -> str | None:
    boot = _read(_PROC / "sys" / "kernel" / "random" / "boot_id")
    fields = _stat_fields(pid)
    if boot is None or fields is None or len(fields) < 20:
        return None
    return f"{boot}/{_pid_namespace()}/{fields[19]}"  # field 22 = index 19 after ')'


def current() -> ProcessIdentity:
    """This process (computed once per pid: a forked child is another process)."""
    return _identity(os.getpid())


@functools.cache
def _identity(pid: int) -> ProcessIdentity:
    return ProcessIdentity(socket.gethostname(), pid, _start_token(pid))


def is_dead(host: str | None, pid: int | None, start: str | None) -> bool:
    """True only when the recorded process is certainly gone. Unknown (another host,
    another pid namespace, nothing recorded) is not dead: such a run is left alone."""
    me = current()
    if host is None or pid is None or host != me.host:
        return False
    if start is not None and me.start is not None:
        boot, _, rest = start.partition("/")
        pidns, _, ticks = rest.rpartition("/")
        my_boot, _, my_rest = me.start.partition("/")
        if boot != my_boot:
            return True  # the machine rebooted since: every process of that boot is gone
        if pidns != my_rest.rpartition("/")[0]:
            return False  # another container's pids: cannot be checked from here
        fields = _stat_fields(pid)
        if fields is None or len(fields) < 20:
            return True
        # a zombie (killed, not yet reaped by its parent) is dead too
        return fields[0] == "Z" or fields[19] != ticks
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it exists, owned by someone else
        return False
    return False
