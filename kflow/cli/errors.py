"""``KflowError`` → one message on stderr and an exit code; never a traceback."""

from __future__ import annotations

import sys
from typing import Any

DEBUG = False
# Python frames allowed (Python's default is 1000): see run_app.
RECURSION_LIMIT = 10_000


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def report(exc: BaseException) -> int:
    """Print ``exc`` for a person; return the exit code."""
    from rich.markup import escape

    from kflow.errors import ExpressionError, FlowValidationError, InputError, KflowError

    console = _console()
    if isinstance(exc, FlowValidationError) and len(exc.problems) > 1:
        console.print(f"[bold red]error:[/] the flow is invalid ({len(exc.problems)} problems)")
        for problem in exc.problems:
            console.print(f"  [red]•[/] {escape(str(problem))}")
            if problem.hint:
                console.print(f"    [dim]hint: {escape(problem.hint)}[/]")
        return exc.exit_code
    if isinstance(exc, InputError) and len(exc.problems) > 1:
        console.print(f"[bold red]error:[/] {len(exc.problems)} inputs are invalid")
        for line in exc.problems:
            console.print(f"  [red]•[/] {escape(line)}")
        if exc.hint:
            console.print(f"[dim]hint: {escape(exc.hint)}[/]")
        return exc.exit_code
    if isinstance(exc, KflowError):
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        if isinstance(exc, ExpressionError) and exc.template is not None:
            _marker(console, exc)
        if exc.hint:
            console.print(f"[dim]hint: {escape(exc.hint)}[/]")
        return exc.exit_code
    raise exc


def _marker(console: Any, exc: Any) -> None:
    from rich.markup import escape

    template = exc.template
    if "\n" in template and exc.position is not None:
        start = template.rfind("\n", 0, exc.position) + 1
        end = template.find("\n", exc.position)
        line = template[start : end if end >= 0 else None]
        col = exc.position - start
    else:
        line, col = template, exc.position
    console.print(f"  {escape(line)}")
    if col is not None and 0 <= col <= len(line):
        console.print("  " + " " * col + "[bold red]^[/]")


class Terminated(KeyboardInterrupt):
    """SIGTERM (CI cancel, ``timeout``, ``kill``): handled like Ctrl-C, so the running
    execution is recorded KILLED and script processes are stopped; exit 143."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def run_app(app: Any) -> None:
    """Run the Typer app, mapping KflowError to exit codes."""
    import signal

    from kflow.cli.pipes import drop_stdout, flush_stdout
    from kflow.errors import KflowError

    signal.signal(signal.SIGTERM, _on_sigterm)
    # flowables nest: the loader and the executor walk the task tree recursively (each
    # level costs ~9 frames; the YAML parser itself stops at ~500 levels)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    try:
        app()
    except KflowError as exc:
        sys.exit(report(exc))
    except KeyboardInterrupt as exc:
        _console().print("[bold red]interrupted[/]")
        sys.exit(143 if isinstance(exc, Terminated) else 130)
    except SystemExit:
        raise
    except BrokenPipeError:  # stdout closed by its reader (`kflow logs last | head -1`)
        drop_stdout()
        sys.exit(1)
    except RecursionError as exc:
        if DEBUG:
            raise
        _console().print(
            f"[bold red]error:[/] nested too deeply: kflow ran out of recursion depth ({exc})"
        )
        _console().print(
            "[dim]hint: flatten the flow's nested tasks or subflows; if it is not deeply "
            "nested, this is a kflow bug: run again with --debug and report it[/]"
        )
        sys.exit(2)
    except BaseException as exc:  # a bug: one line unless --debug
        if DEBUG:
            raise
        _console().print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
            "[dim]this is a kflow bug; run again with --debug for the traceback and report it[/]"
        )
        sys.exit(3)
    finally:
        flush_stdout()  # a closed pipe now, not "Exception ignored" at exit
