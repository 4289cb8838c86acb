"""Small conveniences: ``kflow preview`` of a local file or of a task's output file by name,
``kflow inputs FLOW``, and ``kflow run`` warning about inputs the flow does not declare
and saying how to give a missing FILE input."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from kflow.cli import app
from kflow.errors import NotFoundError, UsageError
from kflow.preview import find_output_file, stored_files

runner = CliRunner()

FILES_FLOW = """
id: files
namespace: company.team
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - printf 'city,people\\nParis,2\\nLyon,1\\n' > cities.csv
      - echo hello > note.txt
    outputFiles:
      - cities.csv
      - note.txt
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "no file here"
"""

INPUTS_FLOW = """
id: hello
namespace: company.team
inputs:
  - id: name
    type: STRING
    defaults: World
    description: Who to greet
  - id: color
    type: SELECT
    values: [red, green]
    required: false
  - id: token
    type: SECRET
    defaults: s3cr3t-value
tasks:
  - id: hi
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }}"
"""

FILE_INPUT_FLOW = """
id: takes_file
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: hi
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.data }}"
"""


@pytest.fixture
def files_execution(run_yaml):
    execution = run_yaml(FILES_FLOW)
    assert execution.state.current.value == "SUCCESS"
    return execution


# ---------------------------------------------------------------- preview: local files


def test_preview_local_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    piped = runner.invoke(app, ["preview", str(path)])
    assert piped.exit_code == 0, piped.output
    assert piped.output == "a,b\n1,2\n3,4\n"
    table = runner.invoke(app, ["preview", str(path), "--format", "table", "--rows", "1"])
    assert table.exit_code == 0
    assert "┃ a" in table.output and "1" in table.output and "3" not in table.output
    assert "rows 1–1 of data.csv; more remain: --offset 1" in table.output


def test_preview_relative_local_file(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("line one\nline two\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["preview", "./notes.txt"])
    assert result.exit_code == 0
    assert "line one\nline two" in result.output
    assert runner.invoke(app, ["preview", "notes.txt"]).output == result.output


def test_preview_missing_local_file_says_how_to_name_files(tmp_path):
    result = runner.invoke(app, ["preview", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert "kflow preview EXEC TASK FILE" in result.output
    assert "Traceback" not in result.output


def test_preview_directory_is_refused(tmp_path):
    result = runner.invoke(app, ["preview", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.output


@pytest.mark.parametrize("args", [["a", "b"], ["a", "b", "c", "d"]])
def test_preview_wrong_number_of_arguments(args):
    result = runner.invoke(app, ["preview", *args])
    assert result.exit_code == 2
    assert f"not {len(args)} arguments" in result.output


# ---------------------------------------------------- preview: a task's output file


def test_preview_output_file_by_name(files_execution):
    result = runner.invoke(app, ["preview", "last", "make", "cities.csv"])
    assert result.exit_code == 0, result.output
    assert result.output == "city,people\nParis,2\nLyon,1\n"
    by_prefix = runner.invoke(app, ["preview", files_execution.id[:8], "make", "note.txt"])
    assert by_prefix.exit_code == 0, by_prefix.output
    assert by_prefix.output.strip() == "hello"


def test_preview_output_file_same_as_by_uri(files_execution):
    uri = next(tr for tr in files_execution.task_runs if tr.task_id == "make").outputs[
        "outputFiles"
    ]["cities.csv"]
    by_uri = runner.invoke(app, ["preview", uri, "--format", "table"])
    by_name = runner.invoke(app, ["preview", "last", "make", "cities.csv", "--format", "table"])
    assert by_uri.exit_code == by_name.exit_code == 0
    assert by_uri.output == by_name.output
    assert "Paris" in by_name.output


def test_preview_unknown_file_lists_the_task_files(files_execution):
    result = runner.invoke(app, ["preview", "last", "make", "city.csv"])
    assert result.exit_code == 2
    assert "has no output file 'city.csv'" in result.output
    assert "cities.csv, note.txt" in result.output


def test_preview_task_without_files(files_execution):
    result = runner.invoke(app, ["preview", "last", "say", "x.csv"])
    assert result.exit_code == 2
    assert "it has no output files" in result.output


def test_preview_unknown_task_lists_the_tasks(files_execution):
    result = runner.invoke(app, ["preview", "last", "mkae", "cities.csv"])
    assert result.exit_code == 2
    assert "no run of task 'mkae'" in result.output
    assert "make, say" in result.output


def _execution(*outputs):
    runs = [SimpleNamespace(task_id="t", outputs=o) for o in outputs]
    return SimpleNamespace(id="EX", task_runs=runs)


def test_find_output_file_ambiguous_lists_candidates():
    a = "kestra:///ns/f/executions/EX/tasks/t/RUN1/out.csv"
    b = "kestra:///ns/f/executions/EX/tasks/t/RUN2/out.csv"
    with pytest.raises(UsageError) as info:
        find_output_file(_execution({"uri": a}, {"uri": b}), "t", "out.csv")
    assert info.value.exit_code == 2
    assert a in str(info.value) and b in str(info.value)
    # the same URI seen twice (an output and outputFiles) is one file, not two
    assert (
        find_output_file(_execution({"uri": a, "outputFiles": {"out.csv": a}}), "t", "out.csv") == a
    )


def test_find_output_file_by_key_and_by_unique_prefix():
    uri = "kestra:///ns/f/executions/EX/tasks/t/RUN/2ylorE0Te6DChqNX0IZmXP-report.ion"
    execution = _execution({"uri": uri, "size": 3})
    assert find_output_file(execution, "t", "report.ion") == uri
    assert find_output_file(execution, "t", "uri") == uri
    with pytest.raises(NotFoundError, match="no output file 'size'"):
        find_output_file(execution, "t", "size")


def test_stored_files_walks_nested_outputs():
    uri = "kestra:///a/b.txt"
    assert stored_files({"x": [{"y": uri}, "kestra://not/this"], "n": 1}) == [("y", uri)]


# ------------------------------------------------------------------------ inputs


def test_inputs_table(write_flow):
    path = write_flow(INPUTS_FLOW)
    result = runner.invoke(app, ["inputs", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    for word in ("name", "STRING", "World", "Who to greet", "SELECT (red, green)", "token"):
        assert word in out
    assert "s3cr3t-value" not in out  # a SECRET default is never shown
    assert "******" in out


def test_inputs_json(write_flow):
    result = runner.invoke(app, ["inputs", str(write_flow(INPUTS_FLOW)), "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc == [
        {"id": "name", "type": "STRING", "required": True, "defaults": "World",
         "description": "Who to greet"},
        {"id": "color", "type": "SELECT", "required": False, "description": None,
         "values": ["red", "green"]},
        {"id": "token", "type": "SECRET", "required": True, "defaults": "******",
         "description": None},
    ]  # fmt: skip


def test_inputs_of_a_flow_without_inputs(write_flow):
    path = write_flow(FILES_FLOW)
    assert runner.invoke(app, ["inputs", str(path), "--json"]).output.strip() == "[]"
    result = runner.invoke(app, ["inputs", str(path)])
    assert result.exit_code == 0
    assert "declares no inputs" in result.output


def test_inputs_suggests_a_run_command_for_required_inputs(write_flow):
    result = runner.invoke(app, ["inputs", str(write_flow(FILE_INPUT_FLOW))])
    assert result.exit_code == 0
    assert "-i data=@PATH" in result.output


def test_inputs_of_a_bad_flow(write_flow, tmp_path):
    bad = write_flow("id: [x\n", name="bad.yml")
    result = runner.invoke(app, ["inputs", str(bad)])
    assert result.exit_code == 2
    missing = runner.invoke(app, ["inputs", str(tmp_path / "none.yml")])
    assert missing.exit_code == 2


# ------------------------------------------------------------- run: input warnings


def test_undeclared_input_is_a_warning(write_flow, cli):
    path = write_flow(INPUTS_FLOW)
    proc = cli("run", str(path), "-i", "nmae=Bob")
    assert proc.returncode == 0, proc.stderr
    assert "warning: input 'nmae' is not declared by flow hello: it is ignored" in proc.stderr
    assert "did you mean 'name'?" in proc.stderr
    assert "declared inputs: name, color, token" in proc.stderr


def test_undeclared_input_in_run_json(write_flow, cli):
    path = write_flow(INPUTS_FLOW)
    proc = cli("run", str(path), "-i", "name=Bob", "-i", "zzz=1", "--json")
    assert proc.returncode == 0, proc.stderr
    warnings = json.loads(proc.stdout)["warnings"]
    assert [w["code"] for w in warnings] == ["undeclared-input"]
    assert "'zzz'" in warnings[0]["message"]
    assert "did you mean" not in warnings[0]["hint"]


def test_declared_inputs_give_no_warning(write_flow, cli):
    proc = cli("run", str(write_flow(INPUTS_FLOW)), "-i", "name=Bob", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["warnings"] == []
    assert "warning" not in proc.stderr


def test_missing_file_input_suggests_at_path(write_flow, cli):
    proc = cli("run", str(write_flow(FILE_INPUT_FLOW)))
    assert proc.returncode == 2
    assert "missing required input" in proc.stderr
    assert "hint: give the file with -i data=@PATH" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_string_input_keeps_the_engine_hint(write_flow, cli):
    flow = FILE_INPUT_FLOW.replace("type: FILE", "type: STRING")
    proc = cli("run", str(write_flow(flow)))
    assert proc.returncode == 2
    assert "-i ID=VALUE" in proc.stderr
    assert "@PATH" not in proc.stderr
