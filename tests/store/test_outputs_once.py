"""A task run's outputs are stored once, in its task-output record (kflow.taskoutputs),
yet read back whole; a store whose taskruns documents still hold a copy (schema 2) drops
it when upgraded, and schema 3's task_outputs rows become records."""

from __future__ import annotations

import json
import sqlite3

from kflow.records import Execution, TaskRun
from kflow.states import State
from kflow.store import sqlite as sqlite_store
from kflow.store.sqlite import SQLiteStore
from kflow.taskoutputs import RecordQuery


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
    store.save_taskrun(ex, tr)
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
    assert store.list_records(RecordQuery(task_name="a")).records[0].output == {"value": "x" * 1000}
    store.close()


def test_running_outputs_are_in_the_record_too(tmp_path):
    store = SQLiteStore(tmp_path / "k.db")
    ex = Execution(id="E1", namespace="company.team", flow_id="f")
    store.create_execution(ex, "id: f\n")
    tr = TaskRun(id="T1", execution_id="E1", namespace="company.team", flow_id="f", task_id="a", seq=1)
    tr.outputs = {"partial": 1}
    ex.task_runs.append(tr)
    store.save_taskrun(ex, tr)
    store.flush()
    assert "outputs" not in docs(tmp_path / "k.db")["T1"]
    assert store.get_execution("E1").task_runs[0].outputs == {"partial": 1}
    (record,) = store.list_records(RecordQuery()).records
    assert (record.status, record.output) == ("queued", {"partial": 1})
    store.close()


def _schema(db, version: int) -> None:
    """An empty store at an older schema ``version`` (the steps up to it)."""
    conn = sqlite3.connect(db, isolation_level=None)
    for stmt in sqlite_store._SCHEMA_V1:
        conn.execute(stmt)
    for step in sqlite_store.MIGRATIONS[: version - 1]:
        if callable(step):
            step(conn)
        else:
            for stmt in step:
                conn.execute(stmt)
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(version),))
    conn.close()


STATE = {"current": "SUCCESS", "histories": [{"state": "CREATED", "date": "2025-01-02T03:04:05Z"},
                                             {"state": "SUCCESS", "date": "2025-01-02T03:04:06Z"}]}  # fmt: skip


def _old_run(db, doc_outputs, row_outputs) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(
        "INSERT INTO executions (id, namespace, flow_id, state, start_date, end_date, parent_id, "
        "flow_source, doc) VALUES ('E1', 'company.team', 'f', 'SUCCESS', '2025-01-02T03:04:05Z', "
        "'2025-01-02T03:04:07Z', NULL, 'id: f\n', ?)",
        (json.dumps({"id": "E1", "namespace": "company.team", "flowId": "f", "state": STATE,
                     "labels": [{"key": "env", "value": "ci"}]}),),  # fmt: skip
    )
    doc = {"id": "T1", "executionId": "E1", "namespace": "company.team", "flowId": "f",
           "taskId": "a", "state": STATE}  # fmt: skip
    if doc_outputs is not None:
        doc["outputs"] = doc_outputs
    conn.execute("INSERT INTO taskruns VALUES ('T1', 'E1', 1, 'a', 'SUCCESS', ?)", (json.dumps(doc),))
    if row_outputs is not None:
        conn.execute(
            "INSERT INTO task_outputs VALUES ('T1', 'E1', 'company.team', 'f', 'a', NULL, "
            "'SUCCESS', '2025-01-02T03:04:05Z', ?)",
            (json.dumps(row_outputs),),
        )
    conn.close()


def test_schema_2_store_drops_the_second_copy(tmp_path):
    db = tmp_path / "k.db"
    _schema(db, 2)
    _old_run(db, {"value": "old", "n": 1.5}, {"value": "old", "n": 1.5})  # schema 2 kept both
    store = SQLiteStore(db)
    assert "outputs" not in docs(db)["T1"]
    assert store.get_execution("E1").task_runs[0].outputs == {"value": "old", "n": 1.5}
    (record,) = store.list_records(RecordQuery()).records
    assert record.tags == {"env": "ci", "type": "", "state": "SUCCESS"}
    store.close()


def test_schema_3_unfinished_outputs_move_from_the_document_to_the_record(tmp_path):
    db = tmp_path / "k.db"
    _schema(db, 3)
    _old_run(db, {"partial": True}, None)
    store = SQLiteStore(db)
    assert "outputs" not in docs(db)["T1"]
    assert store.get_execution("E1").task_runs[0].outputs == {"partial": True}
    assert store.list_records(RecordQuery()).records[0].output == {"partial": True}
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
