"""Assert, Echo, Labels and Exit."""

from __future__ import annotations

import pytest

from kflow.flow.validate import parse_flow
from tests.conftest import states


def _run(ex, task_id):
    (run,) = [tr for tr in ex.task_runs if tr.task_id == task_id]
    return run


def test_assert_passes_and_fails_with_counts(run_yaml):
    ex = run_yaml(
        """
        id: a
        namespace: n
        inputs:
          - {id: param, type: STRING, defaults: ok}
        tasks:
          - id: good
            type: io.kestra.plugin.core.execution.Assert
            conditions: ["{{ inputs.param == 'ok' }}", "1"]
          - id: bad
            type: io.kestra.plugin.core.execution.Assert
            errorMessage: "param was {{ inputs.param }}"
            conditions: ["{{ inputs.param == 'ok' }}", "{{ 1 + 1 == 3 }}", "0"]
        """
    )
    assert states(ex) == {"good": "SUCCESS", "bad": "FAILED"}
    bad = _run(ex, "bad")
    assert bad.error == "2 assertions failed!\nparam was ok"
    assert {m["name"]: m["value"] for m in bad.metrics} == {"success": 1, "failed": 2}


def test_echo_logs_and_warns_deprecated(run_yaml):
    text = (
        "id: e\nnamespace: n\ntasks:\n"
        "  - {id: hi, type: io.kestra.core.tasks.debugs.Echo, format: 'hi {{ flow.id }}', level: WARN}\n"
    )
    flow = parse_flow(text)
    assert [w.code for w in flow.warnings] == ["deprecated-type"]
    assert "io.kestra.core.tasks.debugs.Echo is deprecated" in flow.warnings[0].message
    ex = run_yaml(text)
    assert ex.state.current.value == "SUCCESS"
    from kflow.api import open_home

    with open_home() as home:
        logs = [(r.level, r.message) for r in home.store.get_logs(ex.id, "hi")]
    assert logs == [("WARN", "hi e")]


def test_labels_update_the_execution(run_yaml):
    ex = run_yaml(
        """
        id: l
        namespace: n
        labels: {team: a, keep: yes}
        tasks:
          - id: map
            type: io.kestra.plugin.core.execution.Labels
            labels:
              team: "{{ 'b' }}"
              number: 42
          - id: list
            type: io.kestra.core.tasks.executions.Labels
            labels:
              - {key: from_list, value: "{{ labels.team }}"}
          - id: json
            type: io.kestra.plugin.core.execution.Labels
            labels: '{"json": "{{ flow.id }}"}'
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{ labels.team }} {{ labels.number }} {{ labels.from_list }} {{ labels.json }}"
        """
    )
    assert ex.state.current.value == "SUCCESS"
    assert _run(ex, "show").outputs == {"value": "b 42 b l"}
    labels = {item["key"]: item["value"] for item in ex.labels}
    assert labels["team"] == "b" and labels["keep"] == "yes" and labels["json"] == "l"
    from kflow.api import open_home

    with open_home() as home:  # stored with the execution
        stored = {item["key"]: item["value"] for item in home.store.get_execution(ex.id).labels}
    assert {k: v for k, v in stored.items() if not k.startswith("system.")} == {
        "keep": "yes", "team": "b", "number": "42", "from_list": "b", "json": "l",
    }  # fmt: skip


def test_labels_refuse_system_labels(run_yaml):
    ex = run_yaml(
        "id: l\nnamespace: n\ntasks:\n"
        "  - {id: s, type: io.kestra.plugin.core.execution.Labels, labels: {system.x: y}}\n"
    )
    assert _run(ex, "s").error == (
        "System labels can only be set by Kestra itself, offending label: system.x=y"
    )


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("SUCCESS", "SUCCESS"),
        ("WARNING", "WARNING"),
        ("FAILED", "FAILED"),
        ("KILLED", "KILLED"),
        ("CANCELED", "CANCELLED"),
    ],
)
def test_exit_ends_the_execution(run_yaml, state, expected):
    ex = run_yaml(
        f"""
        id: x
        namespace: n
        tasks:
          - id: seq
            type: io.kestra.plugin.core.flow.Sequential
            tasks:
              - id: before
                type: io.kestra.plugin.core.debug.Return
                format: one
              - id: exit
                type: io.kestra.plugin.core.execution.Exit
                state: {state}
              - id: never
                type: io.kestra.plugin.core.debug.Return
                format: two
          - id: after
            type: io.kestra.plugin.core.debug.Return
            format: three
        errors:
          - id: on_error
            type: io.kestra.plugin.core.debug.Return
            format: err
        """
    )
    assert ex.state.current.value == expected
    assert states(ex) == {"seq": expected, "before": "SUCCESS", "exit": expected}


def test_exit_refuses_an_unknown_state():
    with pytest.raises(Exception, match="not supported by kflow"):
        parse_flow(
            "id: x\nnamespace: n\ntasks:\n"
            "  - {id: e, type: io.kestra.plugin.core.execution.Exit, state: PAUSED}\n"
        )


def test_after_execution_still_runs_after_an_exit(run_yaml):
    ex = run_yaml(
        """
        id: x
        namespace: n
        tasks:
          - {id: exit, type: io.kestra.plugin.core.execution.Exit, state: WARNING}
          - {id: never, type: io.kestra.plugin.core.debug.Return, format: two}
        afterExecution:
          - {id: after, type: io.kestra.plugin.core.debug.Return, format: "{{ execution.state }}"}
        """
    )
    assert ex.state.current.value == "WARNING"
    assert states(ex) == {"exit": "WARNING", "after": "SUCCESS"}
    assert _run(ex, "after").outputs == {"value": "WARNING"}
