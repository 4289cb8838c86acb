"""Commands that read what runs left behind: outputs, eval, logs, executions; and
``validate`` / ``plugins`` (``kflow preview`` is :mod:`kflow.cli.preview`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from kflow.errors import KflowError


def _dump(doc: Any) -> None:
    from kflow.cli.jsonout import dumps

    sys.stdout.write(dumps(doc) + "\n")


def _require_task(ex: Any, task: str | None) -> None:
    """``--task ID`` must name a task that ran in ``ex``; else list the ones that did."""
    from kflow.errors import NotFoundError

    if task is not None and not any(tr.task_id == task for tr in ex.task_runs):
        ids = sorted({tr.task_id for tr in ex.task_runs})
        raise NotFoundError(
            f"execution {ex.id} has no run of task {task!r}",
            hint=f"tasks in this execution: {', '.join(ids) or 'none'}",
        )


def outputs_command(
    execution_id: str, task: str | None, as_json: bool, preview: bool = False
) -> None:
    """The task runs of an execution: each failed run's error (and the ERROR lines that say
    why), the outputs, the inputs, labels and metrics; ``--task`` prints values whole;
    ``preview`` shows the first rows or lines of each output file."""
    from kflow.api import open_home
    from kflow.cli import views
    from kflow.secrets import mask_tree

    with open_home() as home:
        ex = home.store.get_execution(execution_id)
        _require_task(ex, task)
        children = home.store.children(ex.id)
        records = {r.taskrun_id: r for r in home.store.execution_records(ex.id)}
        if as_json:
            runs = []
            for tr in ex.task_runs:
                if task is not None and tr.task_id != task:
                    continue
                record = records.get(tr.id)
                runs.append({
                    "id": tr.id,
                    "taskId": tr.task_id,
                    "parentTaskRunId": tr.parent_taskrun_id,
                    "value": tr.value,
                    "state": tr.state.current.value,
                    "outputs": mask_tree(tr.outputs),
                    "error": tr.error,
                    "metrics": tr.metrics,
                    # its task-output record: the expression `kflow eval --exec` takes as
                    # printed, and the record's status (deleted/stale records are marked)
                    "expression": record.expression if record else None,
                    "recordId": record.id if record else None,
                    "recordStatus": record.status if record else None,
                })  # fmt: skip
            doc: dict[str, Any] = {
                "executionId": ex.id,
                "namespace": ex.namespace,
                "flowId": ex.flow_id,
                "state": ex.state.current.value,
                "taskRuns": runs,
                "outputs": mask_tree(ex.outputs),
                "inputs": mask_tree(ex.inputs),
                "labels": ex.labels,
                "error": ex.error,
            }
            if ex.parent_id:
                doc["parentExecutionId"] = ex.parent_id
            if children:
                doc["subflowExecutions"] = [
                    {"id": c.id, "namespace": c.namespace, "flowId": c.flow_id, "state": c.state}
                    for c in children
                ]
            _dump(doc)
            return
        causes = views.error_causes(home.store, ex)
        previews = []
        if preview:
            from kflow.cli.preview import file_parts

            previews = file_parts(home, ex, task)
        views.print_parts(list(views.execution_parts(ex, task, causes, records, children,
                                                     previews)))  # fmt: skip


def eval_command(
    expression: str,
    execution_id: str | None,
    context_file: Path | None,
    as_json: bool,
    decrypt: bool = False,
) -> None:
    """Encrypted values render in their stored form, as in Kestra's Debug Expression;
    ``decrypt`` shows their plaintext (with a warning: it ends up on a terminal or in a file)."""
    from kflow import expr

    if decrypt:
        from kflow.cli.render import console

        console(stderr=True).print(
            "[yellow]warning:[/] --decrypt prints SECRET inputs and encrypted outputs in clear text"
        )
    context: dict[str, Any] = {}
    if execution_id is not None:
        from kflow.api import open_home
        from kflow.engine.replay import execution_context

        with open_home() as home:
            ex = home.store.get_execution(execution_id)
            parent = home.store.get_execution(ex.parent_id) if ex.parent_id else None
            source = home.store.get_flow_source(ex.id)
            context = execution_context(
                ex, source, home.storage, parent, decrypt=decrypt, store=home.store
            )
            expression = _as_template(expression, context)
            result = _render(expr, expression, context, context_file, decrypt)
            gone = [r for r in home.store.execution_records(ex.id) if r.status == "deleted"]
        if gone:
            from kflow.cli.notices import print_notices
            from kflow.notices import Notice

            print_notices([Notice(
                f"execution {ex.id} has {len(gone)} soft-deleted task-output record"
                f"{'' if len(gone) == 1 else 's'} ({', '.join(sorted({r.task_name for r in gone}))}); "
                "their outputs are still used here", code="deleted-records",
                hint="kflow outputs --include-deleted lists them")])  # fmt: skip
    else:
        result = _render(expr, expression, context, context_file, decrypt)
    if as_json:
        _dump({"expression": expression, "result": result})
    else:
        sys.stdout.write(result + "\n")


_BARE_PATH = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[.\[]|$)")


def _as_template(expression: str, context: dict[str, Any]) -> str:
    """A bare expression rooted at a variable of the execution (``outputs.t['a'].value``,
    as ``kflow outputs`` prints it) is evaluated as ``{{ ... }}``; anything else is a
    template, rendered as it is (``kflow eval 'hello'`` still prints hello)."""
    if "{{" in expression or "{%" in expression or "{#" in expression:
        return expression
    m = _BARE_PATH.match(expression)
    if m is None or m.group(1) not in context:
        return expression
    return "{{ " + expression + " }}"


def _render(
    expr: Any,
    expression: str,
    context: dict[str, Any],
    context_file: Path | None,
    decrypt: bool = False,
) -> str:
    if context_file is not None:
        from kflow.cli.run import read_mapping_file  # YAML: only when there is a file

        extra = read_mapping_file(context_file, "context")
        if decrypt:
            # e.g. the output of `kflow run --json`, which keeps encrypted values as stored
            from kflow.secrets import decrypt_tree

            extra = decrypt_tree(extra)
        context = {**context, **extra}
    result: str = expr.render(expression, context)
    return result


def validate_command(flows: list[Path]) -> None:
    import typer

    from kflow.api import load_flow
    from kflow.cli.errors import report
    from kflow.cli.render import console

    out = console()
    bad = 0
    for path in flows:
        try:
            flow = load_flow(path, check_templates=True)
        except KflowError as exc:
            bad += 1
            report(exc)
            continue
        count = len(flow.all_tasks())
        tasks = f"{count} task" if count == 1 else f"{count} tasks"
        out.print(f"[green]✓[/] {path}  ({flow.namespace}.{flow.id}, {tasks})")
        if flow.warnings:  # the flow is valid: warnings never change the exit code
            from kflow.cli.notices import print_notices

            print_notices(flow.warnings)
    if bad:
        raise typer.Exit(2)


_MAX_LIMIT = 2**63 - 1  # SQLite's largest integer: more executions than any home holds


def executions_command(limit: int, as_json: bool) -> None:
    from rich.table import Table

    from kflow.api import open_home
    from kflow.cli.render import console, human_duration, state_text
    from kflow.errors import UsageError

    if not 1 <= limit <= _MAX_LIMIT:
        shown = str(limit) if len(str(limit)) <= 30 else f"{str(limit)[:27]}..."
        raise UsageError(
            f"--limit must be a whole number from 1 to {_MAX_LIMIT}, not {shown}",
            hint="kflow executions --limit 50 lists the 50 newest executions",
        )
    with open_home() as home:
        rows = home.store.list_executions(limit=limit)
    if as_json:
        _dump(
            [
                {
                    "id": r.id,
                    "namespace": r.namespace,
                    "flowId": r.flow_id,
                    "state": r.state,
                    "startDate": r.start,
                    "endDate": r.end,
                    "parentExecutionId": r.parent_id,
                    # Kestra's state.duration (ISO-8601); null while the run goes on
                    "duration": _iso_duration(r.start, r.end),
                }
                for r in rows
            ]
        )
        return
    table = Table()
    for col in ("id", "flow", "state", "started", "duration", "parent"):
        table.add_column(col, justify="right" if col == "duration" else "left")
    for r in rows:
        seconds = _seconds(r.start, r.end)
        took = human_duration(seconds) if seconds is not None else "running" if not r.end else "—"
        if r.state == "PAUSED":
            took = "paused"  # no process runs it: kflow resume EXEC continues it
        table.add_row(
            r.id, f"{r.namespace}.{r.flow_id}", state_text(r.state), r.start, took, r.parent_id or ""
        )
    console().print(table)


def _seconds(start: str, end: str | None) -> float | None:
    """How long a run took, from the ISO instants the store keeps (None: not ended)."""
    from datetime import datetime

    if not end:
        return None
    try:
        began = datetime.fromisoformat(start.replace("Z", "+00:00"))
        ended = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:  # a hand-edited store: no duration rather than a crash
        return None
    return max((ended - began).total_seconds(), 0.0)


def _iso_duration(start: str, end: str | None) -> str | None:
    """Kestra's ``state.duration`` (``PT1.234S``) of a run, None while it goes on."""
    from kflow.records import iso_duration

    seconds = _seconds(start, end)
    return None if seconds is None else iso_duration(seconds)


LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")  # Kestra's, least severe first


def logs_command(execution_id: str, task: str | None, level: str | None = None) -> None:
    """Log lines of an execution; a task inside a loop is labelled ``count[eu]``; ``level``
    keeps that level and those above it, as Kestra's log filter does."""
    from rich.text import Text

    from kflow.api import open_home
    from kflow.cli.render import LEVEL_STYLE, console, task_label
    from kflow.cli.safetext import safe
    from kflow.errors import UsageError

    minimum = 0
    if level is not None:
        wanted = level.strip().upper()
        if wanted not in LOG_LEVELS:
            raise UsageError(
                f"--level must be one of {', '.join(LOG_LEVELS)}, not {safe(level)!r}",
                hint="kflow logs last --level WARN shows the WARN and ERROR lines",
            )
        minimum = LOG_LEVELS.index(wanted)
    out = console()
    with open_home() as home:
        ex = home.store.get_execution(execution_id)
        _require_task(ex, task)
        records = home.store.get_logs(ex.id, task)
    runs = {tr.id: tr for tr in ex.task_runs}

    def rank(name: str) -> int:  # a level kflow does not know is shown as INFO is
        return LOG_LEVELS.index(name) if name in LOG_LEVELS else LOG_LEVELS.index("INFO")

    shown = 0
    for r in records:
        if rank(r.level) < minimum:
            continue
        tr = runs.get(r.taskrun_id or "")
        name = task_label(tr) if tr is not None else safe(r.task_id or "-")
        out.print(
            Text.assemble(
                (r.timestamp + " ", "dim"),
                (f"{safe(r.level):<5} ", LEVEL_STYLE.get(r.level, "")),
                (f"{name} ", "bold"),
                safe(r.message),
            )
        )
        shown += 1
    if not shown:
        suffix = f" for task {task}" if task is not None else ""
        if level is not None:
            suffix += f" at level {LOG_LEVELS[minimum]} or above"
        out.print(Text(f"(no log lines{safe(suffix)})", style="dim"))


def plugins_command(task_type: str | None = None, as_json: bool = False) -> None:
    """Every known type name, or one type's properties and declared outputs."""
    from kflow.tasks.registry import ALIASES, known_types

    if task_type is not None:
        _describe_plugin(task_type, as_json)
        return
    if as_json:
        _dump([{"type": n, "aliasOf": ALIASES.get(n)} for n in known_types()])
        return
    for name in known_types():
        alias = ALIASES.get(name)
        sys.stdout.write(f"{name}" + (f"  (alias of {alias})" if alias else "") + "\n")


def _describe_plugin(task_type: str, as_json: bool) -> None:
    """``kflow plugins TYPE``: what a flow may write (properties) and read back (outputs)."""
    import json

    from kflow.errors import NotFoundError
    from kflow.tasks.registry import canonical_type, lookup

    cls = lookup(task_type)
    if cls is None:
        raise NotFoundError(
            f"no task type {task_type!r}", hint="list the known types with: kflow plugins"
        )
    props = [
        {"name": name, "kind": p.kind, "required": p.required, "default": p.default, "doc": p.doc}
        for name, p in sorted(cls.properties.items())
    ]
    outs = [
        {"name": name, "type": o.type, "dynamic": o.dynamic, "doc": o.doc}
        for name, o in (cls.outputs or {}).items()
    ]
    dynamic = cls.outputs is None or cls.dynamic_outputs
    if as_json:
        _dump({"type": cls.type, "aliases": list(cls.aliases), "flowable": cls.flowable,
               "properties": props, "outputs": outs, "dynamicOutputs": dynamic})  # fmt: skip
        return
    lines = [cls.type]
    if canonical_type(task_type) != task_type:
        lines[0] += f"  ({task_type} is an alias)"
    lines += [f"aliases: {', '.join(cls.aliases)}"] if cls.aliases else []
    lines.append("properties:" if props else "properties: none")
    for p in props:
        extra = ", required" if p["required"] else ""
        if p["default"] is not None:
            extra += f", default {json.dumps(p['default'], ensure_ascii=False)}"
        lines.append(f"  {p['name']} ({p['kind']}{extra})" + (f": {p['doc']}" if p["doc"] else ""))
    if cls.outputs is None:
        lines.append("outputs: not declared by the plugin")
    else:
        lines.append("outputs:" if outs else "outputs: none")
        for o in outs:
            lines.append(f"  {o['name']} ({o['type']})" + (f": {o['doc']}" if o["doc"] else ""))
        if cls.dynamic_outputs:
            lines.append("  (and others the flow decides)")
    sys.stdout.write("\n".join(lines) + "\n")
