"""A finished task run's outputs are stored once (in task_outputs), yet read back whole;
a store whose taskruns documents still hold a copy (schema 2) drops it when upgraded."""

from __future__ import annotations

import json
import sqlite3

from kflow.records import Execution, TaskRun
from kflow.states import State
from kflow.store import sqlite as sqlite_store
from kflow.store.sqlite import SQLiteStore


def docs(path):
    conn = sqlite3.connect(path)
    try:
        return {r[0]: json.loads(r[1]) for r in conn.execute("SELECT id, doc FROM taskruns")}
    finally:
        conn.close()


def run_one(store: SQLiteStore, outputs) -> Execution:
    ex = Execution(id="E1", namespace="company.team", flow_id="f")
    store.create_execution(ex, "id: f\n")
    tr = TaskRun(id="T1", execution_id="E1", namespace="company.team", flow_id="f", task_id="a", seq=1)
    ex.task_runs.append(tr)
    tr.outputs = outputs
    store.save_taskrun(ex, tr)  # running: the outputs so far live in the document
    tr.state.set(State.SUCCESS)
    store.save_taskrun(ex, tr)
    ex.state.set(State.SUCCESS)
    store.save_execution(ex)
    store.flush()
    return ex


def test_finished_outputs_are_stored_once_and_read_back(tmp_path):
    store = SQLiteStore(tmp_path / "k.db")
    ex = run_one(store, {"value": "x" * 1000})
    assert "outputs" not in docs(tmp_path / "k.db")["T1"]
    assert store.get_execution("E1").to_dict() == ex.to_dict()
    assert store.list_outputs(task_id="a")[0]["outputs"] == {"value": "x" * 1000}
    store.close()


def test_running_outputs_stay_in_the_document(tmp_path):
    store = SQLiteStore(tmp_path / "k.db")
    ex = Execution(id="E1", namespace="company.team", flow_id="f")
    store.create_execution(ex, "id: f\n")
    tr = TaskRun(id="T1", execution_id="E1", namespace="company.team", flow_id="f", task_id="a", seq=1)
    tr.outputs = {"partial": 1}
    ex.task_runs.append(tr)
    store.save_taskrun(ex, tr)
    store.flush()
    assert docs(tmp_path / "k.db")["T1"]["outputs"] == {"partial": 1}
    assert store.get_execution("E1").task_runs[0].outputs == {"partial": 1}
    store.close()


def test_schema_2_store_drops_the_second_copy(tmp_path, monkeypatch):
    db = tmp_path / "k.db"
    # a store as schema 2 wrote it: outputs in the document and in task_outputs
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS[:1])
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", 2)
    store = SQLiteStore(db)
    run_one(store, {"value": "old", "n": 1.5})
    store.close()
    conn = sqlite3.connect(db, isolation_level=None)
    doc = json.loads(conn.execute("SELECT doc FROM taskruns").fetchone()[0])
    doc["outputs"] = {"value": "old", "n": 1.5}  # schema 2 kept this copy
    conn.execute("UPDATE taskruns SET doc = ?", (json.dumps(doc),))
    conn.close()
    monkeypatch.undo()

    store = SQLiteStore(db)
    assert "outputs" not in docs(db)["T1"]
    assert store.get_execution("E1").task_runs[0].outputs == {"value": "old", "n": 1.5}
    store.close()


def test_upgrade_keeps_a_document_whose_outputs_differ(tmp_path):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE taskruns (id TEXT, doc TEXT)")
    conn.execute("CREATE TABLE task_outputs (taskrun_id TEXT, outputs TEXT)")
    conn.execute("INSERT INTO taskruns VALUES ('T1', ?)", (json.dumps({"outputs": {"a": 2}}),))
    conn.execute("INSERT INTO task_outputs VALUES ('T1', ?)", (json.dumps({"a": 1}),))
    conn.execute("INSERT INTO taskruns VALUES ('T2', 'not json')")
    conn.execute("INSERT INTO task_outputs VALUES ('T2', '{}')")
    sqlite_store.MIGRATIONS[1](conn)  # type: ignore[operator]
    assert json.loads(conn.execute("SELECT doc FROM taskruns WHERE id='T1'").fetchone()[0]) == {
        "outputs": {"a": 2}
    }
