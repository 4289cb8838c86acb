"""``KflowError`` → one message on stderr and an exit code; never a traceback."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

DEBUG = False
# Python frames allowed (Python's default is 1000): see run_app.
RECURSION_LIMIT = 10_000


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def report(exc: BaseException) -> int:
    """Print ``exc`` for a person; return the exit code."""
    from rich.markup import escape

    from kflow.cli.safetext import safe
    from kflow.errors import ExpressionError, FlowValidationError, InputError, KflowError

    console = _console()
    if isinstance(exc, FlowValidationError) and len(exc.problems) > 1:
        console.print(f"[bold red]error:[/] the flow is invalid ({len(exc.problems)} problems)")
        for problem in exc.problems:
            console.print(f"  [red]•[/] {escape(safe(str(problem)))}")
            if isinstance(problem, ExpressionError) and problem.template is not None:
                _marker(console, problem, indent="    ")
            if problem.hint:
                console.print(f"    [dim]hint: {escape(safe(problem.hint))}[/]")
        return exc.exit_code
    if isinstance(exc, InputError) and len(exc.problems) > 1:
        console.print(f"[bold red]error:[/] {len(exc.problems)} inputs are invalid")
        for line in exc.problems:
            console.print(f"  [red]•[/] {escape(safe(line))}")
        if exc.hint:
            console.print(f"[dim]hint: {escape(safe(exc.hint))}[/]")
        return exc.exit_code
    if isinstance(exc, KflowError):
        console.print(f"[bold red]error:[/] {escape(safe(str(exc)))}")
        shown = exc.problems[0] if isinstance(exc, FlowValidationError) and exc.problems else exc
        if isinstance(shown, ExpressionError) and shown.template is not None:
            _marker(console, shown)
        if exc.hint:
            console.print(f"[dim]hint: {escape(safe(exc.hint))}[/]")
        return exc.exit_code
    raise exc


# the widest part of a template line drawn above the marker: a long line is cut around
# the bad part (the message already names the template)
MARKER_WIDTH = 72


def _marker(console: Any, exc: Any, indent: str = "  ") -> None:
    """The line of ``exc.template`` holding the bad part, with a caret under it; a long
    line is shown as a window around the caret, cut with an ellipsis."""
    from rich.markup import escape

    from kflow.cli.safetext import safe

    template = exc.template
    pos = exc.position
    if pos is not None and not 0 <= pos <= len(template):
        pos = None
    if pos is None and ("\n" in template or len(template) > MARKER_WIDTH):
        return  # no caret to draw: the message already holds the template
    if "\n" in template and pos is not None:
        start = template.rfind("\n", 0, pos) + 1
        end = template.find("\n", pos)
        line = template[start : end if end >= 0 else None]
        col = pos - start
    else:
        line, col = template, pos
    line = line.rstrip("\r")
    if col is not None and len(line) > MARKER_WIDTH:
        lo = max(0, min(col - MARKER_WIDTH // 3, len(line) - MARKER_WIDTH))
        hi = lo + MARKER_WIDTH
        head = "…" if lo > 0 else ""
        line = head + line[lo:hi] + ("…" if hi < len(line) else "")
        col = col - lo + len(head)
    console.print(f"{indent}{escape(safe(line))}")
    if col is not None and 0 <= col <= len(line):
        console.print(indent + " " * col + "[bold red]^[/]")


class Terminated(KeyboardInterrupt):
    """SIGTERM (CI cancel, ``timeout``, ``kill``): handled like Ctrl-C, so the running
    execution is recorded KILLED and script processes are stopped; exit 143."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def exit_now(code: Any) -> NoReturn:
    """End the process once the command is done, skipping the interpreter's teardown.

    Tearing down the modules a run loads (Typer, pydantic, Jinja2, the engine) and the
    collection that goes with it cost 25-30 ms, as long as a short flow takes to run.
    Everything kflow must finish is finished by then: the store is closed, stdout and
    stderr are flushed here, and the ``atexit`` handlers (the script runner's clean-up of
    process groups, logging) still run. A thread still at work (not a daemon) gets the
    normal exit, which waits for it. ``code`` is ``SystemExit.code``."""
    import atexit
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): printed, status 1, as Python does
        sys.stderr.write(f"{code}\n")
        status = 1
    from kflow.cli.pipes import flush_stdout

    flush_stdout()
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    main = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main for t in threading.enumerate()):
        sys.exit(status)
    atexit._run_exitfuncs()
    os._exit(status)


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
