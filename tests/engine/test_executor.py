"""The executor: task order, states, runIf/allowFailure/disabled, errors/finally, outputs
keyed by iteration, flowables, retry and timeout. Semantics from
reference/kestra-semantics.md (§1.2, §1.3, §3.5-3.9, §4.2, §6.5)."""

from __future__ import annotations

import time

from kflow.states import State
from tests.conftest import by_task, states


def test_tasks_run_in_order_and_outputs_feed_later_tasks(run_yaml):
    ex = run_yaml(
        """
        id: chain
        namespace: company.team
        tasks:
          - id: a
            type: io.kestra.plugin.core.debug.Return
            format: "one"
          - id: b
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.a.value }}-two"
          - id: c
            type: io.kestra.plugin.core.log.Log
            message: "{{ outputs.b.value }}"
        """
    )
    assert ex.state.current is State.SUCCESS
    assert [tr.task_id for tr in ex.task_runs] == ["a", "b", "c"]
    assert by_task(ex, "b")[0].outputs == {"value": "one-two"}
    assert by_task(ex, "c")[0].outputs == {}  # Log has no outputs (VoidOutput)
    histories = [h[0].value for h in by_task(ex, "a")[0].state.histories]
    assert histories == ["CREATED", "RUNNING", "SUCCESS"]


def test_failing_task_stops_the_flow(run_yaml):
    ex = run_yaml(
        """
        id: failing
        namespace: company.team
        tasks:
          - id: t1
            type: io.kestra.plugin.core.debug.Return
            format: "{{ missingVar }}"
          - id: t2
            type: io.kestra.plugin.core.debug.Return
            format: Never Happen
        """
    )
    assert ex.state.current is State.FAILED
    assert states(ex) == {"t1": "FAILED"}
    assert "missingVar" in by_task(ex, "t1")[0].error


def test_run_if_false_skips_and_allow_failure_warns_and_disabled_is_absent(run_yaml):
    ex = run_yaml(
        """
        id: flags
        namespace: company.team
        tasks:
          - id: skipped
            type: io.kestra.plugin.core.debug.Return
            format: x
            runIf: "{{ 1 == 2 }}"
          - id: allowed
            type: io.kestra.plugin.core.execution.Fail
            allowFailure: true
          - id: off
            type: io.kestra.plugin.core.debug.Return
            format: y
            disabled: true
          - id: last
            type: io.kestra.plugin.core.debug.Return
            format: "{{ tasks.skipped.state }} {{ tasks.allowed.state }}"
        """
    )
    assert ex.state.current is State.WARNING
    assert states(ex) == {"skipped": "SKIPPED", "allowed": "WARNING", "last": "SUCCESS"}
    assert by_task(ex, "skipped")[0].outputs is None
    assert by_task(ex, "last")[0].outputs == {"value": "SKIPPED WARNING"}


def test_run_if_truthiness_follows_kestra(run_yaml):
    # TruthUtils: only "false", "0", "-0" and "" are false; "False" and "no" are true.
    ex = run_yaml(
        """
        id: truth
        namespace: company.team
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return, format: x, runIf: "false"}
          - {id: b, type: io.kestra.plugin.core.debug.Return, format: x, runIf: "0"}
          - {id: c, type: io.kestra.plugin.core.debug.Return, format: x, runIf: "no"}
          - {id: d, type: io.kestra.plugin.core.debug.Return, format: x, runIf: "False"}
          - {id: e, type: io.kestra.plugin.core.debug.Return, format: x, runIf: ""}
        """
    )
    assert states(ex) == {"a": "SKIPPED", "b": "SKIPPED", "c": "SUCCESS", "d": "SUCCESS", "e": "SKIPPED"}


def test_fail_task_condition_and_message(run_yaml):
    ex = run_yaml(
        """
        id: fail
        namespace: company.team
        tasks:
          - id: no
            type: io.kestra.plugin.core.execution.Fail
            condition: "{{ 1 > 2 }}"
          - id: yes
            type: io.kestra.plugin.core.execution.Fail
            condition: "{{ 2 > 1 }}"
            errorMessage: "stop {{ flow.id }}"
        """
    )
    assert states(ex) == {"no": "SUCCESS", "yes": "FAILED"}
    assert by_task(ex, "yes")[0].error == "Fail on a condition"  # Fail.java
    from kflow.api import open_home

    with open_home() as home:
        messages = [r.message for r in home.store.get_logs(ex.id, "yes")]
    assert "stop fail" in messages


def test_flow_errors_and_finally_run_but_state_stays_failed(run_yaml):
    ex = run_yaml(
        """
        id: handlers
        namespace: company.team
        tasks:
          - id: boom
            type: io.kestra.plugin.core.execution.Fail
        errors:
          - id: on_error
            type: io.kestra.plugin.core.log.Log
            message: "failed: {{ tasks.boom.state }}"
        finally:
          - id: always
            type: io.kestra.plugin.core.debug.Return
            format: done
        """
    )
    assert ex.state.current is State.FAILED
    assert states(ex) == {"boom": "FAILED", "on_error": "SUCCESS", "always": "SUCCESS"}


def test_errors_not_run_when_nothing_failed(run_yaml):
    ex = run_yaml(
        """
        id: no_errors
        namespace: company.team
        tasks:
          - {id: ok, type: io.kestra.plugin.core.debug.Return, format: x}
        errors:
          - {id: on_error, type: io.kestra.plugin.core.debug.Return, format: y}
        """
    )
    assert states(ex) == {"ok": "SUCCESS"}


def test_foreach_outputs_keyed_by_value(run_yaml):
    ex = run_yaml(
        """
        id: loop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["s1", "s2", "s3"]
            tasks:
              - id: sub
                type: io.kestra.plugin.core.debug.Return
                format: "{{ task.id }} > {{ taskrun.value }}"
          - id: use
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.sub.s1.value }}|{{ outputs.sub['s3'].value }}|{{ tasks.sub.s2.state }}"
        """
    )
    assert ex.state.current is State.SUCCESS
    subs = by_task(ex, "sub")
    assert [s.value for s in subs] == ["s1", "s2", "s3"]
    assert all(s.parent_taskrun_id == by_task(ex, "each")[0].id for s in subs)
    assert [s.iteration for s in subs] == [0, 1, 2]
    assert by_task(ex, "use")[0].outputs == {"value": "sub > s1|sub > s3|SUCCESS"}


def test_foreach_object_values_are_compact_json(run_yaml):
    ex = run_yaml(
        """
        id: objects
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values:
              - {"key": "my-key", "value": "my-value"}
              - {"key": "my-complex", "value": {"sub": 1, "bool": true}}
            tasks:
              - id: inner
                type: io.kestra.plugin.core.debug.Return
                format: "{{ fromJson(taskrun.value).key }} > {{ fromJson(taskrun.value).value }}"
        """
    )
    inner = by_task(ex, "inner")
    assert [i.value for i in inner] == [
        '{"key":"my-key","value":"my-value"}',
        '{"key":"my-complex","value":{"sub":1,"bool":true}}',
    ]
    assert [i.outputs["value"] for i in inner] == [
        "my-key > my-value",
        'my-complex > {"sub":1,"bool":true}',
    ]


def test_foreach_values_from_expression_dedup_and_empty(run_yaml):
    ex = run_yaml(
        """
        id: dedup
        namespace: company.team
        variables:
          items: '["a", "b", "a"]'
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ vars.items }}"
            tasks:
              - {id: r, type: io.kestra.plugin.core.debug.Return, format: "{{ taskrun.value }}"}
          - id: none
            type: io.kestra.plugin.core.flow.ForEach
            values: []
            tasks:
              - {id: never, type: io.kestra.plugin.core.debug.Return, format: x}
        """
    )
    assert [r.value for r in by_task(ex, "r")] == ["a", "b"]
    assert states(ex)["none"] == "SUCCESS"
    assert not by_task(ex, "never")


def test_nested_loops_and_sequential_keys(run_yaml):
    ex = run_yaml(
        """
        id: nested
        namespace: company.team
        tasks:
          - id: outer
            type: io.kestra.plugin.core.flow.ForEach
            values: ["a", "b"]
            tasks:
              - id: inner
                type: io.kestra.plugin.core.flow.ForEach
                values: ["1", "2"]
                tasks:
                  - id: t
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{ parents[0].taskrun.value }}{{ taskrun.value }}"
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["v"]
            tasks:
              - id: seq
                type: io.kestra.plugin.core.flow.Sequential
                tasks:
                  - id: first
                    type: io.kestra.plugin.core.debug.Return
                    format: "f-{{ parent.taskrun.value }}"
                  - id: second
                    type: io.kestra.plugin.core.debug.Return
                    format: "{{ outputs.first[parent.taskrun.value].value }}"
          - id: check
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.t['a']['2'].value }} {{ outputs.t.b['1'].value }} {{ outputs.second.v.value }}"
        """
    )
    assert ex.state.current is State.SUCCESS
    assert by_task(ex, "check")[0].outputs == {"value": "a2 b1 f-v"}


def test_current_each_output_inside_foreach(run_yaml):
    ex = run_yaml(
        """
        id: current
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["x", "y"]
            tasks:
              - id: first
                type: io.kestra.plugin.core.debug.Return
                format: "first {{ taskrun.value }}"
              - id: second
                type: io.kestra.plugin.core.debug.Return
                format: "{{ currentEachOutput(outputs.first).value }}"
        """
    )
    assert [s.outputs["value"] for s in by_task(ex, "second")] == ["first x", "first y"]


def test_foreach_failure_stops_later_iterations(run_yaml):
    ex = run_yaml(
        """
        id: stop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["1", "2", "3"]
            tasks:
              - id: check
                type: io.kestra.plugin.core.execution.Fail
                condition: "{{ taskrun.value == '2' }}"
            errors:
              - id: handler
                type: io.kestra.plugin.core.debug.Return
                format: handled
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: never
        """
    )
    assert ex.state.current is State.FAILED
    assert [c.state.current.value for c in by_task(ex, "check")] == ["SUCCESS", "FAILED"]
    assert states(ex)["each"] == "FAILED"
    assert states(ex)["handler"] == "SUCCESS"
    assert "after" not in states(ex)


def test_parallel_runs_children_at_once(run_yaml):
    """Every child sleeps while all the others sleep too: the last to start began before
    the first to end ended (read from the state histories, not from a stopwatch, so a
    loaded machine cannot make this fail)."""
    children = "\n".join(
        f"      - {{id: s{i}, type: io.kestra.plugin.core.flow.Sleep, duration: PT1S}}"
        for i in range(10)
    )
    ex = run_yaml(
        f"""
id: par
namespace: company.team
tasks:
  - id: parallel
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
{children}
"""
    )
    assert ex.state.current is State.SUCCESS
    assert len(by_task(ex, "parallel")) == 1 and len(ex.task_runs) == 11
    sleeps = [tr for tr in ex.task_runs if tr.task_id.startswith("s")]
    running = [next(d for s, d in tr.state.histories if s is State.RUNNING) for tr in sleeps]
    ended = [tr.state.end for tr in sleeps]
    assert max(running) < min(ended)


def test_foreach_concurrency_limit_zero_runs_all_iterations(run_yaml):
    ex = run_yaml(
        """
        id: conc
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["a", "b", "c", "d"]
            concurrencyLimit: 0
            tasks:
              - id: first
                type: io.kestra.plugin.core.debug.Return
                format: "{{ taskrun.value }}1"
              - id: second
                type: io.kestra.plugin.core.debug.Return
                format: "{{ outputs.first[taskrun.value].value }}2"
        """
    )
    assert ex.state.current is State.SUCCESS
    got = sorted(s.outputs["value"] for s in by_task(ex, "second"))
    assert got == ["a12", "b12", "c12", "d12"]


def test_if_and_switch(run_yaml):
    ex = run_yaml(
        """
        id: branches
        namespace: company.team
        tasks:
          - id: check
            type: io.kestra.plugin.core.flow.If
            condition: "{{ 2 > 1 }}"
            then:
              - {id: yes, type: io.kestra.plugin.core.debug.Return, format: "{{ parent.outputs.evaluationResult }}"}
            else:
              - {id: no, type: io.kestra.plugin.core.debug.Return, format: never}
          - id: sw
            type: io.kestra.plugin.core.flow.Switch
            value: "b"
            cases:
              a:
                - {id: case_a, type: io.kestra.plugin.core.debug.Return, format: a}
              b:
                - {id: case_b, type: io.kestra.plugin.core.debug.Return, format: b}
            defaults:
              - {id: other, type: io.kestra.plugin.core.debug.Return, format: d}
          - id: nomatch
            type: io.kestra.plugin.core.flow.Switch
            value: "zzz"
            cases:
              a:
                - {id: case_a2, type: io.kestra.plugin.core.debug.Return, format: a}
        """
    )
    st = states(ex)
    assert st["check"] == "SUCCESS" and st["yes"] == "SUCCESS" and "no" not in st
    assert by_task(ex, "check")[0].outputs == {"evaluationResult": True}
    assert by_task(ex, "yes")[0].outputs == {"value": "true"}
    assert by_task(ex, "sw")[0].outputs == {"value": "b", "defaults": False}
    assert st["case_b"] == "SUCCESS" and "other" not in st
    # Switch with no match and no defaults ends FAILED (FlowableUtils "No task found")
    assert st["nomatch"] == "FAILED"
    assert ex.state.current is State.FAILED


def test_retry_constant_then_success_and_warning_on_retry(run_yaml, tmp_path):
    marker = tmp_path / "count"
    ex = run_yaml(
        """
        id: retry
        namespace: company.team
        tasks:
          - id: flaky
            type: io.kestra.plugin.core.execution.Fail
            condition: "{{ taskrun.attemptsCount < 2 }}"
            retry:
              type: constant
              interval: PT0.01S
              maxAttempt: 5
          - id: always_fails
            type: io.kestra.plugin.core.execution.Fail
            allowFailure: true
            retry:
              type: exponential
              interval: PT0.01S
              maxInterval: PT0.05S
              maxAttempt: 3
        """
    )
    assert not marker.exists()
    flaky = by_task(ex, "flaky")[0]
    assert flaky.state.current is State.SUCCESS
    assert [a.current.value for a in flaky.attempts] == ["FAILED", "FAILED", "SUCCESS"]
    fails = by_task(ex, "always_fails")[0]
    assert len(fails.attempts) == 3
    assert fails.state.current is State.WARNING


def test_timeout_fails_the_task(run_yaml):
    start = time.monotonic()
    ex = run_yaml(
        """
        id: slow
        namespace: company.team
        tasks:
          - id: nap
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT30S
            timeout: PT0.2S
        """
    )
    assert time.monotonic() - start < 10
    nap = by_task(ex, "nap")[0]
    assert nap.state.current is State.FAILED  # WorkerTaskCallable: timeout -> FAILED
    assert "Timeout" in nap.error
    assert ex.state.current is State.FAILED


def test_execution_is_persisted_and_read_back(run_yaml):
    from kflow.api import open_home

    ex = run_yaml(
        """
        id: persisted
        namespace: company.team
        tasks:
          - {id: a, type: io.kestra.plugin.core.debug.Return, format: "x"}
        """
    )
    with open_home() as home:
        back = home.store.get_execution(ex.id)
        last = home.store.get_execution("last")
    assert back.to_dict() == ex.to_dict()
    assert last.id == ex.id


def test_retry_random_and_max_duration(run_yaml):
    ex = run_yaml(
        """
        id: retry_random
        namespace: company.team
        tasks:
          - id: rnd
            type: io.kestra.plugin.core.execution.Fail
            allowFailure: true
            retry:
              type: random
              minInterval: PT0.01S
              maxInterval: PT0.02S
              maxAttempt: 2
          - id: bounded
            type: io.kestra.plugin.core.execution.Fail
            allowFailure: true
            retry:
              type: constant
              interval: PT0.2S
              maxDuration: PT0.3S
        """
    )
    assert len(by_task(ex, "rnd")[0].attempts) == 2
    # 0.2 s between attempts, at most 0.3 s in all: the first retry fits, the second does not
    assert len(by_task(ex, "bounded")[0].attempts) == 2


def test_parallel_concurrent_limit_and_errors_in_flowable(run_yaml):
    ex = run_yaml(
        """
        id: par_limit
        namespace: company.team
        tasks:
          - id: par
            type: io.kestra.plugin.core.flow.Parallel
            concurrent: 2
            tasks:
              - {id: a, type: io.kestra.plugin.core.debug.Return, format: a}
              - {id: b, type: io.kestra.plugin.core.execution.Fail}
              - {id: c, type: io.kestra.plugin.core.debug.Return, format: c}
            errors:
              - {id: on_par_error, type: io.kestra.plugin.core.debug.Return, format: "{{ tasks.b.state }}"}
            finally:
              - {id: par_finally, type: io.kestra.plugin.core.debug.Return, format: fin}
        """
    )
    st = states(ex)
    assert st["par"] == "FAILED" and st["b"] == "FAILED"
    assert by_task(ex, "on_par_error")[0].outputs == {"value": "FAILED"}
    assert st["par_finally"] == "SUCCESS"
    assert ex.state.current is State.FAILED


def test_flow_level_retry_applies_to_tasks_without_one(run_yaml):
    ex = run_yaml(
        """
        id: flow_retry
        namespace: company.team
        retry:
          type: constant
          interval: PT0.01S
          maxAttempt: 3
        tasks:
          - id: flaky
            type: io.kestra.plugin.core.execution.Fail
            condition: "{{ taskrun.attemptsCount < 1 }}"
        """
    )
    assert [a.current.value for a in by_task(ex, "flaky")[0].attempts] == ["FAILED", "SUCCESS"]


def test_retry_on_a_flowable_restarts_its_failing_children(run_yaml):
    # RetryCaseTest.retryFlowable: the child of a retried Sequential reaches attempt 3
    ex = run_yaml(
        """
        id: retry_flowable
        namespace: company.team
        tasks:
          - id: flowable
            type: io.kestra.plugin.core.flow.Sequential
            retry:
              type: constant
              interval: PT0.01S
              maxAttempt: 3
            tasks:
              - id: child
                type: io.kestra.plugin.core.execution.Fail
        """
    )
    assert states(ex) == {"flowable": "FAILED", "child": "FAILED"}
    assert len(by_task(ex, "child")[0].attempts) == 3


def test_allow_failure_block(run_yaml):
    # AllowFailureTest: the failing child stops the block, local errors run, the block and
    # the execution end WARNING, the flow's errors do not run
    ex = run_yaml(
        """
        id: allow_block
        namespace: company.team
        tasks:
          - id: block
            type: io.kestra.plugin.core.flow.AllowFailure
            tasks:
              - {id: ko, type: io.kestra.plugin.core.execution.Fail}
              - {id: never, type: io.kestra.plugin.core.debug.Return, format: x}
            errors:
              - {id: local_error, type: io.kestra.plugin.core.debug.Return, format: handled}
          - {id: after, type: io.kestra.plugin.core.debug.Return, format: y}
        errors:
          - {id: global_error, type: io.kestra.plugin.core.debug.Return, format: z}
        """
    )
    assert states(ex) == {"block": "WARNING", "ko": "FAILED", "local_error": "SUCCESS", "after": "SUCCESS"}
    assert ex.state.current is State.WARNING
