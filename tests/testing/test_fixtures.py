"""Fixtures in the executor: a mocked task does not run; it takes the fixture's state and
rendered outputs (Kestra's handleWorkerTask); inside a loop a fixture needs the value."""

from __future__ import annotations

import textwrap

from kflow.states import State
from kflow.testing import Fixtures, TaskFixture, parse_suite, run_suite

FLOW = """
id: greet
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: World
tasks:
  - id: fetch
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: must not run
  - id: greeting
    type: io.kestra.plugin.core.debug.Return
    format: "Hello {{ inputs.name }} {{ outputs.fetch.value }}"
"""

LOOP = """
id: loop
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "real {{ taskrun.value }}"
"""


def runs(ex, task_id):
    return [tr for tr in ex.task_runs if tr.task_id == task_id]


def test_a_mocked_task_does_not_run(run_yaml):
    fixtures = Fixtures(tasks=(TaskFixture("fetch", outputs={"value": "from {{ inputs.name }}"}),))
    ex = run_yaml(FLOW, {"name": "Kestra"}, fixtures=fixtures)
    assert ex.state.current is State.SUCCESS
    (fetch,) = runs(ex, "fetch")
    assert fetch.state.current is State.SUCCESS
    assert fetch.outputs == {"value": "from Kestra"}
    assert fetch.attempts == []  # never attempted
    assert runs(ex, "greeting")[0].outputs == {"value": "Hello Kestra from Kestra"}


def test_without_fixture_the_task_runs(run_yaml):
    ex = run_yaml(FLOW)
    assert ex.state.current is State.FAILED
    assert runs(ex, "greeting") == []


def test_fixture_state_and_no_outputs(run_yaml):
    ex = run_yaml(FLOW, fixtures=Fixtures(tasks=(TaskFixture("greeting", state=State.WARNING),
                                                 TaskFixture("fetch"))))  # fmt: skip
    assert ex.state.current is State.WARNING
    assert runs(ex, "greeting")[0].state.current is State.WARNING
    assert runs(ex, "fetch")[0].outputs == {}


def test_fixture_failed_state_fails_the_run(run_yaml):
    ex = run_yaml(FLOW, fixtures=Fixtures(tasks=(TaskFixture("fetch", state=State.FAILED),)))
    assert ex.state.current is State.FAILED
    assert runs(ex, "greeting") == []


def test_in_a_loop_a_fixture_needs_the_value(run_yaml):
    fixtures = Fixtures(tasks=(TaskFixture("inner", outputs={"value": "no value"}),
                               TaskFixture("inner", value="b", outputs={"value": "mock b"})))  # fmt: skip
    ex = run_yaml(LOOP, fixtures=fixtures)
    assert ex.state.current is State.SUCCESS
    assert sorted((tr.value, tr.outputs["value"]) for tr in runs(ex, "inner")) == [
        ("a", "real a"), ("b", "mock b"),
    ]  # fmt: skip


def test_a_mocked_flowable_runs_no_children(run_yaml):
    ex = run_yaml(LOOP, fixtures=Fixtures(tasks=(TaskFixture("each", outputs={"n": 2}),)))
    assert ex.state.current is State.SUCCESS
    assert runs(ex, "inner") == []
    assert runs(ex, "each")[0].outputs == {"n": 2}


def test_files_are_stored_and_readable(run_yaml):
    flow = """
    id: files
    namespace: company.team
    tasks:
      - id: readf
        type: io.kestra.plugin.core.debug.Return
        format: "{{ files['data.txt'] }}|{{ read(files['data.txt']) }}"
    """
    ex = run_yaml(flow, fixtures=Fixtures(files={"data.txt": "file content"}))
    uri, content = runs(ex, "readf")[0].outputs["value"].split("|")
    assert uri == f"kestra:///company/team/files/executions/{ex.id}/files/data.txt"
    assert content == "file content"


def test_inputs_and_trigger_fixtures_through_a_suite(write_flow):
    from kflow.api import load_flow, open_home

    flow = load_flow(
        write_flow("""
        id: hook
        namespace: company.team
        inputs:
          - id: n
            type: INT
        tasks:
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{ inputs.n + 1 }} {{ trigger.body }}"
        """)
    )
    suite = parse_suite(
        textwrap.dedent("""
        id: s
        namespace: company.team
        flowId: hook
        testCases:
          - id: c
            type: io.kestra.core.tests.flow.UnitTest
            fixtures:
              inputs: {n: "41"}
              trigger: {id: wh, type: io.kestra.plugin.core.trigger.Webhook, variables: {body: payload}}
            assertions:
              - value: "{{ outputs.show.value }}"
                equalTo: 42 payload
              - value: "{{ trigger.body }}"
                equalTo: payload
          - id: off
            type: io.kestra.core.tests.flow.UnitTest
            disabled: true
            assertions:
              - value: x
                isNull: true
        """)
    )
    with open_home() as home:
        result = run_suite(suite, flow, home)
    assert result.state == "SUCCESS"
    c, off = result.results
    assert c.state == "SUCCESS"
    assert [r.is_success for r in c.assertion_results] == [True, True]
    assert off.state == "SKIPPED"


def test_a_disabled_suite_runs_nothing(write_flow):
    from kflow.api import load_flow, open_home

    flow = load_flow(write_flow(FLOW))
    suite = parse_suite(
        "id: s\nnamespace: company.team\nflowId: greet\ndisabled: true\ntestCases:\n"
        "  - id: c\n    type: io.kestra.core.tests.flow.UnitTest\n"
        "    assertions:\n      - value: x\n        isNull: true\n"
    )
    with open_home() as home:
        result = run_suite(suite, flow, home)
        assert (result.state, result.results) == ("SKIPPED", [])
        assert home.store.list_executions(10) == []


def test_refused_input_fixtures_make_the_case_error(write_flow):
    from kflow.api import load_flow, open_home

    flow = load_flow(write_flow("id: f\nnamespace: company.team\ninputs:\n  - id: n\n    type: INT\n"
                                "tasks:\n  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
                                "    format: x\n"))  # fmt: skip
    suite = parse_suite(
        "id: s\nnamespace: company.team\nflowId: f\ntestCases:\n"
        "  - id: c\n    type: io.kestra.core.tests.flow.UnitTest\n"
        "    fixtures:\n      inputs: {n: abc}\n"
        "    assertions:\n      - value: x\n        isNull: false\n"
    )
    with open_home() as home:
        result = run_suite(suite, flow, home)
    (case,) = result.results
    assert (result.state, case.state, case.execution_id) == ("ERROR", "ERROR", None)
    assert case.errors[0]["message"].startswith("the execution could not start: ")
