"""Pause and Resume in the engine: durations and their behaviors, pausing without one,
resuming over the stored task runs (nested flowables, earlier outputs, typed onResume
inputs), the Resume task. Semantics: reference/kestra-core-tasks.md §2 and Kestra's
PauseTest (histories RUNNING, PAUSED, RUNNING, end)."""

from __future__ import annotations

import threading

import pytest

from kflow.api import open_home, resume_execution
from kflow.errors import InputError, UsageError
from kflow.states import State
from tests.conftest import by_task, states


def history(tr) -> list[str]:
    return [s.value for s, _ in tr.state.histories]


def behavior_flow(behavior: str) -> str:
    return f"""
        id: pause_behavior
        namespace: company.team
        tasks:
          - id: pause
            type: io.kestra.plugin.core.flow.Pause
            pauseDuration: PT0.05S
            behavior: {behavior}
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: after
        """


@pytest.mark.parametrize(
    ("behavior", "final", "ran"),
    [
        ("RESUME", "SUCCESS", ["pause", "after"]),
        ("WARN", "WARNING", ["pause", "after"]),
        ("FAIL", "FAILED", ["pause"]),
        ("CANCEL", "CANCELLED", ["pause"]),
    ],
)
def test_pause_duration_behaviors(run_yaml, behavior, final, ran):
    ex = run_yaml(behavior_flow(behavior))
    # Kestra's PauseTest.runDurationWithBehavior: the Pause and the execution end in the
    # behavior's state; FAIL and CANCEL run nothing after it
    assert ex.state.current.value == final
    assert [tr.task_id for tr in ex.task_runs] == ran
    pause = by_task(ex, "pause")[0]
    assert pause.state.current.value == final
    assert history(pause) == ["CREATED", "RUNNING", "PAUSED", "RUNNING", final]
    assert pause.outputs == {}
    assert [s.value for s, _ in ex.state.histories] == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RUNNING",
        final,
    ]


def test_behavior_from_an_expression(run_yaml):
    ex = run_yaml(
        """
        id: pause_behavior_input
        namespace: company.team
        inputs:
          - id: behavior
            type: STRING
            defaults: WARN
        tasks:
          - id: pause
            type: io.kestra.plugin.core.flow.Pause
            pauseDuration: "{{ 'PT0.01S' }}"
            behavior: "{{ inputs.behavior }}"
        """
    )
    assert states(ex) == {"pause": "WARNING"}


def test_deprecated_delay_resumes(run_yaml):
    ex = run_yaml(
        """
        id: pause_delay
        namespace: company.team
        tasks:
          - id: pause
            type: io.kestra.core.tasks.flows.Pause
            delay: PT0.05S
          - id: last
            type: io.kestra.plugin.core.debug.Return
            format: "{{ task.id }} > {{ taskrun.startDate }}"
        """
    )
    assert ex.state.current is State.SUCCESS
    assert history(by_task(ex, "pause")[0]) == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RUNNING",
        "SUCCESS",
    ]
    assert states(ex) == {"pause": "SUCCESS", "last": "SUCCESS"}


def test_timeout_fails_the_pause_and_allow_failure_warns(run_yaml):
    ex = run_yaml(
        """
        id: pause_timeout
        namespace: company.team
        tasks:
          - id: pause
            type: io.kestra.plugin.core.flow.Pause
            timeout: PT0.05S
          - id: never
            type: io.kestra.plugin.core.debug.Return
            format: never
        """
    )
    assert ex.state.current is State.FAILED
    assert history(by_task(ex, "pause")[0]) == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "FAILED"]
    assert states(ex) == {"pause": "FAILED"}
    ex = run_yaml(
        """
        id: pause_timeout_allow_failure
        namespace: company.team
        tasks:
          - id: pause
            type: io.kestra.plugin.core.flow.Pause
            timeout: PT0.05S
            allowFailure: true
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: after
        """
    )
    assert ex.state.current is State.WARNING
    assert states(ex) == {"pause": "WARNING", "after": "SUCCESS"}


APPROVAL = """
    id: approval
    namespace: company.team
    tasks:
      - id: before
        type: io.kestra.plugin.core.debug.Return
        format: prepared
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: ["a", "b"]
        tasks:
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "{{ taskrun.value == 'b' }}"
            then:
              - id: seq
                type: io.kestra.plugin.core.flow.Sequential
                tasks:
                  - id: wait
                    type: io.kestra.plugin.core.flow.Pause
                    onResume:
                      - id: approved
                        type: BOOLEAN
                      - id: count
                        type: INT
                        defaults: 3
                      - id: note
                        type: STRING
                        required: false
                  - id: inner
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{ outputs.wait['b'].onResume.approved }}/{{ outputs.wait['b'].onResume.count }}"
          - id: per_value
            type: io.kestra.plugin.core.debug.Return
            format: "{{ taskrun.value }}"
      - id: last
        type: io.kestra.plugin.core.debug.Return
        format: >-
          {{ outputs.before.value }} {{ outputs.wait['b'].onResume.approved }}
          {{ outputs.wait['b'].onResume.note ?? 'MISSING' }} {{ outputs.per_value['a'].value }}
          {{ outputs.per_value['b'].value }}
    """


def test_pause_without_duration_records_paused_and_resume_goes_on(run_yaml):
    ex = run_yaml(APPROVAL)
    assert ex.state.current is State.PAUSED
    # what ran before the pause, and the flowables around it still RUNNING
    assert states(ex) == {
        "before": "SUCCESS",
        "each": "RUNNING",
        "check": "RUNNING",
        "per_value": "SUCCESS",  # the 'a' iteration (the last run of the id is shown)
        "seq": "RUNNING",
        "wait": "PAUSED",
    }
    with open_home() as home:  # recovery of another process never marks it KILLED
        stored = home.store.get_execution(ex.id)
    assert stored.state.current is State.PAUSED
    assert by_task(stored, "wait")[0].state.current is State.PAUSED

    done = resume_execution(ex.id, {"approved": "true"})
    assert done.id == ex.id
    assert done.state.current is State.SUCCESS
    wait = by_task(done, "wait")[0]
    assert wait.outputs == {"onResume": {"approved": True, "count": 3}}
    assert history(wait) == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]
    assert by_task(done, "inner")[0].outputs == {"value": "true/3"}
    assert by_task(done, "last")[0].outputs == {"value": "prepared true MISSING a b"}
    # every task ran once: the runs before the pause were taken up, not run again
    assert sorted(tr.task_id for tr in done.task_runs) == sorted(
        [
            "before",
            "each",
            "check",
            "per_value",
            "check",
            "seq",
            "wait",
            "inner",
            "per_value",
            "last",
        ]
    )
    assert [s.value for s, _ in done.state.histories] == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RUNNING",
        "SUCCESS",
    ]
    with open_home() as home:
        assert home.store.get_execution(ex.id).state.current is State.SUCCESS


def test_resume_refuses_bad_inputs_and_a_run_that_is_not_paused(run_yaml):
    ex = run_yaml(APPROVAL)
    with pytest.raises(InputError) as refused:
        resume_execution(ex.id, {"count": "many"})
    assert refused.value.problems == [
        "Invalid input for `approved`, missing required input, but received `null`",
        'Invalid input for `count`, For input string: "many", but received `many`',
    ]
    with open_home() as home:  # nothing changed: still paused, still resumable
        assert by_task(home.store.get_execution(ex.id), "wait")[0].state.current is State.PAUSED
    done = resume_execution("last", {"approved": "false", "count": "7", "note": "ok"})
    assert by_task(done, "wait")[0].outputs == {
        "onResume": {"approved": False, "count": 7, "note": "ok"}
    }
    with pytest.raises(UsageError, match="is SUCCESS, not PAUSED: there is nothing to resume"):
        resume_execution(ex.id, {})


def test_two_pauses_pause_twice_and_errors_see_outputs(run_yaml):
    ex = run_yaml(
        """
        id: twice
        namespace: company.team
        tasks:
          - id: first
            type: io.kestra.plugin.core.flow.Pause
          - id: second
            type: io.kestra.plugin.core.flow.Pause
            onResume:
              - id: fail
                type: BOOLEAN
          - id: maybe
            type: io.kestra.plugin.core.execution.Fail
            condition: "{{ outputs.second.onResume.fail }}"
        errors:
          - id: handler
            type: io.kestra.plugin.core.debug.Return
            format: "handled {{ outputs.second.onResume.fail }}"
        """
    )
    assert states(ex) == {"first": "PAUSED"}
    again = resume_execution(ex.id)
    assert again.state.current is State.PAUSED
    assert states(again) == {"first": "SUCCESS", "second": "PAUSED"}
    assert by_task(again, "first")[0].outputs == {}  # no onResume: no outputs
    done = resume_execution(ex.id, {"fail": "true"})
    assert done.state.current is State.FAILED
    assert by_task(done, "handler")[0].outputs == {"value": "handled true"}


def test_duration_pause_resumed_early_by_another_caller(run_yaml):
    """A manual resume before pauseDuration ends SUCCESS whatever the behavior, with
    the onResume values; the waiting run goes on itself."""
    result = {}
    runner = threading.Thread(
        target=lambda: result.setdefault(
            "ex",
            run_yaml(
                """
                id: early
                namespace: company.team
                tasks:
                  - id: pause
                    type: io.kestra.plugin.core.flow.Pause
                    pauseDuration: PT60S
                    behavior: FAIL
                    onResume:
                      - id: who
                        type: STRING
                  - id: after
                    type: io.kestra.plugin.core.debug.Return
                    format: "by {{ outputs.pause.onResume.who }}"
                """
            ),
        )
    )
    runner.start()
    with open_home() as home:
        for _ in range(400):  # until the run is recorded PAUSED
            rows = home.store.list_executions()
            if rows and rows[0].state == "PAUSED":
                break
            threading.Event().wait(0.05)
        handed = resume_execution(rows[0].id, {"who": "me"}, home=home)
    # a process waits on it: it is marked resumed here and goes on there
    assert handed.state.current is State.PAUSED
    runner.join(30)
    ex = result["ex"]
    assert ex.state.current is State.SUCCESS
    assert by_task(ex, "after")[0].outputs == {"value": "by me"}
    assert by_task(ex, "pause")[0].outputs == {"onResume": {"who": "me"}}
    assert history(by_task(ex, "pause")[0]) == [
        "CREATED",
        "RUNNING",
        "PAUSED",
        "RUNNING",
        "SUCCESS",
    ]


def test_resume_task_continues_another_paused_execution(run_yaml):
    paused = run_yaml(
        """
        id: target
        namespace: company.team
        tasks:
          - id: gate
            type: io.kestra.plugin.core.flow.Pause
            onResume:
              - id: level
                type: INT
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: "level {{ outputs.gate.onResume.level }}"
        """
    )
    ex = run_yaml(
        f"""
        id: resumer
        namespace: company.team
        tasks:
          - id: resume
            type: io.kestra.plugin.core.execution.Resume
            executionId: {paused.id}
            namespace: company.team
            flowId: target
            inputs:
              level: "{{{{ 40 + 2 }}}}"
        """
    )
    assert states(ex) == {"resume": "SUCCESS"}
    with open_home() as home:
        target = home.store.get_execution(paused.id)
        logs = [r.message for r in home.store.get_logs(ex.id)]
    assert target.state.current is State.SUCCESS
    assert by_task(target, "after")[0].outputs == {"value": "level 42"}
    assert f"resumed execution {paused.id} and ran it here: it ended SUCCESS" in logs


def test_resume_task_refuses_what_is_not_paused(run_yaml):
    ex = run_yaml(
        """
        id: resumer_self
        namespace: company.team
        tasks:
          - id: resume
            type: io.kestra.plugin.core.execution.Resume
        """
    )
    assert states(ex) == {"resume": "FAILED"}
    assert by_task(ex, "resume")[0].error == f"The execution is not paused: {ex.id} is RUNNING"


def test_pause_without_duration_in_a_subflow_fails(run_yaml, write_flow):
    write_flow(
        """
        id: child
        namespace: company.team
        tasks:
          - id: pause
            type: io.kestra.plugin.core.flow.Pause
        """,
        name="child.yml",
    )
    ex = run_yaml(
        """
        id: parent
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: child
        """
    )
    assert ex.state.current is State.FAILED
    with open_home() as home:
        child = home.store.children(ex.id)[0]
        child_ex = home.store.get_execution(child.id)
    assert child_ex.state.current is State.FAILED
    assert "cannot pause a subflow run" in by_task(child_ex, "pause")[0].error


def test_on_resume_declarations_are_checked_at_load(write_flow):
    from kflow.api import load_flow
    from kflow.errors import FlowError

    path = write_flow(
        """
        id: bad_on_resume
        namespace: company.team
        tasks:
          - id: pause
            type: io.kestra.plugin.core.flow.Pause
            behavior: SOMETIMES
            onResume:
              - id: x
                type: NOPE
        """
    )
    with pytest.raises(FlowError) as err:
        load_flow(path)
    problems = [p.message for p in err.value.problems]
    assert (
        problems[0]
        == "task 'pause': behavior 'SOMETIMES' must be one of RESUME, WARN, CANCEL, FAIL"
    )
    assert problems[1].startswith("task 'pause': onResume: ") and "NOPE" in problems[1]


def test_pause_in_a_parallel_branch_and_a_file_on_resume(run_yaml, tmp_path):
    ex = run_yaml(
        """
        id: parallel_pause
        namespace: company.team
        tasks:
          - id: both
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: gate
                type: io.kestra.plugin.core.flow.Pause
                onResume:
                  - id: data
                    type: FILE
              - id: other
                type: io.kestra.plugin.core.debug.Return
                format: other
          - id: read
            type: io.kestra.plugin.core.debug.Return
            format: "{{ read(outputs.gate.onResume.data) }} {{ outputs.other.value }}"
        """
    )
    assert ex.state.current is State.PAUSED
    data = tmp_path / "data.txt"
    data.write_text("uploaded", encoding="utf-8")
    done = resume_execution(ex.id, {"data": data})
    assert done.state.current is State.SUCCESS
    uri = by_task(done, "gate")[0].outputs["onResume"]["data"]
    assert uri == f"kestra:///company/team/parallel-pause/executions/{ex.id}/inputs/data/data.txt"
    assert by_task(done, "read")[0].outputs == {"value": "uploaded other"}
    # each task ran once, whether `other` ended before the pause or after the resume
    assert sorted(tr.task_id for tr in done.task_runs) == ["both", "gate", "other", "read"]


def test_resume_task_resumes_its_own_execution_paused_in_another_branch(run_yaml):
    ex = run_yaml(
        """
        id: self_resume
        namespace: company.team
        tasks:
          - id: branches
            type: io.kestra.plugin.core.flow.Parallel
            tasks:
              - id: gate
                type: io.kestra.plugin.core.flow.Pause
                pauseDuration: PT60S
                behavior: FAIL
                onResume:
                  - id: by
                    type: STRING
              - id: opener
                type: io.kestra.plugin.core.flow.Sequential
                tasks:
                  - id: until_paused  # the gate pauses at once; this branch waits
                    type: io.kestra.plugin.core.flow.Sleep
                    duration: PT1S
                  - id: open
                    type: io.kestra.plugin.core.execution.Resume
                    inputs:
                      by: "{{ task.id }}"
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: "opened by {{ outputs.gate.onResume.by }}"
        """
    )
    assert ex.state.current is State.SUCCESS
    assert states(ex)["gate"] == "SUCCESS"  # resumed before its duration: not FAIL
    assert by_task(ex, "after")[0].outputs == {"value": "opened by open"}
