"""``kflow run --trigger KEY=VALUE / --trigger-file FILE / --trigger-id ID``."""

from __future__ import annotations

import json

FLOW = """\
id: triggered
namespace: company.team
inputs:
  - id: customer
    type: STRING
    defaults: nobody
tasks:
  - id: show
    type: io.kestra.plugin.core.debug.Return
    format: "{{ trigger.body.name ?? trigger.date ?? trigger.who }}|{{ inputs.customer }}"
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: secret-key
    inputs:
      customer: "{{ trigger.body.name }}"
  - id: daily
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 9 * * *"
    timezone: UTC
"""


def _value(proc):
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (run,) = [tr for tr in doc["taskRunList"] if tr["taskId"] == "show"]
    return doc, run["outputs"]["value"]


def test_trigger_pairs_and_file(write_flow, cli, tmp_path):
    path = write_flow(FLOW)
    doc, value = _value(cli("run", str(path), "--trigger", "who=me", "--json"))
    assert value == "me|nobody"
    assert doc["trigger"] == {"id": "kflow", "type": "kflow.cli", "variables": {"who": "me"}}

    data = tmp_path / "trigger.yml"
    data.write_text("body:\n  name: Ada\n")
    doc, value = _value(
        cli("run", str(path), "--trigger-file", str(data), "--trigger-id", "hook", "--json")
    )
    assert value == "Ada|Ada"
    assert doc["trigger"]["variables"] == {"body": {"name": "Ada"}, "headers": {}, "parameters": {}}

    _, value = _value(cli("run", str(path), "--trigger-id", "hook", "--trigger", 'body={"name": "Bob"}',
                          "-i", "customer=cli", "--json"))  # fmt: skip
    assert value == "Bob|cli"


def test_trigger_id_of_a_schedule(write_flow, cli):
    path = write_flow(FLOW)
    doc, value = _value(cli("run", str(path), "--trigger-id", "daily", "--trigger",
                            "date=2024-05-01T09:00:00Z", "--json"))  # fmt: skip
    assert value == "2024-05-01T09:00:00Z|nobody"
    assert doc["trigger"]["variables"] == {
        "date": "2024-05-01T09:00:00Z",
        "next": "2024-05-02T09:00:00Z",
        "previous": "2024-04-30T09:00:00Z",
    }


def test_unknown_trigger_id_is_a_usage_error(write_flow, cli):
    proc = cli("run", str(write_flow(FLOW)), "--trigger-id", "weekly")
    assert proc.returncode == 2
    assert (
        "--trigger-id weekly: flow company.team.triggered declares no trigger 'weekly' "
        "(triggers: hook, daily)" in proc.stderr
    )


def test_reading_trigger_without_one_names_the_options(write_flow, cli):
    path = write_flow(
        "id: f\nnamespace: n\ntasks:\n"
        "  - {id: t, type: io.kestra.plugin.core.debug.Return, format: '{{ trigger.date }}'}\n"
    )
    proc = cli("run", str(path), "--json")
    assert proc.returncode == 1
    (run,) = json.loads(proc.stdout)["taskRunList"]
    assert (
        "this execution was not started by a trigger; give its variables with kflow run "
        "--trigger-id ID" in proc.stdout
    )


def test_bad_trigger_pair(write_flow, cli):
    proc = cli("run", str(write_flow(FLOW)), "--trigger", "novalue")
    assert proc.returncode == 2
    assert "--trigger 'novalue' is not KEY=VALUE" in proc.stderr
