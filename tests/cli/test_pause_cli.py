"""`kflow run` at a Pause, `kflow resume`, `kflow run --wait-on-pause`, from real
processes sharing one kflow home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import kflow_cli

PAUSED_EXIT = 4

APPROVAL = """\
id: approval
namespace: company.team
tasks:
  - id: prepare
    type: io.kestra.plugin.core.debug.Return
    format: report-1
  - id: review
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: wait
        type: io.kestra.plugin.core.flow.Pause
        onResume:
          - id: approved
            type: BOOLEAN
          - id: copies
            type: INT
            defaults: 1
  - id: publish
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.prepare.value }} approved={{ outputs.wait.onResume.approved }} copies={{ outputs.wait.onResume.copies }}"
outputs:
  - id: published
    type: STRING
    value: "{{ outputs.publish.value }}"
"""

# writes task runs, then runs until the test creates MARKER (at most a minute)
BUSY = """\
id: busy
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ range(1, 100) }}"
    tasks:
      - id: step
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
  - id: hold
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - for i in $(seq 1 1200); do [ -f "MARKER" ] && break; sleep 0.05; done
  - id: more
    type: io.kestra.plugin.core.flow.ForEach
    values: "{{ range(1, 100) }}"
    tasks:
      - id: again
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
"""


def executions_json(cwd: Path) -> list[dict]:
    proc = kflow_cli("executions", "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def wait_for_state(cwd: Path, flow_id: str, state: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [r for r in executions_json(cwd) if r["flowId"] == flow_id]
        if rows and state_of(rows[0]) == state:
            return rows[0]
        time.sleep(0.1)
    raise AssertionError(f"{flow_id} never reached {state}")


def state_of(row: dict) -> str:
    return row["state"]["current"] if isinstance(row["state"], dict) else row["state"]


def popen(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kflow", *args],
        cwd=cwd,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    """Kill a process a failed test left running, and close its pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def test_pause_exits_paused_then_resume_with_typed_inputs(tmp_path):
    (tmp_path / "approval.yml").write_text(APPROVAL)
    run = kflow_cli("run", "approval.yml", cwd=tmp_path)
    assert run.returncode == PAUSED_EXIT, run.stderr
    exec_id = next(r["id"] for r in executions_json(tmp_path))
    assert (
        f"execution {exec_id} is PAUSED at task 'wait': continue it with "
        f"kflow resume {exec_id} -i approved=VALUE [-i copies=VALUE]"
    ) in run.stderr
    rows = executions_json(tmp_path)
    assert [(r["id"], state_of(r)) for r in rows] == [(exec_id, "PAUSED")]

    bad = kflow_cli("resume", exec_id, "-i", "approved=true", "-i", "copies=two", cwd=tmp_path)
    assert bad.returncode == 2
    assert 'Invalid input for `copies`, For input string: "two", but received `two`' in bad.stderr
    assert state_of(executions_json(tmp_path)[0]) == "PAUSED"  # refused: nothing changed

    done = kflow_cli("resume", exec_id[:8], "-i", "approved=true", "-i", "copies=3", "--json",
                     cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["id"] == exec_id
    assert doc["state"]["current"] == "SUCCESS"
    assert doc["outputs"] == {"published": "report-1 approved=true copies=3"}
    runs = {tr["taskId"]: tr for tr in doc["taskRunList"]}
    assert runs["wait"]["outputs"] == {"onResume": {"approved": True, "copies": 3}}
    assert [h["state"] for h in runs["wait"]["state"]["histories"]] == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RUNNING",
        "SUCCESS",
    ]
    assert [tr["taskId"] for tr in doc["taskRunList"]] == ["prepare", "review", "wait", "publish"]
    assert doc["warnings"] == []

    again = kflow_cli("resume", "last", cwd=tmp_path)
    assert again.returncode == 2
    assert f"execution {exec_id} is SUCCESS, not PAUSED: there is nothing to resume" in again.stderr


def test_run_json_of_a_paused_run(tmp_path):
    (tmp_path / "approval.yml").write_text(APPROVAL)
    run = kflow_cli("run", "approval.yml", "--json", cwd=tmp_path)
    assert run.returncode == PAUSED_EXIT
    doc = json.loads(run.stdout)
    assert doc["state"]["current"] == "PAUSED"
    assert {tr["taskId"]: tr["state"]["current"] for tr in doc["taskRunList"]} == {
        "prepare": "SUCCESS",
        "review": "RUNNING",
        "wait": "PAUSED",
    }
    assert "kflow resume" in run.stderr


@pytest.mark.parametrize(
    ("behavior", "code", "final"),
    [
        ("RESUME", 0, "SUCCESS"),
        ("WARN", 0, "WARNING"),
        ("FAIL", 1, "FAILED"),
        ("CANCEL", 1, "CANCELLED"),
    ],
)
def test_pause_duration_exit_codes(tmp_path, behavior, code, final):
    (tmp_path / "f.yml").write_text(
        "id: timed\nnamespace: company.team\ntasks:\n"
        "  - id: pause\n    type: io.kestra.plugin.core.flow.Pause\n"
        f"    pauseDuration: PT0.05S\n    behavior: {behavior}\n"
    )
    run = kflow_cli("run", "f.yml", "--json", cwd=tmp_path)
    assert run.returncode == code, run.stderr
    assert json.loads(run.stdout)["state"]["current"] == final


def test_resume_from_a_second_process_while_another_run_writes(tmp_path):
    (tmp_path / "approval.yml").write_text(APPROVAL)
    marker = tmp_path / "marker"
    (tmp_path / "busy.yml").write_text(BUSY.replace("MARKER", str(marker)))
    assert kflow_cli("run", "approval.yml", cwd=tmp_path).returncode == PAUSED_EXIT
    paused_id = executions_json(tmp_path)[0]["id"]
    busy = popen("run", "busy.yml", "--json", cwd=tmp_path)
    try:
        wait_for_state(tmp_path, "busy", "RUNNING")
        done = kflow_cli("resume", paused_id, "-i", "approved=false", "--json", cwd=tmp_path)
        assert busy.poll() is None  # the other run was going on all along
        marker.touch()
        out, err = busy.communicate(timeout=120)
    finally:
        stop(busy)
    assert busy.returncode == 0, err
    assert json.loads(out)["state"]["current"] == "SUCCESS"
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["outputs"] == {"published": "report-1 approved=false copies=1"}
    states = {r["flowId"]: state_of(r) for r in executions_json(tmp_path)}
    assert states == {"approval": "SUCCESS", "busy": "SUCCESS"}


def test_a_paused_execution_is_never_marked_killed(tmp_path):
    (tmp_path / "approval.yml").write_text(APPROVAL)
    (tmp_path / "other.yml").write_text(
        "id: other\nnamespace: company.team\ntasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n    format: x\n"
    )
    assert kflow_cli("run", "approval.yml", cwd=tmp_path).returncode == PAUSED_EXIT
    # the process that paused it is gone; later runs open the home (and recover orphans)
    assert kflow_cli("run", "other.yml", cwd=tmp_path).returncode == 0
    states = {r["flowId"]: state_of(r) for r in executions_json(tmp_path)}
    assert states == {"approval": "PAUSED", "other": "SUCCESS"}
    table = kflow_cli("executions", cwd=tmp_path).stdout
    assert "PAUSED" in table and "paused" in table and "KILLED" not in table


def test_wait_on_pause_goes_on_when_another_process_resumes(tmp_path):
    (tmp_path / "approval.yml").write_text(APPROVAL)
    waiter = popen("run", "approval.yml", "--wait-on-pause", "--json", cwd=tmp_path)
    try:
        assert waiter.stderr is not None
        first = waiter.stderr.readline()  # printed once it waits (holding the execution)
        exec_id = executions_json(tmp_path)[0]["id"]
        assert first == (
            f"execution {exec_id} is PAUSED: waiting for kflow resume {exec_id} "
            "[-i KEY=VALUE]... from another shell\n"
        )
        resumer = kflow_cli(
            "resume", exec_id, "-i", "approved=true", "-i", "copies=2", "--json", cwd=tmp_path
        )
        out, err = waiter.communicate(timeout=120)
    finally:
        stop(waiter)
    assert waiter.returncode == 0, err
    doc = json.loads(out)
    assert doc["state"]["current"] == "SUCCESS"
    assert doc["outputs"] == {"published": "report-1 approved=true copies=2"}
    # the resuming process hands the run over and follows it to its end
    assert resumer.returncode == 0, resumer.stderr
    assert (
        f"resumed: execution {exec_id} goes on in the process waiting on it; following it here"
        in resumer.stderr
    )
    assert json.loads(resumer.stdout)["outputs"] == doc["outputs"]


def _read_until(fd: int, text: str, seen: list[str], timeout: float = 60) -> None:
    """Read the terminal's output until ``text`` appears after the previous match
    (``seen`` holds the output so far, then the position where the last match ended)."""
    import select

    if not seen:
        seen += ["", "0"]
    deadline = time.monotonic() + timeout
    while (at := seen[0].find(text, int(seen[1]))) < 0:
        assert time.monotonic() < deadline, f"never saw {text!r} in {seen[0]!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            seen[0] += os.read(fd, 4096).decode("utf-8", "replace")
    seen[1] = str(at + len(text))


def test_wait_on_pause_asks_on_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    (tmp_path / "approval.yml").write_text(APPROVAL)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kflow", "run", "approval.yml", "--wait-on-pause", "--json"],
        cwd=tmp_path,
        env=dict(os.environ),
        stdin=slave,
        stderr=slave,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.close(slave)
    seen: list[str] = []
    try:
        _read_until(master, "here? [y/N] ", seen)
        os.write(master, b"y\n")
        _read_until(master, "approved (BOOLEAN): ", seen)
        os.write(master, b"true\n")
        _read_until(master, "copies (INT) [1]: ", seen)
        os.write(master, b"two\n")  # refused: asked again
        _read_until(master, 'Invalid input for `copies`, For input string: "two"', seen)
        _read_until(master, "approved (BOOLEAN): ", seen)
        os.write(master, b"false\n")
        _read_until(master, "copies (INT) [1]: ", seen)
        os.write(master, b"\n")  # the default
        out, _ = proc.communicate(timeout=120)
    finally:
        stop(proc)
        os.close(master)
    assert proc.returncode == 0
    doc = json.loads(out)
    assert doc["state"]["current"] == "SUCCESS"
    assert doc["outputs"] == {"published": "report-1 approved=false copies=1"}
