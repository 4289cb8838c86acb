"""Plain YAML data → a validated :class:`~kflow.flow.model.Flow`, or every problem at once.

Each problem names the file, line and column, what is wrong and how to fix it; the flow
is refused before anything runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import gc
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from kflow.errors import FlowSyntaxError, FlowValidationError, KflowError
from kflow.flow.loader import LineDict, LineList, parse_yaml, read_flow_text
from kflow.flow.model import MISSING, Flow, InputSpec, Location, OutputSpec, TaskSpec, TriggerSpec
from kflow.notices import Notice
from kflow.tasks import registry
from kflow.tasks.base import (
    COMMON_PROPERTIES,
    FLOWABLE_PROPERTIES,
    IGNORED_TASK_PROPERTIES,
    Prop,
    SubKey,
    Task,
)

FLOW_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
TASK_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
TYPE_RE = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$")

FLOW_KEYS = {
    "id", "namespace", "revision", "description", "labels", "inputs", "variables", "tasks",
    "errors", "finally", "afterExecution", "outputs", "triggers", "pluginDefaults",
    "taskDefaults", "concurrency", "retry", "sla", "checks", "disabled", "listeners",
    "deleted", "tenantId", "workerGroup",
}  # fmt: skip

# Flow keys Kestra honours that have no meaning for a local run: the flow still runs, with
# a warning saying so (kflow.notices).
IGNORED_FLOW_KEYS: Mapping[str, str] = {
    "triggers": "kflow runs a flow when you call 'kflow run': schedules, webhooks and flow "
    "triggers never fire",
    "concurrency": "kflow does not limit concurrent executions: each 'kflow run' starts one",
    "sla": "kflow does not check SLAs",
    "workerGroup": "worker groups (Kestra Enterprise) have no local meaning: every task runs "
    "on this machine",
    "listeners": "listeners are deprecated (removed in Kestra 1.x) and kflow does not run them",
    "tenantId": "tenants (Kestra Enterprise) have no local meaning",
    "deleted": "the Kestra server sets it; kflow ignores it",
}

_TRIGGERS_HINT = (
    "run the flow as one of its triggers would start it with kflow run FLOW --trigger-id ID "
    "(trigger.* variables), or give them with --trigger KEY=VALUE / --trigger-file FILE"
)

_EXTEND_HINT = (
    "'extend' is blueprint catalog metadata (title, description, tags), not a flow property; "
    "Kestra refuses it too: remove the 'extend:' block"
)


# The code of the notice for a task type whose optional package is missing: ``validate``
# only warns (a CI check of a valid flow must not depend on optional packages); ``run``
# turns these notices into one error before any task runs (:func:`refuse_missing_extras`).
MISSING_EXTRA = "missing-extra"
# The code of the notice for a deprecated task type kflow still runs (Echo, the pre-0.10 scripts).
DEPRECATED_TYPE = "deprecated-type"


@functools.cache
def _importable(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (find_spec is cheap)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def refuse_missing_extras(flow: Flow) -> None:
    """Raise one ``FlowValidationError`` naming every task whose optional package is
    missing, with the ``pip install`` line: ``kflow run`` calls it before any task runs."""
    missing = [w for w in flow.warnings if w.code == MISSING_EXTRA]
    if not missing:
        return
    problems = [
        KflowError(w.message.split(": `kflow run`")[0], path=w.path, line=w.line,
                   column=w.column, hint=w.hint)
        for w in missing
    ]  # fmt: skip
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise FlowValidationError(
        first.message + more, problems=problems, path=first.path, line=first.line,
        column=first.column, hint=first.hint,
    )  # fmt: skip


class _Collector:
    """Gathers problems with their location so that one run reports all of them."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.problems: list[KflowError] = []
        self.warnings: list[Notice] = []
        self.plugin_defaults: list[dict[str, Any]] = []

    def warn(self, message: str, where: Any = None, key: Any = None, hint: str | None = None,
             code: str = "ignored-key") -> None:  # fmt: skip
        """Record a warning: the flow stays valid (see kflow.notices)."""
        line, column = self._position(where, key)
        self.warnings.append(
            Notice(message, path=self.path, line=line, column=column, hint=hint, code=code)
        )

    def _position(self, where: Any, key: Any) -> tuple[int | None, int | None]:
        if isinstance(where, LineDict):
            return where.mark(key) if key is not None else (where.line, where.column)
        if isinstance(where, (LineList, Location)):
            return where.line, where.column
        if isinstance(where, tuple):
            return where
        return None, None

    def add(self, message: str, where: Any = None, key: Any = None, hint: str | None = None) -> None:
        line, column = self._position(where, key)
        self.problems.append(
            KflowError(message, path=self.path, line=line, column=column, hint=hint)
        )

    def location(self, where: Any, key: Any = None) -> Location:
        if isinstance(where, LineDict):
            line, column = where.mark(key) if key is not None else (where.line, where.column)
            return Location(self.path, line, column)
        return Location(self.path)


def _close(name: str, candidates: Iterable[str], cutoff: float = 0.75) -> str:
    """Names really close to ``name`` (a typo, another case), or "": a suggestion must help,
    so unrelated names are never offered."""
    cands = list(candidates)
    folded = [c for c in cands if c.lower() == name.lower()]
    if folded:
        return folded[0]
    return ", ".join(difflib.get_close_matches(name, cands, n=3, cutoff=cutoff))


# Kestra plugin repositories that hold several plugins: plugin-jdbc-postgres provides
# io.kestra.plugin.jdbc.postgresql.*, plugin-scripts-node io.kestra.plugin.scripts.node.*...
_PLUGIN_FAMILIES = frozenset({"jdbc", "scripts", "gcp", "aws", "azure", "notifications"})


def _plugin_group(type_name: str) -> str:
    """The plugin a task type comes from: ``io.kestra.plugin.core`` for the core tasks,
    ``io.kestra.plugin.jdbc.postgresql``, ``io.kestra.plugin.airbyte``..., else its package."""
    parts = type_name.split(".")
    if parts[:3] == ["io", "kestra", "core"]:
        return "io.kestra.plugin.core"  # the legacy core names
    if parts[:3] == ["io", "kestra", "plugin"] and len(parts) > 4:
        size = 5 if parts[3] in _PLUGIN_FAMILIES and len(parts) > 5 else 4
        return ".".join(parts[:size])
    return ".".join(parts[:-1])


def _close_type(name: str, known: Iterable[str]) -> str:
    """Known types that look like a typo of ``name``: same package and a close class name,
    or the same class name in another package of the same plugin (core.flow.Log → core.log.Log)."""
    package, _, short = name.rpartition(".")
    group = _plugin_group(name)
    found: list[str] = []
    same_name: set[str] = set()
    for cand in known:
        c_package, _, c_short = cand.rpartition(".")
        if (
            c_package.lower() == package.lower()
            or difflib.SequenceMatcher(None, c_package, package).ratio() >= 0.95
        ):
            if (
                c_short.lower() == short.lower()
                or difflib.SequenceMatcher(None, c_short.lower(), short.lower()).ratio() >= 0.8
            ):
                found.append(cand)
        elif c_short.lower() == short.lower() and _plugin_group(cand) == group:
            same_name.add(registry.canonical_type(cand))  # an alias is the same type
    matches = {registry.canonical_type(m) for m in found} or (
        same_name if len(same_name) == 1 else set()
    )
    return ", ".join(sorted(matches)[:3])


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Loading a big flow allocates hundreds of thousands of objects that all stay alive;
    CPython's collector would walk the whole growing heap again and again (2/3 of the time
    of a 50,000-task flow, and growing faster than the flow). Nothing allocated here forms
    cycles worth collecting, so the collector waits until the flow is built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_flow(path: str | Path, *, check_templates: bool = False) -> Flow:
    """Read, parse and validate a flow file."""
    text = read_flow_text(path)
    return parse_flow(text, str(path), check_templates=check_templates)


def parse_flow(text: str, path: str | None = None, *, check_templates: bool = False) -> Flow:
    """Parse and validate flow YAML text; raises FlowError with every problem found.

    ``check_templates`` also parses every template a run would render (``kflow validate``).
    Kestra itself accepts such a flow and fails the task when it renders, so ``kflow run``
    does not refuse it: the task fails at run time, as in Kestra."""
    with _gc_paused():
        return _parse_flow(text, path, check_templates)


def _parse_flow(text: str, path: str | None, check_templates: bool) -> Flow:
    data = parse_yaml(text, path)
    if data is None:
        raise FlowSyntaxError(
            "the file is empty: a flow needs id, namespace and tasks", path=path, line=1
        )
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise FlowSyntaxError(
            f"a flow must be a YAML mapping (id, namespace, tasks), but this file holds {kind}",
            path=path,
            line=getattr(data, "line", 1),
            hint="start the file with 'id: my_flow' then 'namespace: company.team' and 'tasks:'",
        )
    col = _Collector(path)
    flow = _build_flow(data, text, path, col)
    if check_templates and flow is not None and not col.problems:
        _check_templates(flow, col)
    _raise_problems(col)
    assert flow is not None
    return dataclasses.replace(flow, warnings=tuple(col.warnings)) if col.warnings else flow


def _raise_problems(col: _Collector) -> None:
    """One FlowValidationError holding every problem found (nothing if there is none)."""
    if col.problems:
        first = col.problems[0]
        more = f" (and {len(col.problems) - 1} more)" if len(col.problems) > 1 else ""
        raise FlowValidationError(
            first.message + more,
            problems=col.problems,
            path=first.path,
            line=first.line,
            column=first.column,
            hint=first.hint,
        )


def check_expressions(flow: Flow) -> list[Notice]:
    """Before anything runs (``kflow run``): refuse a flow whose templates name a filter,
    function or test that does not exist, and warn about ``inputs.X`` for an input the
    flow does not declare; returns those warnings.

    Kestra accepts both and fails the task when the template renders, which can be many
    minutes into a run. A name that does not exist is always a mistake, so kflow refuses
    it up front, with the file:line of the property and a marker under the name. An
    undeclared input stays a run-time failure, as in Kestra (its own tests run such flows:
    ``VariablesTest.invalidVars``), announced by a warning; ``kflow validate`` refuses it.
    A template that does not parse is left alone: as in Kestra, its task fails when it
    renders."""
    col = _Collector(flow.path)
    _check_templates(flow, col, syntax=False, inputs_as_warnings=True)
    _raise_problems(col)
    return col.warnings


def _build_flow(data: Any, text: str, path: str | None, col: _Collector) -> Flow | None:
    for key in data:
        if key == "extend":
            col.add("'extend' is not a flow property (blueprint metadata)", data, key,
                    hint=_EXTEND_HINT)  # fmt: skip
        elif key not in FLOW_KEYS:
            close = _close(str(key), FLOW_KEYS)
            col.add(
                f"unknown flow property '{key}'",
                data,
                key,
                hint=f"did you mean {close}?" if close else "remove it",
            )
        elif key in IGNORED_FLOW_KEYS and data[key] not in (None, False):  # false: no effect
            col.warn(f"'{key}' is ignored: {IGNORED_FLOW_KEYS[key]}", data, key,
                     hint=_TRIGGERS_HINT if key == "triggers" else None)  # fmt: skip
    _check_flow_checks(data, col)
    fid = data.get("id")
    ns = data.get("namespace")
    if fid is None:
        col.add("missing flow 'id'", data, hint="add 'id: my_flow' at the top of the file")
    elif not isinstance(fid, str) or not FLOW_ID_RE.match(fid) or len(fid) > 100:
        col.add(
            f"invalid flow id {fid!r}: it must match ^[a-zA-Z0-9][a-zA-Z0-9._-]* (1-100 chars)",
            data,
            "id",
            hint="use letters, digits, '.', '_' and '-' only",
        )
    if ns is None:
        col.add("missing 'namespace'", data, hint="add 'namespace: company.team'")
    elif not isinstance(ns, str) or not NAMESPACE_RE.match(ns) or len(ns) > 150:
        col.add(
            f"invalid namespace {ns!r}: it must match ^[a-z0-9][a-z0-9._-]* (lower case)",
            data,
            "namespace",
            hint="use lower-case letters, digits, '.', '_' and '-' (e.g. company.team)",
        )
    tasks_raw = data.get("tasks")
    if tasks_raw is None or (isinstance(tasks_raw, list) and not tasks_raw):
        col.add("a flow needs at least one task under 'tasks'", data, "tasks" if "tasks" in data else None,
                hint="add a 'tasks:' list with at least one task")  # fmt: skip
    col.plugin_defaults = _plugin_defaults(data, col)
    seen: dict[str, Location] = {}
    tasks = _task_list(tasks_raw or [], data, "tasks", col, seen) if tasks_raw else ()
    errors = _task_list(data.get("errors"), data, "errors", col, seen)
    finally_ = _task_list(data.get("finally"), data, "finally", col, seen)
    after = _task_list(data.get("afterExecution"), data, "afterExecution", col, seen)

    for spec in [*tasks, *errors, *finally_, *after]:
        _check_recursion(spec, fid, ns, col)
    inputs = _inputs(data, col)
    outputs = _outputs(data, col)
    labels = _labels(data, col)
    triggers = _triggers(data, col)
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        col.add("'variables' must be a mapping of names to values", data, "variables")
        variables = {}
    disabled = data.get("disabled", False)
    if not isinstance(disabled, bool):
        col.add("'disabled' must be true or false", data, "disabled")
    if col.problems or not isinstance(fid, str) or not isinstance(ns, str):
        return None
    return Flow(
        id=fid,
        namespace=ns,
        tasks=tasks,
        description=data.get("description"),
        labels=labels,
        variables=dict(variables),
        inputs=inputs,
        outputs=outputs,
        errors=errors,
        finally_=finally_,
        after_execution=after,
        disabled=bool(disabled),
        revision=int(data["revision"]) if isinstance(data.get("revision"), int) else 1,
        retry=dict(data["retry"]) if isinstance(data.get("retry"), dict) else None,
        path=path,
        source=text,
        triggers=triggers,
    )


def _triggers(data: LineDict, col: _Collector) -> tuple[TriggerSpec, ...]:
    """The ``triggers`` list: ids unique, the core types' properties checked
    (:func:`kflow.flow.triggers.check_trigger`), other types warned about."""
    from kflow.flow.triggers import TRIGGER_ID_RE, check_trigger

    raw = data.get("triggers")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        col.add("'triggers' must be a list of triggers", data, "triggers")
        return ()
    seen: set[str] = set()
    out: list[TriggerSpec] = []
    for item in raw:
        if not isinstance(item, dict):
            col.add("a trigger must be a mapping with at least 'id' and 'type'", raw)
            continue
        before = len(col.problems)
        tid = item.get("id")
        if tid is None:
            col.add("a trigger is missing its 'id'", item, hint="add '- id: my_trigger'")
        elif not isinstance(tid, str) or not TRIGGER_ID_RE.match(tid):
            col.add(f"invalid trigger id {tid!r}: it must match ^[a-zA-Z0-9][a-zA-Z0-9_-]*",
                    item, "id")  # fmt: skip
        elif tid in seen:
            col.add(f"Duplicate trigger id with name [{tid}]", item, "id")
        else:
            seen.add(tid)
        problems, warnings = check_trigger(item)
        for message, key in problems:
            col.add(message, item, key)
        for message, key in warnings:
            col.warn(message, item, key, code="unchecked-trigger")
        if len(col.problems) == before and isinstance(tid, str):
            out.append(TriggerSpec(id=tid, type=str(item["type"]), props=dict(item),
                                   location=col.location(item, "id")))  # fmt: skip
    return tuple(out)


def _check_task_cache(label: str, cls: type[Task], raw: Any, col: _Collector) -> bool:
    """``taskCache: {enabled, ttl}`` (kflow.engine.taskcache); runnable tasks only."""
    cache = raw["taskCache"]
    if not isinstance(cache, dict):
        col.add(f"{label}: 'taskCache' must be a mapping such as {{enabled: true, ttl: PT1H}}",
                raw, "taskCache")  # fmt: skip
        return False
    ok = True
    for key in cache:
        if key not in ("enabled", "ttl"):
            col.add(f"{label}: unknown 'taskCache' property '{key}' (enabled, ttl)", cache, key)
            ok = False
    if "enabled" in cache and not isinstance(cache["enabled"], bool):
        col.add(f"{label}: 'taskCache.enabled' must be true or false", cache, "enabled")
        ok = False
    if not _check_duration(f"{label} taskCache", "ttl", cache.get("ttl"), cache, col):
        ok = False
    if ok and cls.flowable and cache.get("enabled") is True:
        col.add(f"{label}: 'taskCache' on a flowable task ({cls.type}) is not supported by "
                "kflow: it caches the outputs of runnable tasks", raw, "taskCache")  # fmt: skip
        ok = False
    return ok


def _check_flow_checks(data: LineDict, col: _Collector) -> None:
    """Flow ``checks`` (Kestra 1.x) may block or fail an execution before it starts: kflow
    does not evaluate them, so it refuses them, unless every check only shows a message
    (``behavior: CREATE_EXECUTION``), which is a warning."""
    checks = data.get("checks")
    if checks is None:
        return
    items = checks if isinstance(checks, list) else [checks]
    blocking = [
        c for c in items
        if not (isinstance(c, dict) and str(c.get("behavior", "")).upper() == "CREATE_EXECUTION")
    ]  # fmt: skip
    if blocking:
        col.add(
            "flow 'checks' are not supported by kflow: they may block or fail an execution "
            "and kflow does not evaluate them",
            data,
            "checks",
            hint="remove 'checks', or enforce the rule in a first task "
            "(io.kestra.plugin.core.execution.Fail with a 'condition')",
        )
    else:
        col.warn("'checks' are ignored: kflow does not evaluate them (they only show a "
                 "message in Kestra's UI, behavior CREATE_EXECUTION)", data, "checks")  # fmt: skip


# Task properties Kestra never renders (or that hold tasks): not checked as templates.
_NOT_RENDERED = frozenset(
    {"id", "type", "description", "disabled", "allowFailure", "allowWarning", "logLevel",
     "logToFile", "workerGroup", "retry", "errors", "finally", "version"}
)  # fmt: skip


def _check_templates(
    flow: Flow, col: _Collector, *, syntax: bool = True, inputs_as_warnings: bool = False
) -> None:
    """Every template a run would render must parse (``syntax``: a syntax error is bad
    input, exit 2, file:line of the property) and name only filters, functions and tests
    that exist and inputs the flow declares; found before anything runs."""
    from kflow import expr
    from kflow.errors import ExpressionError
    declared = _declared_outputs(flow)
    lazy: list[_Names] = []  # made on the first template: none, no Jinja2 loaded (start-up)

    def visit(value: Any, where: tuple[int | None, int | None], label: str) -> None:
        if isinstance(value, str):
            if "{" in value:
                if syntax:
                    try:
                        expr.check_syntax(value)
                    except ExpressionError as exc:
                        col.add(f"{label}: {exc.message}", where,
                                hint="fix the expression; check it with: kflow eval '<expression>'")  # fmt: skip
                        return
                from kflow.expr import paths

                if not lazy:
                    lazy.append(_Names(flow))
                names = lazy[0]
                # text and plain paths: read without Jinja2 (a run of such a flow never loads it)
                refs = paths.references(value)
                if refs is None:
                    from kflow.expr.env import references

                    try:
                        refs = references(value)
                    except (ExpressionError, RecursionError):
                        return  # reported above (validate), or left to the run, as in Kestra
                for ref in refs:
                    if ref.kind == "output":
                        unknown = _unknown_output(ref, declared)
                        if unknown is not None:
                            col.warn(f"{label}: {unknown[0]}", where, hint=unknown[1],
                                     code="undeclared-output")  # fmt: skip
                        continue
                    found = names.problem(ref)
                    if found is not None and ref.kind == "input" and inputs_as_warnings:
                        col.warn(f"{label}: {found[0]}", where, hint=found[1],
                                 code="undeclared-input-use")  # fmt: skip
                    elif found is not None:
                        message, hint = found
                        col.problems.append(
                            ExpressionError(f"{label}: {message}", template=value,
                                            position=ref.position, path=col.path,
                                            line=where[0], column=where[1], hint=hint)
                        )  # fmt: skip
        elif isinstance(value, dict):
            for key, item in value.items():
                mark = value.mark(key) if isinstance(value, LineDict) else where
                visit(item, mark, label)
        elif isinstance(value, list):
            marks = getattr(value, "item_marks", None)
            for i, item in enumerate(value):
                visit(item, marks[i] if marks else where, label)

    for spec in flow.all_tasks():
        raw = spec.raw
        for key, value in raw.items():
            decl = spec.task_class.properties.get(key)
            if key in _NOT_RENDERED or (decl is not None and decl.kind in ("tasks", "cases", "dag")):
                continue
            mark = raw.mark(key) if isinstance(raw, LineDict) else (None, None)
            visit(value, mark, f"task '{spec.id}', property '{key}'")
    for out in flow.outputs:
        item = out.props
        mark = item.mark("value") if isinstance(item, LineDict) else (None, None)
        visit(out.value, mark, f"flow output '{out.id}'")
    for inp in flow.inputs:
        if inp.defaults is not MISSING:
            item = inp.props
            mark = item.mark("defaults") if isinstance(item, LineDict) else (None, None)
            visit(inp.defaults, mark, f"input '{inp.id}' defaults")


def _declared_outputs(flow: Flow) -> dict[str, tuple[int, TaskSpec]]:
    """Task id → (number of iteration keys before its outputs, the task), for the tasks
    whose outputs are fixed. A task below a ForEach is reached as
    ``outputs.t[value]...``: one key per iterating ancestor (its ``errors``/``finally`` get
    no value)."""
    out: dict[str, tuple[int, TaskSpec]] = {}
    stack: list[tuple[TaskSpec, int]] = [
        (s, 0) for s in (*flow.tasks, *flow.errors, *flow.finally_, *flow.after_execution)
    ]
    while stack:
        spec, keys = stack.pop()
        cls = spec.task_class
        if cls.outputs is not None and not cls.dynamic_outputs:
            out[spec.id] = (keys, spec)
        inner = keys + 1 if getattr(cls, "iterates", False) else keys
        side = {id(s) for s in (*spec.errors, *spec.finally_)}
        stack.extend((c, keys if id(c) in side else inner) for c in spec.child_specs())
    return out


def _unknown_output(
    ref: Any, declared: Mapping[str, tuple[int, TaskSpec]]
) -> tuple[str, str] | None:
    """(message, hint) when ``outputs.t.x`` names an output task ``t`` never produces.

    Kestra runs such a flow and fails the task when the template renders, so this is a
    warning; keys written under ``??``, ``default`` or ``is defined`` never reach here."""
    entry = declared.get(ref.name)
    if entry is None:
        return None
    keys, spec = entry
    outputs = spec.task_class.outputs or {}
    if len(ref.path) <= keys or ref.path[keys] is None:
        return None
    name = ref.path[keys]
    if name in outputs:
        return None
    listed = ", ".join(outputs) or "none"
    close = _close(name, list(outputs))
    hint = f"did you mean {close.split(', ')[0]}? " if close else ""
    return (
        f"task '{ref.name}' ({spec.type}) has no output '{name}': the template fails when "
        "it renders",
        f"{hint}its outputs: {listed} (kflow plugins {spec.task_class.type}); write "
        f"'?? fallback' if the output may be missing",
    )


class _Names:
    """What a template may name: the registered filters, functions and tests, and the
    flow's input ids (dotted ids ``a.b`` are reached as ``inputs.a.b``)."""

    def __init__(self, flow: Flow) -> None:
        self.inputs = [spec.id for spec in flow.inputs]

    @cached_property
    def env(self) -> Any:
        """The Kestra environment, built on the first filter, function or test to check
        (inputs and outputs need none: a flow of plain paths never loads Jinja2)."""
        from kflow.expr.env import get_environment

        return get_environment()

    @cached_property
    def known(self) -> Mapping[str, Mapping[str, Any]]:
        env = self.env
        return {"filter": env.k_filters, "function": env.k_functions, "test": env.k_tests}

    def problem(self, ref: Any) -> tuple[str, str] | None:
        """(message, hint) for a name that does not exist, else None. The message starts
        with Pebble's own wording, as the task would fail with at run time."""
        from kflow.expr.runtime import unknown_name_hint

        name = ref.name
        if ref.kind == "input":
            missing = self._undeclared(name)
            return None if missing is None else self._input_problem(name, missing)
        if name in self.known[ref.kind]:
            return None
        message = {
            "filter": f"Filter [{name}] does not exist.",
            "function": f"Function or Macro [{name}] does not exist.",
            "test": f"Test [{name}] does not exist.",
        }[ref.kind]
        return message, unknown_name_hint(ref.kind, name, self.env)

    def _undeclared(self, path: str) -> str | None:
        """The first prefix of ``path`` that is neither an input id nor the start of a
        dotted one (``inputs.a.c`` with only ``a.b`` declared → ``a.c``), else None."""
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in self.inputs:
                return None  # an input: what follows is inside its value
            if not any(iid.startswith(prefix + ".") for iid in self.inputs):
                return prefix
        return None

    def _input_problem(self, path: str, missing: str) -> tuple[str, str]:
        message = (f"Unable to find `inputs.{path}`: the flow declares no input "
                   f"'{missing}'")  # fmt: skip
        if not self.inputs:
            return message, f"declare it under 'inputs:' (e.g. - id: {missing}, type: STRING)"
        close = _close(missing, self.inputs)
        listed = ", ".join(self.inputs)
        if close:
            first = close.split(", ")[0]
            return message, f"did you mean inputs.{first}? (declared inputs: {listed})"
        return message, f"declare it under 'inputs:', or use one of: {listed}"


def _plugin_defaults(data: LineDict, col: _Collector) -> list[dict[str, Any]]:
    """``pluginDefaults`` (or the deprecated ``taskDefaults``): [{type, forced, values}]."""
    raw = data.get("pluginDefaults", data.get("taskDefaults"))
    if raw is None:
        return []
    key = "pluginDefaults" if "pluginDefaults" in data else "taskDefaults"
    if not isinstance(raw, list):
        col.add(f"'{key}' must be a list of {{type, values}}", data, key)
        return []
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            col.add(f"each entry of '{key}' needs a 'type'", data, key)
            continue
        values = item.get("values") or {}
        if not isinstance(values, dict):
            col.add(f"'{key}' values for {item['type']} must be a mapping", data, key)
            continue
        out.append({"type": item["type"], "forced": bool(item.get("forced", False)),
                    "values": values})  # fmt: skip
    return out


def _with_defaults(raw: Any, type_names: set[str], defaults: list[dict[str, Any]]) -> Any:
    """The task with plugin defaults applied: task values win unless the default is
    ``forced``; maps are merged key by key (PluginDefaultService)."""
    applicable = [
        d for d in defaults
        if d["type"] in type_names or any(t.startswith(d["type"] + ".") for t in type_names)
    ]  # fmt: skip
    if not applicable:
        return raw
    merged = LineDict(raw)
    merged.line, merged.column = raw.line, raw.column
    merged.key_marks = dict(getattr(raw, "key_marks", {}))
    for d in applicable:
        for key, value in d["values"].items():
            if key in ("id", "type"):
                continue
            if key not in merged:
                merged[key] = value
            elif isinstance(merged[key], dict) and isinstance(value, dict):
                merged[key] = _merge_maps(value, merged[key], d["forced"])
            elif d["forced"]:
                merged[key] = value
    return merged


def _merge_maps(default: dict[str, Any], task: dict[str, Any], forced: bool) -> dict[str, Any]:
    out = dict(default) if not forced else dict(task)
    for key, value in (task if not forced else default).items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge_maps(value, out[key], False) if forced else _merge_maps(out[key], value, False)
        else:
            out[key] = value
    return out


def _check_recursion(spec: TaskSpec, fid: Any, ns: Any, col: _Collector) -> None:
    """FlowValidator: a Subflow task must not call its own flow."""
    if spec.type == "io.kestra.plugin.core.flow.Subflow":
        if spec.props.get("flowId") == fid and spec.props.get("namespace") == ns:
            col.add(
                f"Recursive call to flow [{ns}.{fid}]",
                spec.location,
                hint="a flow cannot call itself as a subflow",
            )
    for child in spec.child_specs():
        _check_recursion(child, fid, ns, col)


def _labels(data: LineDict, col: _Collector) -> dict[str, str]:
    raw = data.get("labels")
    out: dict[str, str] = {}
    if raw is None:
        return out
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and "key" in item and "value" in item:
                pairs.append((item["key"], item["value"]))
            else:
                col.add("each label in a list must be {key: ..., value: ...}", data, "labels")
    else:
        col.add("'labels' must be a mapping or a list of {key, value}", data, "labels")
    for key, value in pairs:
        if isinstance(value, (dict, list)) or value is None:
            col.add(f"label '{key}' must have a scalar value", data, "labels")
            continue
        if str(key).startswith("system.") and key != "system.readOnly":
            col.add(
                f"System labels can only be set by Kestra itself, offending label: {key}={value}",
                data,
                "labels",
            )
            continue
        out.setdefault(str(key), _label_str(value))
    return out


def _label_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _inputs(data: LineDict, col: _Collector) -> tuple[InputSpec, ...]:
    raw = data.get("inputs")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        col.add("'inputs' must be a list", data, "inputs")
        return ()
    from kflow.flow import inputs as inputs_mod

    specs: list[InputSpec] = []
    for item in raw:
        if not isinstance(item, dict):
            col.add("each input must be a mapping with id and type", raw)
            continue
        iid = item.get("id", item.get("name"))
        itype = item.get("type")
        where = col.location(item)
        if iid is None:
            col.add("an input is missing its 'id'", item)
            continue
        if itype is None:
            col.add(f"input '{iid}' is missing its 'type'", item, hint="e.g. type: STRING")
            continue
        required = item.get("required", True)
        spec = InputSpec(
            id=str(iid),
            type=str(itype),
            required=bool(required),
            defaults=item["defaults"] if "defaults" in item else MISSING,
            description=item.get("description"),
            props=item,  # a LineDict: keeps positions
            location=where,
        )
        for problem in inputs_mod.check_input_spec(spec):
            col.add(problem, item)
        default = item.get("defaults")
        if spec.type in ("BOOLEAN", "BOOL") and inputs_mod.read_as_false(default):
            if not _is_template(default):  # Kestra renders templated defaults first
                col.warn(f"input '{iid}' is BOOLEAN and its defaults {default!r} is neither "
                         "true nor false: Kestra reads it as false", item, "defaults",
                         hint="write defaults: true or defaults: false (without quotes)",
                         code="boolean-input")  # fmt: skip
        specs.append(spec)
    for problem in inputs_mod.check_input_ids(specs):
        col.add(problem, data, "inputs")
    return tuple(specs)


def _outputs(data: LineDict, col: _Collector) -> tuple[OutputSpec, ...]:
    raw = data.get("outputs")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        col.add("flow 'outputs' must be a list of {id, type, value}", data, "outputs")
        return ()
    from kflow.flow import inputs as inputs_mod

    specs: list[OutputSpec] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, dict):
            col.add("each flow output must be a mapping with id, type and value", raw)
            continue
        oid = item.get("id")
        if oid is None:
            col.add("a flow output is missing its 'id'", item)
            continue
        if "value" not in item:
            col.add(f"flow output '{oid}' is missing its 'value'", item)
            continue
        if str(oid) in seen:
            col.add(f"Duplicate output with name [{oid}]", item, "id")
        seen.add(str(oid))
        spec = OutputSpec(
            id=str(oid),
            type=str(item.get("type", "STRING")),
            value=item["value"],
            description=item.get("description"),
            required=bool(item.get("required", True)),
            props=item,  # a LineDict: keeps positions
            location=col.location(item),
        )
        if "type" not in item:
            col.add(f"flow output '{oid}' is missing its 'type'", item, hint="e.g. type: STRING")
        else:
            problems = inputs_mod.check_output_spec(spec)
            for problem in problems:
                col.add(problem, item)
            bad_value = None if problems else inputs_mod.check_output_value(spec)
            if bad_value is not None:
                col.add(bad_value[0], item, "value", hint=bad_value[1])
        specs.append(spec)
    return tuple(specs)


def _task_list(
    raw: Any, owner: Any, key: str, col: _Collector, seen: dict[str, Location]
) -> tuple[TaskSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        col.add(f"'{key}' must be a list of tasks", owner, key, hint="start each task with '- id:'")
        return ()
    out = []
    for item in raw:
        spec = _task(item, raw, col, seen)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _task(raw: Any, parent: Any, col: _Collector, seen: dict[str, Location]) -> TaskSpec | None:
    if not isinstance(raw, dict):
        col.add("a task must be a mapping with at least 'id' and 'type'", parent)
        return None
    tid = raw.get("id")
    ttype = raw.get("type")
    ok = True
    if tid is None:
        col.add("a task is missing its 'id'", raw, hint="add '- id: my_task' to the task")
        ok = False
    elif not isinstance(tid, str) or not TASK_ID_RE.match(tid):
        col.add(
            f"invalid task id {tid!r}: it must match ^[a-zA-Z0-9][a-zA-Z0-9_-]* (no dots)",
            raw,
            "id",
            hint="use letters, digits, '_' and '-' only",
        )
        ok = False
    else:
        where = col.location(raw, "id")
        if tid in seen:
            prev = seen[tid]
            col.add(
                f"Duplicate task id with name [{tid}] (also at line {prev.line})",
                raw,
                "id",
                hint="task ids must be unique in the whole flow, nested tasks included",
            )
        else:
            seen[tid] = where
    label = f"task '{tid}'" if tid else "a task"
    if ttype is None:
        col.add(
            f"{label} is missing its 'type'",
            raw,
            hint="e.g. type: io.kestra.plugin.core.log.Log",
        )
        return None
    if not isinstance(ttype, str) or not TYPE_RE.match(ttype):
        col.add(f"{label} has an invalid type {ttype!r}", raw, "type")
        return None
    current = registry.canonical_type(ttype)
    if current in registry.UNSUPPORTED:
        named = ttype if current == ttype else f"{ttype} (Kestra's former name of {current})"
        col.add(f"{label} has type {named}, which is not supported by kflow: "
                f"{registry.UNSUPPORTED[current]}", raw, "type")  # fmt: skip
        return None
    try:
        cls = registry.lookup(ttype)
    except KflowError as exc:
        col.add(f"{label}: {exc.message}", raw, "type", hint=exc.hint)
        return None
    if cls is None:
        message, hint = _unknown_type(ttype)
        col.add(f"{label} {message}", raw, "type", hint=hint)
        return None

    for module, extra in cls.requires:
        if not _importable(module):
            col.warn(
                f"{label} ({cls.type}) needs the optional package '{module}', "
                "which is not installed: `kflow run` refuses this flow until it is",
                raw,
                "type",
                hint=f"pip install 'kflow[{extra}]'",
                code=MISSING_EXTRA,
            )
    if cls.deprecated:
        col.warn(f"{label}: {ttype} is deprecated in Kestra; {cls.deprecated}", raw, "type",
                 code=DEPRECATED_TYPE)  # fmt: skip
    for key, reason in IGNORED_TASK_PROPERTIES.items():
        if raw.get(key) not in (None, False):  # as written: not once per pluginDefaults
            col.warn(f"{label}: '{key}' is ignored: {reason}", raw, key)
    if col.plugin_defaults:
        raw = _with_defaults(raw, {ttype, cls.type}, col.plugin_defaults)
    allowed = _allowed_properties(cls)
    for key in raw:
        if key not in allowed:
            close = _close(str(key), allowed - {"id", "type"})
            col.add(
                f"{label} ({cls.type.rsplit('.', 1)[-1]}) has an unknown property '{key}'",
                raw,
                key,
                hint=f"did you mean '{close}'?" if close else "remove it; see the task's docs",
            )
            ok = False
    props: dict[str, Any] = {}
    problems_before = len(col.problems)
    for name, decl in cls.properties.items():
        if name not in raw:
            if decl.required:
                col.add(
                    f"{label} ({cls.type.rsplit('.', 1)[-1]}) is missing the required "
                    f"property '{name}'",
                    raw,
                    hint=decl.doc or None,
                )
                ok = False
            continue
        value = raw[name]
        checked = _check_prop(label, name, decl, value, raw, col, seen)
        if checked is not _BAD and not _check_declared(label, name, decl, value, raw, col):
            checked = _BAD
        if checked is _BAD:
            ok = False
        else:
            props[name] = checked
    errors = _task_list(raw.get("errors"), raw, "errors", col, seen) if cls.flowable else ()
    finally_ = _task_list(raw.get("finally"), raw, "finally", col, seen) if cls.flowable else ()
    for flag in ("disabled", "allowFailure", "allowWarning"):
        if flag in raw and not isinstance(raw[flag], bool):
            col.add(f"{label}: '{flag}' must be true or false", raw, flag)
            ok = False
    if not _check_duration(label, "timeout", raw.get("timeout"), raw, col):
        ok = False
    if "taskCache" in raw and not _check_task_cache(label, cls, raw, col):
        ok = False
    if "runIf" in raw and isinstance(raw["runIf"], (list, dict)):
        col.add(f"{label}: 'runIf' must be an expression (a string), not {_kind_name(raw['runIf'])}",
                raw, "runIf", hint='e.g. runIf: "{{ inputs.enabled }}"')  # fmt: skip
        ok = False
    retry = raw.get("retry")
    if isinstance(retry, dict):
        for key in ("interval", "maxInterval", "minInterval", "maxDuration"):
            if key in retry and not _check_duration(f"{label} retry", key, retry[key], retry, col):
                ok = False
        if "maxAttempt" in retry and not isinstance(retry["maxAttempt"], int):
            col.add(f"{label}: retry 'maxAttempt' must be a whole number", retry, "maxAttempt")
            ok = False
    if retry is not None and (not isinstance(retry, dict) or "type" not in retry):
        col.add(f"{label}: 'retry' must be a mapping with a 'type'", raw, "retry",
                hint="e.g. retry: {type: constant, interval: PT1S, maxAttempt: 3}")  # fmt: skip
        ok = False
    elif retry is not None and str(retry["type"]).lower() not in ("constant", "exponential", "random"):
        col.add(f"{label}: unknown retry type {retry['type']!r}", raw, "retry",
                hint="use constant, exponential or random")  # fmt: skip
        ok = False
    if not ok or tid is None:
        return None
    spec = TaskSpec(
        id=tid,
        type=cls.type,
        task_class=cls,
        props=props,
        description=raw.get("description"),
        run_if=raw["runIf"] if "runIf" in raw else MISSING,
        disabled=bool(raw.get("disabled", False)),
        allow_failure=bool(raw.get("allowFailure", False)),
        allow_warning=bool(raw.get("allowWarning", False)),
        timeout=raw.get("timeout"),
        retry=dict(retry) if isinstance(retry, dict) else None,
        errors=errors,
        finally_=finally_,
        log_level=raw.get("logLevel"),
        raw=raw,  # a LineDict: keeps each property's position
        location=col.location(raw, "id"),
    )
    for program in cls.required_programs(spec):
        if shutil.which(program) is None:
            col.warn(
                f"{label} ({ttype}) needs the program '{program}', which is not on PATH: "
                "`kflow run` refuses this flow until it is",
                raw,
                "type",
                hint=f"install {program} (or set its path), or run the flow in Kestra",
                code=MISSING_EXTRA,
            )
    if len(col.problems) == problems_before:
        # a child task already reported is not also "'tasks' must not be empty" here
        for problem in cls.check(spec):
            col.add(f"{label}: {problem}", raw)
    return spec


_ALLOWED: dict[type[Task], frozenset[str]] = {}


def _allowed_properties(cls: type[Task]) -> frozenset[str]:
    """Every property a task of ``cls`` may have (computed once per class)."""
    allowed = _ALLOWED.get(cls)
    if allowed is None:
        names = set(COMMON_PROPERTIES) | set(cls.properties)
        if cls.flowable:
            names |= FLOWABLE_PROPERTIES
        allowed = _ALLOWED[cls] = frozenset(names)
    return allowed


def _unknown_type(ttype: str) -> tuple[str, str]:
    """The message and hint for a type no installed plugin provides: a typo of a known type,
    a core task kflow does not implement, or a plugin kflow does not ship."""
    known = registry.known_types()
    close = _close_type(ttype, known)
    listing = "run 'kflow plugins' to list the supported types"
    if ttype in registry.ALIASES:
        current = registry.ALIASES[ttype]
        return (f"has type {ttype} (Kestra's former name of {current}), which is not "
                "supported by kflow", f"{listing}; remove the task or run the flow in Kestra")  # fmt: skip
    if close:
        return f"has an unknown type {ttype}", f"did you mean {close}? ({listing})"
    group = _plugin_group(ttype)
    if group == "io.kestra.plugin.core":
        return (f"has type {ttype}, a Kestra core task not supported by kflow",
                f"{listing}; remove the task or run the flow in Kestra")  # fmt: skip
    if group.startswith("io.kestra."):
        return (f"has type {ttype}, from the Kestra plugin {group}, which kflow does not ship",
                "kflow runs the core tasks, HTTP, shell and Python scripts and DuckDB queries; "
                f"a kflow plugin package can add others ({listing})")  # fmt: skip
    return (f"has an unknown type {ttype}: no installed kflow plugin provides it",
            f"install the kflow plugin that provides it ({listing})")  # fmt: skip


def _check_declared(
    label: str, name: str, decl: Prop | SubKey, value: Any, owner: Any, col: _Collector
) -> bool:
    """What the declaration says kflow refuses, ignores or expects inside a mapping
    (HTTP ``options``); False when the value is refused."""
    if value is None:
        return True
    if decl.refused and decl.allowed is None:
        col.add(f"{label}: '{name}' is not supported by kflow: {decl.refused}", owner,
                name.rsplit(".", 1)[-1], hint=f"remove '{name}'")  # fmt: skip
        return False
    if (
        decl.allowed is not None
        and isinstance(value, str)
        and not _is_template(value)
        and value.strip().upper() not in decl.allowed
    ):
        col.add(f"{label}: {name} {value!r} is not supported by kflow: {decl.refused}", owner,
                name.rsplit(".", 1)[-1], hint=f"use {' or '.join(decl.allowed)}")  # fmt: skip
        return False
    if decl.ignored:
        col.warn(f"{label}: '{name}' is ignored: {decl.ignored}", owner, name.rsplit(".", 1)[-1])
    ok = True
    if decl.keys is not None and isinstance(value, dict):
        for key, item in value.items():
            sub = decl.keys.get(key)
            if sub is None:
                close = _close(str(key), decl.keys)
                col.add(f"{label}: unknown key '{key}' in '{name}'", value, key,
                        hint=f"did you mean '{close}'?" if close
                        else f"'{name}' accepts {', '.join(decl.keys)}")  # fmt: skip
                ok = False
            elif not _check_declared(label, f"{name}.{key}", sub, item, value, col):
                ok = False
    return ok


_BAD = object()

_KIND_CHECK: dict[str, tuple[tuple[type, ...], str]] = {
    "string": ((str, int, float, bool), "a string"),
    "bool": ((bool, str), "true or false"),
    "int": ((int, str), "an integer"),
    "number": ((int, float, str), "a number"),
    "list": ((list, str), "a list"),
    "map": ((dict, str), "a mapping"),
    "duration": ((str,), "an ISO-8601 duration such as PT10S"),
}


def _kind_name(value: Any) -> str:
    """How a YAML value is called in messages (never Python's class names)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and "{" in value


def _check_duration(label: str, key: str, value: Any, where: Any, col: _Collector) -> bool:
    """A literal (non-template) duration must parse as Java's Duration does."""
    from kflow.java.duration import duration_problem, parse_duration

    if value is None or _is_template(value):
        return True
    if parse_duration(str(value)) is None:
        col.add(
            f"{label}: '{key}' {value!r} {duration_problem(str(value))}",
            where,
            key,
            hint="write durations like PT30S, PT5M, PT1H30M or P1D",
        )
        return False
    return True


def _dag_tasks(
    label: str, name: str, value: Any, raw: LineDict, col: _Collector, seen: dict[str, Location]
) -> Any:
    """A Dag's ``tasks``: ``[{task: {...}, dependsOn: [ids]}]`` → its tasks as a tuple of
    TaskSpec (the Dag reads ``dependsOn`` from the YAML it keeps)."""
    if not isinstance(value, list) or not value:
        col.add(f"{label}: '{name}' must be a non-empty list of {{task: ..., dependsOn: [...]}}",
                raw, name, hint="e.g. - task: {id: t1, type: ...}\n  dependsOn: [t0]")  # fmt: skip
        return _BAD
    specs: list[TaskSpec] = []
    ok = True
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("task"), dict):
            col.add(f"{label}: each entry of '{name}' needs a 'task' mapping", item
                    if isinstance(item, dict) else raw, hint="write '- task: {id: ..., type: ...}'")  # fmt: skip
            ok = False
            continue
        for key in item:
            if key not in ("task", "dependsOn"):
                col.add(f"{label}: unknown key '{key}' in a Dag entry", item, key,
                        hint="a Dag entry has 'task' and 'dependsOn' only")  # fmt: skip
                ok = False
        depends = item.get("dependsOn")
        if depends is not None and (
            not isinstance(depends, list) or not all(isinstance(d, str) for d in depends)
        ):
            col.add(f"{label}: 'dependsOn' must be a list of task ids", item, "dependsOn")
            ok = False
        spec = _task(item["task"], item, col, seen)
        if spec is None:
            ok = False
        else:
            specs.append(spec)
    return tuple(specs) if ok else _BAD


def _check_prop(
    label: str,
    name: str,
    decl: Prop,
    value: Any,
    raw: LineDict,
    col: _Collector,
    seen: dict[str, Location],
) -> Any:
    if decl.kind in ("tasks", "cases") and value is None:
        return ()  # an explicit null is like leaving the property out (Kestra accepts it)
    if decl.kind == "dag":
        return _dag_tasks(label, name, value, raw, col, seen)
    if decl.kind == "tasks":
        if not isinstance(value, list):
            col.add(f"{label}: '{name}' must be a list of tasks", raw, name)
            return _BAD
        if not value and decl.required:
            col.add(f"{label}: '{name}' must not be empty", raw, name,
                    hint="add at least one task, or remove this task")  # fmt: skip
            return _BAD
        return _task_list(value, raw, name, col, seen)
    if decl.kind == "cases":
        if not isinstance(value, dict):
            col.add(f"{label}: '{name}' must map each case value to a list of tasks", raw, name)
            return _BAD
        return {str(k): _task_list(v, value, str(k), col, seen) for k, v in value.items()}
    if decl.kind == "duration" and not _check_duration(label, name, value, raw, col):
        return _BAD
    check = _KIND_CHECK.get(decl.kind)
    if check is not None and value is not None:
        types, what = check
        if not isinstance(value, types) or (decl.kind in ("int", "number") and isinstance(value, bool)):
            col.add(f"{label}: '{name}' must be {what}, not {_kind_name(value)}", raw, name)
            return _BAD
    return value
