"""log.Fetch and execution.Count read this kflow home's store."""

from __future__ import annotations

from kflow import ion
from kflow.api import open_home


def _run(ex, task_id):
    (run,) = [tr for tr in ex.task_runs if tr.task_id == task_id]
    return run


def _read(uri):
    with open_home() as home, home.storage.open(uri) as fh:
        data = fh.read().decode()
    return [ion.loads(line) for line in data.splitlines()]


FETCH = """
id: get-log
namespace: io.kestra.tests
tasks:
  - id: task-1
    type: io.kestra.plugin.core.log.Log
    message: "first {{ task.id }}"
  - id: task-2
    type: io.kestra.plugin.core.log.Log
    message: second
    level: DEBUG
  - id: task-3
    type: io.kestra.plugin.core.log.Log
    message: third
    level: WARN
  - id: fetch
    type: io.kestra.plugin.core.log.Fetch
  - id: fetch-task
    type: io.kestra.plugin.core.log.Fetch
    tasksId: [task-3, task-1]
    level: DEBUG
  - id: fetch-warn
    type: io.kestra.core.tasks.log.Fetch
    level: WARN
"""


def test_fetch_the_current_execution(run_yaml):
    ex = run_yaml(FETCH)
    assert ex.state.current.value == "SUCCESS"
    fetch = _run(ex, "fetch").outputs
    assert fetch["size"] == 2
    rows = _read(fetch["uri"])
    assert [(r["taskId"], r["level"], r["message"]) for r in rows] == [
        ("task-1", "INFO", "first task-1"),
        ("task-3", "WARN", "third"),
    ]
    assert rows[0]["namespace"] == "io.kestra.tests" and rows[0]["flowId"] == "get-log"
    assert rows[0]["executionId"] == ex.id
    assert _run(ex, "fetch-task").outputs["size"] == 2
    assert [r["taskId"] for r in _read(_run(ex, "fetch-task").outputs["uri"])] == [
        "task-3",
        "task-1",
    ]
    assert _run(ex, "fetch-warn").outputs["size"] == 1


def test_fetch_targeting_rules(run_yaml):
    ex = run_yaml(
        "id: f\nnamespace: n\ntasks:\n"
        "  - {id: bad, type: io.kestra.plugin.core.log.Fetch, namespace: n}\n"
    )
    assert (
        _run(ex, "bad").error
        == "`namespace` and `flowId` should only be set when `executionId` is set."
    )
    first = run_yaml(
        "id: f\nnamespace: n\ntasks:\n  - {id: l, type: io.kestra.plugin.core.log.Log, message: hello}\n"
    )
    ex = run_yaml(
        "id: f\nnamespace: n\ntasks:\n"
        f"  - {{id: other, type: io.kestra.plugin.core.log.Fetch, executionId: {first.id}}}\n"
        f"  - {{id: wrong, type: io.kestra.plugin.core.log.Fetch, executionId: {first.id},"
        " namespace: x, flowId: y}\n"
    )
    assert _run(ex, "other").outputs["size"] == 1
    assert _run(ex, "wrong").outputs["size"] == 0


def test_count_executions(run_yaml):
    ok = "id: counted\nnamespace: company.team\ntasks:\n  - {id: r, type: io.kestra.plugin.core.debug.Return, format: x}\n"
    run_yaml(ok)
    run_yaml(ok)
    run_yaml(
        "id: failing\nnamespace: company.team\ntasks:\n  - {id: f, type: io.kestra.plugin.core.execution.Fail}\n"
    )
    ex = run_yaml(
        """
        id: count
        namespace: other
        tasks:
          - id: flows
            type: io.kestra.plugin.core.execution.Count
            flows:
              - {namespace: company.team, flowId: counted}
              - {namespace: company.team, flowId: never}
            startDate: "{{ now() | dateAdd(-1, 'HOURS') }}"
            expression: "{{ count >= 0 }}"
          - id: success
            type: io.kestra.core.tasks.executions.Counts
            namespaces: [company.team]
            states: [SUCCESS]
            startDate: "{{ now() | dateAdd(-1, 'HOURS') }}"
            expression: "{{ count == 2 }}"
          - id: none
            type: io.kestra.plugin.core.execution.Count
            namespaces: [company.team]
            startDate: "{{ now() | dateAdd(-1, 'HOURS') }}"
            expression: "{{ count == 0 }}"
        """
    )
    assert ex.state.current.value == "SUCCESS"
    assert _run(ex, "flows").outputs == {
        "results": [
            {"namespace": "company.team", "flowId": "counted", "count": 2},
            {"namespace": "company.team", "flowId": "never", "count": 0},
        ],
        "total": 2,
    }
    assert _run(ex, "success").outputs == {
        "results": [{"namespace": "company.team", "flowId": None, "count": 2}],
        "total": 2,
    }
    assert _run(ex, "none").outputs == {"results": [], "total": 0}


def test_count_needs_flows_or_namespaces(run_yaml):
    ex = run_yaml(
        "id: c\nnamespace: n\ntasks:\n"
        "  - {id: c, type: io.kestra.plugin.core.execution.Count, startDate: '2024-01-01T00:00:00Z',"
        " expression: '{{ true }}'}\n"
    )
    assert _run(ex, "c").error == "You must provide a list of flows or namespaces"
