"""Run a command in its own process group and stream its output line by line.

Both pipes are read with a selector in the calling thread (no reader threads: cheaper per
task, and lines from one stream keep their order). The process gets a new session, so a
timeout or kill can stop the whole tree (``sh -c`` children included) with one signal.
"""

from __future__ import annotations

import atexit
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LineHandler = Callable[[str, bool], None]

# How often the cancel flag is looked at while the process is silent.
_POLL_SECONDS = 0.05
# After the main process exits, a background child may keep the pipes open: stop
# reading once they stay silent this long instead of hanging forever.
_DETACHED_IDLE_SECONDS = 1.0
# Time between SIGTERM and SIGKILL when the process group is stopped.
_TERM_GRACE_SECONDS = 1.0
_CHUNK = 65536

# Process groups still running. Tasks run in their own session (so a terminal's Ctrl-C
# does not reach them); if kflow exits while a task thread is still waiting, they are
# killed here instead of being left behind.
_running: set[int] = set()
_running_lock = threading.Lock()


@atexit.register
def _kill_leftovers() -> None:
    with _running_lock:
        groups = list(_running)
        _running.clear()
    for pgid in groups:
        _signal_group(pgid, signal.SIGKILL)


@dataclass(frozen=True)
class ProcessResult:
    """How a process ended. ``exit_code`` follows the shell rule for signals (128 + n)."""

    exit_code: int
    killed: bool
    duration: float


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it does not stop quickly."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=_TERM_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def run_streaming(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_line: LineHandler,
    cancelled: threading.Event | None = None,
) -> ProcessResult:
    """Run ``argv``; call ``on_line(text, is_stderr)`` for each line as it arrives.

    When ``cancelled`` is set, the process group is terminated and the result says
    ``killed``. Raises ``OSError`` when the program cannot be started.
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    with _running_lock:
        _running.add(proc.pid)
    killed = False
    try:
        killed = _pump(proc, on_line, cancelled)
        if not killed:
            while True:
                try:
                    proc.wait(timeout=_POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    if cancelled is not None and cancelled.is_set():
                        killed = True
                        break
        if killed:
            _stop(proc)
    finally:
        if proc.poll() is None:  # an exception (KeyboardInterrupt...) while it runs
            _stop(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        with _running_lock:
            _running.discard(proc.pid)
    return ProcessResult(_exit_code(proc.returncode), killed, time.monotonic() - started)


def _pump(
    proc: subprocess.Popen[bytes],
    on_line: LineHandler,
    cancelled: threading.Event | None,
) -> bool:
    """Read both pipes until EOF; True when stopped because ``cancelled`` was set."""
    assert proc.stdout is not None and proc.stderr is not None
    pending = {False: b"", True: b""}
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, False)
        selector.register(proc.stderr, selectors.EVENT_READ, True)
        open_pipes = 2
        silent_since: float | None = None
        while open_pipes:
            if cancelled is not None and cancelled.is_set():
                return True
            events = selector.select(_POLL_SECONDS)
            if not events:
                if proc.poll() is not None:
                    now = time.monotonic()
                    if silent_since is None:
                        silent_since = now
                    elif now - silent_since > _DETACHED_IDLE_SECONDS:
                        break
                continue
            silent_since = None
            for key, _mask in events:
                is_stderr: bool = key.data
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_pipes -= 1
                    if pending[is_stderr]:
                        on_line(_decode(pending[is_stderr]), is_stderr)
                        pending[is_stderr] = b""
                    continue
                *lines, pending[is_stderr] = (pending[is_stderr] + chunk).split(b"\n")
                for raw in lines:
                    on_line(_decode(raw), is_stderr)
        for is_stderr, rest in pending.items():
            if rest:
                on_line(_decode(rest), is_stderr)
    return False


def _decode(raw: bytes) -> str:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.decode("utf-8", errors="replace")
