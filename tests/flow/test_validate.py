"""Flow loading and validation: every problem with file:line:col, what and how to fix."""

from __future__ import annotations

import pytest

from kflow.errors import FlowSyntaxError, FlowValidationError, NotFoundError
from kflow.flow.validate import load_flow, parse_flow


def problems(text: str) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(text, "flow.yml")
    return [str(p) for p in info.value.problems]


def test_valid_flow_model():
    flow = parse_flow(
        "id: f\nnamespace: company.team\nlabels:\n  env: dev\n  n: 1\nvariables:\n  x: 1\n"
        "tasks:\n  - id: t\n    type: io.kestra.core.tasks.debugs.Return\n    format: x\n",
        "flow.yml",
    )
    assert flow.id == "f" and flow.namespace == "company.team"
    assert flow.labels == {"env": "dev", "n": "1"}
    assert flow.variables == {"x": 1}
    assert flow.tasks[0].type == "io.kestra.plugin.core.debug.Return"  # legacy alias resolved
    assert flow.tasks[0].location.line == 9


def test_yaml_syntax_error_has_position():
    with pytest.raises(FlowSyntaxError) as info:
        parse_flow("id: f\nnamespace: n\ntasks:\n  - id: [unclosed\n", "flow.yml")
    assert str(info.value).startswith("flow.yml:")
    assert info.value.line is not None and info.value.line >= 4


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "a list"), ("just text\n", "a str"), ("42\n", "a int")],
)
def test_not_a_mapping(text, kind):
    with pytest.raises(FlowSyntaxError) as info:
        parse_flow(text, "flow.yml")
    assert kind in info.value.message


def test_empty_file():
    with pytest.raises(FlowSyntaxError, match="empty"):
        parse_flow("", "flow.yml")


def test_missing_required_top_level_keys():
    found = problems("description: nothing\n")
    assert any("missing flow 'id'" in p for p in found)
    assert any("missing 'namespace'" in p for p in found)
    assert any("at least one task" in p for p in found)


def test_bad_ids():
    found = problems(
        "id: 'bad id'\nnamespace: Company\ntasks:\n  - id: a.b\n    type: io.kestra.plugin.core.debug.Return\n"
    )
    assert any("invalid flow id" in p and p.startswith("flow.yml:1:1") for p in found)
    assert any("invalid namespace" in p and p.startswith("flow.yml:2:1") for p in found)
    assert any("invalid task id 'a.b'" in p and p.startswith("flow.yml:4:") for p in found)


def test_duplicate_task_ids_anywhere_in_the_tree():
    found = problems(
        """id: f
namespace: n
tasks:
  - id: a
    type: io.kestra.plugin.core.debug.Return
  - id: seq
    type: io.kestra.plugin.core.flow.Sequential
    tasks:
      - id: a
        type: io.kestra.plugin.core.debug.Return
errors:
  - id: seq
    type: io.kestra.plugin.core.log.Log
    message: x
"""
    )
    assert any("Duplicate task id with name [a] (also at line 4)" in p for p in found)
    assert any(p.startswith("flow.yml:9:") for p in found)
    assert any("Duplicate task id with name [seq]" in p for p in found)


def test_unknown_type_names_close_matches():
    with pytest.raises(FlowValidationError) as info:
        parse_flow(
            "id: f\nnamespace: n\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.debug.Retrun\n",
            "flow.yml",
        )
    err = info.value
    assert "unknown type io.kestra.plugin.core.debug.Retrun" in err.message
    assert "io.kestra.plugin.core.debug.Return" in err.hint
    assert (err.line, err.column) == (5, 5)


def test_missing_type_and_unknown_and_missing_properties():
    found = problems(
        """id: f
namespace: n
tasks:
  - id: notype
  - id: log
    type: io.kestra.plugin.core.log.Log
    mesage: hi
"""
    )
    assert any("task 'notype' is missing its 'type'" in p for p in found)
    assert any("unknown property 'mesage'" in p and p.startswith("flow.yml:7:5") for p in found)
    assert any("missing the required property 'message'" in p for p in found)


def test_unknown_flow_property_suggests():
    found = problems("id: f\nnamespace: n\ntask:\n  - id: a\n")
    assert any("unknown flow property 'task'" in p for p in found)


def test_system_labels_refused():
    found = problems(
        "id: f\nnamespace: n\nlabels:\n  system.x: y\ntasks:\n"
        "  - {id: a, type: io.kestra.plugin.core.debug.Return}\n"
    )
    assert any("System labels can only be set by Kestra itself" in p for p in found)


def test_missing_file():
    with pytest.raises(NotFoundError):
        load_flow("/nonexistent/flow.yml")


def test_dates_stay_strings_and_yes_is_a_string():
    flow = parse_flow(
        "id: f\nnamespace: n\nvariables:\n  d: 2024-01-01\n  y: yes\ntasks:\n"
        "  - {id: a, type: io.kestra.plugin.core.debug.Return}\n"
    )
    assert flow.variables == {"d": "2024-01-01", "y": "yes"}


def test_plugin_defaults_fill_missing_properties():
    flow = parse_flow(
        """id: f
namespace: n
pluginDefaults:
  - type: io.kestra.plugin.core.log.Log
    values:
      level: WARN
      message: default message
  - type: io.kestra.plugin.core.debug
    forced: true
    values:
      format: forced
tasks:
  - {id: a, type: io.kestra.plugin.core.log.Log}
  - {id: b, type: io.kestra.plugin.core.log.Log, message: own}
  - {id: c, type: io.kestra.plugin.core.debug.Return, format: mine}
"""
    )
    a, b, c = flow.tasks
    assert a.props == {"message": "default message", "level": "WARN"}
    assert b.props == {"message": "own", "level": "WARN"}
    assert c.props == {"format": "forced"}
