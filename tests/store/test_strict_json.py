"""The store writes JSON strictly: a value with no JSON form is refused where it is
recorded (a bug to fix where the document was made), never written as its ``str()``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kflow.engine.execution import Execution, TaskRun
from kflow.errors import StoreError
from kflow.states import State
from kflow.store.sqlite import SQLiteStore


class Opaque:
    def __str__(self) -> str:
        return "some text"


def _taskrun(**fields):
    return TaskRun(
        id="T1", execution_id="E1", namespace="company.team", flow_id="f", task_id="a", **fields
    )


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(tmp_path / "k.db")
    yield store
    store.close()


@pytest.mark.parametrize("value", [Opaque(), {1, 2}, date(2024, 1, 2), Decimal("1.5"), b"x"])
def test_outputs_that_are_not_json_are_refused(store, value):
    ex = Execution(id="E1", namespace="company.team", flow_id="f")
    store.create_execution(ex, "id: f\n")
    tr = _taskrun(outputs={"value": value})
    tr.state.set(State.SUCCESS)
    with pytest.raises(StoreError, match="not JSON"):
        store.save_taskrun(ex, tr)


def test_a_metric_that_is_not_json_is_refused(store):
    ex = Execution(id="E1", namespace="company.team", flow_id="f")
    tr = _taskrun(metrics=[{"name": "n", "type": "counter", "value": Opaque()}])
    with pytest.raises(StoreError, match="not JSON"):
        store.save_taskrun(ex, tr)


def test_an_execution_with_a_non_json_input_is_refused(store):
    ex = Execution(id="E1", namespace="company.team", flow_id="f", inputs={"when": Opaque()})
    with pytest.raises(StoreError, match="not JSON"):
        store.create_execution(ex, "id: f\n")
    ex.inputs = {"when": "2024-01-02"}
    store.create_execution(ex, "id: f\n")
    ex.outputs = {"o": Opaque()}
    with pytest.raises(StoreError, match="not JSON"):
        store.save_execution(ex)


def test_nothing_is_written_for_a_refused_document(store):
    ex = Execution(id="E1", namespace="company.team", flow_id="f")
    store.create_execution(ex, "id: f\n")
    tr = _taskrun(outputs={"value": Opaque()})
    tr.state.set(State.SUCCESS)
    with pytest.raises(StoreError):
        store.save_taskrun(ex, tr)
    store.flush()
    assert store.get_execution("E1").task_runs == []
