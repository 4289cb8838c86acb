"""Commands that read what runs left behind: outputs, eval, logs, executions, preview;
and ``validate`` / ``plugins``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kflow.errors import KflowError


def _dump(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")


def outputs_command(execution_id: str, task: str | None, as_json: bool) -> None:
    from kflow.api import open_home
    from kflow.cli.render import console, flow_outputs_table, outputs_table
    from kflow.errors import NotFoundError
    from kflow.secrets import mask_tree

    with open_home() as home:
        ex = home.store.get_execution(execution_id)
        if task is not None and not any(tr.task_id == task for tr in ex.task_runs):
            ids = sorted({tr.task_id for tr in ex.task_runs})
            raise NotFoundError(
                f"execution {ex.id} has no run of task {task!r}",
                hint=f"tasks in this execution: {', '.join(ids) or 'none'}",
            )
        children = home.store.children(ex.id)
        if as_json:
            runs = [
                {
                    "id": tr.id,
                    "taskId": tr.task_id,
                    "parentTaskRunId": tr.parent_taskrun_id,
                    "value": tr.value,
                    "state": tr.state.current.value,
                    "outputs": mask_tree(tr.outputs),
                }
                for tr in ex.task_runs
                if task is None or tr.task_id == task
            ]
            doc: dict[str, Any] = {
                "executionId": ex.id,
                "namespace": ex.namespace,
                "flowId": ex.flow_id,
                "state": ex.state.current.value,
                "taskRuns": runs,
                "outputs": mask_tree(ex.outputs),
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
        out = console()
        out.print(f"[bold]Execution[/] [cyan]{ex.id}[/]  {ex.namespace}.{ex.flow_id}  {ex.state.current.value}")
        if ex.parent_id:
            out.print(f"[dim]started by execution {ex.parent_id} (subflow)[/]")
        out.print(outputs_table(ex, task))
        if ex.outputs and task is None:
            out.print(flow_outputs_table(ex))
        for c in children:
            out.print(f"[dim]subflow execution {c.id} ({c.namespace}.{c.flow_id}) {c.state}[/]")


def eval_command(expression: str, execution_id: str | None, context_file: Path | None, as_json: bool) -> None:
    from kflow import expr
    from kflow.cli.run import read_mapping_file

    context: dict[str, Any] = {}
    if execution_id is not None:
        from kflow.api import open_home
        from kflow.engine.replay import execution_context

        with open_home() as home:
            ex = home.store.get_execution(execution_id)
            parent = home.store.get_execution(ex.parent_id) if ex.parent_id else None
            context = execution_context(ex, home.store.get_flow_source(ex.id), home.storage, parent)
            result = _render(expr, expression, context, context_file, read_mapping_file)
    else:
        result = _render(expr, expression, context, context_file, read_mapping_file)
    if as_json:
        _dump({"expression": expression, "result": result})
    else:
        sys.stdout.write(result + "\n")


def _render(expr: Any, expression: str, context: dict[str, Any], context_file: Path | None, reader: Any) -> str:
    if context_file is not None:
        context = {**context, **reader(context_file, "context")}
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
        out.print(f"[green]✓[/] {path}  ({flow.namespace}.{flow.id}, {len(flow.all_tasks())} tasks)")
    if bad:
        raise typer.Exit(2)


def executions_command(limit: int, as_json: bool) -> None:
    from rich.table import Table

    from kflow.api import open_home
    from kflow.cli.render import console, state_text

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
                }
                for r in rows
            ]
        )
        return
    table = Table()
    for col in ("id", "flow", "state", "started", "parent"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.id, f"{r.namespace}.{r.flow_id}", state_text(r.state), r.start, r.parent_id or "")
    console().print(table)


def logs_command(execution_id: str, task: str | None) -> None:
    from rich.text import Text

    from kflow.api import open_home
    from kflow.cli.render import LEVEL_STYLE, console
    from kflow.errors import NotFoundError

    out = console()
    with open_home() as home:
        if task is not None:
            ex = home.store.get_execution(execution_id)
            if not any(tr.task_id == task for tr in ex.task_runs):
                ids = sorted({tr.task_id for tr in ex.task_runs})
                raise NotFoundError(
                    f"execution {ex.id} has no run of task {task!r}",
                    hint=f"tasks in this execution: {', '.join(ids) or 'none'}",
                )
        records = home.store.get_logs(execution_id, task)
    for r in records:
        out.print(
            Text.assemble(
                (r.timestamp + " ", "dim"),
                (f"{r.level:<5} ", LEVEL_STYLE.get(r.level, "")),
                (f"{r.task_id or '-'} ", "bold"),
                r.message,
            )
        )


def preview_command(uri: str, rows: int, fmt: str) -> None:
    from rich.table import Table

    from kflow.api import open_home
    from kflow.cli.render import console, cut, show_value
    from kflow.errors import UsageError
    from kflow.preview import read_preview

    if rows < 1:
        raise UsageError(f"--rows must be at least 1, not {rows}")
    if fmt not in ("auto", "table", "text"):
        raise UsageError(f"--format must be auto, table or text, not {fmt!r}")
    with open_home() as home:
        with home.storage.open(uri) as fh:
            pv = read_preview(uri, fh, rows)
    out = console()
    as_table = fmt == "table" or (fmt == "auto" and out.is_terminal)
    if pv.kind == "table" and not as_table:
        # a pipe: the file's own lines (CSV) or one JSON object per record (Ion, JSON lines)
        text = pv.lines if pv.lines else [show_value(r) for r in (pv.records or pv.rows)]
        sys.stdout.write("\n".join(text) + ("\n" if text else ""))
    elif pv.kind == "table":
        table = Table()
        for col in pv.columns:
            table.add_column(str(col))
        for row in pv.rows:
            table.add_row(*[cut(show_value(v), 80) if v is not None else "" for v in row])
        out.print(table)
    else:
        out.print(pv.text, markup=False, highlight=False)
    if pv.truncated:
        out.print(f"[dim](first {rows} rows shown; use --rows N for more)[/]")


def plugins_command() -> None:
    from kflow.tasks.base import ALIASES, known_types

    for name in known_types():
        alias = ALIASES.get(name)
        sys.stdout.write(f"{name}" + (f"  (alias of {alias})" if alias else "") + "\n")
