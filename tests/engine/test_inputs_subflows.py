"""Issue 4 end to end: typed inputs from the command line, flow outputs, subflows, labels,
variables, secrets. Semantics: reference/kestra-semantics.md §2, §3.4, §4.1."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from kflow.cli import app
from kflow.states import State
from tests.conftest import by_task

runner = CliRunner()

TYPED = """
id: typed
namespace: company.team
inputs:
  - {id: s, type: STRING, defaults: hello}
  - {id: i, type: INT, required: false, min: 1, max: 10}
  - {id: f, type: FLOAT, required: false}
  - {id: b, type: BOOLEAN, defaults: false}
  - {id: d, type: DATE, required: false}
  - {id: dt, type: DATETIME, required: false}
  - {id: du, type: DURATION, required: false}
  - {id: j, type: JSON, required: false}
  - {id: a, type: ARRAY, itemType: INT, required: false}
  - {id: e, type: ENUM, values: [A, B], defaults: A}
  - {id: u, type: URI, required: false}
  - {id: m, type: EMAIL, required: false}
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.s }}|{{ inputs.i }}|{{ inputs.b }}|{{ inputs.j.k ?? '-' }}|{{ inputs.a ?? '-' }}|{{ inputs.e }}"
"""


def run_cli(path, *args):
    return runner.invoke(app, ["run", str(path), *args, "--json"])


def test_typed_inputs_reach_expressions_with_their_types(write_flow):
    path = write_flow(TYPED)
    result = run_cli(path, "-i", "i=7", "-i", "b=TRUE", "-i", 'j={"k": 1}', "-i", "a=[1, 2]",
                     "-i", "dt=2024-01-01T10:00:00+01:00", "-i", "du=PT5M6S", "-i", "f=1.5")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["taskRunList"][0]["outputs"]["value"] == "hello|7|true|1|[1,2]|A"
    assert doc["inputs"]["i"] == 7 and doc["inputs"]["b"] is True
    assert doc["inputs"]["dt"] == "2024-01-01T09:00:00Z"
    assert doc["inputs"]["du"] == "PT5M6S" and doc["inputs"]["f"] == 1.5
    assert doc["inputs"]["a"] == [1, 2] and doc["inputs"]["j"] == {"k": 1}


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("i=abc", "Invalid input for `i`"),
        ("i=11", "less than `10`"),
        ("d=2024-13-01", "`d`"),
        ("a=[1, \"x\"]", "Unable to parse array element as `INT`"),
        ("u=http://localhost:8080", "`u`"),
        ("m=not-an-email", "valid email"),
        ("e=C", "must match the values"),
        ("j={bad", "`j`"),
    ],
)
def test_invalid_inputs_refused_before_anything_runs(write_flow, kflow_home, arg, needle):
    path = write_flow(TYPED)
    result = run_cli(path, "-i", arg)
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert result.stdout == ""
    con = sqlite3.connect(kflow_home / "kflow.db")
    assert con.execute("SELECT count(*) FROM executions").fetchone()[0] == 0


def test_several_bad_inputs_one_line_each(write_flow):
    path = write_flow(TYPED)
    result = run_cli(path, "-i", "i=abc", "-i", "m=nope")
    assert result.exit_code == 2
    assert "`i`" in result.output and "`m`" in result.output


def test_inputs_file_and_at_path(write_flow, tmp_path):
    path = write_flow(TYPED)
    (tmp_path / "in.yaml").write_text("i: 3\ns: from-file\n")
    (tmp_path / "s.txt").write_text("from-at")
    result = run_cli(path, "--inputs", str(tmp_path / "in.yaml"))
    assert json.loads(result.stdout)["taskRunList"][0]["outputs"]["value"].startswith("from-file|3|")
    result = run_cli(path, "-i", f"s=@{tmp_path / 's.txt'}")
    assert json.loads(result.stdout)["taskRunList"][0]["outputs"]["value"].startswith("from-at|")


def test_file_input_copied_and_read_back(write_flow, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    path = write_flow(
        """
        id: files
        namespace: company.team
        inputs:
          - {id: data, type: FILE}
        tasks:
          - id: show
            type: io.kestra.plugin.core.debug.Return
            format: "{{ read(inputs.data) }}"
        """
    )
    result = run_cli(path, "-i", f"data=@{data}")
    doc = json.loads(result.stdout)
    uri = doc["inputs"]["data"]
    assert uri == f"kestra:///company/team/files/executions/{doc['id']}/inputs/data/data.csv"
    assert doc["taskRunList"][0]["outputs"]["value"] == "a,b\n1,2\n"


def test_secret_input_never_in_clear(write_flow, kflow_home):
    path = write_flow(
        """
        id: secret
        namespace: company.team
        inputs:
          - {id: token, type: SECRET}
        tasks:
          - id: use
            type: io.kestra.plugin.core.log.Log
            message: "token is {{ inputs.token }}"
          - id: length
            type: io.kestra.plugin.core.debug.Return
            format: "{{ inputs.token | length }}"
        """
    )
    result = run_cli(path, "-i", "token=s3cr3t-value")
    assert result.exit_code == 0, result.output
    assert "s3cr3t-value" not in result.stdout
    doc = json.loads(result.stdout)
    assert doc["taskRunList"][1]["outputs"]["value"] == "12"
    logs = runner.invoke(app, ["logs", "last"]).stdout
    assert "token is ******" in logs and "s3cr3t-value" not in logs
    raw = (kflow_home / "kflow.db").read_bytes()
    for wal in kflow_home.glob("kflow.db*"):
        raw += wal.read_bytes()
    assert b"s3cr3t-value" not in raw


def test_flow_output_typing_and_failure(run_yaml):
    ok = run_yaml(
        """
        id: typed_out
        namespace: company.team
        tasks:
          - {id: n, type: io.kestra.plugin.core.debug.Return, format: "42"}
        outputs:
          - {id: number, type: INT, value: "{{ outputs.n.value }}"}
          - {id: obj, type: JSON, value: '{"a": [1, 2]}'}
        """
    )
    assert ok.outputs == {"number": 42, "obj": {"a": [1, 2]}}
    bad = run_yaml(
        """
        id: bad_out
        namespace: company.team
        tasks:
          - {id: n, type: io.kestra.plugin.core.debug.Return, format: "abc"}
        outputs:
          - {id: number, type: INT, value: "{{ outputs.n.value }}"}
        """,
    )
    assert bad.state.current is State.FAILED
    assert bad.outputs == {}
    assert "number" in bad.error


def test_output_option_prints_raw_value_for_scripts(write_flow):
    path = write_flow(
        """
        id: version
        namespace: company.team
        tasks:
          - {id: v, type: io.kestra.plugin.core.debug.Return, format: "1.2.3"}
        outputs:
          - {id: version, type: STRING, value: "{{ outputs.v.value }}"}
          - {id: data, type: JSON, value: '{"a": 1}'}
        """
    )
    assert runner.invoke(app, ["run", str(path), "--output", "version"]).stdout == "1.2.3\n"
    assert runner.invoke(app, ["run", str(path), "--output", "data"]).stdout == '{"a":1}\n'
    missing = runner.invoke(app, ["run", str(path), "--output", "nope"])
    assert missing.exit_code == 2 and "no output 'nope'" in missing.output


SUB_OK = """
id: child
namespace: company.team
inputs:
  - {id: n, type: INT}
tasks:
  - {id: double, type: io.kestra.plugin.core.debug.Return, format: "{{ inputs.n * 2 }}"}
outputs:
  - {id: result, type: INT, value: "{{ outputs.double.value }}"}
"""

SUB_FAIL = """
id: failing_child
namespace: company.team
tasks:
  - {id: boom, type: io.kestra.plugin.core.execution.Fail, errorMessage: child broke}
"""


def test_subflow_inputs_outputs_and_link(write_flow):
    write_flow(SUB_OK, "flows/child.yml")
    parent = write_flow(
        """
        id: parent
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: child
            inputs:
              n: 21
            labels:
              team: data
          - {id: use, type: io.kestra.plugin.core.debug.Return, format: "{{ outputs.call.outputs.result + 1 }}"}
        """,
        "flows/parent.yml",
    )
    result = run_cli(parent)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    call = doc["taskRunList"][0]["outputs"]
    assert call["state"] == "SUCCESS" and call["outputs"] == {"result": 42}
    assert doc["taskRunList"][1]["outputs"] == {"value": "43"}
    out = json.loads(runner.invoke(app, ["outputs", doc["id"], "--json"]).stdout)
    assert out["subflowExecutions"][0]["id"] == call["executionId"]
    child = json.loads(runner.invoke(app, ["outputs", call["executionId"], "--json"]).stdout)
    assert child["parentExecutionId"] == doc["id"]


@pytest.mark.parametrize(("transmit", "task_state", "flow_state"),
                         [(True, "FAILED", "FAILED"), (False, "SUCCESS", "SUCCESS")])
def test_failing_subflow_with_and_without_transmit_failed(write_flow, transmit, task_state, flow_state):
    write_flow(SUB_FAIL, "flows/failing_child.yml")
    parent = write_flow(
        f"""
        id: parent2
        namespace: company.team
        tasks:
          - id: call
            type: io.kestra.plugin.core.flow.Subflow
            namespace: company.team
            flowId: failing_child
            transmitFailed: {str(transmit).lower()}
        """,
        "flows/parent2.yml",
    )
    result = run_cli(parent)
    doc = json.loads(result.stdout)
    assert doc["state"]["current"] == flow_state
    run = doc["taskRunList"][0]
    assert run["state"]["current"] == task_state
    assert run["outputs"]["state"] == "FAILED"


def test_subflow_refused_inputs_fail_the_task(write_flow):
    write_flow(SUB_OK, "flows/child.yml")
    parent = write_flow(
        """
        id: parent3
        namespace: company.team
        tasks:
          - {id: call, type: io.kestra.plugin.core.flow.Subflow, namespace: company.team, flowId: child}
        """,
        "flows/parent3.yml",
    )
    doc = json.loads(run_cli(parent).stdout)
    assert doc["state"]["current"] == "FAILED"


def test_direct_recursion_refused_and_indirect_recursion_stopped(write_flow):
    direct = write_flow(
        """
        id: selfcall
        namespace: company.team
        tasks:
          - {id: again, type: io.kestra.plugin.core.flow.Subflow, namespace: company.team, flowId: selfcall}
        """,
        "loop/selfcall.yml",
    )
    result = run_cli(direct)
    assert result.exit_code == 2 and "Recursive call to flow [company.team.selfcall]" in result.output
    write_flow(
        """
        id: ping
        namespace: company.team
        tasks:
          - {id: call, type: io.kestra.plugin.core.flow.Subflow, namespace: company.team, flowId: pong}
        """,
        "loop2/ping.yml",
    )
    pong = write_flow(
        """
        id: pong
        namespace: company.team
        tasks:
          - {id: call, type: io.kestra.plugin.core.flow.Subflow, namespace: company.team, flowId: ping}
        """,
        "loop2/pong.yml",
    )
    result = run_cli(pong)
    assert result.exit_code == 1
    assert "depth limit" in runner.invoke(app, ["logs", "last"]).stdout


def test_two_files_defining_one_flow(write_flow):
    write_flow(SUB_OK, "dup/a.yml")
    write_flow(SUB_OK, "dup/b.yml")
    parent = write_flow(
        """
        id: p
        namespace: company.team
        tasks:
          - {id: call, type: io.kestra.plugin.core.flow.Subflow, namespace: company.team, flowId: child, inputs: {n: 1}}
        """,
        "dup/p.yml",
    )
    doc = json.loads(run_cli(parent).stdout)
    run = doc["taskRunList"][0]
    assert run["state"]["current"] == "FAILED"
    assert "a.yml" in run["error"] and "b.yml" in run["error"]


def test_variables_labels_and_label_option(write_flow):
    path = write_flow(
        """
        id: vars
        namespace: company.team
        labels:
          owner: me
        variables:
          greeting: "hi {{ flow.id }}"
        tasks:
          - id: v
            type: io.kestra.plugin.core.debug.Return
            format: "{{ vars.greeting }} / {{ render(vars.greeting) }} / {{ labels.owner }} / {{ labels.env }}"
        """
    )
    result = run_cli(path, "--label", "env=ci")
    doc = json.loads(result.stdout)
    assert doc["taskRunList"][0]["outputs"]["value"] == "hi {{ flow.id }} / hi vars / me / ci"
    keys = [label["key"] for label in doc["labels"]]
    assert keys == ["owner", "env", "system.correlationId"]


def test_inputs_map_to_run_flow_api(run_yaml):
    ex = run_yaml(TYPED, {"i": 2, "a": [3], "b": True})
    assert by_task(ex, "show")[0].outputs["value"] == "hello|2|true|-|[3]|A"
