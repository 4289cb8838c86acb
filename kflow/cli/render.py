"""Terminal rendering: the live view while a flow runs, tables of outputs afterwards."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from rich.console import Console, Group
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
# An output longer than this is shortened in tables (folded up to it); `--task` shows it whole.
MAX_FOLDED = 4000
MAX_SUMMARY_ERRORS = 5
MAX_CAUSES = 3

from kflow.cli.safetext import safe as safe  # noqa: E402 - re-exported for the views


def console(stderr: bool = False) -> Console:
    from kflow.cli.pipes import console_class  # a closed stdout drops output, not the run

    out = console_class()(stderr=stderr, highlight=False, soft_wrap=True)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 160  # a pipe or CI log: no terminal width to respect
    return out


def raw_value(value: Any) -> str:
    """A value as a shell script wants it: strings bare, everything else as JSON."""
    from kflow.expr.values import to_string

    return to_string(value)


def cut(text: str, limit: int = MAX_CELL) -> str:
    """At most ``limit`` characters (control characters escaped), saying how many more."""
    text = safe(text)
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
        # A pipe or CI log without forced colours gets its progress lines written as plain
        # text: Rich's rendering of each line (segments, styles, width) cost more than the
        # task it reports on a chain of quick tasks. Same characters, one write per line.
        self.plain = not self.tty and self.out.color_system is None
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
            task = task_label(event.taskrun) if event.taskrun else ex.flow_id
            message = safe(event.message or "")
            if self.plain and "\t" not in task + message:  # Rich expands tabs (tab stops)
                self._write(f"{time.strftime('%H:%M:%S')} {prefix}{task} {message}")
                return
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
            if self.plain and "\t" not in value:
                self._write(f"{time.strftime('%H:%M:%S')} {prefix}{tr.task_id}{value} {state}")
                return
            line = Text.assemble(
                (time.strftime("%H:%M:%S") + " ", "dim"),
                (f"{prefix}{tr.task_id}{value} ", "bold"),
                state_text(state),
            )
            self._print(line)

    def _write(self, line: str) -> None:
        from kflow.cli.pipes import write_stdout

        with self.lock:  # whole lines, in order, from the threads of a Parallel
            write_stdout(line + "\n")

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


def task_label(tr: Any) -> str:
    """``count[eu]``: a task id with the iteration value of its loop, as Kestra's log
    view names a task run inside ForEach (control characters escaped, never cut)."""
    label: str = safe(tr.task_id)
    return label + (f"[{safe(tr.value)}]" if tr.value is not None else "")


def human_duration(seconds: float) -> str:
    """``0.42s``, ``12.3s``, ``2m 03s``, ``1h 02m 05s``: how long a run took, for people."""
    if seconds < 10:
        return f"{max(seconds, 0):.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def error_causes(store: Any, ex: Any) -> dict[str, list[str]]:
    """The ERROR log lines each failed task run wrote that its error does not already
    quote: a Fail task's ``errorMessage`` when its ``condition`` held (the error itself is
    then "Fail on a condition", as in Kestra), a task's own ERROR logs. Keyed by task-run id."""
    failed = {tr.id: tr.error for tr in ex.task_runs if tr.error}
    if not failed:
        return {}
    causes: dict[str, list[str]] = {}
    for rec in store.get_logs(ex.id):
        if (
            rec.level == "ERROR"
            and rec.taskrun_id in failed
            and rec.message not in failed[rec.taskrun_id]  # a script error quotes its stderr
        ):
            causes.setdefault(rec.taskrun_id, []).append(rec.message)
    return causes


def _failed(tr: Any) -> bool:
    """Whether the run ended FAILED/KILLED (an error with ``allowFailure`` ends WARNING)."""
    return tr.state.current.value in ("FAILED", "KILLED")


def _error_mark(tr: Any) -> tuple[str, str]:
    """``✗`` in red for a failed run, ``!`` in yellow for an error it was allowed to have."""
    return ("✗", "red") if _failed(tr) else ("!", "yellow")


def _error_text(tr: Any, causes: dict[str, list[str]], limit: int = MAX_CAUSES) -> Text:
    """A failed task run's own error, then (indented) the last ERROR lines it logged."""
    style = _error_mark(tr)[1]
    text = Text(safe(tr.error or ""), style=style)
    lines = causes.get(tr.id, [])
    if len(lines) > limit:
        text.append(f"\n  … {len(lines) - limit} earlier ERROR lines: kflow logs {tr.execution_id} "
                    f"--task {tr.task_id} --level ERROR", style="dim")  # fmt: skip
    for line in lines[-limit:]:
        text.append("\n  " + safe(line), style=style)
    return text


def _fold(text: str, whole: str) -> str:
    """A value whole (the column folds it); only a huge one is shortened, saying which
    command (``whole``) shows it whole, so that a megabyte string does not fill the screen."""
    text = safe(text)
    if len(text) <= MAX_FOLDED:
        return text
    return text[:MAX_FOLDED] + f"… (+{len(text) - MAX_FOLDED:,} chars: {whole} shows it whole)"


def outputs_table(
    ex: Any,
    task: str | None = None,
    limit: int | None = None,
    causes: dict[str, list[str]] | None = None,
) -> Table:
    """One row per task-run output attribute; nested values as JSON, long ones folded (not
    cut: a URI stays whole, on several lines). A failed run shows its error in red.
    With ``limit``, at most that many task runs are listed and a caption says how many
    more there are."""
    from kflow.secrets import mask_tree

    causes = causes or {}
    table = Table(title="Task outputs", title_justify="left", show_lines=False)
    selected = [(d, tr) for d, tr in tree_order(list(ex.task_runs))
                if task is None or tr.task_id == task]  # fmt: skip
    # the loop value gets its own column only when there are loops; it is not called
    # "value" so that it is never confused with an output named `value` (Return's)
    looped = any(tr.value is not None for _, tr in selected)
    table.add_column("task", overflow="fold")
    if looped:
        table.add_column("iteration", overflow="fold")
    table.add_column("state")
    table.add_column("output", overflow="fold")
    table.add_column("content", overflow="fold")
    if limit is not None and len(selected) > limit:
        table.caption = (f"{len(selected) - limit:,} more task runs not shown: "
                         f"kflow outputs {ex.id} [--task ID]")  # fmt: skip
        selected = selected[:limit]
    for depth, tr in selected:
        name = Text("  " * depth + safe(tr.task_id))
        value = Text(safe(tr.value)) if tr.value is not None else ""
        outputs = mask_tree(tr.outputs or {})
        rows: list[tuple[Any, Any]] = [
            (
                Text(safe(str(key))),
                Text(_fold(show_value(val), f"kflow outputs {ex.id} --task {tr.task_id}")),
            )
            for key, val in outputs.items()
        ]
        if tr.error:
            mark, style = _error_mark(tr)
            rows.insert(0, (Text(f"{mark} error", style=f"bold {style}"), _error_text(tr, causes)))
        if not rows:
            rows.append((Text("—", "dim"), ""))
        for i, (key_cell, content) in enumerate(rows):
            first = i == 0
            lead = [name if first else ""]
            if looped:
                lead.append(value if first else "")
            state = state_text(tr.state.current.value) if first else ""
            table.add_row(*lead, state, key_cell, content)
    return table


def task_detail(ex: Any, task: str, causes: dict[str, list[str]] | None = None) -> Group:
    """Each run of one task, one ``output: value`` per line with values whole and unwrapped
    (no table borders), so that a long URI can be selected and copied in one piece."""
    from kflow.secrets import mask_tree

    causes = causes or {}
    parts: list[Any] = []
    for _, tr in tree_order(list(ex.task_runs)):
        if tr.task_id != task:
            continue
        parts.append(
            Text.assemble((task_label(tr), "bold"), "  ", state_text(tr.state.current.value))
        )
        if tr.error:
            style = _error_mark(tr)[1]
            parts.append(Text.assemble(("  error: ", f"bold {style}"), _error_text(tr, causes)))
        outputs = mask_tree(tr.outputs or {})
        for key, val in outputs.items():
            parts.append(Text.assemble((f"  {safe(str(key))}: ", "bold"), safe(show_value(val))))
        if not outputs and not tr.error:
            parts.append(Text("  (no outputs)", style="dim"))
        for metric in tr.metrics:
            parts.append(Text.assemble(("  metric ", "dim"), metric_text(metric)))
    return Group(*parts)


def metric_text(metric: dict[str, Any]) -> str:
    """``length = 12 (counter, key=value)``: one metric of a task run."""
    value = metric.get("value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    tags = metric.get("tags") or {}
    extra = ", ".join([str(metric.get("type", "")), *(f"{k}={v}" for k, v in tags.items())])
    return safe(f"{metric.get('name')} = {value} ({extra.strip(', ')})")


def metrics_table(ex: Any) -> Table | None:
    """The metrics task runs recorded (Return's ``length``, a script's ``Kestra.counter``),
    or None when there are none."""
    rows = [(tr, m) for _, tr in tree_order(list(ex.task_runs)) for m in tr.metrics]
    if not rows:
        return None
    table = Table(title="Metrics", title_justify="left")
    table.add_column("task", overflow="fold")
    table.add_column("metric", overflow="fold")
    for tr, metric in rows:
        table.add_row(Text(task_label(tr)), Text(metric_text(metric)))
    return table


def inputs_table(ex: Any) -> Table | None:
    """The execution's inputs (SECRET ones masked), or None when it has none."""
    from kflow.secrets import mask_tree

    if not ex.inputs:
        return None
    table = Table(title="Inputs", title_justify="left")
    table.add_column("input", overflow="fold")
    table.add_column("value", overflow="fold")
    for key, val in mask_tree(ex.inputs).items():
        table.add_row(
            Text(safe(str(key))), Text(_fold(show_value(val), f"kflow outputs {ex.id} --json"))
        )
    return table


def labels_text(ex: Any) -> Text | None:
    """``labels: team=data, env=dev``, or None when the execution has no labels."""
    pairs = [f"{lab.get('key')}={lab.get('value')}" for lab in ex.labels if isinstance(lab, dict)]
    if not pairs:
        return None
    return Text.assemble(("labels: ", "bold"), safe(", ".join(pairs)))


def flow_outputs_table(ex: Any) -> Table:
    from kflow.secrets import mask_tree

    table = Table(title="Flow outputs", title_justify="left")
    table.add_column("output")
    table.add_column("value", overflow="fold")
    for key, val in mask_tree(ex.outputs).items():
        table.add_row(
            Text(safe(str(key))), Text(_fold(show_value(val), f"kflow outputs {ex.id} --json"))
        )
    return table


def print_summary(ex: Any, home: Any) -> None:
    """What a run left: its state, then why it failed (each failed task's own error first,
    then knock-on errors such as flow outputs that needed that task), then the outputs."""
    out = console()
    out.print()
    out.print(
        Text.assemble(
            ("Execution ", "bold"),
            (ex.id, "bold cyan"),
            ("  ", ""),
            state_text(ex.state.current.value),
        )
    )
    runs = [tr for _, tr in tree_order(list(ex.task_runs)) if tr.error]
    causes = error_causes(home.store, ex) if runs else {}
    failed = [tr for tr in runs if _failed(tr)]
    allowed = [tr for tr in runs if not _failed(tr)]  # allowFailure: the run went on
    for group, knock_on in ((failed, ex.error), (allowed, None)):
        for tr in group[:MAX_SUMMARY_ERRORS]:
            mark, style = _error_mark(tr)
            label = task_label(tr) + (" (allowed to fail)" if group is allowed else "")
            out.print(
                Text.assemble((mark + " ", style), (label + ": ", "bold"), _error_text(tr, causes))
            )
        if len(group) > MAX_SUMMARY_ERRORS:
            more = len(group) - MAX_SUMMARY_ERRORS
            out.print(
                Text(f"  … {more} more task runs with an error: kflow outputs {ex.id}", "dim")
            )
        if knock_on:  # e.g. flow outputs that read a failed task's outputs: after the cause
            out.print(Text.assemble(("✗ ", "red"), (safe(knock_on), "red")))
    if ex.task_runs:
        out.print(outputs_table(ex, limit=40, causes=causes))
    if ex.outputs:
        out.print(flow_outputs_table(ex))
    out.print(
        Text(f"kflow outputs {ex.id}  ·  kflow eval --exec {ex.id} '{{{{ outputs }}}}'", "dim")
    )
    sys.stdout.flush()
