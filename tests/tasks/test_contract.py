"""The plugin contract: declared outputs, `kflow plugins TYPE`, the validate warning about
an output a task never produces, and outputs converted once to JSON values."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from kflow.cli import app
from kflow.errors import TaskError
from kflow.flow.validate import check_expressions, parse_flow
from kflow.jsonvalues import to_json_outputs
from kflow.states import State
from kflow.tasks import registry
from kflow.tasks.base import Output, Prop, RunContext, Task

RETURN = "io.kestra.plugin.core.debug.Return"


@pytest.mark.parametrize("name", sorted(registry.BUILTINS))
def test_every_builtin_declares_its_outputs(name: str) -> None:
    cls = registry.lookup(name)
    assert cls is not None and cls.outputs is not None
    assert all(isinstance(o, Output) and o.type and o.doc for o in cls.outputs.values())


def test_return_declares_value() -> None:
    cls = registry.lookup(RETURN)
    assert cls is not None and cls.outputs is not None
    assert list(cls.outputs) == ["value"] and cls.outputs["value"].type == "STRING"
    assert not cls.dynamic_outputs


def test_old_plugin_interface_names_still_import() -> None:
    from kflow.engine.execution import Execution, TaskRun
    from kflow.records import Execution as RecordExecution
    from kflow.tasks.base import BUILTINS, lookup, register  # moved to kflow.tasks.registry

    assert Execution is RecordExecution and TaskRun is not None
    assert BUILTINS is registry.BUILTINS and lookup is registry.lookup
    assert register is registry.register


def test_plugins_type_prints_properties_and_outputs() -> None:
    result = CliRunner().invoke(app, ["plugins", RETURN])
    assert result.exit_code == 0, result.output
    assert "format (string): the text to render into `value`" in result.output
    assert "value (STRING): The rendered `format`" in result.output
    doc = json.loads(CliRunner().invoke(app, ["plugins", RETURN, "--json"]).output)
    assert doc["outputs"] == [
        {"name": "value", "type": "STRING", "dynamic": False,
         "doc": "The rendered `format`; absent when `format` is null"}
    ]  # fmt: skip
    assert doc["properties"][0]["name"] == "format" and doc["dynamicOutputs"] is False


def test_plugins_unknown_type_is_an_error() -> None:
    result = CliRunner().invoke(app, ["plugins", "com.example.Nope"])
    assert result.exit_code == 2
    assert "no task type 'com.example.Nope'" in result.output


FLOW = """\
id: f
namespace: company.team
tasks:
  - id: t
    type: io.kestra.plugin.core.debug.Return
    format: hi
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
  - id: vals
    type: io.kestra.plugin.core.output.OutputValues
    values: {a: 1}
  - id: use
    type: io.kestra.plugin.core.log.Log
    message: "MESSAGE"
"""


def _warnings(message: str) -> list[str]:
    flow = parse_flow(FLOW.replace("MESSAGE", message), "flow.yml", check_templates=True)
    return [w.message for w in flow.warnings if w.code == "undeclared-output"]


def test_validate_warns_about_an_output_a_task_never_produces() -> None:
    (warning,) = _warnings("{{ outputs.t.nope }}")
    assert "task 't'" in warning and "has no output 'nope'" in warning
    (warning,) = _warnings("{{ outputs['t'].vlaue }}")
    assert "'vlaue'" in warning


def test_the_run_warns_too_and_validate_keeps_the_flow_valid() -> None:
    flow = parse_flow(FLOW.replace("MESSAGE", "{{ outputs.t.nope }}"), "flow.yml")
    (notice,) = check_expressions(flow)
    assert notice.code == "undeclared-output" and notice.line == 19
    assert notice.hint is not None and RETURN in notice.hint


@pytest.mark.parametrize(
    "message",
    [
        "{{ outputs.t.value }}",
        "{{ outputs.t.nope ?? 'x' }}",
        "{{ outputs.t.nope ??? 'x' }}",
        "{{ outputs.t.nope | default('x') }}",
        "{{ outputs.t.nope is defined }}",
        "{{ outputs.t.nope is defined ? outputs.t.nope : 'x' }}",
        "{{ outputs.t }}",
        "{{ outputs.vals.values.anything }}",  # OutputValues: the flow decides the keys
        "{{ outputs.inner['a'].value }}",  # iteration key first
        "{{ outputs.inner[taskrun.value].value }}",
        "{{ outputs.inner.a }}",  # `a` is an iteration value here
        "{{ outputs.missing_task.x }}",
        "{% set outputs = {'t': {'nope': 1}} %}{{ outputs.t.nope }}",
    ],
)
def test_no_warning_when_kestra_runs_it(message: str) -> None:
    assert _warnings(message) == []


def test_iteration_keys_are_skipped_before_the_output_name() -> None:
    (warning,) = _warnings("{{ outputs.inner['a'].bad }}")
    assert "task 'inner'" in warning and "'bad'" in warning
    assert len(_warnings("{{ outputs.inner[taskrun.value].bad }}")) == 1


def test_outputs_convert_as_jackson_writes_them() -> None:
    out = to_json_outputs(
        {
            "when": datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
            "there": datetime(2024, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1))),
            "local": datetime(2024, 1, 2, 3, 4, 5, 500000),
            "day": date(2024, 1, 2),
            "at": time(10, 0),
            "price": Decimal("1.50"),
            "count": Decimal("12"),
            "blob": b"\x00\xffhi",
            "pair": (1, "a"),
            "took": timedelta(seconds=90),
            "state": State.SUCCESS,
            "nested": {"list": [Decimal("0.1"), {"d": date(2020, 2, 29)}], 1: True},
        }
    )
    assert out == {
        "when": "2024-01-02T03:04:05.120Z",
        "there": "2024-01-02T03:04:05Z",
        "local": "2024-01-02T03:04:05.5",
        "day": "2024-01-02",
        "at": "10:00:00",
        "price": 1.5,
        "count": 12,
        "blob": base64.b64encode(b"\x00\xffhi").decode(),
        "pair": [1, "a"],
        "took": 90,
        "state": "SUCCESS",
        "nested": {"list": [0.1, {"d": "2020-02-29"}], "1": True},
    }
    json.dumps(out, allow_nan=False)  # plain JSON all the way down


def test_plain_outputs_are_not_copied() -> None:
    outputs = {"value": "x", "n": [1, 2.5, None, True], "m": {"a": "b"}}
    assert to_json_outputs(outputs) is outputs


def test_unknown_type_fails_naming_the_key() -> None:
    with pytest.raises(TaskError, match=r"output 'rows\[1\]\.obj' is a builtins\.object value"):
        to_json_outputs({"rows": [{}, {"obj": object()}]})


class _Odd(Task):
    type = "com.example.contract.Odd"
    properties = {"what": Prop(kind="string")}
    outputs = {"when": Output("DATETIME", "A date"), "odd": Output("OBJECT", "No JSON form")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        if self.prop("what") == "odd":
            return {"when": date(2024, 5, 6), "odd": object()}
        return {"when": date(2024, 5, 6), "raw": b"ab"}


def test_a_task_run_ends_with_json_outputs_or_fails_naming_the_key(run_yaml) -> None:
    registry.register(_Odd)
    ok = run_yaml(
        "id: o\nnamespace: n\ntasks:\n"
        "  - {id: a, type: com.example.contract.Odd}\n"
        "  - {id: b, type: io.kestra.plugin.core.debug.Return, format: '{{ outputs.a.when }}'}\n"
    )
    assert ok.task_runs[0].outputs == {"when": "2024-05-06", "raw": "YWI="}
    assert ok.task_runs[1].outputs == {"value": "2024-05-06"}
    bad = run_yaml("id: o\nnamespace: n\ntasks:\n  - {id: a, type: com.example.contract.Odd, "
                   "what: odd}\n", )  # fmt: skip
    run = bad.task_runs[0]
    assert run.state.current is State.FAILED and bad.state.current is State.FAILED
    assert run.error is not None and "output 'odd'" in run.error


class _Typed(Task):
    type = "com.example.contract.Typed"
    properties = {"on": Prop(kind="bool"), "items": Prop(kind="list"), "text": Prop()}
    outputs = {
        "on": Output("BOOLEAN", "The flag"),
        "items": Output("ARRAY", "The list"),
        "text": Output("STRING", "The text"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"on": self.flag(ctx, "on"), "items": self.string_list(ctx, "items"),
                "text": self.rendered(ctx, "text")}  # fmt: skip


def test_typed_property_helpers_serve_every_task(run_yaml) -> None:
    registry.register(_Typed)
    ex = run_yaml(
        "id: o\nnamespace: n\ntasks:\n"
        '  - {id: a, type: com.example.contract.Typed, on: "{{ 1 == 1 }}",'
        " items: '{{ [1, \"b\"] }}', text: '{{ flow.id }}'}\n"
    )
    assert ex.task_runs[0].outputs == {"on": True, "items": ["1", "b"], "text": "o"}
