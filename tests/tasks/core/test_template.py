"""flow.Template: a template's tasks, looked up among the flows of --flows."""

from __future__ import annotations

from kflow.flow.validate import parse_flow
from tests.conftest import states

TEMPLATE = """
id: greetings
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: "hello {{ parent.outputs.args.name }}"
  - id: bye
    type: io.kestra.plugin.core.debug.Return
    format: "bye {{ outputs.hello.value }}"
"""

FLOW = """
id: uses_template
namespace: company.team
tasks:
  - id: tpl
    type: io.kestra.core.tasks.flows.Template
    namespace: company.team
    templateId: greetings
    args:
      name: "{{ flow.id }}"
  - id: after
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.bye.value }}"
"""


def _run(ex, task_id):
    (run,) = [tr for tr in ex.task_runs if tr.task_id == task_id]
    return run


def test_template_tasks_run_in_place(write_flow, run_yaml):
    write_flow(TEMPLATE, "templates/greetings.yml")
    ex = run_yaml(FLOW)
    assert states(ex) == {
        "tpl": "SUCCESS",
        "hello": "SUCCESS",
        "bye": "SUCCESS",
        "after": "SUCCESS",
    }
    assert _run(ex, "tpl").outputs == {"args": {"name": "uses_template"}}
    assert _run(ex, "after").outputs == {"value": "bye hello uses_template"}


def test_missing_template_fails_and_warns_deprecated(run_yaml):
    flow = parse_flow(FLOW)
    assert [w.code for w in flow.warnings] == ["deprecated-type"]
    ex = run_yaml(FLOW)
    assert ex.state.current.value == "FAILED"
    assert _run(ex, "tpl").error.startswith(
        "Unable to find template 'company.team.greetings': flow company.team.greetings not found"
    )
