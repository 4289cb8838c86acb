"""A missing ``outputs...`` path says why (issue 11, item 2): Pebble's message stays first
(``Unable to find `outputs.t.vlaue` used in the expression ... at line 1``), then kflow adds
what the ``outputs`` and ``tasks`` maps of the context show: the task's output names (did
you mean...), a SKIPPED task (use ``??``), outputs keyed by iteration values (listed)."""

from __future__ import annotations

from typing import Any

import pytest

from kflow import expr
from kflow.errors import UndefinedVariableError
from kflow.expr.runtime import explain_undefined

CONTEXT: dict[str, Any] = {
    "outputs": {
        "t": {"value": "hello", "meta": {"size": 3}},
        "inner": {"a": {"value": "A"}, "b": {"value": "B"}},
    },
    "tasks": {
        "t": {"state": "SUCCESS"},
        "s": {"state": "SKIPPED"},
        "broken": {"state": "FAILED"},
        "inner": {"a": {"state": "SUCCESS"}, "b": {"state": "SUCCESS"}},
    },
}


def fails(template: str, context: dict[str, Any] | None = None) -> UndefinedVariableError:
    with pytest.raises(UndefinedVariableError) as info:
        expr.render(template, CONTEXT if context is None else context)
    return info.value


def test_misspelt_output_name_lists_the_names_and_suggests_one() -> None:
    err = fails("{{ outputs.t.vlaue }}")
    assert err.message == (
        "Unable to find `outputs.t.vlaue` used in the expression `{{ outputs.t.vlaue }}` at "
        "line 1: task 't' has outputs: value, meta (did you mean value?)"
    )
    assert err.hint == "did you mean value?"
    assert err.exit_code == 2


def test_nested_key_lists_the_keys_of_its_map() -> None:
    err = fails("{{ outputs.t.meta.sise }}")
    assert err.message.endswith("`outputs.t.meta` has keys: size (did you mean size?)")


def test_bracket_paths_are_understood() -> None:
    err = fails("{{ outputs['t']['vlaue'] }}")
    assert "task 't' has outputs: value, meta" in err.message


def test_skipped_task_says_so_and_suggests_coalescing() -> None:
    err = fails("{{ outputs.s.value }}")
    assert err.message.startswith(
        "Unable to find `outputs.s` used in the expression `{{ outputs.s.value }}` at line 1: "
        "task 's' was SKIPPED"
    )
    assert "??" in err.message
    assert err.hint and "outputs.s.<output> ?? 'none'" in err.hint
    # and the advice works: ?? swallows the missing output (as in Pebble)
    assert expr.render("{{ outputs.s.value ?? 'none' }}", CONTEXT) == "none"


def test_iterated_task_outputs_are_keyed_by_the_iteration_values() -> None:
    err = fails("{{ outputs.inner.value }}")
    assert "task 'inner' ran once per iteration value" in err.message
    assert "'a', 'b'" in err.message
    assert "outputs.inner['a'].value" in err.message
    assert "outputs.inner[taskrun.value].value" in (err.hint or "")
    assert expr.render("{{ outputs.inner['a'].value }}", CONTEXT) == "A"


def test_task_that_failed_without_outputs() -> None:
    err = fails("{{ outputs.broken.value }}")
    assert "task 'broken' ended FAILED without outputs" in err.message


def test_task_still_running_has_no_outputs_yet() -> None:
    err = fails("{{ outputs.p.value }}", {"outputs": {}, "tasks": {"p": {"state": "RUNNING"}}})
    assert "task 'p' has not finished (it is RUNNING), so it has no outputs yet" in err.message


def test_unknown_task_lists_tasks_with_outputs_and_close_ids() -> None:
    err = fails("{{ outputs.tt.value }}", {"outputs": {"tt1": {}}, "tasks": {}})
    assert "no task 'tt' has outputs here (tasks with outputs so far: tt1)" in err.message
    assert err.hint == "did you mean outputs.tt1?"
    err = fails("{{ outputs.zzz.value }}")
    assert "no task 'zzz' has outputs here (tasks with outputs so far: t, inner)" in err.message


def test_other_paths_keep_pebble_message_and_generic_hint() -> None:
    err = fails("{{ vars.x }}", {"vars": {}})
    assert err.message == "Unable to find `vars.x` used in the expression `{{ vars.x }}` at line 1"
    assert err.hint and "default" in err.hint


@pytest.mark.parametrize(
    "missing",
    ["outputs", "outputs.t.value.x", "outputs[x].y", "inputs.a", "outputs.t.value.length()"],
)
def test_explain_undefined_does_not_guess(missing: str) -> None:
    assert explain_undefined(missing, CONTEXT) is None


def test_a_skipped_task_fails_the_next_with_the_hint_in_its_error(run_yaml) -> None:
    execution = run_yaml(
        """
        id: f
        namespace: company.team
        tasks:
          - id: s
            type: io.kestra.plugin.core.debug.Return
            runIf: "{{ false }}"
            format: never
          - id: uses
            type: io.kestra.plugin.core.debug.Return
            format: "{{ outputs.s.value }}"
        """
    )
    (run,) = [tr for tr in execution.task_runs if tr.task_id == "uses"]
    assert run.state.current.value == "FAILED"
    assert run.error and run.error.startswith("Unable to find `outputs.s`"), run.error
    assert "task 's' was SKIPPED" in run.error
