"""LoopUntil / WaitFor (issue 15). Flows from Kestra's core/src/test/resources/flows/valids/
waitfor*.yaml (kestra-io/kestra 58c1ca2d), asserts from WaitForCaseTest plus the round count
and ``iterationCount`` the 58c1ca2d executor gives (reference §4)."""

from __future__ import annotations

import pytest

from kflow.errors import FlowValidationError
from kflow.tasks.flow.loop_until import LoopUntil
from tests.conftest import by_task


def rounds(ex, task_id: str) -> list[int]:
    return [tr.iteration for tr in by_task(ex, task_id)]


def counts(ex) -> list[str]:
    return [tr.outputs["values"]["count"] for tr in by_task(ex, "output_values")]


def test_waitfor_stops_when_condition_holds(run_yaml):
    # waitfor.yaml: `count != '4'` is true after round 1
    ex = run_yaml("""
id: waitfor
namespace: io.kestra.tests

tasks:
  - id: waitfor
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.output_values.values.count != '4'}}"
    tasks:
      - id: output_values
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{ outputs.waitfor.iterationCount + 1 }}"
""")
    assert ex.state.current.value == "SUCCESS"
    loop = ex.task_runs[0]
    assert loop.task_type == "io.kestra.plugin.core.flow.LoopUntil"
    assert loop.outputs == {"iterationCount": 2}
    assert counts(ex) == ["2"]


def test_multiple_tasks(run_yaml):
    # waitfor-multiple-tasks.yaml (interval shortened: the flow keeps PT1S by default);
    # WaitForCaseTest: SUCCESS, the last task run's count is "4"
    ex = run_yaml("""
id: waitfor-multiple-tasks
namespace: io.kestra.tests

tasks:
  - id: waitfor
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.output_values.values.count == '4'}}"
    checkFrequency:
      interval: PT0.01S
    tasks:
      - id: echo
        type: io.kestra.core.tasks.log.Log
        message: "looping ... {{ taskrun.iteration }}"
      - id: output_values
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{ outputs.waitfor.iterationCount + 1 }}"
""")
    assert ex.state.current.value == "SUCCESS"
    assert ex.task_runs[-1].outputs["values"]["count"] == "4"
    assert counts(ex) == ["2", "3", "4"]
    assert rounds(ex, "echo") == [1, 2, 3]
    assert rounds(ex, "output_values") == [1, 2, 3]
    assert ex.task_runs[0].outputs == {"iterationCount": 4}


MAX_ITERATIONS = """
id: waitfor-max-iterations
namespace: io.kestra.tests

tasks:
  - id: waitfor
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.output_values.values.count == '10'}}"
    checkFrequency:
      maxIterations: 3
      interval: PT0.01S
    failOnMaxReached: true
    tasks:
      - id: output_values
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{ outputs.waitfor.iterationCount + 1 }}"
"""


def test_max_iterations_fails(run_yaml):
    # waitfor-max-iterations.yaml (interval PT0.2S → PT0.01S): FAILED after 3 rounds
    logs: list[tuple[str, str]] = []

    def on_event(event):
        if event.kind == "log":
            logs.append((event.level, event.message))

    ex = run_yaml(MAX_ITERATIONS, on_event=on_event)
    assert ex.state.current.value == "FAILED"
    assert counts(ex) == ["2", "3", "4"]
    assert ex.task_runs[0].outputs == {"iterationCount": 4}
    assert ("WARN", "Max iterations reached") in logs


def test_max_iterations_without_fail_is_success(run_yaml):
    ex = run_yaml(MAX_ITERATIONS.replace("failOnMaxReached: true", "failOnMaxReached: false"))
    assert ex.state.current.value == "SUCCESS"
    assert counts(ex) == ["2", "3", "4"]


def test_no_success(run_yaml):
    # waitfor-no-success.yaml: the limit (5) is reached before the condition is looked at
    ex = run_yaml("""
id: waitfor-no-success
namespace: io.kestra.tests

tasks:
  - id: waitfor
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.output_values.values.count == '6'}}"
    checkFrequency:
      maxIterations: 5
      interval: PT0.01S
    tasks:
      - id: output_values
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{ outputs.waitfor.iterationCount + 1 }}"
""")
    assert ex.state.current.value == "SUCCESS"
    assert counts(ex) == ["2", "3", "4", "5", "6"]
    assert ex.task_runs[0].outputs == {"iterationCount": 6}


def test_max_duration_fails(run_yaml):
    # waitfor-max-duration.yaml with maxDuration PT5S → PT0.3S, interval PT0.2S → PT0.05S
    ex = run_yaml("""
id: waitfor-max-duration
namespace: io.kestra.tests

tasks:
  - id: waitfor
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.output_values.values.count == '-5'}}"
    checkFrequency:
      maxDuration: PT0.3S
      interval: PT0.05S
    failOnMaxReached: true
    tasks:
      - id: output_values
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{ outputs.waitfor.iterationCount + 1 }}"
""")
    assert ex.state.current.value == "FAILED"
    assert "Max duration reached" in ex.task_runs[0].error


def test_failed_child_ends_the_loop(run_yaml):
    # waitfor-multiple-tasks-failed.yaml: FAILED in round 1, one attempt
    ex = run_yaml("""
id: waitfor-multiple-tasks-failed
namespace: io.kestra.tests

tasks:
  - id: waitfor
    type: io.kestra.plugin.core.flow.WaitFor
    condition: "{{ outputs.output_values.values.count == '6'}}"
    checkFrequency:
      maxIterations: 5
      interval: PT0.01S
    tasks:
      - id: output_values
        type: io.kestra.plugin.core.output.OutputValues
        values:
          count: "{{ outputs.waitfor.iterationCount + 1 }}"
      - id: fail
        type: io.kestra.core.tasks.executions.Fail
""")
    assert ex.state.current.value == "FAILED"
    assert len(ex.task_runs[-1].attempts) == 1
    assert [tr.task_id for tr in ex.task_runs] == ["waitfor", "output_values", "fail"]


def test_loop_until_docs_example(run_yaml):
    # the @Example of LoopUntil.java: stops when return.value is "4", after round 4
    ex = run_yaml("""
id: loop_until
namespace: company.team

tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.LoopUntil
    condition: "{{ outputs.return.value == '4' }}"
    checkFrequency:
      interval: PT0.01S
    tasks:
      - id: return
        type: io.kestra.plugin.core.debug.Return
        format: "{{ outputs.loop.iterationCount }}"
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.loop.iterationCount }} {{ outputs.return.value }}"
""")
    assert ex.state.current.value == "SUCCESS"
    assert [tr.outputs["value"] for tr in by_task(ex, "return")] == ["1", "2", "3", "4"]
    assert by_task(ex, "after")[0].outputs == {"value": "5 4"}


def test_defaults_follow_the_type_name():
    class Ctx:
        def render(self, value, **extra):
            return value

    def frequency(type_name: str):
        from kflow.flow.validate import parse_flow

        flow = parse_flow(f"""
id: f
namespace: company.team
tasks:
  - id: loop
    type: {type_name}
    condition: "true"
    tasks:
      - {{id: r, type: io.kestra.plugin.core.debug.Return, format: x}}
""")
        return LoopUntil(flow.tasks[0])._frequency(Ctx())

    assert frequency("io.kestra.plugin.core.flow.WaitFor") == (100, 3600.0, 1.0)
    assert frequency("io.kestra.core.tasks.flows.WaitFor") == (100, 3600.0, 1.0)
    assert frequency("io.kestra.plugin.core.flow.LoopUntil") == (None, None, 60.0)


def test_bad_check_frequency_is_refused(run_yaml):
    with pytest.raises(FlowValidationError, match="maxIterations"):
        run_yaml("""
id: f
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.LoopUntil
    condition: "true"
    checkFrequency: {maxIterations: 0}
    tasks:
      - {id: r, type: io.kestra.plugin.core.debug.Return, format: x}
""")
