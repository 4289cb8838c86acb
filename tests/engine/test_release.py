"""Finished loop runs leave memory once an execution holds many task runs; readers of
``execution.task_runs`` still see every run (read back from the store), and later tasks
still read every iteration's outputs (``outputs.r['5'].value``)."""

from __future__ import annotations

import gc
import weakref

import pytest

from kflow.api import open_home, run_flow
from kflow.engine import executor as executor_module
from kflow.records import TaskRunList

LOOP = """
    id: loop
    namespace: company.team
    tasks:
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: "{{ range(1, 30) }}"  # Pebble: 1 to 30, both included
        tasks:
          - id: r
            type: io.kestra.plugin.core.debug.Return
            format: "v{{ taskrun.value }}"
      - id: after
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.r['5'].value }} {{ outputs.r['30'].value }} {{ tasks.r['7'].state }}"
    """


def _run(write_flow, text, retain, events=None):
    path = write_flow(text)
    home = open_home()
    return home, run_flow(path, home=home, on_event=events)


@pytest.fixture
def retain(monkeypatch):
    def set_to(count: int) -> None:
        monkeypatch.setattr(executor_module, "RETAIN_TASKRUNS", count)

    return set_to


def test_finished_iterations_leave_memory(write_flow, retain):
    retain(5)
    finished: list[weakref.ref] = []

    def watch(event):
        tr = event.taskrun
        if event.kind == "taskrun" and tr is not None and tr.task_id == "r":
            if tr.state.current.terminal:
                finished.append(weakref.ref(tr))

    home, ex = _run(write_flow, LOOP, 5, watch)
    try:
        gc.collect()
        assert len(finished) == 30
        alive = [ref for ref in finished if ref() is not None]
        assert len(alive) <= 5  # at most the ones not released yet
        assert ex.task_runs.released >= 25
        assert ex.task_runs.held <= 7
    finally:
        home.close()


def test_released_runs_read_back_whole(write_flow, retain):
    retain(5)
    home, ex = _run(write_flow, LOOP, 5)
    try:
        assert ex.state.current.value == "SUCCESS"
        assert ex.task_runs.released > 0
        runs = list(ex.task_runs)
        assert len(ex.task_runs) == len(runs) == 32
        assert [r.task_id for r in runs] == ["each", *["r"] * 30, "after"]
        assert [r.value for r in runs if r.task_id == "r"] == [str(i) for i in range(1, 31)]
        assert all(r.outputs == {"value": f"v{r.value}"} for r in runs if r.task_id == "r")
        assert all(r.state.current.value == "SUCCESS" for r in runs)
        doc = ex.to_dict()
        assert len(doc["taskRunList"]) == 32
        assert doc["taskRunList"][1]["state"]["current"] == "SUCCESS"
        assert doc["taskRunList"][1]["attempts"][0]["state"]["current"] == "SUCCESS"
        # later tasks read every iteration's outputs and state
        assert runs[-1].outputs == {"value": "v5 v30 SUCCESS"}
        assert [r.value for r in ex.task_runs.head(3)] == [None, "1", "2"]
        assert ex.task_runs.with_error() == []
    finally:
        home.close()


def test_same_result_with_and_without_release(write_flow, retain):
    def shape(ex):
        return [
            (
                r.task_id,
                r.value,
                r.iteration,
                r.outputs,
                r.state.current,
                r.parent_taskrun_id is None,
            )
            for r in ex.task_runs
        ]

    retain(1_000_000)
    home, kept = _run(write_flow, LOOP, 1_000_000)
    try:
        assert kept.task_runs.released == 0
        expected = shape(kept)
    finally:
        home.close()
    retain(3)
    home, released = _run(write_flow, LOOP, 3)
    try:
        assert released.task_runs.released > 0
        assert shape(released) == expected
    finally:
        home.close()


def test_failed_iteration_found_without_reading_every_run(write_flow, retain):
    retain(2)
    home, ex = _run(
        write_flow,
        """
        id: loop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: [1, 2, 3, 4, 5, 6]
            tasks:
              - id: r
                type: io.kestra.plugin.core.execution.Fail
                condition: "{{ taskrun.value == '5' }}"
        """,
        2,
    )
    try:
        assert ex.state.current.value == "FAILED"
        assert ex.task_runs.released > 0
        failed = ex.task_runs.with_error()
        assert [(r.task_id, r.value) for r in failed] == [("r", "5")]
        assert [r.value for r in ex.task_runs if r.task_id == "r"] == ["1", "2", "3", "4", "5"]
    finally:
        home.close()


def test_small_runs_never_read_the_store(run_yaml):
    ex = run_yaml(LOOP)
    assert isinstance(ex.task_runs, TaskRunList)
    assert ex.task_runs.released == 0
    assert len(ex.task_runs) == 32


def test_release_needs_a_store():
    with pytest.raises(RuntimeError):
        TaskRunList().release([])


NESTED = """
    id: nested
    namespace: company.team
    tasks:
      - id: outer
        type: io.kestra.plugin.core.flow.ForEach
        values: ["a", "b", "c", "d"]
        concurrencyLimit: {limit}
        tasks:
          - id: inner
            type: io.kestra.plugin.core.flow.ForEach
            values: [1, 2, 3]
            concurrencyLimit: {limit}
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "{{{{ parents[0].taskrun.value }}}}-{{{{ taskrun.value }}}}"
      - id: after
        type: io.kestra.plugin.core.debug.Return
        format: "{{{{ outputs.r['c']['2'].value }}}} {{{{ tasks.r['3'].state }}}}"
    """


@pytest.mark.parametrize("limit", [1, 0, 2])
def test_nested_and_parallel_loops_release_alike(write_flow, retain, limit):
    def shape(ex):
        by_id = {r.id: r for r in ex.task_runs}
        return sorted(
            (
                r.task_id,
                r.value,
                by_id[r.parent_taskrun_id].value if r.parent_taskrun_id else None,
                r.state.current.value,
                repr(r.outputs),
            )
            for r in ex.task_runs
        )

    retain(1_000_000)
    home, kept = _run(write_flow, NESTED.format(limit=limit), 1_000_000)
    try:
        assert kept.state.current.value == "SUCCESS"
        assert kept.task_runs.released == 0
        expected = shape(kept)
    finally:
        home.close()
    retain(2)
    home, released = _run(write_flow, NESTED.format(limit=limit), 2)
    try:
        assert released.state.current.value == "SUCCESS"
        assert released.task_runs.released > 0
        assert shape(released) == expected
        assert released.task_runs[-1].outputs == {"value": "c-2 SUCCESS"}
    finally:
        home.close()
