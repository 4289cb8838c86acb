"""Warnings: keys that keep working but have no local meaning. Collected on ``flow.warnings``
with file:line:col, printed on stderr by ``validate`` and ``run``, listed under
``"warnings"`` in ``run --json``, never changing an exit code."""

from __future__ import annotations

import io
import json

import pytest

from kflow.cli.notices import MAX_PRINTED, print_notices
from kflow.errors import FlowValidationError
from kflow.flow.validate import parse_flow
from kflow.notices import Notice

SCHEDULED = """\
id: scheduled
namespace: company.team
concurrency:
  limit: 1
triggers:
  - id: hourly
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 * * * *"
sla:
  - id: late
    type: MAX_DURATION
    duration: PT1H
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi
    workerGroup:
      key: gpu
    logToFile: true
"""


def test_scheduling_keys_are_warnings_with_their_lines():
    flow = parse_flow(SCHEDULED, "flow.yml")
    found = {(w.line, w.column, w.message.split(":")[0]) for w in flow.warnings}
    assert found == {
        (3, 1, "'concurrency' is ignored"),
        (5, 1, "'triggers' is ignored"),
        (9, 1, "'sla' is ignored"),
        (17, 5, "task 'hello'"),
        (19, 5, "task 'hello'"),
    }
    by_line = {w.line: w for w in flow.warnings}
    assert "'workerGroup' is ignored" in by_line[17].message
    assert "'logToFile' is ignored" in by_line[19].message
    assert all(w.path == "flow.yml" and w.code == "ignored-key" for w in flow.warnings)
    assert str(by_line[5]).startswith("flow.yml:5:1: 'triggers' is ignored: ")


@pytest.mark.parametrize(
    ("key", "value"),
    [("listeners", "[]"), ("workerGroup", "{key: a}"), ("tenantId", "main"), ("deleted", "true")],
)
def test_other_flow_keys_without_local_meaning(key, value):
    text = f"id: f\nnamespace: n\n{key}: {value}\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
    (warning,) = parse_flow(text, "flow.yml").warnings
    assert warning.line == 3 and f"'{key}' is ignored" in warning.message


def test_a_flow_without_such_keys_has_no_warnings():
    flow = parse_flow(
        "id: f\nnamespace: n\ndeleted: false\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: m\n    logToFile: false\n"
    )
    assert flow.warnings == ()


def test_plugin_defaults_do_not_repeat_a_warning_per_task():
    flow = parse_flow(
        "id: f\nnamespace: n\npluginDefaults:\n  - type: io.kestra.plugin.core.log.Log\n"
        "    values:\n      logToFile: true\ntasks:\n"
        "  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
        "  - id: b\n    type: io.kestra.plugin.core.log.Log\n    message: m\n    version: 1.0.0\n",
        "flow.yml",
    )
    assert [(w.line, "'version' is ignored" in w.message) for w in flow.warnings] == [(14, True)]


def test_http_logging_options_are_warnings():
    flow = parse_flow(
        "id: f\nnamespace: n\ntasks:\n  - id: r\n    type: io.kestra.plugin.core.http.Request\n"
        "    uri: http://127.0.0.1:1/\n    options:\n      logs: [REQUEST_HEADERS]\n",
        "flow.yml",
    )
    (warning,) = flow.warnings
    assert (warning.line, warning.column) == (8, 7)
    assert "'options.logs' is ignored" in warning.message


def test_checks_that_only_show_a_message_are_a_warning():
    text = (
        'id: f\nnamespace: n\nchecks:\n  - condition: "{{ true }}"\n    message: hi\n'
        "    behavior: CREATE_EXECUTION\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
        "    message: m\n"
    )
    (warning,) = parse_flow(text, "flow.yml").warnings
    assert warning.line == 3 and "'checks' are ignored" in warning.message


def test_checks_that_can_block_an_execution_are_refused():
    text = (
        'id: f\nnamespace: n\nchecks:\n  - condition: "{{ inputs.x > 0 }}"\n    message: hi\n'
        "tasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
    )
    with pytest.raises(FlowValidationError) as info:
        parse_flow(text, "flow.yml")
    assert info.value.line == 3 and "checks" in info.value.message
    assert info.value.hint and "Fail" in info.value.hint


def test_notice_record():
    notice = Notice("m", path="f.yml", line=3, column=1, hint="h", code="ignored-key")
    assert notice.location == "f.yml:3:1" and str(notice) == "f.yml:3:1: m"
    assert notice.to_dict() == {"code": "ignored-key", "message": "m", "path": "f.yml",
                                "line": 3, "column": 1, "hint": "h"}  # fmt: skip
    assert str(Notice("m")) == "m" and Notice("m").location is None


def test_print_notices_plain_lines_with_hints_and_a_cap():
    out = io.StringIO()
    print_notices([Notice("first", path="f.yml", line=2, column=1, hint="do this")], out)
    assert out.getvalue() == "warning: f.yml:2:1: first\n  hint: do this\n"
    out = io.StringIO()
    print_notices([Notice(f"w{i}") for i in range(MAX_PRINTED + 5)], out)
    lines = out.getvalue().splitlines()
    assert len(lines) == MAX_PRINTED + 1
    assert lines[-1] == "warning: ... and 5 more warnings"


def test_validate_prints_warnings_on_stderr_and_exits_0(write_flow, cli):
    path = write_flow(SCHEDULED)
    proc = cli("validate", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "✓" in proc.stdout and "warning:" not in proc.stdout
    assert f"warning: {path}:5:1: 'triggers' is ignored" in proc.stderr
    assert f"warning: {path}:17:5: task 'hello': 'workerGroup' is ignored" in proc.stderr


def test_run_prints_warnings_and_lists_them_in_json(write_flow, cli):
    path = write_flow(SCHEDULED)
    proc = cli("run", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["state"]["current"] == "SUCCESS"
    assert [(w["line"], w["code"]) for w in doc["warnings"]] == [
        (3, "ignored-key"), (5, "ignored-key"), (9, "ignored-key"),
        (17, "ignored-key"), (19, "ignored-key"),
    ]  # fmt: skip
    assert set(doc["warnings"][0]) == {"code", "message", "path", "line", "column", "hint"}
    assert f"warning: {path}:3:1: 'concurrency' is ignored" in proc.stderr


def test_warnings_never_change_the_exit_code_of_a_failed_run(write_flow, cli):
    path = write_flow(
        "id: f\nnamespace: n\ntriggers: []\ntasks:\n  - id: boom\n"
        "    type: io.kestra.plugin.core.execution.Fail\n"
    )
    proc = cli("run", str(path))
    assert proc.returncode == 1
    assert f"warning: {path}:3:1: 'triggers' is ignored" in proc.stderr


def test_run_json_has_an_empty_warnings_list_when_there_are_none(write_flow, cli):
    path = write_flow(
        "id: f\nnamespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: m\n"
    )
    proc = cli("run", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["warnings"] == []
    assert "warning:" not in proc.stderr


def test_subflow_revision_and_schedule_date_are_warnings():
    flow = parse_flow(
        "id: parent\nnamespace: n\ntasks:\n  - id: child\n    type: io.kestra.plugin.core.flow.Subflow\n"
        "    namespace: n\n    flowId: other\n    revision: 3\n    scheduleDate: '2030-01-01T00:00:00Z'\n",
        "flow.yml",
    )
    assert [(w.line, w.message.split(" is ignored")[0]) for w in flow.warnings] == [
        (8, "task 'child': 'revision'"),
        (9, "task 'child': 'scheduleDate'"),
    ]
