"""Terminal rendering: the live view while a flow runs, tables of outputs afterwards."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from kflow.cli.safetext import safe as safe  # re-exported for the views
from kflow.cli.views import (  # the Rich-free parts, re-exported for the views
    LEVEL_STYLE as LEVEL_STYLE,
)
from kflow.cli.views import (
    MAX_CAUSES,
    Cell,
    TableModel,
    detail_lines,
    error_cell,
    metrics_model,
    outputs_model,
    summary_parts,
    values_model,
)
from kflow.cli.views import STATE_STYLE as STATE_STYLE
from kflow.cli.views import cut as cut
from kflow.cli.views import error_causes as error_causes
from kflow.cli.views import human_duration as human_duration
from kflow.cli.views import metric_text as metric_text
from kflow.cli.views import raw_value as raw_value
from kflow.cli.views import show_value as show_value
from kflow.cli.views import task_label as task_label
from kflow.cli.views import tree_order as tree_order

MAX_ROWS_PER_PARENT = 8


def console(stderr: bool = False) -> Console:
    from kflow.cli.pipes import console_class  # a closed stdout drops output, not the run

    out = console_class()(stderr=stderr, highlight=False, soft_wrap=True)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 160  # a pipe or CI log: no terminal width to respect
    return out


def rich_cell(cell: Cell) -> Text:
    return Text.assemble(*cell.parts)


def rich_table(model: TableModel) -> Table:
    """A :class:`TableModel` as a Rich table (long cells folded, never cut)."""
    table = Table(title=model.title, title_justify="left", show_lines=False)
    for name, folds in model.columns:
        table.add_column(name, overflow="fold" if folds else "ellipsis")
    for row in model.rows:
        table.add_row(*(rich_cell(c) if c.parts else "" for c in row))
    table.caption = model.caption
    return table


def state_text(state: str) -> Text:
    return Text(state, style=STATE_STYLE.get(state, ""))


class LiveView:
    """Draws task states while a flow runs: a Rich live tree on a terminal, styled lines
    otherwise (CI logs). Log lines are printed as they come."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.out = console()
        # not a terminal here means colours were forced (FORCE_COLOR) into a pipe: styled
        # lines; a plain pipe gets kflow.cli.views.PlainView instead
        self.tty = enabled and self.out.is_terminal
        self.lock = threading.Lock()
        self.executions: dict[str, Any] = {}
        self.order: list[str] = []
        # runs that ended, by parent run id: the progress of a loop whose finished runs
        # the executor no longer holds in memory
        self.finished: dict[str | None, int] = {}
        self._live: Any = None

    def __enter__(self) -> LiveView:
        if self.tty:
            from rich.live import Live

            self._live = Live(
                get_renderable=self._render, console=self.out, refresh_per_second=8, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def on_event(self, event: Any) -> None:
        if not self.enabled:
            return
        ex = event.execution
        with self.lock:
            if ex.id not in self.executions:
                self.executions[ex.id] = ex
                self.order.append(ex.id)
        if event.kind == "taskrun" and event.taskrun.state.current.terminal:
            parent = event.taskrun.parent_taskrun_id
            self.finished[parent] = self.finished.get(parent, 0) + 1
        prefix = f"{ex.flow_id} › " if event.depth else ""
        if event.kind == "log":
            if event.level in ("DEBUG", "TRACE"):
                return
            task = task_label(event.taskrun) if event.taskrun else ex.flow_id
            message = safe(event.message or "")
            style = LEVEL_STYLE.get(event.level or "", "")
            line = Text.assemble(
                (time.strftime("%H:%M:%S") + " ", "dim"),
                (f"{prefix}{task} ", "bold"),
                (message, style),
            )
            self._print(line)
        elif event.kind == "taskrun" and not self.tty:
            tr = event.taskrun
            state = tr.state.current.value
            if state in ("CREATED",):
                return
            value = f"[{safe(tr.value)}]" if tr.value is not None else ""
            line = Text.assemble(
                (time.strftime("%H:%M:%S") + " ", "dim"),
                (f"{prefix}{tr.task_id}{value} ", "bold"),
                state_text(state),
            )
            self._print(line)

    def _print(self, line: Text) -> None:
        if self._live is not None:
            self._live.console.print(line)
        else:
            self.out.print(line)

    def _render(self) -> Any:
        with self.lock:
            executions = [self.executions[i] for i in self.order]
        parts = []
        for ex in executions:
            parts.append(execution_tree(ex, self.finished))
        return Group(*parts) if parts else Text("starting…", style="dim")


def execution_tree(ex: Any, finished: Mapping[str | None, int] | None = None) -> Any:
    """The task-run tree of an execution; long loops are summarised with a progress bar.
    Once the executor released finished runs from memory (a long loop), only the runs
    still in memory are drawn, and ``finished`` (runs that ended, by parent run id,
    counted from the run's events) gives the bar its progress."""
    from rich.progress_bar import ProgressBar

    task_runs = ex.task_runs
    released = getattr(task_runs, "released", 0)
    runs = task_runs.in_memory() if released else list(task_runs)
    children: dict[str | None, list[Any]] = {}
    for tr in runs:
        children.setdefault(tr.parent_taskrun_id, []).append(tr)
    table = Table.grid(padding=(0, 1))
    table.add_column()
    table.add_column()
    table.add_column()
    title = Text.assemble(
        (f"{ex.namespace}.{ex.flow_id} ", "bold"),
        (ex.id + " ", "dim"),
        state_text(ex.state.current.value),
    )
    table.add_row(title, "", "")

    by_id = {tr.id: tr for tr in runs}

    def walk(parent: str | None, depth: int) -> None:
        kids = children.get(parent, [])
        shown = kids
        planned = by_id[parent].planned if parent in by_id else None
        total = max(planned or 0, len(kids))
        if total > MAX_ROWS_PER_PARENT:
            done = sum(1 for k in kids if k.state.current.terminal)
            if released and finished is not None:
                done = min(total, max(done, finished.get(parent, 0)))
            bar = ProgressBar(total=total, completed=done, width=30)
            table.add_row(Text("  " * (depth + 1) + f"{total} runs"), bar, Text(f"{done}/{total}"))
            shown = [k for k in kids if not k.state.current.terminal][:MAX_ROWS_PER_PARENT]
        for tr in shown:
            label = "  " * (depth + 1) + tr.task_id
            if tr.value is not None:
                label += f" [{cut(tr.value, 40)}]"
            table.add_row(Text(label), state_text(tr.state.current.value), Text(""))
            walk(tr.id, depth + 1)

    walk(None, 0)
    return table


def _error_text(tr: Any, causes: dict[str, list[str]], limit: int = MAX_CAUSES) -> Text:
    """A failed task run's own error, then (indented) the last ERROR lines it logged."""
    return rich_cell(error_cell(tr, causes, limit))


def outputs_table(
    ex: Any,
    task: str | None = None,
    limit: int | None = None,
    causes: dict[str, list[str]] | None = None,
    records: dict[str, Any] | None = None,
) -> Table:
    """:func:`kflow.cli.views.outputs_model` as a Rich table."""
    return rich_table(outputs_model(ex, task, limit, causes, records))


def task_detail(
    ex: Any,
    task: str,
    causes: dict[str, list[str]] | None = None,
    records: dict[str, Any] | None = None,
) -> Group:
    """:func:`kflow.cli.views.detail_lines` with Rich's styles."""
    return Group(*(rich_cell(c) for c in detail_lines(ex, task, causes, records)))


def metrics_table(ex: Any) -> Table | None:
    """The metrics task runs recorded, or None when there are none."""
    model = metrics_model(ex)
    return rich_table(model) if model is not None else None


def inputs_table(ex: Any) -> Table | None:
    """The execution's inputs (SECRET ones masked), or None when it has none."""
    if not ex.inputs:
        return None
    return rich_table(values_model("Inputs", "input", ex.inputs, f"kflow outputs {ex.id} --json"))


def labels_text(ex: Any) -> Text | None:
    """``labels: team=data, env=dev``, or None when the execution has no labels."""
    pairs = [f"{lab.get('key')}={lab.get('value')}" for lab in ex.labels if isinstance(lab, dict)]
    if not pairs:
        return None
    return Text.assemble(("labels: ", "bold"), safe(", ".join(pairs)))


def flow_outputs_table(ex: Any) -> Table:
    return rich_table(values_model("Flow outputs", "output", ex.outputs,
                                   f"kflow outputs {ex.id} --json"))  # fmt: skip


def print_summary(ex: Any, home: Any) -> None:
    """What a run left (:func:`kflow.cli.views.summary_parts`), with Rich's colours and
    tables; :func:`kflow.cli.views.plain_summary` writes the same for a pipe."""
    out = console()
    for part in summary_parts(ex, home):
        out.print(rich_table(part) if isinstance(part, TableModel) else rich_cell(part))
    sys.stdout.flush()
