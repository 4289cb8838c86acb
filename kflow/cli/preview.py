"""``kflow preview``: a page of a file as a table or text, with a footer that says which
rows were shown and whether more remain; ``--to`` exports rows for other tools.

Where the footer goes: on a terminal (or with ``--format table``) under what it describes,
on stdout; when stdout carries data (a pipe, ``--format text``, ``--to``) on stderr, and
only when rows were left out, so that the data stays clean and a complete copy is silent.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from kflow.errors import NotFoundError, UsageError

USAGE = "kflow preview kestra:///...  |  kflow preview ./data.csv  |  kflow preview EXEC TASK FILE"


def preview_command(
    source: list[str],
    rows: int | None,
    fmt: str,
    offset: int = 0,
    all_rows: bool = False,
    encoding: str | None = None,
    to: str | None = None,
) -> None:
    """``source`` is one ``kestra:///`` URI, one local path, or ``EXEC TASK FILE`` (an
    output file of a task run, found by name so users need not copy its URI)."""
    from kflow.preview import DEFAULT_ROWS, open_source, read_preview

    if rows is not None and rows < 1:
        raise UsageError(f"--rows must be at least 1, not {rows}", hint="or --all for every row")
    if all_rows and rows is not None:
        raise UsageError("--all and --rows cannot be used together", hint="pick one")
    if offset < 0:
        raise UsageError(f"--offset must be 0 or more, not {offset}",
                         hint="--offset 100 starts at the 101st row")  # fmt: skip
    if fmt not in ("auto", "table", "text"):
        raise UsageError(f"--format must be auto, table or text, not {fmt!r}")
    if to is not None and to not in ("jsonl", "csv", "json"):
        raise UsageError(f"--to must be jsonl, csv or json, not {to!r}")
    if len(source) not in (1, 3):
        raise UsageError(
            f"preview takes one file or EXEC TASK FILE, not {len(source)} arguments", hint=USAGE
        )
    # --to exports every row from --offset unless --rows says how many; the screen gets a page
    limit = None if all_rows or (to is not None and rows is None) else rows or DEFAULT_ROWS
    with open_file(source) as (name, fh, size):
        if to is not None:
            _export(open_source(name, fh, offset=offset, encoding=encoding, size=size), to, limit)
            return
        pv = read_preview(name, fh, limit, offset, encoding, size)
    show(pv, fmt)


@contextlib.contextmanager
def open_file(source: list[str]) -> Iterator[tuple[str, BinaryIO, int | None]]:
    """The file ``source`` names, opened: (its name, the stream, its size)."""
    if len(source) == 1 and not source[0].startswith("kestra://"):
        path = Path(source[0]).expanduser()
        if path.is_dir():
            raise UsageError(f"{path} is a directory, not a file", hint=USAGE)
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            raise NotFoundError(
                f"no such file: {path}",
                hint="a stored file is a kestra:/// URI; a task's output file: "
                "kflow preview EXEC TASK FILE (e.g. kflow preview last my_task out.csv)",
            ) from None
        except OSError as exc:
            raise NotFoundError(f"cannot read {path}: {exc.strerror}") from None
        with fh:
            yield path.name, fh, path.stat().st_size
        return
    from kflow.api import open_home
    from kflow.preview import find_output_file

    with open_home() as home:
        if len(source) == 3:
            uri = find_output_file(home.store.get_execution(source[0]), source[1], source[2])
        else:
            uri = source[0]
        with home.storage.open(uri) as stored:
            yield _display_name(uri), stored, home.storage.size(uri)


def _display_name(uri: str) -> str:
    from kflow.preview import _file_name

    return _file_name(uri)


# ------------------------------------------------------------------ footer


def footer(pv: Any) -> str:
    """``rows 101–200 of data.csv; more remain: --offset 200, --rows N or --all``,
    ``all 57 rows of data.csv``, ``rows 101–157 of 157 in data.csv``."""
    src = pv.source
    unit = src.unit
    what = src.name + (f" [{src.sheet}]" if src.sheet else "")
    if src.encoding and src.encoding.lower().replace("_", "-") not in ("utf-8", "ascii"):
        what += f" ({src.encoding})"
    first, last = src.offset + 1, pv.end
    total = src.total
    if not pv.items and not pv.more:
        if src.offset and total is not None and total <= src.offset:
            return f"no {unit} after --offset {src.offset}: {what} has {total:,}"
        return f"no {unit} in {what}"
    if pv.more:
        of = f"of {total:,} in" if total is not None else "of"
        return (f"{unit} {first:,}–{last:,} {of} {what}; "
                f"more remain: --offset {last}, --rows N or --all")  # fmt: skip
    if src.offset == 0:
        return f"all {last:,} {unit} of {what}"
    return f"{unit} {first:,}–{last:,} of {last:,} in {what}"


# ------------------------------------------------------------------ rendering


def show(pv: Any, fmt: str) -> None:
    from kflow.cli.views import plain_output

    terminal = not plain_output()
    on_screen = fmt == "table" or (fmt == "auto" and terminal)
    note = footer(pv)
    if not terminal and not (on_screen and pv.kind == "table"):
        # stdout carries data: no Rich (it costs more to import than a page takes to read)
        from kflow.cli.pipes import write_stdout

        if pv.kind == "binary":
            write_stdout(pv.source.description + "\n")
            return
        _write_data(pv)
        if fmt == "table":
            write_stdout(note + "\n")
        elif pv.more or (not pv.items and pv.source.offset):
            sys.stderr.write(note + "\n")
        return
    from kflow.cli.render import console

    out = console()
    if pv.kind == "binary":
        out.print(pv.source.description, markup=False, highlight=False)
        return
    if pv.kind == "table" and on_screen:
        if pv.items or pv.source.columns:  # no rows and no header: the footer says so
            out.print(table(pv))
    elif pv.kind == "text" and fmt != "text":
        _print_text(out, pv)
    else:
        out.print(_escape("\n".join(_data_lines(pv))), highlight=False)
    out.print(f"[dim]{_escape(note)}[/]")


def _escape(text: str) -> str:
    from rich.markup import escape

    from kflow.cli.safetext import safe

    return escape(safe(text))


def table(pv: Any, width: int = 80) -> Any:
    """The page as a Rich table (cells as ``{{ value }}`` prints them, long ones cut)."""
    from rich.table import Table

    from kflow.cli.render import cut, show_value

    t = Table()
    for col in pv.columns:
        t.add_column(_escape(str(col)))
    for row in pv.rows:
        t.add_row(*[_escape(cut(show_value(v), width)) if v is not None else "" for v in row])
    return t


def _print_text(out: Any, pv: Any) -> None:
    from kflow.cli.safetext import safe

    text = safe("\n".join(pv.lines))
    syntax = pv.source.syntax
    if syntax == "markdown":
        from rich.markdown import Markdown

        out.print(Markdown(text))
    elif syntax:
        from rich.syntax import Syntax

        out.print(Syntax(text, syntax, theme="ansi_dark", line_numbers=True,
                         start_line=pv.source.offset + 1, word_wrap=True))  # fmt: skip
    else:
        out.print(text, markup=False, highlight=False)


def _data_lines(pv: Any) -> list[str]:
    """The page as stdout carries it: CSV and text as their own lines, other rows as one
    JSON object each (Ion, JSON lines as they are, Parquet, Avro, Excel)."""
    src = pv.source
    if pv.kind == "text" or src.format == "jsonl":
        return list(pv.lines)
    if src.format in ("csv", "tsv"):
        return [src.raw_header, *pv.lines] if src.raw_header is not None else list(pv.lines)
    from kflow.expr.values import to_json
    from kflow.preview import as_record

    return [to_json(as_record(item, pv.columns)) for item in pv.items]


def _write_data(pv: Any) -> None:
    from kflow.cli.pipes import write_stdout

    write_stdout("".join(line + "\n" for line in _data_lines(pv)))


def _export(src: Any, to: str, limit: int | None) -> None:
    from kflow.cli.pipes import drop_stdout
    from kflow.preview.export import BATCH, Export

    export = Export(src, to, limit)
    try:
        for chunk in export:
            sys.stdout.write(chunk)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`: the reader has gone, stop reading the file
        drop_stdout()
        return
    if export.dropped:
        sys.stderr.write(f"warning: columns not in the first {BATCH:,} rows left out of the CSV: "
                         f"{', '.join(export.dropped)}\n")  # fmt: skip
    if export.more:
        sys.stderr.write(f"{src.unit} {src.offset + 1:,}–{export.end:,} of {src.name} exported; "
                         f"more remain: --offset {export.end}\n")  # fmt: skip


# ------------------------------------------------------------------ kflow outputs --preview

PREVIEW_ROWS = 5
PREVIEW_LINES = 10


def file_parts(home: Any, ex: Any, task: str | None) -> list[Any]:
    """``kflow outputs EXEC --preview``: under a heading per output file (a ``kestra:///``
    URI in a task run's outputs), its first rows or lines, and the command showing more.
    Rich-free parts (:mod:`kflow.cli.views`), so a pipe gets them as plain text."""
    from kflow.cli.views import Cell, TableModel, cut, show_value, task_label, tree_order
    from kflow.errors import KflowError
    from kflow.preview import open_source, stored_files, take

    parts: list[Any] = []
    for _, tr in tree_order(list(ex.task_runs)):
        if task is not None and tr.task_id != task:
            continue
        seen: set[str] = set()
        for key, uri in stored_files(tr.outputs or {}):
            if uri in seen:
                continue
            seen.add(uri)
            name = _display_name(uri)
            heading = (
                f"{task_label(tr)} · {key}: {name}"
                if key and key != name
                else f"{task_label(tr)} · {name}"
            )
            more = f"kflow preview {ex.id} {tr.task_id} {name}"
            try:
                with home.storage.open(uri) as fh:
                    src = open_source(name, fh, size=home.storage.size(uri))
                    pv = take(src, PREVIEW_ROWS if src.kind == "table" else PREVIEW_LINES)
            except KflowError as exc:
                parts.append(Cell.of(heading, "bold"))
                parts.append(Cell.of(f"  (cannot preview: {exc})", "dim"))
                continue
            if pv.kind == "table" and pv.items:
                model = TableModel(heading, [(str(c), True) for c in pv.columns])
                for row in pv.rows:
                    model.rows.append([Cell.of(cut(show_value(v), 40)) if v is not None else Cell()
                                       for v in row])  # fmt: skip
                parts.append(model)
            else:
                parts.append(Cell.of(heading, "bold"))
                if pv.kind == "binary":
                    parts.append(Cell.of("  " + pv.source.description))
                for line in pv.lines if pv.kind != "binary" else []:
                    parts.append(Cell.of("  " + cut(line, 200)))
            if pv.more:
                parts.append(Cell.of(f"  {footer(pv).split(';')[0]}; more: {more}", "dim"))
    return parts
