"""The writer thread's batching: one executemany per run of a statement, each table's
changes in the order they were made; a subflow's execution row, inserted while its parent
is being updated, is still inserted before it is updated."""

from __future__ import annotations

from kflow.engine.execution import Execution
from kflow.states import State
from kflow.store.sqlite import SQLiteStore, _by_statement, _table

INSERT = "INSERT INTO executions (id) VALUES (?)"
UPDATE = "UPDATE executions SET state = ? WHERE id = ?"
LOG = "INSERT INTO logs (message) VALUES (?)"
RUN = "INSERT INTO taskruns (id) VALUES (?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc"
OUT = "INSERT OR REPLACE INTO task_outputs (taskrun_id) VALUES (?)"


def test_tables_of_statements():
    assert [_table(s) for s in (INSERT, UPDATE, LOG, RUN, OUT)] == [
        "executions", "executions", "logs", "taskruns", "task_outputs",
    ]  # fmt: skip


def test_each_table_keeps_its_order():
    pending = [
        (INSERT, ("parent",)),
        (RUN, ("t1",)),
        (LOG, ("a",)),
        (UPDATE, ("RUNNING", "parent")),
        (RUN, ("t1",)),
        (OUT, ("t1",)),
        (INSERT, ("child",)),
        (LOG, ("b",)),
        (UPDATE, ("SUCCESS", "child")),
        (RUN, ("t2",)),
    ]
    groups = _by_statement(pending)
    executions = [(sql, rows) for sql, rows in groups if _table(sql) == "executions"]
    assert executions == [
        (INSERT, [("parent",)]),
        (UPDATE, [("RUNNING", "parent")]),
        (INSERT, [("child",)]),
        (UPDATE, [("SUCCESS", "child")]),
    ]
    assert (RUN, [("t1",), ("t1",), ("t2",)]) in groups
    assert (LOG, [("a",), ("b",)]) in groups
    assert sum(len(rows) for _, rows in groups) == len(pending)


def test_a_subflow_created_and_ended_in_one_batch_is_recorded(tmp_path):
    store = SQLiteStore(tmp_path / "k.db")
    try:
        parent = Execution(id="P", namespace="company.team", flow_id="p")
        store.create_execution(parent, "id: p\n")
        store.flush()
        parent.state.set(State.RUNNING)
        store.save_execution(parent)  # an UPDATE queued before the child's INSERT
        child = Execution(id="C", namespace="company.team", flow_id="c", parent_id="P")
        store.create_execution(child, "id: c\n")
        child.state.set(State.RUNNING)
        child.state.set(State.SUCCESS)
        store.save_execution(child)
        store.flush()
        assert store.get_execution("C").state.current is State.SUCCESS
        assert store.get_execution("P").state.current is State.RUNNING
    finally:
        store.close()
