"""Triggers: checked at load; the variables of ``--trigger-id``; cron ticks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kflow.cron import CronError, parse_cron
from kflow.errors import FlowValidationError, UsageError
from kflow.flow.triggers import trigger_for_run, trigger_inputs
from kflow.flow.validate import parse_flow

HEAD = (
    "id: f\nnamespace: n\ntasks:\n  - {id: t, type: io.kestra.plugin.core.log.Log, message: hi}\n"
)


def problems(triggers: str) -> list[str]:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(HEAD + "triggers:\n" + triggers)
    return [p.message for p in info.value.problems]


def test_core_triggers_are_parsed():
    flow = parse_flow(
        HEAD + "triggers:\n"
        "  - {id: daily, type: io.kestra.plugin.core.trigger.Schedule, cron: '0 9 * * *',"
        " timezone: Europe/Paris, inputs: {name: sched}}\n"
        "  - {id: hook, type: io.kestra.core.models.triggers.types.Webhook, key: abc}\n"
        "  - {id: up, type: io.kestra.plugin.core.trigger.Flow, states: [SUCCESS],"
        " preconditions: {id: p, flows: [{namespace: n, flowId: a}]}}\n"
        "  - {id: other, type: io.kestra.plugin.gcp.pubsub.Trigger, topic: t}\n"
    )
    assert [(t.id, t.type) for t in flow.triggers] == [
        ("daily", "io.kestra.plugin.core.trigger.Schedule"),
        ("hook", "io.kestra.core.models.triggers.types.Webhook"),
        ("up", "io.kestra.plugin.core.trigger.Flow"),
        ("other", "io.kestra.plugin.gcp.pubsub.Trigger"),
    ]
    unchecked = [w.message for w in flow.warnings if w.code == "unchecked-trigger"]
    assert unchecked == [
        "trigger 'other' has type io.kestra.plugin.gcp.pubsub.Trigger, which kflow does not "
        "check: its properties are taken as written"
    ]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ("{id: s, type: io.kestra.plugin.core.trigger.Schedule}",
         "trigger 's' (Schedule) is missing the required property 'cron'"),
        ("{id: s, type: io.kestra.plugin.core.trigger.Schedule, cron: '0 25 * * *'}",
         "trigger 's': invalid cron expression '0 25 * * *': hour value 25 is out of range 0-23"),
        ("{id: s, type: io.kestra.plugin.core.trigger.Schedule, cron: '* * * *'}",
         "trigger 's': invalid cron expression '* * * *': expected 5 fields, got 4"),
        ("{id: s, type: io.kestra.plugin.core.trigger.Schedule, cron: '0 * * * *', timezone: Mars/Base}",
         "trigger 's': unknown time zone 'Mars/Base' (use a tz database name such as Europe/Paris)"),
        ("{id: s, type: io.kestra.plugin.core.trigger.Schedule, cron: '@daily', withSeconds: yes please}",
         "trigger 's': 'withSeconds' must be true or false, not 'yes please'"),
        ("{id: s, type: io.kestra.plugin.core.trigger.Schedule, cron: '@daily', crom: x}",
         "trigger 's' (Schedule) has an unknown property 'crom' (did you mean 'cron'?)"),
        ("{id: w, type: io.kestra.plugin.core.trigger.Webhook}",
         "trigger 'w' (Webhook) is missing the required property 'key'"),
        ("{id: fl, type: io.kestra.plugin.core.trigger.Flow, states: [DONE]}",
         "trigger 'fl': 'states' has unknown states: DONE, not ['DONE']"),
        ("{id: s, type: io.kestra.plugin.core.trigger.Schedule, cron: '@daily', lateMaximumDelay: 5m}",
         "trigger 's': 'lateMaximumDelay' must be an ISO-8601 duration such as PT5M, not '5m'"),
        ("{type: io.kestra.plugin.core.trigger.Webhook, key: k}", "a trigger is missing its 'id'"),
        ("{id: x}", "trigger 'x' is missing its 'type'"),
    ],
)  # fmt: skip
def test_core_trigger_problems(trigger, message):
    assert problems(f"  - {trigger}\n") == [message]


def test_duplicate_trigger_ids():
    assert problems(
        "  - {id: a, type: io.kestra.plugin.core.trigger.Webhook, key: k}\n"
        "  - {id: a, type: io.kestra.plugin.core.trigger.Webhook, key: l}\n"
    ) == ["Duplicate trigger id with name [a]"]


def _flow(triggers: str):
    return parse_flow(HEAD + "triggers:\n" + triggers)


NOW = datetime(2024, 3, 6, 10, 30, tzinfo=UTC)  # a Wednesday


def test_schedule_variables_at_the_last_tick():
    flow = _flow(
        "  - {id: d, type: io.kestra.plugin.core.trigger.Schedule, cron: '0 9 * * 1-5', timezone: UTC}\n"
    )
    assert trigger_for_run(flow, "d", {}, now=NOW) == {
        "id": "d",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "variables": {
            "date": "2024-03-06T09:00:00Z",
            "next": "2024-03-07T09:00:00Z",
            "previous": "2024-03-05T09:00:00Z",
        },
    }


def test_schedule_in_a_time_zone_and_a_given_date():
    flow = _flow(
        "  - {id: d, type: io.kestra.plugin.core.trigger.Schedule, cron: '0 9 * * *', timezone: Europe/Paris}\n"
    )
    assert trigger_for_run(flow, "d", {}, now=NOW)["variables"] == {
        "date": "2024-03-06T09:00:00+01:00",
        "next": "2024-03-07T09:00:00+01:00",
        "previous": "2024-03-05T09:00:00+01:00",
    }
    assert trigger_for_run(flow, "d", {"date": "2024-01-01T09:00:00+01:00"})["variables"] == {
        "date": "2024-01-01T09:00:00+01:00",
        "next": "2024-01-02T09:00:00+01:00",
        "previous": "2023-12-31T09:00:00+01:00",
    }


def test_webhook_variables_and_inputs():
    flow = _flow(
        "  - id: hook\n    type: io.kestra.plugin.core.trigger.Webhook\n    key: k\n"
        "    inputs: {customer: '{{ trigger.body.id }}'}\n"
    )
    trigger = trigger_for_run(flow, "hook", {"body": {"id": 7}})
    assert trigger == {
        "id": "hook",
        "type": "io.kestra.plugin.core.trigger.Webhook",
        "variables": {"body": {"id": 7}, "headers": {}, "parameters": {}},
    }
    assert trigger_inputs(flow, trigger) == {"customer": "7"}
    assert trigger_for_run(flow, "hook", {})["variables"] == {
        "body": None,
        "headers": {},
        "parameters": {},
    }


def test_plain_trigger_values_and_unknown_ids():
    flow = _flow("  - {id: hook, type: io.kestra.plugin.core.trigger.Webhook, key: k}\n")
    assert trigger_for_run(flow, None, {}) is None
    assert trigger_for_run(flow, None, {"x": "1"}) == {
        "id": "kflow", "type": "kflow.cli", "variables": {"x": "1"},
    }  # fmt: skip
    with pytest.raises(UsageError, match=r"declares no trigger 'nope' \(triggers: hook\)"):
        trigger_for_run(flow, "nope", {})


@pytest.mark.parametrize(
    ("cron", "seconds", "at", "expected"),
    [
        ("*/15 * * * *", False, datetime(2024, 1, 1, 0, 20), ("2024-01-01 00:15:00", "2024-01-01 00:30:00", "2024-01-01 00:00:00")),
        ("@monthly", False, datetime(2024, 3, 15), ("2024-03-01 00:00:00", "2024-04-01 00:00:00", "2024-02-01 00:00:00")),
        ("0 0 * * SUN", False, datetime(2024, 3, 6), ("2024-03-03 00:00:00", "2024-03-10 00:00:00", "2024-02-25 00:00:00")),
        ("0 12 1 * MON", False, datetime(2024, 4, 2), ("2024-04-01 12:00:00", "2024-04-08 12:00:00", "2024-03-25 12:00:00")),
        ("30 * * * * *", True, datetime(2024, 1, 1, 0, 0, 10), ("2023-12-31 23:59:30", "2024-01-01 00:00:30", "2023-12-31 23:58:30")),
        ("0 9 29 FEB *", False, datetime(2024, 3, 1), ("2024-02-29 09:00:00", "2028-02-29 09:00:00", "2020-02-29 09:00:00")),
    ],
)  # fmt: skip
def test_cron_ticks(cron, seconds, at, expected):
    c = parse_cron(cron, seconds)
    tick = c.at_or_before(at)
    assert (str(tick), str(c.next(tick)), str(c.previous(tick))) == expected


def test_cron_without_any_tick():
    with pytest.raises(CronError, match="no tick"):
        parse_cron("0 0 30 2 *").next(datetime(2024, 1, 1))
