"""Encrypted values and secrets on the command line.

``kflow eval --exec`` keeps SECRET inputs and encrypted outputs encrypted, as Kestra's Debug
Expression does (ExecutionControllerTest.evalKeepEncryptedValues); ``--decrypt`` shows them
with a warning. ``secret()`` values are masked in log lines (printed and stored) and in
error messages, while task outputs and ``--json`` keep what the task produced.
"""

from __future__ import annotations

import base64
import json

import pytest
from typer.testing import CliRunner

from kflow.cli import app
from kflow.secrets import ENCRYPTED_TYPE, MASK, decrypt

runner = CliRunner()

SECRET_INPUT = """
id: secret_input
namespace: company.team
inputs:
  - id: pw
    type: SECRET
tasks:
  - id: check
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    env:
      PW: "{{ inputs.pw }}"
    commands:
      - 'if [ "$PW" = "hunter2-pw" ]; then SAME=true; else SAME=false; fi'
      - 'echo "::{\\"outputs\\":{\\"same\\":$SAME}}::"'
      - echo '::{"encryptedOutputs":{"token":"tok-0451"}}::'
outputs:
  - id: pw_out
    type: SECRET
    value: "{{ inputs.pw }}"
"""

USES_SECRET = """
id: uses_secret
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "the api key is {{ secret('API_KEY') }}"
  - id: keep
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('API_KEY') }}"
"""

API_KEY = "sk-live-7f3a9c"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def secret_run(write_flow):
    """A run of SECRET_INPUT (pw=hunter2-pw), as `run --json` shows it."""
    result = invoke("run", str(write_flow(SECRET_INPUT)), "-i", "pw=hunter2-pw", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def check_outputs(doc):
    return next(r["outputs"] for r in doc["taskRunList"] if r["taskId"] == "check")


def test_task_gets_the_plain_secret_input(secret_run):
    assert check_outputs(secret_run)["vars"]["same"] is True
    assert "hunter2-pw" not in json.dumps(secret_run)


@pytest.mark.parametrize(
    ("expression", "stored"),
    [
        ("{{ inputs.pw }}", lambda doc: doc["inputs"]["pw"]),
        ("{{ outputs.check.vars.token }}", lambda doc: check_outputs(doc)["vars"]["token"]),
        ("{{ execution.outputs.pw_out }}", lambda doc: doc["outputs"]["pw_out"]),
    ],
)
def test_eval_keeps_encrypted_values_encrypted(secret_run, expression, stored):
    result = invoke("eval", "--exec", "last", expression)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["type"] == ENCRYPTED_TYPE and shown["value"]
    assert shown == stored(secret_run)
    assert "hunter2-pw" not in result.stdout and "tok-0451" not in result.stdout
    assert result.stderr == ""


def test_eval_json_keeps_encrypted_values_encrypted(secret_run):
    result = invoke("eval", "--exec", "last", "{{ inputs.pw }}", "--json")
    doc = json.loads(result.stdout)
    assert json.loads(doc["result"]) == secret_run["inputs"]["pw"]


def test_decrypt_shows_plaintext_with_a_warning(secret_run):
    result = invoke(
        "eval", "--exec", "last", "--decrypt",
        "{{ inputs.pw }}|{{ outputs.check.vars.token }}|{{ execution.outputs.pw_out }}",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "hunter2-pw|tok-0451|hunter2-pw\n"
    assert "warning:" in result.stderr and "clear text" in result.stderr


def test_decrypt_applies_to_a_context_file(secret_run, tmp_path):
    ctx = tmp_path / "run.json"
    ctx.write_text(json.dumps(secret_run))
    plain = invoke("eval", "--context", str(ctx), "--decrypt", "{{ inputs.pw }}")
    assert plain.exit_code == 0 and plain.stdout == "hunter2-pw\n"
    kept = invoke("eval", "--context", str(ctx), "{{ inputs.pw }}")
    assert json.loads(kept.stdout) == secret_run["inputs"]["pw"]


def test_decrypt_with_another_key_is_one_clear_error(secret_run, monkeypatch):
    monkeypatch.setenv("KFLOW_ENCRYPTION_KEY", b64("k" * 32))
    result = invoke("eval", "--exec", "last", "--decrypt", "{{ inputs.pw }}")
    assert result.exit_code == 1
    assert "encryption key changed" in result.stderr and "Traceback" not in result.output


def test_decrypt_of_a_forged_value_is_one_clear_error(tmp_path):
    ctx = tmp_path / "ctx.json"
    ctx.write_text(json.dumps({"pw": {"type": ENCRYPTED_TYPE, "value": "not base64!"}}))
    result = invoke("eval", "--context", str(ctx), "--decrypt", "{{ pw }}")
    assert result.exit_code == 1
    assert "not a value kflow encrypted" in result.stderr and "Traceback" not in result.output


def test_secret_function_masked_in_logs_but_kept_in_outputs(write_flow, monkeypatch, kflow_home):
    monkeypatch.setenv("SECRET_API_KEY", b64(API_KEY))
    run = invoke("run", str(write_flow(USES_SECRET)))
    assert run.exit_code == 0, run.output
    # the printed log line
    printed = [line for line in run.stdout.splitlines() if "the api key is" in line]
    assert printed and all(line.endswith(f"the api key is {MASK}") for line in printed)
    # the stored log lines, through `kflow logs` (the Return task logs its value at DEBUG)
    logs = invoke("logs", "last")
    assert f"the api key is {MASK}" in logs.stdout
    assert API_KEY not in logs.stdout
    # ... and in the store itself
    from kflow.api import open_home

    with open_home() as home:
        ex = home.store.get_execution("last")
        messages = [r.message for r in home.store.get_logs(ex.id, None)]
    assert f"the api key is {MASK}" in messages
    assert not any(API_KEY in m for m in messages)
    # the task's output keeps what it produced, as in Kestra
    doc = json.loads(invoke("outputs", "last", "--json").stdout)
    keep = next(r for r in doc["taskRuns"] if r["taskId"] == "keep")
    assert keep["outputs"] == {"value": API_KEY}
    assert invoke("eval", "--exec", "last", "{{ outputs.keep.value }}").stdout == API_KEY + "\n"


def test_secret_function_masked_in_task_errors(write_flow, monkeypatch):
    monkeypatch.setenv("SECRET_API_KEY", b64(API_KEY))
    flow = """
    id: leaky_error
    namespace: company.team
    tasks:
      - id: boom
        type: io.kestra.plugin.core.execution.Fail
        errorMessage: "bad key {{ secret('API_KEY') }}"
    """
    run = invoke("run", str(write_flow(flow)))
    assert run.exit_code == 1
    assert f"bad key {MASK}" in run.stdout  # the summary's error line
    assert API_KEY not in run.output
    doc = json.loads(invoke("run", str(write_flow(flow)), "--json").stdout)
    assert API_KEY not in json.dumps(doc)
    assert API_KEY not in invoke("logs", "last").stdout


def test_secret_subkey_and_longest_secret_first(write_flow, monkeypatch):
    monkeypatch.setenv("SECRET_DB", b64(json.dumps({"user": "admin", "password": "pa55-word"})))
    monkeypatch.setenv("SECRET_SHORT", b64("pa55"))
    flow = """
    id: subkey
    namespace: company.team
    tasks:
      - id: first
        type: io.kestra.plugin.core.log.Log
        message: "short {{ secret('SHORT') }}"
      - id: second
        type: io.kestra.plugin.core.log.Log
        message: "password {{ secret('DB', subkey='password') }}"
    """
    run = invoke("run", str(write_flow(flow)))
    assert run.exit_code == 0, run.output
    logs = invoke("logs", "last").stdout
    assert f"short {MASK}" in logs
    # the field picked from a JSON secret is masked whole, not as "******-word"
    assert f"password {MASK}\n" in logs
    assert "pa55" not in logs and "-word" not in logs


def test_masking_stays_within_the_run_that_used_the_secret(write_flow, monkeypatch):
    """A later run that does not call secret() prints the same text in clear."""
    monkeypatch.setenv("SECRET_API_KEY", b64(API_KEY))
    invoke("run", str(write_flow(USES_SECRET, "a.yml")))
    plain = f"""
    id: plain
    namespace: company.team
    tasks:
      - id: say
        type: io.kestra.plugin.core.log.Log
        message: "{API_KEY}"
    """
    invoke("run", str(write_flow(plain, "b.yml")))
    assert API_KEY in invoke("logs", "last").stdout


def test_eval_decrypt_is_in_help():
    result = invoke("eval", "--help")
    assert "--decrypt" in result.stdout


def test_decrypt_round_trip_of_a_stored_value(secret_run):
    assert decrypt(secret_run["inputs"]["pw"]) == "hunter2-pw"
