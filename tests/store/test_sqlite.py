"""The SQLite execution store: persisted as it changes, readable by another process,
several writers into one home lose nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kflow.engine.execution import Execution, TaskRun
from kflow.errors import NotFoundError
from kflow.states import State
from kflow.store.base import LogRecord
from kflow.store.sqlite import SQLiteStore


def make_execution(eid: str = "E1") -> Execution:
    return Execution(id=eid, namespace="company.team", flow_id="f")


def test_roundtrip(tmp_path):
    store = SQLiteStore(tmp_path / "k.db")
    ex = make_execution()
    store.create_execution(ex, "id: f\n")
    tr = TaskRun(id="T1", execution_id="E1", namespace="company.team", flow_id="f", task_id="a", seq=1)
    ex.task_runs.append(tr)
    store.save_taskrun(ex, tr)
    tr.outputs = {"value": "x"}
    tr.state.set(State.SUCCESS)
    store.save_taskrun(ex, tr)
    ex.state.set(State.SUCCESS)
    store.save_execution(ex)
    store.append_log(LogRecord("E1", "T1", "a", "2024-01-01T00:00:00Z", "INFO", "hello"))
    store.flush()
    back = store.get_execution("E1")
    assert back.to_dict() == ex.to_dict()
    assert store.get_flow_source("E1") == "id: f\n"
    assert [r.message for r in store.get_logs("E1")] == ["hello"]
    assert store.list_outputs(task_id="a")[0]["outputs"] == {"value": "x"}
    assert store.get_execution("last").id == "E1"
    store.close()
    # a second store (another process) sees it
    other = SQLiteStore(tmp_path / "k.db")
    assert other.get_execution("E1").task_runs[0].outputs == {"value": "x"}
    other.close()


def test_unknown_execution(tmp_path):
    store = SQLiteStore(tmp_path / "k.db")
    with pytest.raises(NotFoundError):
        store.get_execution("nope")
    with pytest.raises(NotFoundError):
        store.get_execution("last")
    store.close()


def test_concurrent_processes_lose_nothing(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from kflow.engine.execution import Execution, TaskRun
        from kflow.store.sqlite import SQLiteStore
        store = SQLiteStore(__import__("pathlib").Path({str(tmp_path / "k.db")!r}))
        n = sys.argv[1]
        for i in range(50):
            ex = Execution(id=f"E{{n}}-{{i}}", namespace="ns", flow_id="f")
            store.create_execution(ex, "src")
            tr = TaskRun(id=f"T{{n}}-{{i}}", execution_id=ex.id, namespace="ns", flow_id="f", task_id="t")
            store.save_taskrun(ex, tr)
        store.close()
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(4)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    store = SQLiteStore(tmp_path / "k.db")
    assert len(store.list_executions(limit=1000)) == 200
    store.close()
