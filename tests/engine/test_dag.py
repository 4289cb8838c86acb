"""Dag (issue 15): dependsOn edges, load-time refusal of unknown ids and cycles, independent
branches at the same time. Flows from Kestra's core/src/test/resources/flows/valids/dag.yaml
and flows/invalids/dag-{cyclicdependency,notexist-task}.yaml (kestra-io/kestra 58c1ca2d),
asserts from DagTest. Concurrency is shown by a rendezvous, never by timing."""

from __future__ import annotations

import pytest

from kflow.errors import FlowValidationError
from tests.conftest import kflow_cli, states

DAG = """
id: "dag"
namespace: "io.kestra.tests"
tasks:
  - id: dag
    description: "my task"
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: task1
          type: io.kestra.plugin.core.log.Log
          message: "{{ task.id }}"
      - task:
          id: task2
          type: io.kestra.plugin.core.log.Log
          message: "{{ task.id }}"
        dependsOn:
          - task1
      - task:
          id: task3
          type: io.kestra.plugin.core.log.Log
          message: "{{ task.id }}"
        dependsOn:
          - task1
      - task:
          id: task4
          type: io.kestra.plugin.core.log.Log
          message: "{{ task.id }}"
        dependsOn:
          - task2
      - task:
          id: task5
          type: io.kestra.plugin.core.log.Log
          message: "{{ task.id }}"
        dependsOn:
          - task4
          - task3
      - task:
          id: task6
          type: io.kestra.plugin.core.log.Log
          message: "{{ task.id }}"
        dependsOn:
          - task2
          - task3
"""
EDGES = {
    "task2": ["task1"],
    "task3": ["task1"],
    "task4": ["task2"],
    "task5": ["task4", "task3"],
    "task6": ["task2", "task3"],
}

CYCLIC = """
id: "dag-cyclicdependency"
namespace: io.kestra.tests
tasks:
  - id: dag
    description: "my task"
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: task1
          type: io.kestra.plugin.core.log.Log
          message: "1 !"
        dependsOn:
          - task2
      - task:
          id: task2
          type: io.kestra.plugin.core.log.Log
          message: "2 !"
        dependsOn:
          - task1
      - task:
          id: task3
          type: io.kestra.plugin.core.log.Log
          message: "1 !"
        dependsOn:
          - task2
"""

NOT_EXIST = """
id: "dag-notexist-task"
namespace: io.kestra.tests
tasks:
  - id: dag
    description: "my task"
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task:
          id: task1
          type: io.kestra.plugin.core.log.Log
          message: "1 !"
      - task:
          id: task2
          type: io.kestra.plugin.core.log.Log
          message: "2 !"
        dependsOn:
          - taskX
"""


def events(run_yaml, text: str) -> tuple[object, list[tuple[str, str]]]:
    """The execution and its task runs' (task id, state) events in order."""
    seen: list[tuple[str, str]] = []

    def on_event(event):
        if event.kind == "taskrun":
            seen.append((event.taskrun.task_id, event.taskrun.state.current.value))

    ex = run_yaml(text, on_event=on_event)
    return ex, seen


def test_dag_runs_every_task_after_its_dependencies(run_yaml):
    # DagTest.dag: SUCCESS, 7 task runs
    ex, seen = events(run_yaml, DAG)
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 7
    dag = ex.task_runs[0]
    assert {tr.parent_taskrun_id for tr in ex.task_runs[1:]} == {dag.id}
    for task, deps in EDGES.items():
        started = seen.index((task, "RUNNING"))
        for dep in deps:
            assert seen.index((dep, "SUCCESS")) < started, (task, dep)


def test_unknown_dependency_refused_with_location(write_flow):
    # DagTest.dagNotExistTask
    path = write_flow(NOT_EXIST)
    proc = kflow_cli("validate", str(path))
    assert proc.returncode == 2
    assert f"{path}:4:" in proc.stderr
    assert "task 'dag': Not existing task id in dependency: taskX" in proc.stderr


def test_cycle_refused_by_validate_and_run(write_flow, run_yaml):
    # DagTest.dagCyclicDependencies: "Cyclic dependency detected: task1, task2"
    path = write_flow(CYCLIC)
    proc = kflow_cli("validate", str(path))
    assert proc.returncode == 2
    assert f"{path}:4:" in proc.stderr
    assert "Cyclic dependency detected: task1, task2" in proc.stderr
    with pytest.raises(FlowValidationError, match="Cyclic dependency detected: task1, task2"):
        run_yaml(CYCLIC)


def test_bad_entries_are_refused(run_yaml):
    with pytest.raises(FlowValidationError, match="needs a 'task' mapping"):
        run_yaml("""
id: d
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - {id: t, type: io.kestra.plugin.core.log.Log, message: x}
""")
    with pytest.raises(FlowValidationError, match="unknown key 'depends'"):
        run_yaml("""
id: d
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task: {id: t, type: io.kestra.plugin.core.log.Log, message: x}
        depends: [u]
""")


def rendezvous(tmp_path, concurrent: int) -> str:
    """Two independent tasks that each wait for the other to have started: they succeed
    only when they run at the same time (each gives up after ~10 s)."""
    wait = (
        "touch {me}; i=0; while [ ! -f {other} ]; do i=$((i+1)); "
        "[ $i -gt 200 ] && exit 1; sleep 0.05; done"
    )
    a, b = tmp_path / "a", tmp_path / "b"
    return f"""
id: d
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    concurrent: {concurrent}
    tasks:
      - task: {{id: start, type: io.kestra.plugin.core.debug.Return, format: go}}
      - task:
          id: left
          type: io.kestra.plugin.scripts.shell.Commands
          commands: ["{wait.format(me=a, other=b)}"]
        dependsOn: [start]
      - task:
          id: right
          type: io.kestra.plugin.scripts.shell.Commands
          commands: ["{wait.format(me=b, other=a)}"]
        dependsOn: [start]
      - task: {{id: end, type: io.kestra.plugin.core.debug.Return, format: done}}
        dependsOn: [left, right]
"""


def test_independent_branches_run_at_the_same_time(run_yaml, tmp_path):
    ex = run_yaml(rendezvous(tmp_path, 0))
    assert states(ex) == {
        "dag": "SUCCESS", "start": "SUCCESS", "left": "SUCCESS", "right": "SUCCESS",
        "end": "SUCCESS",
    }  # fmt: skip


def test_concurrent_one_runs_one_task_at_a_time(run_yaml):
    ex, seen = events(run_yaml, DAG.replace('description: "my task"', "concurrent: 1"))
    assert ex.state.current.value == "SUCCESS"
    running = peak = 0
    for _task, state in seen:
        if _task == "dag":
            continue
        running += 1 if state == "RUNNING" else -1
        peak = max(peak, running)
    assert peak == 1
    # ties start in declaration order
    order = [task for task, state in seen if state == "RUNNING" and task != "dag"]
    assert order == ["task1", "task2", "task3", "task4", "task5", "task6"]


def test_failure_stops_new_tasks_and_runs_errors(run_yaml):
    ex = run_yaml("""
id: d
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.plugin.core.flow.Dag
    tasks:
      - task: {id: bad, type: io.kestra.plugin.core.execution.Fail}
      - task: {id: next, type: io.kestra.plugin.core.log.Log, message: never}
        dependsOn: [bad]
    errors:
      - {id: on-error, type: io.kestra.plugin.core.log.Log, message: handled}
""")
    assert ex.state.current.value == "FAILED"
    assert states(ex) == {"dag": "FAILED", "bad": "FAILED", "on-error": "SUCCESS"}


def test_allowed_failure_is_a_terminated_dependency(run_yaml):
    ex = run_yaml("""
id: d
namespace: company.team
tasks:
  - id: dag
    type: io.kestra.core.tasks.flows.Dag
    tasks:
      - task: {id: bad, type: io.kestra.plugin.core.execution.Fail, allowFailure: true}
      - task: {id: next, type: io.kestra.plugin.core.log.Log, message: runs}
        dependsOn: [bad]
      - task: {id: off, type: io.kestra.plugin.core.log.Log, message: x, disabled: true}
      - task: {id: after-off, type: io.kestra.plugin.core.log.Log, message: runs}
        dependsOn: [off]
""")
    assert states(ex) == {
        "dag": "WARNING",
        "bad": "WARNING",
        "next": "SUCCESS",
        "after-off": "SUCCESS",
    }
