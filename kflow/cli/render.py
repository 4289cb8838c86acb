"""Terminal rendering: the live view while a flow runs, tables of outputs afterwards."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

STATE_STYLE = {
    "CREATED": "dim",
    "RUNNING": "cyan",
    "RETRYING": "yellow",
    "SUCCESS": "green",
    "WARNING": "yellow",
    "FAILED": "bold red",
    "KILLED": "red",
    "SKIPPED": "dim",
}
LEVEL_STYLE = {"ERROR": "red", "WARN": "yellow", "DEBUG": "dim", "TRACE": "dim", "INFO": ""}
MAX_CELL = 200
MAX_ROWS_PER_PARENT = 8


def console(stderr: bool = False) -> Console:
    out = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 160  # a pipe or CI log: no terminal width to respect
    return out


def raw_value(value: Any) -> str:
    """A value as a shell script wants it: strings bare, everything else as JSON."""
    from kflow.expr.values import to_string

    return to_string(value)


def cut(text: str, limit: int = MAX_CELL) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… (+{len(text) - limit} chars)"


def show_value(value: Any) -> str:
    """As ``{{ value }}`` would print it (compact JSON for maps and lists)."""
    from kflow.expr.values import to_string

    return to_string(value)


def state_text(state: str) -> Text:
    return Text(state, style=STATE_STYLE.get(state, ""))


class LiveView:
    """Draws task states while a flow runs: a Rich live tree on a terminal, plain lines
    otherwise (CI logs). Log lines are printed as they come."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.out = console()
        self.tty = enabled and self.out.is_terminal
        self.lock = threading.Lock()
        self.executions: dict[str, Any] = {}
        self.order: list[str] = []
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
        prefix = f"{ex.flow_id} › " if event.depth else ""
        if event.kind == "log":
            if event.level in ("DEBUG", "TRACE"):
                return
            task = event.taskrun.task_id if event.taskrun else ex.flow_id
            style = LEVEL_STYLE.get(event.level or "", "")
            line = Text.assemble(
                (time.strftime("%H:%M:%S") + " ", "dim"),
                (f"{prefix}{task} ", "bold"),
                (event.message or "", style),
            )
            self._print(line)
        elif event.kind == "taskrun" and not self.tty:
            tr = event.taskrun
            state = tr.state.current.value
            if state in ("CREATED",):
                return
            value = f"[{tr.value}]" if tr.value is not None else ""
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
            parts.append(execution_tree(ex))
        return Group(*parts) if parts else Text("starting…", style="dim")


def execution_tree(ex: Any) -> Any:
    """The task-run tree of an execution; long loops are summarised with a progress bar."""
    from rich.progress_bar import ProgressBar

    runs = list(ex.task_runs)
    children: dict[str | None, list[Any]] = {}
    for tr in runs:
        children.setdefault(tr.parent_taskrun_id, []).append(tr)
    table = Table.grid(padding=(0, 1))
    table.add_column()
    table.add_column()
    table.add_column()
    title = Text.assemble(
        (f"{ex.namespace}.{ex.flow_id} ", "bold"), (ex.id + " ", "dim"), state_text(ex.state.current.value)
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


def tree_order(runs: list[Any]) -> list[tuple[int, Any]]:
    """Task runs depth first, a parent's children grouped by task (so a loop's iterations
    stand together under their task, whatever order parallel iterations finished in)."""
    children: dict[str | None, list[Any]] = {}
    ids = {tr.id for tr in runs}
    for tr in runs:
        parent = tr.parent_taskrun_id if tr.parent_taskrun_id in ids else None
        children.setdefault(parent, []).append(tr)
    out: list[tuple[int, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        kids = children.get(parent, [])
        order: dict[str, int] = {}
        for k in kids:
            order.setdefault(k.task_id, len(order))
        for k in sorted(kids, key=lambda r: (order[r.task_id], r.seq)):
            out.append((depth, k))
            walk(k.id, depth + 1)

    walk(None, 0)
    return out


def outputs_table(ex: Any, task: str | None = None, limit: int | None = None) -> Table:
    """One row per task-run output attribute; nested values as JSON, long ones cut.
    With ``limit``, at most that many task runs are listed and a caption says how many
    more there are."""
    from kflow.secrets import mask_tree

    table = Table(title="Task outputs", title_justify="left", show_lines=False)
    table.add_column("task")
    table.add_column("value")
    table.add_column("state")
    table.add_column("output")
    table.add_column("content", overflow="fold")
    selected = [(d, tr) for d, tr in tree_order(list(ex.task_runs))
                if task is None or tr.task_id == task]  # fmt: skip
    if limit is not None and len(selected) > limit:
        table.caption = (f"{len(selected) - limit:,} more task runs not shown: "
                         f"kflow outputs {ex.id} [--task ID]")  # fmt: skip
        selected = selected[:limit]
    for depth, tr in selected:
        name = "  " * depth + tr.task_id
        value = cut(tr.value, 40) if tr.value is not None else ""
        outputs = mask_tree(tr.outputs or {})
        if not outputs:
            table.add_row(name, value, state_text(tr.state.current.value), Text("—", "dim"), "")
            continue
        first = True
        for key, val in outputs.items():
            table.add_row(
                name if first else "",
                value if first else "",
                state_text(tr.state.current.value) if first else "",
                key,
                escape(cut(show_value(val))),
            )
            first = False
    return table


def flow_outputs_table(ex: Any) -> Table:
    from kflow.secrets import mask_tree

    table = Table(title="Flow outputs", title_justify="left")
    table.add_column("output")
    table.add_column("value", overflow="fold")
    for key, val in mask_tree(ex.outputs).items():
        table.add_row(key, escape(cut(show_value(val))))
    return table


def print_summary(ex: Any, home: Any) -> None:
    out = console()
    out.print()
    out.print(
        Text.assemble(
            ("Execution ", "bold"), (ex.id, "bold cyan"), ("  ", ""), state_text(ex.state.current.value)
        )
    )
    if ex.error:
        out.print(Text(ex.error, style="red"))
    failed = [tr for tr in ex.task_runs if tr.state.current.value == "FAILED" and tr.error]
    for tr in failed[:5]:
        out.print(Text.assemble(("✗ ", "red"), (tr.task_id + ": ", "bold"), (cut(tr.error or "", 500), "red")))
    if ex.task_runs:
        out.print(outputs_table(ex, limit=40))
    if ex.outputs:
        out.print(flow_outputs_table(ex))
    out.print(Text(f"kflow outputs {ex.id}  ·  kflow eval --exec {ex.id} '{{{{ outputs }}}}'", "dim"))
    sys.stdout.flush()
