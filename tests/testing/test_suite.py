"""Reading test suites as Kestra defines them; bad ones say file:line."""

from __future__ import annotations

import textwrap

import pytest

from kflow.states import State
from kflow.testing import SuiteError, TaskFixture, is_suite, load_suite, parse_suite

SUITE = """
id: greet_tests
namespace: company.team
flowId: greet
description: the greeting
testCases:
  - id: mocked
    type: io.kestra.core.tests.flow.UnitTest
    description: mocks fetch
    fixtures:
      inputs: {name: Kestra}
      files:
        data.txt: "hello"
      tasks:
        - id: fetch
          description: no call
        - id: inner
          value: b
          state: WARNING
          outputs: {value: mocked}
      trigger:
        id: hook
        type: io.kestra.plugin.core.trigger.Webhook
        variables: {body: payload}
    assertions:
      - value: "{{ outputs.greeting.value }}"
        equalsTo: Hello
        notEqualTo: Bye
        isNotNull: true
        description: greets
        errorMessage: wrong greeting
  - id: off
    type: io.kestra.core.tests.flow.UnitTest
    disabled: true
    assertions:
      - value: x
        in: []
        equalTo: x
"""


def parse(text: str):
    return parse_suite(textwrap.dedent(text).lstrip("\n"), "suite.yml")


def error(text: str) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        parse(text)
    return info.value


def test_every_key_is_read():
    suite = parse(SUITE)
    assert (suite.id, suite.namespace, suite.flow_id) == ("greet_tests", "company.team", "greet")
    assert suite.description == "the greeting"
    assert suite.disabled is False
    assert suite.path == "suite.yml"
    mocked, off = suite.test_cases
    assert mocked.id == "mocked"
    assert mocked.type == "io.kestra.core.tests.flow.UnitTest"
    assert mocked.description == "mocks fetch"
    assert mocked.line == 6
    fx = mocked.fixtures
    assert fx.inputs == {"name": "Kestra"}
    assert fx.files == {"data.txt": "hello"}
    assert fx.tasks == (
        TaskFixture("fetch", description="no call"),
        TaskFixture("inner", value="b", state=State.WARNING, outputs={"value": "mocked"}),
    )
    assert fx.trigger == {
        "id": "hook",
        "type": "io.kestra.plugin.core.trigger.Webhook",
        "variables": {"body": "payload"},
    }
    (a,) = mocked.assertions
    assert a.value == "{{ outputs.greeting.value }}"
    # Kestra's order; the older equalsTo is read as equalTo
    assert a.checks == (("isNotNull", True), ("equalTo", "Hello"), ("notEqualTo", "Bye"))
    assert (a.description, a.error_message) == ("greets", "wrong greeting")
    assert off.disabled is True
    assert off.assertions[0].checks == (("equalTo", "x"),)  # an empty in: is ignored


def test_fixture_matching_needs_the_same_value():
    assert TaskFixture("t").matches("t", None)
    assert not TaskFixture("t").matches("t", "a")  # inside a loop: no match without value
    assert TaskFixture("t", value="a").matches("t", "a")
    assert not TaskFixture("t", value="a").matches("u", "a")


def test_is_suite():
    assert is_suite({"flowId": "f", "testCases": []})
    assert not is_suite({"id": "f", "namespace": "n", "tasks": []})
    assert not is_suite(["flowId", "testCases"])


def test_load_suite_from_file(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text(textwrap.dedent(SUITE), encoding="utf-8")
    assert load_suite(path).path == str(path)


BASE = """
id: s
namespace: company.team
flowId: f
testCases:
  - id: c
    type: io.kestra.core.tests.flow.UnitTest
    assertions:
"""


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("id: s\nnamespace: a\nflowId: f\ntestCases: []\n", 4, "testCases: must not be empty"),
        (BASE + "      - value: x\n        bogus: 1\n", 9,
         "testCases[0].assertions[0]: unknown operator 'bogus'"),
        (BASE + "      - value: x\n", 8,
         "testCases[0].assertions[0]: at least one actual assertion is required"),
        (BASE + "      - equalTo: x\n", 8, "testCases[0].assertions[0].value: must not be null"),
        (BASE.replace("flow.UnitTest", "flow.Other") + "      - value: x\n        isNull: true\n",
         6, "testCases[0].type: unknown test type 'io.kestra.core.tests.flow.Other'"),
        (BASE.replace("flowId: f", "flowId: 'bad id'") + "      - value: x\n        isNull: true\n",
         3, "flowId: 'bad id' must match"),
        (BASE + "      - value: x\n        in: a\n", 9, "testCases[0].assertions[0].in: must be a list"),
        (BASE.replace("    assertions:\n", "    assertions: []\n"), 7,
         "testCases[0].assertions: must not be empty"),
    ],
)  # fmt: skip
def test_invalid_suites_say_where(text, line, message):
    exc = error(text)
    assert exc.exit_code == 2
    assert exc.path == "suite.yml"
    assert exc.line == line
    assert exc.message.startswith("Invalid TestSuite: " + message), exc.message


def test_unknown_fixture_state():
    text = (
        BASE.replace(
            "    assertions:\n",
            "    fixtures:\n      tasks:\n        - id: t\n          state: GREEN\n    assertions:\n",
        )
        + "      - value: x\n        isNull: false\n"
    )
    exc = error(text)
    assert (
        exc.message
        == "Invalid TestSuite: testCases[0].fixtures.tasks[0].state: unknown state 'GREEN'"
    )
    assert exc.line == 10
