"""Secrets beyond ``SECRET_*`` variables: ``kflow run --secrets FILE`` (.env of base64
values, or YAML of plain ones), ``ENV_*`` variables as ``envs.*``, and ``kflow secrets
check FLOW``, which names the secrets a flow reads and the missing ones, never a value
(exit 0 all present, 1 some missing, 2 bad input)."""

from __future__ import annotations

import base64
import json

import pytest
from typer.testing import CliRunner

from kflow.cli import app
from kflow.secrets import read_secrets_file, use_secrets

runner = CliRunner()

FLOW = """
id: uses_secrets
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "key={{ secret('API_KEY') }} pass={{ secret(key='DB_PASS') }}"
  - id: region
    type: io.kestra.plugin.core.debug.Return
    format: "{{ envs.region }}/{{ envs.tier }}"
  - id: sub
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('JSON_CFG', subkey='user') }}"
"""

API_KEY = "sk-live-7f3a9c"
DB_PASS = "pw with spaces"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(autouse=True)
def clean_secrets(monkeypatch):
    for name in ("SECRET_API_KEY", "SECRET_DB_PASS", "SECRET_JSON_CFG", "ENV_REGION",
                 "KESTRA_REGION", "ENV_TIER"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    yield
    use_secrets({})


@pytest.fixture
def env_file(tmp_path):
    path = tmp_path / "secrets.env"
    path.write_text(
        "# CI secrets\n"
        f"SECRET_API_KEY={b64(API_KEY)}\n"
        f"export DB_PASS=\"{b64(DB_PASS)}\"\n"
        "\n"
        f"SECRET_JSON_CFG='{b64(json.dumps({'user': 'ada'}))}'\n"
    )
    return path


@pytest.fixture
def yaml_file(tmp_path):
    path = tmp_path / "secrets.yml"
    path.write_text(f"API_KEY: {API_KEY}\nDB_PASS: {DB_PASS}\nJSON_CFG:\n  user: ada\n")
    return path


def test_read_env_file(env_file):
    assert read_secrets_file(env_file) == {
        "API_KEY": API_KEY, "DB_PASS": DB_PASS, "JSON_CFG": '{"user": "ada"}',
    }  # fmt: skip


def test_read_yaml_file(yaml_file):
    assert read_secrets_file(yaml_file) == {
        "API_KEY": API_KEY, "DB_PASS": DB_PASS, "JSON_CFG": '{"user": "ada"}',
    }  # fmt: skip


@pytest.mark.parametrize("which", ["env_file", "yaml_file"])
def test_run_with_a_secrets_file(request, which, write_flow, monkeypatch):
    monkeypatch.setenv("ENV_REGION", "eu-west-1")
    monkeypatch.setenv("KESTRA_REGION", "ignored: ENV_ wins")
    monkeypatch.setenv("KESTRA_TIER", "gold")
    path = request.getfixturevalue(which)
    flow = write_flow(FLOW)
    result = runner.invoke(app, ["run", str(flow), "--secrets", str(path), "--json"])
    assert result.exit_code == 0, result.output
    ex = json.loads(result.stdout)
    outputs = {t["taskId"]: t.get("outputs") for t in ex["taskRunList"]}
    assert outputs["region"] == {"value": "eu-west-1/gold"}
    assert outputs["sub"] == {"value": "ada"}
    logs = runner.invoke(app, ["logs", "last", "--task", "say"]).output
    assert "key=****** pass=******" in logs
    assert API_KEY not in logs and DB_PASS not in logs


def test_the_file_wins_over_the_environment(env_file, write_flow, monkeypatch):
    monkeypatch.setenv("SECRET_API_KEY", b64("from-env"))
    flow = write_flow("""
id: which
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('API_KEY') | length }}"
""")
    result = runner.invoke(app, ["run", str(flow), "--secrets", str(env_file), "--json"])
    assert json.loads(result.stdout)["taskRunList"][0]["outputs"] == {"value": str(len(API_KEY))}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.env", "X=@@@\n", "bad.env:1: the value of X is not base64 of UTF-8 text"),
        ("bad.env", "\nJUST_A_NAME\n", "bad.env:2: a secrets .env line must be NAME=BASE64"),
        ("bad.yml", "- a\n- b\n", "must hold a mapping of names to values"),
        ("bad.yml", "A: [\n", "bad.yml:2: the secrets file is not valid YAML"),
        ("bad.yml", "A:\n", "secret A in"),
        ("bad.txt", "A=1\n", "--secrets"),
    ],
)
def test_a_bad_secrets_file_is_exit_2_and_shows_no_value(tmp_path, write_flow, name, text,
                                                        message):  # fmt: skip
    path = tmp_path / name
    path.write_text(text)
    flow = write_flow(FLOW)
    result = runner.invoke(app, ["run", str(flow), "--secrets", str(path)])
    assert result.exit_code == 2
    assert message in result.output, result.output
    assert "@@@" not in result.output and "Traceback" not in result.output


def test_a_missing_secrets_file(tmp_path, write_flow):
    result = runner.invoke(app, ["run", str(write_flow(FLOW)), "--secrets", str(tmp_path / "no.env")])
    assert result.exit_code == 2
    assert "secrets file not found" in result.output


# ------------------------------------------------------------------ kflow secrets check
def check(*args: str):
    return runner.invoke(app, ["secrets", "check", *args])


def test_check_lists_the_missing_ones(write_flow, monkeypatch):
    monkeypatch.setenv("SECRET_API_KEY", b64(API_KEY))
    monkeypatch.setenv("SECRET_JSON_CFG", "%%% not base64")
    result = check(str(write_flow(FLOW)), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "flow": str(write_flow(FLOW)),
        "secrets": [
            {"name": "API_KEY", "present": True, "source": "SECRET_API_KEY"},
            {"name": "DB_PASS", "present": False, "source": "no SECRET_DB_PASS"},
            {"name": "JSON_CFG", "present": False, "source": "SECRET_JSON_CFG is not base64"},
        ],
        "missing": ["DB_PASS", "JSON_CFG"],
    }
    assert API_KEY not in result.output
    table = check(str(write_flow(FLOW)))
    assert table.exit_code == 1
    assert "2 of 3 secrets missing: DB_PASS, JSON_CFG" in " ".join(table.output.split())


@pytest.mark.parametrize("which", ["env_file", "yaml_file"])
def test_check_with_a_file_all_present(request, which, write_flow):
    path = request.getfixturevalue(which)
    result = check(str(write_flow(FLOW)), "--secrets", str(path), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["missing"] == []
    assert [s["source"] for s in doc["secrets"]] == ["secrets file"] * 3
    for value in (API_KEY, DB_PASS, "ada"):
        assert value not in result.output
    text = check(str(write_flow(FLOW)), "--secrets", str(path))
    assert text.exit_code == 0 and "all 3 secrets present" in text.output


def test_check_finds_secrets_everywhere_but_computed_names(write_flow):
    flow = write_flow("""
id: everywhere
namespace: company.team
variables:
  token: "{{ secret('VAR_SECRET') }}"
inputs:
  - id: which
    type: STRING
    defaults: "{{ secret('INPUT_DEFAULT') }}"
tasks:
  - id: parallel
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: nested
        type: io.kestra.plugin.core.log.Log
        message: "{% if true %}{{ secret('IN_A_TAG') | upper }}{% endif %}{{ secret(inputs.which) }}"
outputs:
  - id: o
    type: STRING
    value: "{{ secret('VAR_SECRET') }}"
""")
    doc = json.loads(check(str(flow), "--json").stdout)
    assert [s["name"] for s in doc["secrets"]] == ["VAR_SECRET", "INPUT_DEFAULT", "IN_A_TAG"]


def test_check_a_flow_without_secrets(write_flow):
    flow = write_flow("id: plain\nnamespace: company.team\ntasks:\n  - id: r\n"
                      "    type: io.kestra.plugin.core.debug.Return\n    format: x\n")  # fmt: skip
    result = check(str(flow))
    assert result.exit_code == 0
    assert "reads no secret" in result.output


def test_check_an_invalid_flow_is_exit_2(write_flow):
    result = check(str(write_flow("id: broken\ntasks: 3\n")))
    assert result.exit_code == 2
