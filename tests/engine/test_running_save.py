"""A task run is saved RUNNING only once it has run a moment (RUNNING_SAVE_DELAY): a quick
one is saved once, at its end; a longer one is visible RUNNING to other processes."""

from __future__ import annotations

import time
from typing import Any

from kflow.api import load_flow, open_home, run_flow
from kflow.engine import executor as executor_module
from kflow.store.sqlite import SQLiteStore


def _saves(monkeypatch: Any) -> list[tuple[str, str]]:
    saved: list[tuple[str, str]] = []
    real = SQLiteStore.save_taskrun

    def spy(self: SQLiteStore, execution: Any, taskrun: Any) -> None:
        saved.append((taskrun.task_id, taskrun.state.current.value))
        real(self, execution, taskrun)

    monkeypatch.setattr(SQLiteStore, "save_taskrun", spy)
    return saved


def test_a_quick_task_run_is_saved_once_at_its_end(write_flow, monkeypatch) -> None:
    # a delay no task here comes near, however loaded the machine
    monkeypatch.setattr(executor_module, "RUNNING_SAVE_DELAY", 30.0)
    path = write_flow(
        """
        id: quick
        namespace: company.team
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return, format: "x"}
          - {id: b, type: io.kestra.plugin.core.debug.Return, format: "{{ outputs.a.value }}y"}
        """
    )
    with open_home() as home:
        saved = _saves(monkeypatch)
        ex = run_flow(load_flow(path), {}, home=home)
        assert [tr.outputs for tr in home.store.get_execution(ex.id).task_runs] == [
            {"value": "x"}, {"value": "xy"}
        ]
    assert saved == [("a", "SUCCESS"), ("b", "SUCCESS")]


def test_a_longer_task_run_is_saved_running_while_it_runs(write_flow, monkeypatch) -> None:
    saved = _saves(monkeypatch)
    path = write_flow(
        """
        id: slow
        namespace: company.team
        tasks:
          - {id: nap, type: io.kestra.plugin.core.flow.Sleep, duration: PT1S}
        """
    )
    import threading

    with open_home() as home:
        result: list[Any] = []
        worker = threading.Thread(
            target=lambda: result.append(run_flow(load_flow(path), {}, home=home))
        )
        worker.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and ("nap", "RUNNING") not in saved:
            time.sleep(0.005)
        running_seen = ("nap", "RUNNING") in saved and not any(s == "SUCCESS" for _, s in saved)
        worker.join(30)
    assert running_seen
    assert saved == [("nap", "RUNNING"), ("nap", "SUCCESS")]
