"""Ctrl-C, SIGTERM and a closed stdout never change or lose a result.

Signals: kflow (a real subprocess) ends promptly, every script process it started is gone,
and the execution with each unfinished task run is recorded KILLED (exit 130 / 143).
Pipes: a reader that goes away early drops kflow's output, not the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import kflow_cli

WAIT = 20.0  # generous bounds: a hang fails the test, a slow machine does not


def _marker() -> str:
    return f"kflow-signal-test-{uuid.uuid4().hex}"


def _sleeper(marker: str, ignore_term: bool = False) -> str:
    """A shell command whose Python process sleeps 30 s, its argv tagged with ``marker``."""
    code = "import signal, time; "
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    code += "time.sleep(30)"
    return f"{sys.executable} -c '{code}' {marker}"


def _sleepers(marker: str) -> list[int]:
    """Live processes (zombies have no cmdline) running a sleeper tagged ``marker``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] == os.fsencode(sys.executable) and marker.encode() in argv:
            pids.append(int(entry))
    return pids


def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _interrupt(flow: Path, marker: str, sleepers: int, sig: int) -> tuple[int, str]:
    """Run ``flow``; once ``sleepers`` tagged processes run, send ``sig``; (exit, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kflow", "run", str(flow)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: len(_sleepers(marker)) >= sleepers, f"{sleepers} running scripts")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=WAIT)
        # the scripts were stopped by kflow itself, before it exited
        left = _sleepers(marker)
        assert not left, f"script processes outlived kflow: {left}"
        return proc.returncode, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _sleepers(marker):
            os.kill(pid, signal.SIGKILL)


def _last_execution() -> dict[str, Any]:
    done = kflow_cli("outputs", "last", "--json")
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def _execution_states() -> list[str]:
    done = kflow_cli("executions", "--json")
    assert done.returncode == 0, done.stderr
    return [e["state"] for e in json.loads(done.stdout)]


PARALLEL = """
id: par
namespace: company.team
tasks:
  - id: group
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: a
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["{a}"]
      - id: b
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["{b}"]
      - id: c
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["{c}"]
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: never reached
"""


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_parallel_kills_every_script(write_flow, sig, code):
    marker = _marker()
    cmd = _sleeper(marker)
    flow = write_flow(PARALLEL.format(a=cmd, b=cmd, c=cmd))
    rc, err = _interrupt(flow, marker, 3, sig)
    assert rc == code, err
    assert "interrupted" in err
    assert "Traceback" not in err and "internal error" not in err, err
    assert _execution_states() == ["KILLED"]
    runs = {tr["taskId"]: tr["state"] for tr in _last_execution()["taskRuns"]}
    assert runs == {"group": "KILLED", "a": "KILLED", "b": "KILLED", "c": "KILLED"}


def test_script_ignoring_sigterm_is_killed_too(write_flow):
    marker = _marker()
    stubborn = _sleeper(marker, ignore_term=True)
    flow = write_flow(PARALLEL.format(a=stubborn, b=_sleeper(marker), c=stubborn))
    rc, err = _interrupt(flow, marker, 3, signal.SIGINT)
    assert rc == 130, err
    assert _execution_states() == ["KILLED"]


def test_signal_during_unlimited_foreach(write_flow):
    marker = _marker()
    flow = write_flow(f"""
        id: loop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: [1, 2, 3, 4]
            concurrencyLimit: 0
            tasks:
              - id: work
                type: io.kestra.plugin.scripts.shell.Commands
                commands: ["{_sleeper(marker)}"]
              - id: next
                type: io.kestra.plugin.core.debug.Return
                format: never reached
        """)
    rc, err = _interrupt(flow, marker, 4, signal.SIGTERM)
    assert rc == 143, err
    assert _execution_states() == ["KILLED"]
    runs = _last_execution()["taskRuns"]
    assert sorted(tr["taskId"] for tr in runs) == ["each"] + ["work"] * 4
    assert {tr["state"] for tr in runs} == {"KILLED"}


def test_signal_kills_subflows_too(write_flow):
    marker = _marker()
    write_flow(f"""
        id: child
        namespace: company.team
        tasks:
          - id: nap
            type: io.kestra.plugin.scripts.shell.Commands
            commands: ["{_sleeper(marker)}"]
        """, "child.yml")  # fmt: skip
    parent = write_flow(f"""
        id: parent
        namespace: company.team
        tasks:
          - id: both
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: call
                type: io.kestra.plugin.core.flow.Subflow
                namespace: company.team
                flowId: child
                wait: true
              - id: own
                type: io.kestra.plugin.scripts.shell.Commands
                commands: ["{_sleeper(marker)}"]
        """)
    rc, err = _interrupt(parent, marker, 2, signal.SIGINT)
    assert rc == 130, err
    assert _execution_states() == ["KILLED", "KILLED"]


# ---------------------------------------------------------------- the engine's own kill


def test_kill_from_another_thread(write_flow):
    """``Executor.kill()`` (the library's way to stop a run) ends it KILLED at once."""
    from kflow.api import load_flow, open_home
    from kflow.engine.executor import Executor

    marker = _marker()
    flow = load_flow(
        write_flow(f"""
        id: lib
        namespace: company.team
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT30S
          - id: script
            type: io.kestra.plugin.scripts.shell.Commands
            commands: ["{_sleeper(marker)}"]
        """)
    )
    running = threading.Event()

    def on_event(event: Any) -> None:
        if event.kind == "taskrun" and event.taskrun.state.current.value == "RUNNING":
            running.set()

    with open_home() as home:
        executor = Executor(
            flow, store=home.store, storage=home.storage, home=home.path, on_event=on_event
        )
        execution = executor.prepare({})
        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(executor.run(execution)))
        worker.start()
        assert running.wait(WAIT)
        executor.kill()
        worker.join(WAIT)
        assert not worker.is_alive()
    assert result[0].state.current.value == "KILLED"
    assert [(tr.task_id, tr.state.current.value) for tr in result[0].task_runs] == [
        ("nap", "KILLED")
    ]
    assert not _sleepers(marker)


# ---------------------------------------------------------------- closed stdout

NOISY = """
id: noisy
namespace: company.team
tasks:
  - id: both
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: lines
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["for i in $(seq 1 3000); do echo line $i; done"]
      - id: logs
        type: io.kestra.plugin.core.flow.ForEach
        values: "{{ range(1, 200) }}"
        concurrencyLimit: 0
        tasks:
          - id: say
            type: io.kestra.plugin.core.log.Log
            message: "value {{ taskrun.value }}"
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.lines.exitCode }}"
"""


def _run_with_closed_stdout(flow: Path, *args: str) -> tuple[int, str]:
    """Run kflow with a stdout pipe its reader closes after the first line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kflow", "run", str(flow), *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        return proc.wait(timeout=WAIT * 3), err
    finally:
        proc.stderr.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("args", [(), ("--json",)])
def test_closed_stdout_does_not_change_the_result(write_flow, args):
    rc, err = _run_with_closed_stdout(write_flow(NOISY), *args)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "internal error" not in err, err
    assert rc == 0, err  # the run's own result: SUCCESS
    assert _execution_states() == ["SUCCESS"]
    runs = _last_execution()["taskRuns"]
    assert len(runs) == 2 + 1 + 200 + 1  # range(1, 200) includes 200
    assert {tr["state"] for tr in runs} == {"SUCCESS"}


def test_closed_stdout_keeps_a_failure_a_failure(write_flow):
    flow = write_flow(
        NOISY.replace('format: "{{ outputs.lines.exitCode }}"', 'format: "{{ nope }}"')
    )
    rc, err = _run_with_closed_stdout(flow)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert rc == 1, err
    assert _execution_states() == ["FAILED"]


def test_failing_observer_never_changes_the_result(run_yaml):
    """A display that breaks (closed pipe, bug) is dropped; the run carries on."""
    calls = []

    def broken(event: Any) -> None:
        calls.append(event)
        raise BrokenPipeError(32, "Broken pipe")

    execution = run_yaml(NOISY, on_event=broken)
    assert execution.state.current.value == "SUCCESS"
    assert {tr.state.current.value for tr in execution.task_runs} == {"SUCCESS"}
    assert len(calls) == 1  # not called again after it failed


def test_failing_observer_is_reported_in_the_logs(run_yaml):
    def buggy(event: Any) -> None:
        raise RuntimeError("display bug")

    execution = run_yaml(NOISY, on_event=buggy)
    assert execution.state.current.value == "SUCCESS"
    done = kflow_cli("logs", execution.id)
    assert "progress display stopped: RuntimeError: display bug" in done.stdout
