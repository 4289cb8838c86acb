"""A flow's ``triggers``: checked at load, and the ``trigger.*`` variables of a run.

kflow never fires a trigger: a flow runs when ``kflow run`` runs it. The core triggers
(``Schedule``, ``Flow``, ``Webhook``) are still checked as Kestra checks them (properties,
their kinds, the cron expression, the time zone), so that ``kflow validate`` catches what
Kestra would refuse; other trigger types are accepted with a warning.

``kflow run --trigger-id ID`` runs the flow with the variables the trigger ``ID`` gives an
execution it starts (Kestra ``Schedule.Output``, ``Webhook.Output``,
``ExecutionTrigger``): a Schedule gives ``date`` (its last tick at or before now, in its
``timezone``), ``next`` and ``previous``; a Webhook ``body`` (null), ``headers`` and
``parameters`` ({}); values given with ``--trigger KEY=VALUE``/``--trigger-file`` replace
them (a given Schedule ``date`` moves ``next``/``previous`` with it).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from kflow.errors import KflowError, UsageError
from kflow.flow.model import Flow, TriggerSpec

SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
FLOW = "io.kestra.plugin.core.trigger.Flow"
WEBHOOK = "io.kestra.plugin.core.trigger.Webhook"
# @Plugin(aliases=...) of the three (kestra-io/kestra 58c1ca2d, plugin/core/trigger/*.java)
TRIGGER_ALIASES = {
    "io.kestra.core.models.triggers.types.Schedule": SCHEDULE,
    "io.kestra.core.models.triggers.types.Flow": FLOW,
    "io.kestra.core.models.triggers.types.Webhook": WEBHOOK,
}
TRIGGER_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
STATES = (
    "CREATED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "SUCCESS", "WARNING", "FAILED",
    "KILLED", "CANCELLED", "QUEUED", "RETRYING", "RETRIED", "SKIPPED", "BREAKPOINT",
)  # fmt: skip

# Every trigger's properties (AbstractTrigger), then each core type's, as kind names:
# string, bool, list, map, level, states, labels, duration, any.
COMMON: dict[str, str] = {
    "id": "string", "type": "string", "description": "string", "conditions": "list",
    "disabled": "bool", "workerGroup": "map", "logLevel": "level", "labels": "labels",
    "stopAfter": "states", "logToFile": "bool", "minLogLevel": "level",
    "allowConcurrent": "bool",
}  # fmt: skip
PROPERTIES: dict[str, dict[str, str]] = {
    SCHEDULE: {
        "cron": "string", "withSeconds": "bool", "timezone": "string", "interval": "duration",
        "scheduleConditions": "list", "inputs": "map", "lateMaximumDelay": "duration",
        "backfill": "map", "recoverMissedSchedules": "string",
    },
    FLOW: {"inputs": "map", "states": "states", "preconditions": "map"},
    WEBHOOK: {
        "key": "string", "inputs": "map", "wait": "bool", "returnOutputs": "bool",
        "responseContentType": "string", "responseCode": "any", "responseHeaders": "map",
        "responseBody": "any", "fetchType": "string",
    },
}  # fmt: skip
REQUIRED = {SCHEDULE: ("cron",), WEBHOOK: ("key",), FLOW: ()}
_KIND_NAMES = {
    "string": "a string", "bool": "true or false", "list": "a list", "map": "a mapping",
    "duration": "an ISO-8601 duration such as PT5M",
}  # fmt: skip


def canonical_trigger_type(name: str) -> str:
    """The current name of a core trigger type (its legacy names resolved)."""
    return TRIGGER_ALIASES.get(name, name)


def _is_expr(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def _kind_problem(kind: str, value: Any) -> str | None:
    """Why a literal ``value`` is not of ``kind`` (None when it is, or is an expression)."""
    if value is None or _is_expr(value) or kind == "any":
        return None
    if kind == "string":
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "list":
        ok = isinstance(value, list)
    elif kind == "map":
        ok = isinstance(value, dict)
    elif kind == "labels":
        ok = isinstance(value, (list, dict))
        if not ok:
            return "must be a mapping of labels (or a list of {key, value})"
    elif kind == "level":
        if str(value).upper() not in LEVELS:
            return f"must be one of {', '.join(LEVELS)}"
        return None
    elif kind == "states":
        if not isinstance(value, list):
            return "must be a list of states"
        bad = [str(s) for s in value if str(s).upper() not in STATES]
        return f"has unknown states: {', '.join(bad)}" if bad else None
    elif kind == "duration":
        from kflow.java.duration import parse_duration

        ok = isinstance(value, str) and parse_duration(value) is not None
    else:  # pragma: no cover - the tables above use the kinds handled here
        ok = True
    return None if ok else f"must be {_KIND_NAMES.get(kind, kind)}"


def check_trigger(
    raw: Mapping[str, Any],
) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
    """(problems, warnings) of one trigger of the ``triggers`` list, each a message and the
    property it is about (for its line), the trigger's id and type being checked by the
    caller's loop too."""
    problems: list[tuple[str, str | None]] = []
    warnings: list[tuple[str, str | None]] = []
    tid = raw.get("id")
    label = f"trigger '{tid}'" if isinstance(tid, str) else "a trigger"
    ttype = raw.get("type")
    if not isinstance(ttype, str) or not ttype:
        problems.append((f"{label} is missing its 'type'", None))
        return problems, warnings
    current = canonical_trigger_type(ttype)
    own = PROPERTIES.get(current)
    if own is None:
        warnings.append((f"{label} has type {ttype}, which kflow does not check: its "
                         "properties are taken as written", "type"))  # fmt: skip
        return problems, warnings
    short = current.rsplit(".", 1)[-1]
    allowed = {**COMMON, **own}
    for name in REQUIRED[current]:
        if raw.get(name) is None:
            problems.append((f"{label} ({short}) is missing the required property '{name}'", None))
    for key, value in raw.items():
        kind = allowed.get(str(key))
        if kind is None:
            close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.75)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append((f"{label} ({short}) has an unknown property '{key}'{hint}", str(key)))
            continue
        why = _kind_problem(kind, value)
        if why is not None:
            problems.append((f"{label}: '{key}' {why}, not {value!r}", str(key)))
    if current == SCHEDULE:
        problems.extend(_schedule_problems(label, raw))
    return problems, warnings


def _schedule_problems(label: str, raw: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    from kflow.cron import CronError, parse_cron

    problems: list[tuple[str, str | None]] = []
    cron = raw.get("cron")
    with_seconds = raw.get("withSeconds") is True
    if isinstance(cron, str):
        try:
            parse_cron(cron, with_seconds).next(datetime(2000, 1, 1))
        except CronError as exc:
            problems.append((f"{label}: invalid cron expression '{cron}': {exc}", "cron"))
    zone = raw.get("timezone")
    if isinstance(zone, str) and not _is_expr(zone) and _zone(zone) is None:
        problems.append((f"{label}: unknown time zone '{zone}' (use a tz database name such "
                         "as Europe/Paris)", "timezone"))  # fmt: skip
    recover = raw.get("recoverMissedSchedules")
    if isinstance(recover, str) and recover not in ("ALL", "NONE", "LAST"):
        problems.append((f"{label}: 'recoverMissedSchedules' must be ALL, NONE or LAST, not "
                         f"{recover!r}", "recoverMissedSchedules"))  # fmt: skip
    return problems


def _zone(name: str) -> tzinfo | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --------------------------------------------------------------------------- run variables
def _iso(moment: datetime) -> str:
    """A ZonedDateTime as Kestra's Jackson writes it (ISO offset, ``Z`` for UTC)."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def schedule_variables(
    spec: TriggerSpec, given: Mapping[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """``date``/``next``/``previous`` of a Schedule fired at its last tick at or before
    ``now`` (or at the given ``date``)."""
    from kflow.cron import CronError, parse_cron

    zone_name = spec.props.get("timezone")
    zone = _zone(zone_name) if isinstance(zone_name, str) else None
    if zone is None:
        zone = datetime.now().astimezone().tzinfo
    cron = parse_cron(str(spec.props.get("cron")), spec.props.get("withSeconds") is True)
    if "date" in given:
        try:
            moment = datetime.fromisoformat(str(given["date"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise UsageError(
                f"--trigger date={given['date']!r} is not an ISO date-time: {exc}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        date = moment.astimezone(zone)
        wall = date.replace(tzinfo=None)
    else:
        current = (now or datetime.now(zone)).astimezone(zone).replace(tzinfo=None)
        try:
            wall = cron.at_or_before(current)
        except CronError as exc:
            raise KflowError(f"trigger '{spec.id}': {exc}") from None
        date = wall.replace(tzinfo=zone)
    return {
        "date": _iso(date),
        "next": _iso(cron.next(wall).replace(tzinfo=zone)),
        "previous": _iso(cron.previous(wall).replace(tzinfo=zone)),
    }


def trigger_for_run(
    flow: Flow, trigger_id: str | None, given: Mapping[str, Any], now: datetime | None = None
) -> dict[str, Any] | None:
    """The execution's ``trigger`` (``{id, type, variables}``) for ``kflow run --trigger-id``
    / ``--trigger`` / ``--trigger-file``; None when none was given."""
    if trigger_id is None:
        if not given:
            return None
        return {"id": "kflow", "type": "kflow.cli", "variables": dict(given)}
    spec = next((t for t in flow.triggers if t.id == trigger_id), None)
    if spec is None:
        declared = ", ".join(t.id for t in flow.triggers) or "none"
        raise UsageError(
            f"--trigger-id {trigger_id}: flow {flow.namespace}.{flow.id} declares no trigger "
            f"'{trigger_id}' (triggers: {declared})",
            hint="give the id of one of the flow's triggers, or only --trigger KEY=VALUE",
        )
    current = canonical_trigger_type(spec.type)
    variables: dict[str, Any] = {}
    if current == SCHEDULE:
        variables = schedule_variables(spec, given, now)
    elif current == WEBHOOK:
        variables = {"body": None, "headers": {}, "parameters": {}}
    variables.update({k: v for k, v in given.items() if not (current == SCHEDULE and k == "date")})
    return {"id": spec.id, "type": spec.type, "variables": variables}


def trigger_inputs(flow: Flow, trigger: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``inputs`` a declared trigger gives the executions it starts, rendered with its
    variables (``"{{ trigger.body.id }}"`` in a Webhook's inputs); {} for other runs."""
    if not trigger:
        return {}
    spec = next((t for t in flow.triggers if t.id == trigger.get("id")), None)
    declared = spec.props.get("inputs") if spec is not None else None
    if not isinstance(declared, Mapping):
        return {}
    from kflow import expr

    context = {
        "trigger": trigger.get("variables") or {},
        "flow": {"id": flow.id, "namespace": flow.namespace},
    }
    return {str(k): expr.render_value(v, context) for k, v in declared.items()}


__all__ = [
    "FLOW",
    "SCHEDULE",
    "TRIGGER_ALIASES",
    "WEBHOOK",
    "canonical_trigger_type",
    "check_trigger",
    "schedule_variables",
    "trigger_for_run",
    "trigger_inputs",
]
