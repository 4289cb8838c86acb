"""The execution-store contract (kflow.store.base), run against every store: the SQLite
file in the kflow home and PostgreSQL (KFLOW_DB). The same tests, the same answers: the
CLI and ``kflow serve`` never know which store they read."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kflow.errors import NotFoundError, StoreError
from kflow.records import Execution, StateHistory, TaskRun
from kflow.states import State
from kflow.store.base import ExecutionStore, LogRecord
from kflow.taskoutputs import RecordQuery, record_id

from .conftest import Stores

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def new_execution(
    store: ExecutionStore,
    eid: str,
    *,
    namespace: str = "company.team",
    flow_id: str = "f",
    labels: dict[str, str] | None = None,
    parent: str | None = None,
    start: datetime | None = None,
) -> Execution:
    ex = Execution(
        id=eid,
        namespace=namespace,
        flow_id=flow_id,
        labels=[{"key": k, "value": v} for k, v in (labels or {}).items()],
    )
    if start is not None:
        ex.state = StateHistory(histories=[(State.CREATED, start)])
    if parent is not None:
        ex.trigger = {"variables": {"executionId": parent}}
        ex.parent_id = parent
    store.create_execution(ex, f"id: {flow_id}\nnamespace: {namespace}\n")
    return ex


def add_run(
    store: ExecutionStore,
    ex: Execution,
    trid: str,
    task_id: str = "t",
    *,
    state: State = State.SUCCESS,
    outputs: dict[str, Any] | None = None,
    task_type: str = "io.kestra.plugin.core.debug.Return",
    start: datetime | None = None,
    error: str | None = None,
    value: str | None = None,
) -> TaskRun:
    tr = TaskRun(
        id=trid, execution_id=ex.id, namespace=ex.namespace, flow_id=ex.flow_id,
        task_id=task_id, task_type=task_type, seq=len(ex.task_runs), value=value,
    )  # fmt: skip
    if start is not None:
        tr.state = StateHistory(histories=[(State.CREATED, start)])
    ex.task_runs.append(tr)
    store.save_taskrun(ex, tr)
    if state is not State.CREATED:
        tr.state.set(State.RUNNING)
        if state is not State.RUNNING:
            tr.outputs = outputs
            tr.error = error
            tr.state.set(state)
        store.save_taskrun(ex, tr)
    return tr


def finish(store: ExecutionStore, ex: Execution, state: State = State.SUCCESS) -> None:
    ex.state.set(state)
    store.save_execution(ex)


# ------------------------------------------------------------------ executions


def test_execution_task_runs_and_logs_round_trip(stores: Stores) -> None:
    store = stores.open()
    ex = new_execution(store, "E1roundtrip", labels={"team": "data"})
    add_run(store, ex, "T1", "a", outputs={"value": "x", "n": [1, 2.5, None]})
    add_run(store, ex, "T2", "b", state=State.FAILED, error="boom")
    finish(store, ex, State.FAILED)
    store.append_log(LogRecord(ex.id, "T1", "a", "2024-01-01T00:00:00Z", "INFO", "hello"))
    store.append_log(LogRecord(ex.id, "T2", "b", "2024-01-01T00:00:01Z", "ERROR", "boom"))
    store.append_log(LogRecord(ex.id, None, None, "2024-01-01T00:00:02Z", "WARN", "end"))
    store.flush()
    back = store.get_execution(ex.id)
    assert back.to_dict() == ex.to_dict()
    assert store.get_flow_source(ex.id) == "id: f\nnamespace: company.team\n"
    assert [r.message for r in store.get_logs(ex.id)] == ["hello", "boom", "end"]
    assert store.get_logs(ex.id, "b") == [
        LogRecord(ex.id, "T2", "b", "2024-01-01T00:00:01Z", "ERROR", "boom")
    ]
    assert [r.id for r in store.get_taskruns(ex.id)] == ["T1", "T2"]
    assert [r.seq for r in store.get_taskruns(ex.id)] == [0, 1]
    assert [r.id for r in store.get_taskruns(ex.id, limit=1)] == ["T1"]
    assert [r.id for r in store.get_taskruns(ex.id, with_error=True)] == ["T2"]
    assert store.get_execution(ex.id).task_runs[0].task_type == "io.kestra.plugin.core.debug.Return"
    store.close()
    other = stores.open()  # another process reads it back
    assert other.get_execution(ex.id).to_dict() == ex.to_dict()


def test_outputs_round_trip_as_json_dumps_wrote_them(stores: Stores) -> None:
    """Big integers, floats and NaN come back exactly: the stores keep json.dumps' text."""
    store = stores.open()
    ex = new_execution(store, "E1numbers")
    outputs = {"big": 2**70 + 1, "f": 0.1 + 0.2, "tiny": 5e-324, "nan": float("nan"),
               "inf": float("-inf"), "text": "é\u2028\x00", "nested": {"a": [{"b": True}]}}  # fmt: skip
    add_run(store, ex, "T1", outputs=outputs)
    store.flush()
    assert json.dumps(store.get_record(record_id("T1")).output) == json.dumps(outputs)
    assert json.dumps(store.get_execution(ex.id).task_runs[0].outputs) == json.dumps(outputs)


def test_unknown_ids_last_and_prefixes(stores: Stores) -> None:
    store = stores.open()
    with pytest.raises(NotFoundError, match="no execution yet"):
        store.get_execution("last")
    with pytest.raises(NotFoundError, match="no execution with id 'nope'"):
        store.get_execution("nope")
    first = new_execution(store, "abcd1111", start=T0)
    new_execution(store, "abcd2222", start=T0 + timedelta(seconds=1))
    newest = new_execution(store, "zz9999", start=T0 + timedelta(seconds=2))
    new_execution(store, "child1", parent=newest.id, start=T0 + timedelta(seconds=3))
    store.flush()
    assert store.get_execution("last").id == "zz9999"  # subflows are never `last`
    assert store.get_execution("abcd1").id == first.id
    assert store.get_execution("zz99").id == "zz9999"
    with pytest.raises(NotFoundError, match="matches several"):
        store.get_execution("abcd")
    with pytest.raises(NotFoundError, match="too short"):
        store.get_execution("zz9")
    with pytest.raises(NotFoundError, match="no execution with id 'ABCD1'"):
        store.get_execution("ABCD1")  # ids are case-sensitive
    with pytest.raises(NotFoundError):
        store.get_execution("abc%")  # no wildcards
    with pytest.raises(NotFoundError):
        store.get_flow_source("nope")
    with pytest.raises(NotFoundError):
        store.get_logs("nope")


def test_list_executions_filters_order_and_children(stores: Stores) -> None:
    store = stores.open()
    a = new_execution(store, "Ea", namespace="n1", flow_id="f1", start=T0)
    new_execution(store, "Eb", namespace="n1", flow_id="f2", start=T0 + timedelta(seconds=1))
    new_execution(store, "Ec", namespace="n2", flow_id="f1", start=T0 + timedelta(seconds=2))
    c1 = new_execution(store, "Ea-c1", parent="Ea", start=T0 + timedelta(seconds=3))
    new_execution(store, "Ea-c2", parent="Ea", start=T0 + timedelta(seconds=4))
    finish(store, a)
    assert [e.id for e in store.list_executions()] == ["Ea-c2", "Ea-c1", "Ec", "Eb", "Ea"]
    assert [e.id for e in store.list_executions(limit=2)] == ["Ea-c2", "Ea-c1"]
    assert [e.id for e in store.list_executions(namespace="n1")] == ["Eb", "Ea"]
    assert [e.id for e in store.list_executions(flow_id="f1")] == ["Ec", "Ea"]
    assert [e.id for e in store.list_executions(namespace="n1", flow_id="f1")] == ["Ea"]
    top = store.list_executions(namespace="n1", flow_id="f1")[0]
    assert (top.state, top.start, top.parent_id) == ("SUCCESS", "2024-03-01T12:00:00Z", None)
    assert top.end is not None
    assert [e.id for e in store.children("Ea")] == ["Ea-c1", "Ea-c2"]
    assert store.children(c1.id) == []
    assert store.get_execution("Ea-c1").parent_id == "Ea"


def test_same_start_lists_in_creation_order(stores: Stores) -> None:
    store = stores.open()
    for eid in ("E3", "E1", "E2"):
        new_execution(store, eid, start=T0)
    assert [e.id for e in store.list_executions()] == ["E2", "E1", "E3"]
    assert store.get_execution("last").id == "E2"


def test_executions_ended_before(stores: Stores) -> None:
    store = stores.open()
    old = new_execution(store, "Eold")
    finish(store, old)
    new_execution(store, "Erunning")
    store.flush()
    future = "9999-01-01T00:00:00Z"
    assert [e.id for e in store.executions_ended_before(future)] == ["Eold"]
    assert store.executions_ended_before("2000-01-01T00:00:00Z") == []


# ------------------------------------------------------------------ records


def test_record_is_created_with_the_task_run_and_follows_its_state(stores: Stores) -> None:
    store = stores.open()
    ex = new_execution(store, "Erec", labels={"env": "ci"})
    tr = TaskRun(id="T1", execution_id=ex.id, namespace=ex.namespace, flow_id="f",
                 task_id="my-task", task_type="io.x.Log", value="v1", iteration=3)  # fmt: skip
    ex.task_runs.append(tr)
    seen = []
    for state in (State.CREATED, State.RUNNING, State.SUCCESS):
        if state is not State.CREATED:
            tr.state.set(state)
        if state is State.SUCCESS:
            tr.outputs = {"value": 42}
        store.save_taskrun(ex, tr)
        store.flush()
        seen.append(store.get_record(record_id("T1")).status)
    assert seen == ["queued", "running", "completed"]
    rec = store.get_record(record_id("T1"))
    assert rec.to_dict() | {"created_at": "", "updated_at": ""} == {
        "id": record_id("T1"), "flow_execution_id": "Erec", "organization_id": "local",
        "namespace": "company.team", "flow_id": "f", "task_name": "my-task",
        "task_run_id": "T1", "task_type": "io.x.Log", "iteration_value": "v1",
        "iteration_index": 3, "parent_task_run_id": None, "status": "completed",
        "summary": {}, "output": {"value": 42},
        "tags": {"env": "ci", "type": "io.x.Log", "state": "SUCCESS"},
        "expression": "outputs['my-task']['v1']", "created_at": "", "updated_at": "",
        "updated_by": "system",
    }  # fmt: skip
    assert rec.created_at <= rec.updated_at
    failed = add_run(store, ex, "T2", state=State.FAILED)
    store.flush()
    assert store.get_record(record_id(failed.id)).status == "failed"
    assert [r.taskrun_id for r in store.execution_records(ex.id)] == ["T1", "T2"]
    with pytest.raises(NotFoundError, match="no task-output record"):
        store.get_record("nope")


def _records_fixture(store: ExecutionStore) -> None:
    """Six records over two executions, two flows, two task types, three days."""
    e1 = new_execution(store, "E1", namespace="n1", flow_id="f1", labels={"env": "prod"})
    e2 = new_execution(store, "E2", namespace="n2", flow_id="f2", labels={"env": "dev"})
    add_run(store, e1, "R1", "load", start=T0)
    add_run(store, e1, "R2", "load", start=T0 + timedelta(days=1), state=State.FAILED)
    add_run(store, e1, "R3", "log", task_type="io.x.Log", start=T0 + timedelta(days=2))
    add_run(store, e2, "R4", "load", start=T0, state=State.RUNNING)
    add_run(store, e2, "R5", "log", task_type="io.x.Log", start=T0 + timedelta(days=1))
    add_run(store, e2, "R6", "load", start=T0 + timedelta(days=2), state=State.CREATED)
    store.flush()


def _ids(store: ExecutionStore, **query: Any) -> list[str]:
    return [r.taskrun_id for r in store.list_records(RecordQuery(**query)).records]


def test_list_records_filters_by_every_field(stores: Stores) -> None:
    store = stores.open()
    _records_fixture(store)
    assert _ids(store) == ["R6", "R5", "R4", "R3", "R2", "R1"]  # newest first
    assert _ids(store, flow_execution_id="E2") == ["R6", "R5", "R4"]
    assert _ids(store, namespace="n1") == ["R3", "R2", "R1"]
    assert _ids(store, flow_id="f2") == ["R6", "R5", "R4"]
    assert _ids(store, task_name="log") == ["R5", "R3"]
    assert _ids(store, status="failed") == ["R2"]
    assert _ids(store, status="running") == ["R4"]
    assert _ids(store, status="queued") == ["R6"]
    assert _ids(store, status="completed") == ["R5", "R3", "R1"]
    assert _ids(store, tags={"type": "io.x.Log"}) == ["R5", "R3"]
    assert _ids(store, tags={"env": "prod", "state": "SUCCESS"}) == ["R3", "R1"]
    assert _ids(store, tags={"env": "nope"}) == []
    assert _ids(store, tags={"missing": "x"}) == []
    day1 = "2024-03-02T00:00:00Z"
    assert _ids(store, created_after=day1) == ["R6", "R5", "R3", "R2"]
    assert _ids(store, created_before=day1) == ["R4", "R1"]
    assert _ids(store, created_after=day1, created_before="2024-03-03T00:00:00Z") == ["R5", "R2"]
    assert _ids(store, namespace="n1", task_name="load", status="completed") == ["R1"]
    assert _ids(store, limit=0) == []


def test_pages_follow_one_another(stores: Stores) -> None:
    store = stores.open()
    _records_fixture(store)
    page = store.list_records(RecordQuery(limit=4))
    assert [r.taskrun_id for r in page.records] == ["R6", "R5", "R4", "R3"]
    assert page.has_more and page.next_after == record_id("R3")
    page = store.list_records(RecordQuery(limit=4, after=page.next_after))
    assert [r.taskrun_id for r in page.records] == ["R2", "R1"]
    assert not page.has_more and page.next_after is None
    exact = store.list_records(RecordQuery(limit=6))
    assert len(exact.records) == 6 and not exact.has_more
    with pytest.raises(NotFoundError, match="to page after"):
        store.list_records(RecordQuery(after="nope"))


def test_paging_while_another_writer_inserts_neither_skips_nor_repeats(stores: Stores) -> None:
    store = stores.open()
    ex = new_execution(store, "Epage")
    for i in range(40):
        add_run(store, ex, f"old{i:03d}")
    store.flush()
    before = [r.id for r in store.iter_records(RecordQuery(limit=None))]
    writer_store = stores.open()  # another process writing into the same store
    stop = threading.Event()
    written: list[str] = []

    def write() -> None:
        other = new_execution(writer_store, "Ewriter")
        i = 0
        while not stop.is_set() and i < 300:
            add_run(writer_store, other, f"new{i:03d}")
            writer_store.flush()
            written.append(f"new{i:03d}")
            i += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 3:  # the writer is under way
            time.sleep(0.001)
        listed: list[str] = []
        after = None
        while True:
            page = store.list_records(RecordQuery(limit=3, after=after))
            listed += [r.id for r in page.records]
            time.sleep(0.002)  # let the writer commit between pages
            if not page.has_more:
                break
            after = page.next_after
    finally:
        stop.set()
        thread.join()
    assert written, "the writer wrote while the listing paged"
    assert len(listed) == len(set(listed)), "a record was listed twice"
    assert set(before) <= set(listed), "a record was skipped"
    # nothing older than the first page's top came in between
    assert [i for i in listed if i in before] == before


def test_iter_records_streams_everything(stores: Stores) -> None:
    store = stores.open()
    ex = new_execution(store, "Eiter")
    for i in range(1100):  # more than two of iter_records' batches
        add_run(store, ex, f"T{i:05d}", state=State.SUCCESS if i % 3 else State.FAILED)
    store.flush()
    all_ids = [r.taskrun_id for r in store.iter_records(RecordQuery(limit=None))]
    assert all_ids == [f"T{i:05d}" for i in reversed(range(1100))]
    failed = list(store.iter_records(RecordQuery(status="failed", limit=None)))
    assert len(failed) == len(range(0, 1100, 3))
    assert len(list(store.iter_records(RecordQuery(limit=510)))) == 510
    after = [
        r.taskrun_id for r in store.iter_records(RecordQuery(limit=2, after=record_id("T00005")))
    ]
    assert after == ["T00004", "T00003"]


def test_soft_delete(stores: Stores) -> None:
    store = stores.open()
    _records_fixture(store)
    assert store.delete_records([record_id("R1"), record_id("R1"), "unknown"], "alice") == [
        record_id("R1")
    ]
    rec = store.get_record(record_id("R1"))  # deleted records are still read by id
    assert (rec.status, rec.updated_by) == ("deleted", "alice")
    assert rec.output is None or isinstance(rec.output, dict)
    assert "R1" not in _ids(store)
    assert "R1" in _ids(store, include_deleted=True)
    assert _ids(store, status="deleted") == ["R1"]
    assert store.delete_records([record_id("R1")], "bob") == []  # already deleted
    assert store.get_record(record_id("R1")).updated_by == "alice"
    changed = store.delete_execution_records("E2", "carol")
    assert sorted(changed) == sorted(record_id(i) for i in ("R4", "R5", "R6"))
    assert _ids(store) == ["R3", "R2"]
    assert {r.status for r in store.execution_records("E2")} == {"deleted"}
    # a still-running task that saves again does not undelete its record
    e2 = store.get_execution("E2")
    r4 = next(tr for tr in e2.task_runs if tr.id == "R4")
    r4.state.set(State.SUCCESS)
    store.save_taskrun(e2, r4)
    store.flush()
    again = store.get_record(record_id("R4"))
    assert (again.status, again.updated_by, again.tags["state"]) == ("deleted", "carol", "SUCCESS")
    with pytest.raises(NotFoundError):
        store.delete_execution_records("nope", "x")


def test_mark_stale(stores: Stores) -> None:
    store = stores.open()
    _records_fixture(store)
    store.delete_records([record_id("R2")], "alice")
    assert store.mark_stale(["E1", "unknown"], "purge") == 2  # R1, R3; R2 stays deleted
    assert {r.taskrun_id: r.status for r in store.execution_records("E1")} == {
        "R1": "stale", "R2": "deleted", "R3": "stale"
    }  # fmt: skip
    assert store.get_record(record_id("R1")).updated_by == "purge"
    assert store.mark_stale(["E1"], "purge") == 0
    assert _ids(store, status="stale") == ["R3", "R1"]


# ------------------------------------------------------------------ organisations


def test_records_are_scoped_to_their_organisation(stores: Stores) -> None:
    acme, globex = stores.open("acme"), stores.open("globex")
    add_run(acme, new_execution(acme, "Eacme"), "Tacme")
    add_run(globex, new_execution(globex, "Eglobex"), "Tglobex")
    acme.flush()
    globex.flush()
    assert _ids(acme) == ["Tacme"] and _ids(globex) == ["Tglobex"]
    assert acme.get_record(record_id("Tacme")).organization_id == "acme"
    with pytest.raises(NotFoundError):
        acme.get_record(record_id("Tglobex"))
    with pytest.raises(NotFoundError):
        acme.list_records(RecordQuery(after=record_id("Tglobex")))
    assert acme.delete_records([record_id("Tglobex")], "mallory") == []
    assert acme.mark_stale(["Eglobex"], "mallory") == 0
    assert globex.get_record(record_id("Tglobex")).status == "completed"
    assert [r.taskrun_id for r in acme.iter_records(RecordQuery(limit=None))] == ["Tacme"]


def test_executions_and_logs_are_scoped_to_their_organisation(
    stores: Stores, request: pytest.FixtureRequest
) -> None:
    acme, globex = stores.open("acme"), stores.open("globex")
    ex = new_execution(acme, "Eacme0001")
    add_run(acme, ex, "Tacme")
    acme.append_log(LogRecord(ex.id, "Tacme", "t", "2024-01-01T00:00:00Z", "INFO", "secret"))
    finish(acme, ex)
    acme.flush()
    assert [e.id for e in acme.list_executions()] == ["Eacme0001"]
    assert globex.list_executions() == []
    for eid in ("Eacme0001", "Eacm", "last"):
        with pytest.raises(NotFoundError):
            globex.get_execution(eid)
    with pytest.raises(NotFoundError):
        globex.get_logs("Eacme0001")
    assert globex.get_taskruns("Eacme0001") == []
    assert globex.executions_ended_before("9999-01-01T00:00:00Z") == []
    assert globex.children("Eacme0001") == []


# ------------------------------------------------------------------ schema


def test_a_store_from_a_newer_kflow_is_refused(stores: Stores) -> None:
    stores.open().close()
    stores.set_schema_version(999)
    with pytest.raises(
        StoreError, match=r"was written by a newer kflow \(schema 999 > \d+\)"
    ) as err:
        stores.open()
    assert "upgrade kflow" in (err.value.hint or "")
