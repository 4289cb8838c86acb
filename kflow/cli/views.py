"""What the views show, without Rich: table models, their cells, and the plain-text form a
pipe or a CI log gets.

A run's summary and the tables of ``kflow outputs`` are built here as data (a title,
columns, rows of styled cells). :mod:`kflow.cli.render` turns them into Rich tables on a
terminal; :func:`plain_table` writes them as aligned text when stdout is not a terminal.
Rich costs about 20 ms to import, more than a short flow takes to run, and a CI log has
no use for colours or box drawing: ``kflow run flow.yml`` in a pipe never loads it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from kflow.cli.safetext import safe

STATE_STYLE = {
    "CREATED": "dim",
    "RUNNING": "cyan",
    "RETRYING": "yellow",
    "SUCCESS": "green",
    "WARNING": "yellow",
    "FAILED": "bold red",
    "KILLED": "red",
    "SKIPPED": "dim",
    "PAUSED": "magenta",
    "CANCELLED": "red",
}
LEVEL_STYLE = {"ERROR": "red", "WARN": "yellow", "DEBUG": "dim", "TRACE": "dim", "INFO": ""}
MAX_CELL = 200
# An output longer than this is shortened in tables (folded up to it); `--task` shows it whole.
MAX_FOLDED = 4000
MAX_SUMMARY_ERRORS = 5
MAX_CAUSES = 3
SUMMARY_ROWS = 40


def plain_output(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (stdout) gets plain text: not a terminal, colours not forced.
    The same test Rich makes (``TTY_COMPATIBLE``, ``FORCE_COLOR``, then ``isatty``), so
    that forcing colours in a CI log still gets Rich's tables."""
    env = os.environ
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "0"
    force = env.get("FORCE_COLOR")
    if force is not None:
        return force == ""
    stream = stream if stream is not None else sys.stdout
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a file
        return True


@dataclass
class Cell:
    """A table cell: pieces of text, each with a Rich style name (ignored in plain text)."""

    parts: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str = "", style: str = "") -> Cell:
        return cls([(text, style)] if text else [])

    def add(self, text: str, style: str = "") -> Cell:
        self.parts.append((text, style))
        return self

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.parts)


@dataclass
class TableModel:
    """A titled table; ``fold`` marks the columns whose long cells Rich folds."""

    title: str
    columns: list[tuple[str, bool]]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str | None = None


def plain_table(model: TableModel) -> str:
    """The table as aligned text: the title, a header, two spaces between columns; a cell
    of several lines continues under its own column. Cells are never cut or wrapped (a
    URI stays whole for copying), so only the last column's width is left open."""
    header = [name for name, _ in model.columns]
    rows = [[cell.plain.split("\n") for cell in row] for row in model.rows]
    widths = [len(h) for h in header]
    last = len(header) - 1
    for row in rows:
        for i, lines in enumerate(row[:last]):
            widths[i] = max(widths[i], *(len(line) for line in lines))

    def line(cells: list[str]) -> str:
        padded = [c.ljust(widths[i]) for i, c in enumerate(cells[:last])] + cells[last:]
        return "  ".join(padded).rstrip()

    out = [model.title, line(header)]
    for row in rows:
        for k in range(max(len(lines) for lines in row)):
            out.append(line([lines[k] if k < len(lines) else "" for lines in row]))
    if model.caption:
        out.append(model.caption)
    return "\n".join(out)


# ------------------------------------------------------------------ values and labels


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


def fold(text: str, whole: str) -> str:
    """A value whole (the column folds it); only a huge one is shortened, saying which
    command (``whole``) shows it whole, so that a megabyte string does not fill the screen."""
    text = safe(text)
    if len(text) <= MAX_FOLDED:
        return text
    return text[:MAX_FOLDED] + f"… (+{len(text) - MAX_FOLDED:,} chars: {whole} shows it whole)"


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


def metric_text(metric: dict[str, Any]) -> str:
    """``length = 12 (counter, key=value)``: one metric of a task run."""
    value = metric.get("value")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    tags = metric.get("tags") or {}
    extra = ", ".join([str(metric.get("type", "")), *(f"{k}={v}" for k, v in tags.items())])
    return safe(f"{metric.get('name')} = {value} ({extra.strip(', ')})")


def state_cell(state: str) -> Cell:
    return Cell.of(state, STATE_STYLE.get(state, ""))


# ------------------------------------------------------------------ errors


def error_causes(store: Any, ex: Any, runs: list[Any] | None = None) -> dict[str, list[str]]:
    """The ERROR log lines each failed task run wrote that its error does not already
    quote: a Fail task's ``errorMessage`` when its ``condition`` held (the error itself is
    then "Fail on a condition", as in Kestra), a task's own ERROR logs. Keyed by task-run id.
    ``runs``: the task runs with an error, when the caller has them already."""
    failed = {tr.id: tr.error for tr in (ex.task_runs if runs is None else runs) if tr.error}
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


def failed(tr: Any) -> bool:
    """Whether the run ended FAILED/KILLED (an error with ``allowFailure`` ends WARNING)."""
    return tr.state.current.value in ("FAILED", "KILLED")


def error_mark(tr: Any) -> tuple[str, str]:
    """``✗`` in red for a failed run, ``!`` in yellow for an error it was allowed to have."""
    return ("✗", "red") if failed(tr) else ("!", "yellow")


def error_cell(tr: Any, causes: dict[str, list[str]], limit: int = MAX_CAUSES) -> Cell:
    """A failed task run's own error, then (indented) the last ERROR lines it logged."""
    style = error_mark(tr)[1]
    cell = Cell.of(safe(tr.error or ""), style)
    lines = causes.get(tr.id, [])
    if len(lines) > limit:
        cell.add(f"\n  … {len(lines) - limit} earlier ERROR lines: kflow logs {tr.execution_id} "
                 f"--task {tr.task_id} --level ERROR", "dim")  # fmt: skip
    for line in lines[-limit:]:
        cell.add("\n  " + safe(line), style)
    return cell


# ------------------------------------------------------------------ tables


def outputs_model(
    ex: Any,
    task: str | None = None,
    limit: int | None = None,
    causes: dict[str, list[str]] | None = None,
    records: dict[str, Any] | None = None,
) -> TableModel:
    """One row per task-run output attribute; nested values as JSON, long ones folded (not
    cut: a URI stays whole, on several lines). A failed run shows its error in red.
    With ``limit``, at most that many task runs are listed and a caption says how many
    more there are. With ``records`` (task-output records by task run id), each row has
    the expression that reaches its value, and a deleted or stale record is marked."""
    from kflow.secrets import mask_tree
    from kflow.taskoutputs import with_key

    causes = causes or {}
    task_runs = ex.task_runs
    total: int | None = None
    released: int = getattr(task_runs, "released", 0)
    if task is None and limit is not None and released:
        # a long loop whose finished runs the executor released from memory: the first
        # runs in creation order, without reading the others back from the store
        selected = tree_order(task_runs.head(limit))
        total = len(task_runs)
    else:
        selected = [(d, tr) for d, tr in tree_order(list(task_runs))
                    if task is None or tr.task_id == task]  # fmt: skip
    # the loop value gets its own column only when there are loops; it is not called
    # "value" so that it is never confused with an output named `value` (Return's)
    looped = any(tr.value is not None for _, tr in selected)
    columns = [("task", True)]
    if looped:
        columns.append(("iteration", True))
    columns += [("state", False), ("output", True), ("content", True)]
    if records is not None:
        columns.append(("expression", True))
    model = TableModel("Task outputs", columns)
    if limit is not None and (total or len(selected)) > limit:
        model.caption = (f"{(total or len(selected)) - limit:,} more task runs not shown: "
                         f"kflow outputs {ex.id} [--task ID]")  # fmt: skip
        selected = selected[:limit]
    for depth, tr in selected:
        name = Cell.of("  " * depth + safe(tr.task_id))
        value = Cell.of(safe(tr.value)) if tr.value is not None else Cell()
        outputs = mask_tree(tr.outputs or {})
        rows: list[tuple[Cell, Cell]] = [
            (
                Cell.of(safe(str(key))),
                Cell.of(fold(show_value(val), f"kflow outputs {ex.id} --task {tr.task_id}")),
            )
            for key, val in outputs.items()
        ]
        if tr.error:
            mark, style = error_mark(tr)
            rows.insert(0, (Cell.of(f"{mark} error", f"bold {style}"), error_cell(tr, causes)))
        if not rows:
            rows.append((Cell.of("—", "dim"), Cell()))
        record = records.get(tr.id) if records is not None else None
        keys: list[Any] = ([None] if tr.error else []) + list(outputs)  # one per row
        for i, (key_cell, content) in enumerate(rows):
            first = i == 0
            lead = [name if first else Cell()]
            if looped:
                lead.append(value if first else Cell())
            state = state_cell(tr.state.current.value) if first else Cell()
            if first and record is not None and record.status in ("deleted", "stale"):
                state.add(f" ({record.status})", "dim")
            row = [*lead, state, key_cell, content]
            if records is not None:
                key = keys[i] if i < len(keys) else None
                text = "" if record is None else (
                    record.expression if key is None else with_key(record.expression, str(key)))
                row.append(Cell.of(safe(text)))
            model.rows.append(row)
    return model


def values_model(title: str, key: str, values: dict[str, Any], whole: str) -> TableModel:
    """Inputs or flow outputs: one row per name (SECRET values masked)."""
    from kflow.secrets import mask_tree

    model = TableModel(title, [(key, key != "output"), ("value", True)])
    for name, val in mask_tree(values).items():
        model.rows.append([Cell.of(safe(str(name))), Cell.of(fold(show_value(val), whole))])
    return model


def metrics_model(ex: Any) -> TableModel | None:
    """The metrics task runs recorded (Return's ``length``, a script's ``Kestra.counter``),
    or None when there are none."""
    rows = [(tr, m) for _, tr in tree_order(list(ex.task_runs)) for m in tr.metrics]
    if not rows:
        return None
    model = TableModel("Metrics", [("task", True), ("metric", True)])
    for tr, metric in rows:
        model.rows.append([Cell.of(task_label(tr)), Cell.of(metric_text(metric))])
    return model


def summary_parts(ex: Any, home: Any) -> Iterable[Cell | TableModel]:
    """What a run left, in order: its state, then why it failed (each failed task's own
    error first, then knock-on errors such as flow outputs that needed that task), the
    outputs, and the commands that show more."""
    yield Cell()
    yield Cell.of("Execution ", "bold").add(ex.id, "bold cyan").add("  ").add(
        ex.state.current.value, STATE_STYLE.get(ex.state.current.value, "")
    )
    task_runs = ex.task_runs
    if getattr(task_runs, "released", 0):  # read the failed runs only (a long loop)
        runs = [tr for _, tr in tree_order(task_runs.with_error())]
    else:
        runs = [tr for _, tr in tree_order(list(task_runs)) if tr.error]
    causes = error_causes(home.store, ex, runs) if runs else {}
    hard = [tr for tr in runs if failed(tr)]
    allowed = [tr for tr in runs if not failed(tr)]  # allowFailure: the run went on
    for group, knock_on in ((hard, ex.error), (allowed, None)):
        for tr in group[:MAX_SUMMARY_ERRORS]:
            mark, style = error_mark(tr)
            label = task_label(tr) + (" (allowed to fail)" if group is allowed else "")
            cell = Cell.of(mark + " ", style).add(label + ": ", "bold")
            cell.parts += error_cell(tr, causes).parts
            yield cell
        if len(group) > MAX_SUMMARY_ERRORS:
            more = len(group) - MAX_SUMMARY_ERRORS
            yield Cell.of(f"  … {more} more task runs with an error: kflow outputs {ex.id}", "dim")
        if knock_on:  # e.g. flow outputs that read a failed task's outputs: after the cause
            yield Cell.of("✗ ", "red").add(safe(knock_on), "red")
    if ex.task_runs:
        yield outputs_model(ex, limit=SUMMARY_ROWS, causes=causes)
    if ex.outputs:
        yield values_model("Flow outputs", "output", ex.outputs, f"kflow outputs {ex.id} --json")
    yield Cell.of(f"kflow outputs {ex.id}  ·  kflow eval --exec {ex.id} '{{{{ outputs }}}}'", "dim")


def detail_lines(
    ex: Any,
    task: str,
    causes: dict[str, list[str]] | None = None,
    records: dict[str, Any] | None = None,
) -> list[Cell]:
    """Each run of one task, one ``output: value`` per line with values whole and unwrapped
    (no table borders), so that a long URI can be selected and copied in one piece; then
    the expression that reaches the run's outputs (``records``: by task run id)."""
    from kflow.secrets import mask_tree

    causes = causes or {}
    records = records or {}
    lines: list[Cell] = []
    for _, tr in tree_order(list(ex.task_runs)):
        if tr.task_id != task:
            continue
        state = tr.state.current.value
        lines.append(Cell.of(task_label(tr), "bold").add("  ").add(state, STATE_STYLE.get(state, "")))
        if tr.error:
            style = error_mark(tr)[1]
            lines.append(Cell([("  error: ", f"bold {style}"), *error_cell(tr, causes).parts]))
        outputs = mask_tree(tr.outputs or {})
        for key, val in outputs.items():
            lines.append(Cell.of(f"  {safe(str(key))}: ", "bold").add(safe(show_value(val))))
        if not outputs and not tr.error:
            lines.append(Cell.of("  (no outputs)", "dim"))
        for metric in tr.metrics:
            lines.append(Cell.of("  metric ", "dim").add(metric_text(metric)))
        record = records.get(tr.id)
        if record is not None:
            mark = "" if record.status not in ("deleted", "stale") else f"  (record {record.status})"
            lines.append(Cell.of("  expression: ", "dim").add(safe(record.expression)).add(mark, "dim"))
    return lines


def execution_parts(
    ex: Any,
    task: str | None,
    causes: dict[str, list[str]],
    records: dict[str, Any],
    children: list[Any],
    previews: Iterable[Cell | TableModel] = (),
) -> Iterable[Cell | TableModel]:
    """``kflow outputs EXEC``: the execution's state, labels, inputs, each task run's
    outputs (with the expression that reaches each value), metrics, flow outputs and
    subflow executions; with ``task``, that task's runs, values whole. ``previews``
    (``--preview``: the head of each output file) come right after the outputs."""
    state = ex.state.current.value
    yield Cell.of("Execution ", "bold").add(ex.id, "cyan").add(
        f"  {ex.namespace}.{ex.flow_id}  ").add(state, STATE_STYLE.get(state, ""))  # fmt: skip
    if ex.parent_id:
        yield Cell.of(f"started by execution {ex.parent_id} (subflow)", "dim")
    if task is not None:
        yield from detail_lines(ex, task, causes, records)
        yield from previews
    else:
        pairs = [f"{lab.get('key')}={lab.get('value')}" for lab in ex.labels if isinstance(lab, dict)]
        if pairs:
            yield Cell.of("labels: ", "bold").add(safe(", ".join(pairs)))
        if ex.inputs:
            yield values_model("Inputs", "input", ex.inputs, f"kflow outputs {ex.id} --json")
        yield outputs_model(ex, causes=causes, records=records)
        yield from previews
        if ex.error:  # after the task errors it usually follows from
            yield Cell.of("✗ ", "red").add(safe(ex.error), "red")
        metrics = metrics_model(ex)
        if metrics is not None:
            yield metrics
        if ex.outputs:
            yield values_model("Flow outputs", "output", ex.outputs, f"kflow outputs {ex.id} --json")
    for c in children:
        yield Cell.of(f"subflow execution {c.id} ({c.namespace}.{c.flow_id}) {c.state}", "dim")


def print_parts(parts: Iterable[Cell | TableModel]) -> None:
    """Plain text in a pipe or a CI log (values never cut or wrapped); Rich on a terminal."""
    if plain_output():
        from kflow.cli.pipes import write_stdout

        write_stdout("".join(
            (plain_table(p) if isinstance(p, TableModel) else p.plain) + "\n" for p in parts))  # fmt: skip
        return
    from kflow.cli.render import console, rich_cell, rich_table

    out = console()
    for part in parts:
        out.print(rich_table(part) if isinstance(part, TableModel) else rich_cell(part))


def plain_summary(ex: Any, home: Any) -> str:
    """:func:`summary_parts` as plain text, for a pipe or a CI log."""
    parts = summary_parts(ex, home)
    return "".join(
        (plain_table(p) if isinstance(p, TableModel) else p.plain) + "\n" for p in parts
    )


class PlainView:
    """Progress while a flow runs, for a pipe or a CI log: one plain line per task-run
    state change and per log line, written whole (the threads of a Parallel never mix
    their lines). No Rich: its rendering of each line cost more than a quick task.

    Lines are flushed at most every FLUSH_EVERY seconds by a small thread (and at the
    end), not one write call per line: a quick chain of 1,000 tasks wrote 2,000 lines, and
    a flush each cost more than the task. A line still reaches the log within 50 ms."""

    FLUSH_EVERY = 0.05

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self._dirty = False
        self._done = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="kflow-progress",
                                         daemon=True)  # fmt: skip

    def __enter__(self) -> PlainView:
        self._flusher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._flusher.join()
        self._flush()

    def _flush_loop(self) -> None:
        while not self._done.wait(self.FLUSH_EVERY):
            if self._dirty:
                self._flush()

    def _flush(self) -> None:
        from kflow.cli.pipes import flush_stdout

        with self.lock:
            self._dirty = False
            flush_stdout()

    def on_event(self, event: Any) -> None:
        line = progress_line(event)
        if line is not None:
            self.write(line)

    def write(self, line: str) -> None:
        from kflow.cli.pipes import drop_stdout, stdout_dropped

        if stdout_dropped():
            return
        with self.lock:
            try:
                sys.stdout.write(line + "\n")
            except BrokenPipeError:
                drop_stdout()
            self._dirty = True


_STAMP: list[Any] = [None, ""]  # (second, "HH:MM:SS"): strftime once a second, not per line


def _stamp() -> str:
    second = int(time.time())
    if _STAMP[0] != second:
        _STAMP[0], _STAMP[1] = second, time.strftime("%H:%M:%S", time.localtime(second))
    return str(_STAMP[1])


def progress_line(event: Any) -> str | None:
    """The plain line for one event of a run, or None when it shows nothing (a DEBUG log,
    a task run just CREATED)."""
    ex = event.execution
    prefix = f"{ex.flow_id} › " if event.depth else ""
    stamp = _stamp()
    if event.kind == "log":
        if event.level in ("DEBUG", "TRACE"):
            return None
        task = task_label(event.taskrun) if event.taskrun else ex.flow_id
        return f"{stamp} {prefix}{task} {safe(event.message or '')}"
    if event.kind == "taskrun":
        tr = event.taskrun
        state = tr.state.current.value
        if state == "CREATED":
            return None
        value = f"[{safe(tr.value)}]" if tr.value is not None else ""
        return f"{stamp} {prefix}{tr.task_id}{value} {state}"
    return None
