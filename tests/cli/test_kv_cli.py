"""``kflow kv list|get|set|delete``: the KV store a run's kv() and KV tasks use, from the
command line; ``--json`` where it makes sense; errors are one line and exit 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kflow.cli import app

runner = CliRunner()


def kv(*args: str):
    return runner.invoke(app, ["kv", *args])


def ok(*args: str) -> str:
    result = kv(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_set_get_round_trip_with_types():
    assert ok("set", "company.team", "name", "World") == "set company.team name (STRING)\n"
    assert ok("get", "company.team", "name") == "World\n"
    ok("set", "company.team", "retries", "3", "--type", "NUMBER")
    assert json.loads(ok("get", "company.team", "retries", "--json")) == {
        "namespace": "company.team", "key": "retries", "type": "NUMBER", "value": 3,
    }  # fmt: skip
    ok("set", "company.team", "cfg", '{"a": [1, true]}', "--type", "json")
    assert ok("get", "company.team", "cfg") == '{"a": [1, true]}\n'
    ok("set", "company.team", "wait", "PT90M", "--type", "DURATION")
    assert ok("get", "company.team", "wait") == "PT1H30M\n"
    ok("set", "company.team", "at", "2024-01-31T10:00:00+01:00", "--type", "DATETIME")
    assert json.loads(ok("get", "company.team", "at", "--json"))["value"] == "2024-01-31T09:00:00Z"


def test_a_run_reads_what_the_cli_set(run_yaml):
    ok("set", "company", "greeting", "hello", "--description", "team greeting")
    ex = run_yaml("""
id: reads
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('greeting') }} world"
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: from_run
    value: "{{ [1, 2] }}"
""")
    assert ex.task_runs[0].outputs == {"value": "hello world"}
    assert ok("get", "company.team", "from_run") == "[1, 2]\n"


def test_list_table_and_json(monkeypatch):
    ok("set", "company.team", "b", "x", "--ttl", "PT1H")
    ok("set", "company.team", "a", "1", "--type", "NUMBER", "--description", "first")
    ok("set", "company", "c", "y")
    listed = json.loads(ok("list", "--json"))
    assert [(e["namespace"], e["key"], e["type"], e["description"]) for e in listed] == [
        ("company", "c", "STRING", None),
        ("company.team", "a", "NUMBER", "first"),
        ("company.team", "b", "STRING", None),
    ]
    assert listed[2]["expirationDate"] is not None and listed[0]["expirationDate"] is None
    assert set(listed[0]) == {"namespace", "key", "type", "description", "creationDate",
                              "updateDate", "expirationDate", "expired"}  # fmt: skip
    only = json.loads(ok("list", "company.team", "--json"))
    assert [e["key"] for e in only] == ["a", "b"]
    table = ok("list", "company.team")
    assert "NUMBER" in table and "first" in table and "never" in table
    assert ok("list", "company.empty") == "no keys in namespace company.empty\n"


def test_expired_keys(monkeypatch):
    ok("set", "company", "gone", "x", "--ttl", "PT0S")
    assert json.loads(ok("list", "--json")) == []
    listed = json.loads(ok("list", "--expired", "--json"))
    assert [(e["key"], e["expired"]) for e in listed] == [("gone", True)]
    assert "(expired)" in ok("list", "--expired")
    result = kv("get", "company", "gone")
    assert result.exit_code == 2
    assert result.output == "error: key 'gone' in namespace 'company' has expired\n"
    result = kv("get", "company", "gone")  # deleted by the read that found it expired
    assert result.exit_code == 2 and "no key 'gone'" in result.output


def test_no_overwrite_and_delete():
    ok("set", "company", "k", "one")
    result = kv("set", "company", "k", "two", "--no-overwrite")
    assert result.exit_code == 2
    assert result.output == (
        "error: Cannot set value for key 'k'. Key already exists and `overwrite` is set to "
        "`false`.\n"
    )
    assert ok("get", "company", "k") == "one\n"
    assert json.loads(ok("delete", "company", "k", "--json")) == {
        "namespace": "company", "key": "k", "deleted": True,
    }  # fmt: skip
    result = kv("delete", "company", "k")
    assert result.exit_code == 2
    assert result.output == (
        "error: no key 'k' in namespace 'company'\nhint: list the keys with: kflow kv list company\n"
    )
    ok("set", "company", "k", "again")
    assert ok("delete", "company", "k") == "deleted company k\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "company", "bad key", "v"], "error: Key must start with an alphanumeric"),
        (["set", "Company", "k", "v"], "error: Invalid namespace 'Company'"),
        (["set", "company", "k", "abc", "--type", "NUMBER"], "error: Cannot read 'abc' as NUMBER"),
        (["set", "company", "k", "v", "--type", "TEXT"], "error: Unknown kvType 'TEXT'"),
        (["set", "company", "k", "v", "--ttl", "-PT1S"], "error: ttl cannot be negative"),
        (["set", "company", "k", "v", "--ttl", "soon"], "error: ttl 'soon' is not a duration"),
        (["get", "company", ""], "error: Key cannot be null or empty"),
        (["list", "Not A Namespace"], "error: Invalid namespace 'Not A Namespace'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = kv(*args)
    assert result.exit_code == 2
    assert result.output.startswith(message), result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["list", "get", "set", "delete"])
def test_help(command):
    result = kv(command, "--help")
    assert result.exit_code == 0
    assert f"kv {command}" in result.output
    assert "Example" in result.output


def test_a_value_with_control_characters_is_escaped_on_a_terminal(monkeypatch):
    ok("set", "company", "k", "a\x1b[2Jb")
    assert ok("get", "company", "k") == "a\x1b[2Jb\n"  # a pipe gets the value as it is
    from kflow.cli import kv as kv_cli

    monkeypatch.setattr(kv_cli, "_on_terminal", lambda: True)
    assert ok("get", "company", "k") == "a\\x1b[2Jb\n"


def test_eval_exec_reads_the_kv_store(run_yaml):
    run_yaml("""
id: any
namespace: company.team
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: cfg
    value: "{{ {'a': 7} }}"
""")
    result = runner.invoke(app, ["eval", "--exec", "last", "{{ kv('cfg').a * 6 }}"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "42\n"
