"""``kflow test``: suites found in folders, their flows by namespace and id, exit codes
0 (all pass), 1 (a case failed or errored), 2 (an invalid suite, with file:line)."""

from __future__ import annotations

import json
import textwrap

import pytest

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
    errorMessage: no network in tests
  - id: greeting
    type: io.kestra.plugin.core.debug.Return
    format: "Hello {{ inputs.name }} {{ outputs.fetch.value }}"
"""

PASSING = """
id: greet_tests
namespace: company.team
flowId: greet
testCases:
  - id: mocked
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      inputs: {name: Kestra}
      tasks:
        - id: fetch
          outputs: {value: from-fixture}
    assertions:
      - value: "{{ outputs.greeting.value }}"
        equalTo: Hello Kestra from-fixture
  - id: fails_as_expected
    type: io.kestra.core.tests.flow.UnitTest
    assertions:
      - value: "{{ execution.state }}"
        equalTo: FAILED
"""

FAILING = """
id: greet_wrong
namespace: company.team
flowId: greet
testCases:
  - id: wrong
    type: io.kestra.core.tests.flow.UnitTest
    fixtures:
      tasks:
        - id: fetch
          outputs: {value: x}
    assertions:
      - value: "{{ outputs.greeting.value }}"
        equalTo: Something else
  - id: broken
    type: io.kestra.core.tests.flow.UnitTest
    assertions:
      - value: "{{ outputs.greeting.value }}"
        isNotNull: true
"""


@pytest.fixture
def project(tmp_path):
    def make(**files: str):
        (tmp_path / "flows").mkdir()
        (tmp_path / "flows" / "greet.yml").write_text(textwrap.dedent(FLOW).lstrip(), "utf-8")
        (tmp_path / "tests").mkdir()
        for name, text in files.items():
            (tmp_path / "tests" / f"{name}.yml").write_text(textwrap.dedent(text).lstrip(), "utf-8")
        return tmp_path

    return make


def test_all_pass_exit_0(cli, project):
    root = project(passing=PASSING)
    proc = cli("test", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "company.team.greet_tests" in proc.stdout
    assert "2 test cases in 1 suite: 2 passed, 0 failed, 0 errored, 0 skipped" in proc.stdout


def test_json_and_failures_exit_1(cli, project):
    root = project(passing=PASSING, failing=FAILING)
    proc = cli("test", "tests", "--flows", "flows", "--json", cwd=root)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["total"] == {"suites": 2, "cases": 4, "passed": 2, "failed": 1, "errors": 1,
                            "skipped": 0}  # fmt: skip
    by_id = {r["testId"]: r for s in doc["suites"] for r in s["results"]}
    assert {s["testSuiteId"]: s["state"] for s in doc["suites"]} == {
        "greet_tests": "SUCCESS", "greet_wrong": "ERROR"}  # fmt: skip
    assert by_id["fails_as_expected"]["executionState"] == "FAILED"
    assert by_id["fails_as_expected"]["state"] == "SUCCESS"
    wrong = by_id["wrong"]
    assert wrong["state"] == "FAILED"
    assert wrong["assertionResults"] == [{
        "operator": "equalTo", "expected": "Something else", "actual": "Hello World x",
        "isSuccess": False, "taskId": None, "description": None,
        "errorMessage": "expected '{{ outputs.greeting.value }}' to equal 'Something else' "
                        "but was 'Hello World x'"}]  # fmt: skip
    broken = by_id["broken"]  # greeting never ran: the lookup fails to render
    assert broken["state"] == "ERROR"
    assert broken["assertionResults"] == []
    assert broken["errors"][0]["message"].startswith("Could not evaluate assertion: `{")


def test_case_filter_and_exitfirst(cli, project):
    root = project(failing=FAILING)
    proc = cli("test", "--case", "broken", "--json", cwd=root)
    assert proc.returncode == 1
    assert [r["testId"] for s in json.loads(proc.stdout)["suites"] for r in s["results"]] == [
        "broken"
    ]
    proc = cli("test", "-x", "--json", cwd=root)
    assert [r["testId"] for s in json.loads(proc.stdout)["suites"] for r in s["results"]] == [
        "wrong"
    ]
    proc = cli("test", "--case", "nope", cwd=root)
    assert proc.returncode == 2
    assert "no test case nope" in proc.stderr


@pytest.mark.parametrize(
    ("suite", "where", "message"),
    [
        (PASSING.replace("flowId: greet", "flowId: other"), "tests/s.yml:3",
         "Invalid TestSuite: Flow with id: 'other' does not exist on Namespace: 'company.team'."),
        ("id: s\nnamespace: company.team\nflowId: greet\ntestCases: []\n", "tests/s.yml:4",
         "Invalid TestSuite: testCases: must not be empty"),
        (PASSING.replace("equalTo: FAILED", "equalsTo: FAILED\n        sameAs: FAILED"), "tests/s.yml:20",
         "Invalid TestSuite: testCases[1].assertions[0]: unknown operator 'sameAs'"),
    ],
)  # fmt: skip
def test_invalid_suite_exit_2(cli, project, suite, where, message):
    root = project(s=suite)
    proc = cli("test", "tests", "--flows", "flows", cwd=root)
    assert proc.returncode == 2
    assert f"{where}" in proc.stderr
    assert message in proc.stderr
    assert proc.stdout == ""  # nothing ran


def test_no_suite_found(cli, tmp_path):
    proc = cli("test", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no test suite found" in proc.stderr


def test_keep_records_executions_in_the_home(cli, project, tmp_path):
    root = project(passing=PASSING)
    home = tmp_path / "home"
    env = {"KFLOW_HOME": str(home)}
    assert cli("test", cwd=root, env=env).returncode == 0
    assert not home.exists()  # a temporary home by default
    assert cli("test", "--keep", cwd=root, env=env).returncode == 0
    listed = cli("executions", "--json", env=env)
    assert len(json.loads(listed.stdout)) == 2
