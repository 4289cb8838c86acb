"""Runs whose process died (``kill -9``) are marked KILLED by the next writable open of the
home, judged by host, pid and process start time; PAUSED runs, runs of other hosts and
live processes are left alone. A full disk loses no state: the writer retries until space
allows, and a run that could not write its end is marked KILLED when the home is next
opened."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from kflow.engine.execution import Execution, TaskRun
from kflow.states import State
from kflow.store import process
from kflow.store.sqlite import SQLiteStore

from .test_readonly import in_mount_namespace


def kflow(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "kflow", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def running_execution(db, eid="E1", state=State.RUNNING):
    """A store holding one execution in ``state``: one finished and one RUNNING task run."""
    store = SQLiteStore(db)
    ex = Execution(id=eid, namespace="company.team", flow_id="f")
    store.create_execution(ex, "id: f\n")
    done = TaskRun(
        id=f"{eid}-a", execution_id=eid, namespace="company.team", flow_id="f", task_id="a", seq=0
    )
    done.state.set(State.RUNNING)
    done.outputs = {"value": "kept"}
    done.state.set(State.SUCCESS)
    busy = TaskRun(
        id=f"{eid}-b", execution_id=eid, namespace="company.team", flow_id="f", task_id="b", seq=1
    )
    busy.state.set(State.RUNNING)
    busy.attempts.append(type(busy.state)(State.RUNNING))
    ex.task_runs += [done, busy]
    store.save_taskrun(ex, done)
    store.save_taskrun(ex, busy)
    ex.state.set(State.RUNNING)
    store.save_execution(ex)
    store.close()
    if state is not State.RUNNING:
        set_row(db, eid, state=state.value if isinstance(state, State) else state)


def set_row(db, eid, **cols):
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for col, value in cols.items():
            conn.execute(f"UPDATE executions SET {col} = ? WHERE id = ?", (value, eid))
    finally:
        conn.close()


def row(db, eid):
    conn = sqlite3.connect(db)
    try:
        state, doc = conn.execute(
            "SELECT state, doc FROM executions WHERE id = ?", (eid,)
        ).fetchone()
        runs = dict(
            conn.execute("SELECT task_id, state FROM taskruns WHERE execution_id = ?", (eid,))
        )
        return state, json.loads(doc)["state"]["current"], runs
    finally:
        conn.close()


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def token(ticks, boot=None, pidns=None):
    me = process.current().start
    assert me is not None, "this test machine has /proc (Linux)"
    my_boot, _, rest = me.partition("/")
    my_ns = rest.rpartition("/")[0]
    return f"{boot or my_boot}/{pidns or my_ns}/{ticks}"


def test_this_process_identity():
    me = process.current()
    assert me.pid == os.getpid() and me.host
    assert me.start is not None and me.start.count("/") == 2
    assert not process.is_dead(me.host, me.pid, me.start)


def test_dead_process_run_is_marked_killed(tmp_path):
    db = tmp_path / "k.db"
    running_execution(db)
    set_row(db, "E1", pid=dead_pid(), process_start=token("12345"))
    store = SQLiteStore(db)
    assert store.recovered == ["E1"]
    ex = store.get_execution("E1")
    assert ex.state.current is State.KILLED and ex.state.end is not None
    runs = {tr.task_id: tr for tr in ex.task_runs}
    assert runs["a"].state.current is State.SUCCESS and runs["a"].outputs == {"value": "kept"}
    assert runs["b"].state.current is State.KILLED
    assert runs["b"].attempts[-1].current is State.KILLED
    assert store.list_executions()[0].state == "KILLED"
    assert any("marked KILLED" in r.message and r.level == "ERROR" for r in store.get_logs("E1"))
    # the killed run's task-output record follows it
    records = {r.task_name: r for r in store.execution_records("E1")}
    assert (records["a"].status, records["a"].tags["state"]) == ("completed", "SUCCESS")
    assert (records["b"].status, records["b"].tags["state"]) == ("failed", "KILLED")
    store.close()
    # marked once: a second open finds nothing to do
    again = SQLiteStore(db)
    assert again.recovered == []
    again.close()


def test_reused_pid_is_not_mistaken_for_the_run(tmp_path):
    """The pid is alive (it is this test's), but started at another time: another process."""
    db = tmp_path / "k.db"
    running_execution(db)
    set_row(db, "E1", pid=os.getpid(), process_start=token("1"))
    store = SQLiteStore(db)
    assert store.recovered == ["E1"]
    store.close()
    assert row(db, "E1") == ("KILLED", "KILLED", {"a": "SUCCESS", "b": "KILLED"})


def test_a_reboot_since_the_run_means_it_is_dead(tmp_path):
    db = tmp_path / "k.db"
    running_execution(db)
    me = process.current()
    set_row(db, "E1", pid=me.pid, process_start=token(me.start.rpartition("/")[2], boot="old-boot"))
    SQLiteStore(db).close()
    assert row(db, "E1")[0] == "KILLED"


def test_live_process_is_left_alone(tmp_path):
    db = tmp_path / "k.db"
    running_execution(db)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        start = process._start_token(sleeper.pid)
        assert start is not None
        set_row(db, "E1", pid=sleeper.pid, process_start=start)
        store = SQLiteStore(db)
        assert store.recovered == []
        store.close()
        assert row(db, "E1") == ("RUNNING", "RUNNING", {"a": "SUCCESS", "b": "RUNNING"})
    finally:
        sleeper.kill()
        sleeper.wait()
    # once it is gone (reaped), the next open marks it
    SQLiteStore(db).close()
    assert row(db, "E1")[0] == "KILLED"


@pytest.mark.parametrize(
    "change",
    [
        {"state": "PAUSED"},
        {"state": "QUEUED"},
        {"host": "another-machine.example"},
        {"host": None, "pid": None, "process_start": None},
    ],
    ids=["paused", "queued", "other-host", "nothing-recorded"],
)
def test_runs_that_cannot_be_judged_are_left_alone(tmp_path, change):
    db = tmp_path / "k.db"
    running_execution(db)
    set_row(db, "E1", pid=dead_pid(), process_start=token("12345"))
    set_row(db, "E1", **change)
    before = row(db, "E1")
    store = SQLiteStore(db)
    assert store.recovered == []
    store.close()
    assert row(db, "E1") == before
    assert before[2]["b"] == "RUNNING"


def test_other_pid_namespace_is_left_alone(tmp_path):
    """A container sharing the home: its pids mean nothing here."""
    db = tmp_path / "k.db"
    running_execution(db)
    set_row(db, "E1", pid=dead_pid(), process_start=token("12345", pidns="pid:[1]"))
    SQLiteStore(db).close()
    assert row(db, "E1")[0] == "RUNNING"


def test_without_start_time_a_missing_pid_is_dead(tmp_path):
    """Where the start time cannot be known (not Linux), a pid that is gone still is."""
    me = process.current()
    assert process.is_dead(me.host, dead_pid(), None)
    assert not process.is_dead(me.host, os.getpid(), None)
    assert not process.is_dead("elsewhere", dead_pid(), None)


def test_kill_9_of_kflow_run_then_next_command_shows_killed(tmp_path, kflow_home):
    flow = tmp_path / "slow.yml"
    flow.write_text(
        textwrap.dedent("""\
        id: slow
        namespace: company.team
        tasks:
          - id: first
            type: io.kestra.plugin.core.debug.Return
            format: done
          - id: nap
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - sleep 30
          - id: never
            type: io.kestra.plugin.core.debug.Return
            format: never
        """)
    )
    # its own process group, so the kill also reaches the shell's `sleep`
    proc = subprocess.Popen(
        [sys.executable, "-m", "kflow", "run", str(flow), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    db = kflow_home / "kflow.db"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "kflow run ended before it could be killed"
            if db.exists():
                # another command meanwhile sees a live run and leaves it alone
                listed = kflow("outputs", "last", "--json")
                if listed.returncode == 0:
                    doc = json.loads(listed.stdout)
                    assert doc["state"] == "RUNNING"
                    if any(
                        r["taskId"] == "nap" and r["state"] == "RUNNING" for r in doc["taskRuns"]
                    ):
                        break
            time.sleep(0.2)
        else:
            pytest.fail("the shell task never started")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    out = kflow("outputs", "last", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["state"] == "KILLED"
    states = {r["taskId"]: r["state"] for r in doc["taskRuns"]}
    assert states == {"first": "SUCCESS", "nap": "KILLED"}
    listed = json.loads(kflow("executions", "--json").stdout)
    assert listed[0]["state"] == "KILLED" and listed[0]["endDate"]
    logs = kflow("logs", "last")
    assert "marked KILLED" in logs.stdout and str(proc.pid) in logs.stdout


FULL_DISK_SCRIPT = r"""
import json, os, subprocess, sys, time
home, marks, flow = sys.argv[1:4]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", home], check=True)
env = dict(os.environ, KFLOW_HOME=home)
kflow = [sys.executable, "-m", "kflow"]
proc = subprocess.Popen([*kflow, "run", flow, "--json"], env=env, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
deadline = time.monotonic() + 60
while not os.path.exists(os.path.join(marks, "full")):
    if time.monotonic() > deadline or proc.poll() is not None:
        sys.exit("the flow never filled the disk: " + proc.stderr.read() if proc.poll() is not None else "timeout")
    time.sleep(0.1)
free = os.statvfs(home)
os.remove(os.path.join(home, "filler"))
open(os.path.join(marks, "go"), "w").close()
out, err = proc.communicate(timeout=120)
shown = subprocess.run([*kflow, "outputs", "last", "--json"], env=env, capture_output=True, text=True)
logs = subprocess.run([*kflow, "logs", "last"], env=env, capture_output=True, text=True)
print(json.dumps({"rc": proc.returncode, "stderr": err, "free_blocks_when_full": free.f_bavail,
                  "outputs": shown.stdout, "outputs_err": shown.stderr, "logs": logs.stdout}))
"""


def test_full_disk_during_a_run_loses_no_state(tmp_path):
    home = tmp_path / "home"
    marks = tmp_path / "marks"
    home.mkdir()
    marks.mkdir()
    flow = tmp_path / "fill.yml"
    flow.write_text(
        textwrap.dedent(f"""\
        id: fill
        namespace: company.team
        tasks:
          - id: fill
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - "head -c 64M /dev/zero > {home}/filler 2>/dev/null || true"
              - "touch {marks}/full"
              - "echo the disk is full now"
              - "while [ ! -e {marks}/go ]; do sleep 0.1; done"
              - "echo space again"
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: after
        """)
    )
    result = json.loads(in_mount_namespace(FULL_DISK_SCRIPT, str(home), str(marks), str(flow)))
    assert result["free_blocks_when_full"] == 0
    assert result["rc"] == 0, result["stderr"]
    doc = json.loads(result["outputs"])
    assert doc["state"] == "SUCCESS"
    assert {r["taskId"]: r["state"] for r in doc["taskRuns"]} == {
        "fill": "SUCCESS",
        "after": "SUCCESS",
    }
    # the log lines written while the disk was full were kept and written later
    assert "the disk is full now" in result["logs"] and "space again" in result["logs"]


STAYS_FULL_SCRIPT = r'''
import json, os, subprocess, sys
home = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", home], check=True)
writer = r"""
import os, sys
from kflow.engine.execution import Execution, TaskRun
from kflow.errors import StoreError
from kflow.states import State
from kflow.store.sqlite import SQLiteStore
home = sys.argv[1]
store = SQLiteStore(os.path.join(home, "kflow.db"), full_disk_wait=0.5)
ex = Execution(id="FULL1", namespace="company.team", flow_id="f")
store.create_execution(ex, "id: f\n")
tr = TaskRun(id="T1", execution_id="FULL1", namespace="company.team", flow_id="f", task_id="t")
tr.state.set(State.RUNNING)
ex.task_runs.append(tr)
store.save_taskrun(ex, tr)
ex.state.set(State.RUNNING)
store.save_execution(ex)
store.flush()
with open(os.path.join(home, "filler"), "wb") as fh:
    try:
        while True:
            fh.write(b"x" * 65536)
            fh.flush()
    except OSError:
        pass
tr.state.set(State.SUCCESS)
store.save_taskrun(ex, tr)
ex.state.set(State.SUCCESS)
store.save_execution(ex)
try:
    store.close()
except StoreError as exc:
    print("gave up:", exc, exc.exit_code)
"""
env = dict(os.environ, KFLOW_HOME=home)
first = subprocess.run([sys.executable, "-c", writer, home], env=env, capture_output=True, text=True)
still_full = subprocess.run([sys.executable, "-m", "kflow", "executions", "--json"], env=env,
                            capture_output=True, text=True)
os.remove(os.path.join(home, "filler"))
shown = subprocess.run([sys.executable, "-m", "kflow", "outputs", "FULL1", "--json"], env=env,
                       capture_output=True, text=True)
print(json.dumps({"first": first.stdout, "first_err": first.stderr, "first_rc": first.returncode,
                  "still_full": still_full.stdout, "still_full_err": still_full.stderr,
                  "outputs": shown.stdout, "outputs_err": shown.stderr}))
'''


def test_disk_that_stays_full_then_next_open_marks_the_run_killed(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = json.loads(in_mount_namespace(STAYS_FULL_SCRIPT, str(home)))
    assert result["first_rc"] == 0, result["first_err"]
    assert "gave up:" in result["first"] and "stayed full" in result["first"]
    # while still full, a reading command works and shows what was written
    assert result["still_full_err"] == ""
    assert json.loads(result["still_full"])[0]["state"] == "RUNNING"
    doc = json.loads(result["outputs"])
    assert doc["state"] == "KILLED", result["outputs_err"]
    assert doc["taskRuns"][0]["state"] == "KILLED"
