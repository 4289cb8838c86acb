"""``delete_logs`` and ``delete_execution`` (the PurgeLogs and PurgeExecutions tasks), on
both backends."""

from __future__ import annotations

import pytest

from kflow.errors import NotFoundError
from kflow.store.base import LogRecord

from .conftest import Stores
from .test_contract import add_run, finish, new_execution


def test_delete_logs_and_executions(stores: Stores) -> None:
    store = stores.open()
    ex = new_execution(store, "E1")
    add_run(store, ex, "R1")
    other = new_execution(store, "E2")
    for i, level in enumerate(["INFO", "WARN", "INFO"]):
        store.append_log(LogRecord(ex.id, "R1", "t", f"2024-01-01T00:00:0{i}Z", level, f"m{i}"))
    store.append_log(LogRecord(other.id, None, None, "2024-01-01T00:00:00Z", "WARN", "o"))
    finish(store, ex)
    finish(store, other)
    store.flush()

    assert store.delete_logs(ex.id, lambda r: r.level != "WARN") == 1
    assert [r.message for r in store.get_logs(ex.id)] == ["m0", "m2"]
    assert [r.message for r in store.get_logs(other.id)] == ["o"]

    assert store.delete_execution(ex.id, by="test") is True
    with pytest.raises(NotFoundError):
        store.get_execution(ex.id)
    assert [s.id for s in store.list_executions()] == ["E2"]
    assert store.delete_execution(ex.id, by="test") is False
