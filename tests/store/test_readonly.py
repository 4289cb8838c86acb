"""A read-only home (an archived CI artifact) can be inspected: executions, outputs, logs,
eval --exec and preview work on a read-only bind mount, nothing is migrated, recovered or
written there, and ``kflow run`` says clearly that it cannot record a run (exit 2).

Mode bits do not stop root, so the home is made read-only by a bind mount inside a private
mount namespace (``unshare``); a machine where that is impossible fails these tests with
the reason, rather than skipping them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kflow.store.sqlite import SCHEMA_VERSION

from .test_migrations import version_of, write_release_1_store


def in_mount_namespace(script: str, *args: str, timeout: float = 300) -> str:
    """Run a Python ``script`` (with ``args``) as root of a private mount namespace, so it
    may mount; return its stdout. Fails the calling test, with the reason, when it cannot."""
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare = ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"]
    proc = subprocess.run(
        [*unshare, sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, (
        f"could not run the test in a private mount namespace ({' '.join(unshare)}): "
        f"exit {proc.returncode}\n{proc.stderr}"
    )
    return proc.stdout


READ_ONLY_SCRIPT = r"""
import json, os, subprocess, sys
home, commands = sys.argv[1], json.loads(sys.argv[2])
subprocess.run(["mount", "--bind", home, home], check=True)
subprocess.run(["mount", "-o", "remount,ro,bind", home], check=True)
try:
    open(os.path.join(home, "probe"), "w")
    sys.exit("the bind mount is not read-only")
except OSError:
    pass
env = dict(os.environ, KFLOW_HOME=home)
results = []
for args in commands:
    try:
        proc = subprocess.run([sys.executable, "-m", "kflow", *args], env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=120)
    except subprocess.TimeoutExpired as exc:
        results.append({"args": args, "rc": "timed out", "out": "", "err": str(exc)})
        continue
    results.append({"args": args, "rc": proc.returncode, "out": proc.stdout, "err": proc.stderr})
print(json.dumps(results))
"""


def on_read_only_home(home: Path, *commands: list[str]) -> list[dict]:
    return json.loads(in_mount_namespace(READ_ONLY_SCRIPT, str(home), json.dumps(commands)))


def snapshot(home: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(home)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


FLOW = """\
id: archived
namespace: company.team
tasks:
  - id: hi
    type: io.kestra.plugin.core.debug.Return
    format: hello from CI
  - id: table
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - printf 'name,n\\nada,1\\nbob,2\\n' > out.csv
      - echo wrote the table
    outputFiles:
      - out.csv
"""


def test_read_only_home_can_be_inspected(tmp_path, kflow_home):
    flow = tmp_path / "archived.yml"
    flow.write_text(FLOW)
    run = subprocess.run(
        [sys.executable, "-m", "kflow", "run", str(flow), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    ex = json.loads(run.stdout)
    uri = next(t for t in ex["taskRunList"] if t["taskId"] == "table")["outputs"]["outputFiles"][
        "out.csv"
    ]
    # a cleanly closed store has no WAL left: SQLite cannot open it mode=ro on a read-only
    # mount, so this also covers the immutable fallback
    assert not (kflow_home / "kflow.db-wal").exists()
    before = snapshot(kflow_home)
    results = on_read_only_home(
        kflow_home,
        ["executions", "--json"],
        ["outputs", "last", "--json"],
        ["logs", "last"],
        ["preview", uri, "--format", "text"],
        ["run", str(flow)],
        ["eval", "--exec", "last", "{{ outputs.hi.value }}"],
    )
    executions, outputs, logs, preview, rerun, evaluated = results
    for r in (executions, outputs, logs, preview):
        assert r["rc"] == 0, r
        assert r["err"] == "", r
    assert [e["id"] for e in json.loads(executions["out"])] == [ex["id"]]
    assert json.loads(outputs["out"])["state"] == "SUCCESS"
    assert "wrote the table" in logs["out"]
    assert preview["out"].splitlines() == ["name,n", "ada,1", "bob,2"]
    assert rerun["rc"] == 2
    assert "read-only" in rerun["err"] and "hint:" in rerun["err"]
    assert "internal error" not in rerun["err"] and "Traceback" not in rerun["err"]
    assert snapshot(kflow_home) == before
    assert (evaluated["rc"], evaluated["err"], evaluated["out"]) == (0, "", "hello from CI\n")


WRITER_KILLED = r"""
import os, sys
from kflow.engine.execution import Execution, TaskRun
from kflow.states import State
from kflow.store.sqlite import SQLiteStore
store = SQLiteStore(sys.argv[1])
ex = Execution(id="CUT1", namespace="company.team", flow_id="f")
store.create_execution(ex, "id: f\n")
tr = TaskRun(id="T1", execution_id="CUT1", namespace="company.team", flow_id="f", task_id="t")
tr.state.set(State.RUNNING)
ex.task_runs.append(tr)
store.save_taskrun(ex, tr)
ex.state.set(State.RUNNING)
store.save_execution(ex)
store.flush()
os._exit(0)  # as after kill -9: no close, no checkpoint; the WAL stays
"""


def test_read_only_home_left_by_a_killed_run_is_read_not_repaired(kflow_home):
    kflow_home.mkdir(parents=True)
    db = kflow_home / "kflow.db"
    subprocess.run([sys.executable, "-c", WRITER_KILLED, str(db)], check=True, timeout=120)
    assert (kflow_home / "kflow.db-wal").stat().st_size > 0
    before = snapshot(kflow_home)
    (outputs,) = on_read_only_home(kflow_home, ["outputs", "CUT1", "--json"])
    assert outputs["rc"] == 0, outputs
    # the rows live only in the WAL: read with mode=ro; the dead run is not marked there
    doc = json.loads(outputs["out"])
    assert doc["state"] == "RUNNING"
    assert doc["taskRuns"][0]["state"] == "RUNNING"
    assert snapshot(kflow_home) == before
    # once writable again, the next open marks it
    after = subprocess.run(
        [sys.executable, "-m", "kflow", "outputs", "CUT1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(after.stdout)["state"] == "KILLED"


def test_read_only_old_store_is_read_without_migrating(kflow_home):
    kflow_home.mkdir(parents=True)
    write_release_1_store(kflow_home / "kflow.db")
    conn = sqlite3.connect(kflow_home / "kflow.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    (listed, shown) = on_read_only_home(
        kflow_home, ["executions", "--json"], ["outputs", "OLD1", "--json"]
    )
    assert listed["rc"] == 0, listed
    assert [e["id"] for e in json.loads(listed["out"])] == ["OLD1"]
    assert json.loads(shown["out"])["taskRuns"][0]["outputs"] == {"value": "old"}
    assert version_of(kflow_home / "kflow.db") == "1"
    assert SCHEMA_VERSION > 1


def test_read_only_home_without_a_store(tmp_path):
    home = tmp_path / "empty-home"
    home.mkdir()
    (listed,) = on_read_only_home(home, ["executions"])
    assert listed["rc"] == 2
    assert "read-only" in listed["err"] and "kflow.db is missing" in listed["err"]
    assert "internal error" not in listed["err"]


# Inspection commands given bad input: one clear line and exit 2, never "internal error".


def kflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kflow", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def assert_clear_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and "hint:" in proc.stderr
    for needle in needles:
        assert needle in proc.stderr


@pytest.mark.parametrize("limit", ["99999999999999999999", "9223372036854775808", "0", "-5"])
def test_executions_limit_out_of_range(limit):
    proc = kflow("executions", "--limit", limit)
    assert_clear_usage_error(proc, "--limit must be a whole number from 1 to")


def test_executions_largest_limit_lists_everything():
    proc = kflow("executions", "--limit", "9223372036854775807", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_preview_of_a_5000_character_file_name():
    uri = "kestra:///company/team/f/executions/E1/" + "x" * 5000 + ".csv"
    proc = kflow("preview", uri)
    assert_clear_usage_error(proc, "File name too long", f"({len(uri)} characters)")
    assert len(proc.stderr) < 400  # the name is shortened, not printed whole
