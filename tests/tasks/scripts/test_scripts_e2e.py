"""Script tasks through the real engine (``kflow.run_flow``) and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kflow.secrets import is_encrypted


def _run(run_yaml: Any, text: str, inputs: dict[str, Any] | None = None) -> tuple[Any, list]:
    logs: list[tuple[str | None, str, str]] = []

    def on_event(event: Any) -> None:
        if event.kind == "log":
            task_id = event.taskrun.task_id if event.taskrun is not None else None
            logs.append((task_id, event.level, event.message))

    return run_yaml(text, inputs, on_event=on_event), logs


def _task(execution: Any, task_id: str) -> Any:
    (run,) = [tr for tr in execution.task_runs if tr.task_id == task_id]
    return run


BASH_WITH_FILES = """
id: bash_with_files
namespace: company.team

description: This flow shows how to pass files between inputs and tasks in Shell scripts.

inputs:
  - id: file
    type: FILE

tasks:
  - id: rename
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - mv file.tmp output.tmp
    inputFiles:
      file.tmp: "{{ inputs.file }}"
    outputFiles:
      - "*.tmp"
"""


def test_bash_with_files_through_the_engine(run_yaml, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("hello from an uploaded file")
    execution, _ = _run(run_yaml, BASH_WITH_FILES, {"file": str(data)})
    assert execution.state.current.value == "SUCCESS"
    rename = _task(execution, "rename")
    assert rename.outputs["exitCode"] == 0
    assert rename.outputs["vars"] == {}
    assert list(rename.outputs["outputFiles"]) == ["output.tmp"]
    uri = rename.outputs["outputFiles"]["output.tmp"]
    prefix = f"kestra:///company/team/bash-with-files/executions/{execution.id}/tasks/rename/"
    assert uri.startswith(prefix + rename.id + "/")
    assert uri.endswith("-output.tmp")

    from kflow.api import open_home

    with open_home() as home, home.storage.open(uri) as f:
        assert f.read() == b"hello from an uploaded file"


ENCRYPTED = """
id: encryped_output
namespace: company.team

tasks:
  - id: hello
    type: io.kestra.plugin.scripts.shell.Script
    script: |
      echo '::{"outputs":{"plaintext":"plaintext_value"}}::'
      echo '::{"encryptedOutputs":{"encrypted":"my secret value"}}::'

  - id: print
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.hello['vars']['encrypted'] }}"

  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.hello['vars']['encrypted'] == 'my secret value' }}"
"""


def test_encrypted_output_through_the_engine(run_yaml):
    execution, logs = _run(run_yaml, ENCRYPTED)
    assert execution.state.current.value == "SUCCESS"
    hello = _task(execution, "hello")
    assert hello.outputs["vars"]["plaintext"] == "plaintext_value"
    assert is_encrypted(hello.outputs["vars"]["encrypted"])
    assert _task(execution, "check").outputs == {"value": "true"}
    assert not any("my secret value" in message for _, _, message in logs)
    assert ("print", "INFO", "******") in logs


def test_failure_state_and_outputs(run_yaml):
    execution, logs = _run(
        run_yaml,
        """
        id: fails
        namespace: company.team
        tasks:
          - id: bad
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo '::{"outputs":{"before":1}}::'
              - echo "about to fail" >&2
              - exit 4
        """,
    )
    assert execution.state.current.value == "FAILED"
    bad = _task(execution, "bad")
    assert bad.outputs == {"exitCode": 4, "vars": {"before": 1}, "outputFiles": {}}
    assert bad.error.startswith("Command failed with exit code 4")
    assert "about to fail" in bad.error
    assert ("bad", "ERROR", "about to fail") in logs


def test_warning_on_stderr_through_the_engine(run_yaml):
    execution, _ = _run(
        run_yaml,
        """
        id: warns
        namespace: company.team
        tasks:
          - id: noisy
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - echo "a warning" >&2
          - id: quiet
            type: io.kestra.plugin.scripts.shell.Commands
            warningOnStdErr: false
            commands:
              - echo "a warning" >&2
        """,
    )
    assert _task(execution, "noisy").state.current.value == "WARNING"
    assert _task(execution, "quiet").state.current.value == "SUCCESS"
    assert execution.state.current.value == "WARNING"


def test_timeout_kills_the_script(run_yaml):
    execution, _ = _run(
        run_yaml,
        """
        id: slow
        namespace: company.team
        tasks:
          - id: sleepy
            type: io.kestra.plugin.scripts.shell.Commands
            timeout: PT1S
            commands:
              - sleep 60
        """,
    )
    sleepy = _task(execution, "sleepy")
    assert sleepy.state.current.value == "FAILED"
    assert "Timeout" in sleepy.error or "killed" in sleepy.error


def test_outputs_feed_the_next_task(run_yaml, python_home, monkeypatch):
    monkeypatch.setenv("KFLOW_HOME", str(python_home))  # reuse the session's base venv
    execution, logs = _run(
        run_yaml,
        """
        id: chain
        namespace: company.team
        tasks:
          - id: produce
            type: io.kestra.plugin.scripts.python.Script
            outputFiles:
              - out.json
            script: |
              import json
              json.dump({"n": 3}, open("out.json", "w"))
              print('::' + json.dumps({"outputs": {"count": 3}}) + '::')
          - id: consume
            type: io.kestra.plugin.scripts.shell.Commands
            commands:
              - cat {{ outputs.produce.outputFiles['out.json'] }}
              - echo " count={{ outputs.produce.vars.count }}"
        """,
    )
    assert execution.state.current.value == "SUCCESS"
    assert _task(execution, "produce").outputs["vars"] == {"count": 3}
    assert ("consume", "INFO", '{"n": 3} count=3') in logs


def test_bash_with_files_from_the_cli(cli, write_flow, tmp_path):
    flow = write_flow(BASH_WITH_FILES)
    (tmp_path / "data.txt").write_text("hello from the cli")
    proc = cli("run", str(flow), "-i", "file=@data.txt", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    execution = json.loads(proc.stdout)
    (rename,) = execution["taskRunList"]
    assert rename["state"]["current"] == "SUCCESS"
    assert list(rename["outputs"]["outputFiles"]) == ["output.tmp"]
    assert Path(tmp_path / "data.txt").read_text() == "hello from the cli"


TUTORIAL = """
id: getting_started
namespace: company.team

inputs:
  - id: api_url
    type: STRING
    defaults: https://dummyjson.com/products

tasks:
  - id: api
    type: io.kestra.plugin.core.http.Request
    uri: "{{ inputs.api_url }}"

  - id: python
    type: io.kestra.plugin.scripts.python.Script
    containerImage: python:slim
    beforeCommands:
      - pip install polars
    outputFiles:
      - "products.csv"
    script: |
      import polars as pl
      data = {{ outputs.api.body | jq('.products') | first }}
      df = pl.from_dicts(data)
      df.glimpse()
      df.select(["brand", "price"]).write_csv("products.csv")
"""


def test_tutorial_flow_end_to_end(run_yaml, httpserver, python_home, monkeypatch):
    """Seed 001 as written, with the API served from 127.0.0.1 (polars from the index).

    The session's Python home is used so polars is installed once for the whole run.
    """
    monkeypatch.setenv("KFLOW_HOME", str(python_home))
    products = {
        "products": [
            {"id": 1, "brand": "Essence", "price": 9.99, "discounted": True, "tags": None},
            {"id": 2, "brand": "Chanel", "price": 129.5, "discounted": False, "tags": None},
        ],
        "total": 2,
    }
    httpserver.expect_request("/products").respond_with_json(products)
    execution, logs = _run(run_yaml, TUTORIAL, {"api_url": httpserver.url_for("/products")})
    assert execution.state.current.value == "SUCCESS", execution.task_runs[-1].error
    python = _task(execution, "python")
    assert python.outputs["exitCode"] == 0
    uri = python.outputs["outputFiles"]["products.csv"]

    from kflow.api import open_home

    with open_home() as home, home.storage.open(uri) as f:
        assert f.read().decode() == "brand,price\nEssence,9.99\nChanel,129.5\n"
    assert any(task == "python" and level == "WARN" for task, level, _ in logs)
