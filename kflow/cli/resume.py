"""``kflow resume`` and ``kflow run --wait-on-pause``: continue a PAUSED execution.

The engine side (marking a Pause resumed, the lock that tells whether a process waits on
an execution, the walk over the stored task runs) is :mod:`kflow.engine.resume`; this
module reads the onResume inputs from the command line or a prompt, waits, and prints.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# `kflow run`/`kflow resume` exit code of a run that stopped PAUSED (0 = SUCCESS/WARNING,
# 1 = FAILED/KILLED/CANCELLED, 2 = bad input, 3 = internal error)
PAUSED_EXIT = 4


def paused_line(execution: Any, flow: Any) -> str:
    """What a run that stopped PAUSED prints on stderr: the command that continues it."""
    from kflow.engine.resume import on_resume_specs, paused_runs
    from kflow.flow.model import MISSING

    runs = paused_runs(execution)
    where = f" at task '{runs[0].task_id}'" if runs else ""
    specs = on_resume_specs(flow, runs[0]) if runs else ()
    wanted = "".join(
        f" -i {s.id}=VALUE" if s.required and s.defaults is MISSING else f" [-i {s.id}=VALUE]"
        for s in specs
    )
    return (
        f"execution {execution.id} is PAUSED{where}: continue it with "
        f"kflow resume {execution.id}{wanted or ' [-i KEY=VALUE]...'}"
    )


def _pause_inputs(flow: Any, execution: Any) -> tuple[Any, tuple[Any, ...]]:
    """The first PAUSED task run (None if none) and its Pause's onResume declarations."""
    from kflow.engine.resume import on_resume_specs, paused_runs

    runs = paused_runs(execution)
    if not runs:
        return None, ()
    return runs[0], on_resume_specs(flow, runs[0])


def _undeclared(specs: tuple[Any, ...], provided: dict[str, Any], task: str | None) -> list[Any]:
    from kflow.notices import Notice

    declared = [s.id for s in specs]
    return [
        Notice(
            f"input {key!r} is not an onResume input of the paused task {task!r}: it is ignored",
            hint=f"onResume inputs: {', '.join(declared) or 'none'}",
            code="undeclared-input",
        )
        for key in provided
        if key not in declared
    ]


def resume_command(
    ref: str,
    input_items: list[str],
    inputs_file: Path | None,
    flows_dir: Path | None,
    as_json: bool,
    output: str | None,
    wait_on_pause: bool,
) -> None:
    """``kflow resume``: check the onResume inputs, mark the Pause resumed, then run the
    execution here, or follow it when a waiting process goes on with it."""
    from kflow.api import open_home
    from kflow.cli.run import collect_inputs, show_result
    from kflow.engine.resume import (
        PauseLock,
        claimed,
        load_stored_flow,
        mark_resumed,
        paused_runs,
        require_paused,
        require_writable,
    )
    from kflow.states import State

    quiet = as_json or output is not None
    with open_home() as home:
        store = home.store
        execution_id = store.resolve_id(ref)
        require_writable(home)
        execution = store.get_execution(execution_id)
        require_paused(execution)
        flow = load_stored_flow(store, execution)
        if output is not None and output not in {o.id for o in flow.outputs}:
            from kflow.errors import UsageError

            known = ", ".join(o.id for o in flow.outputs) or "none"
            raise UsageError(f"flow {flow.id} has no output {output!r} (outputs: {known})")
        paused, specs = _pause_inputs(flow, execution)
        provided = collect_inputs(SimpleNamespace(inputs=specs), input_items, inputs_file)
        notices = _undeclared(specs, provided, paused.task_id if paused else None)
        if notices:
            from kflow.cli.notices import print_notices

            print_notices(notices)
        lock = PauseLock(home.path, execution_id)
        with claimed(home.path, execution_id):
            execution = store.get_execution(execution_id)
            require_paused(execution)
            mark_resumed(home.path, store, home.storage, execution, flow, provided)
            here = lock.acquire()
        if here:
            execution = _continue(home, flow, execution_id, lock, flows_dir, quiet)
        else:
            sys.stderr.write(
                f"resumed: execution {execution_id} goes on in the process waiting on it; "
                "following it here\n"
            )
            execution = follow(home, execution_id)
            orphan = execution.state.current is State.PAUSED and not paused_runs(execution)
            if orphan and lock.acquire():  # resumed, but its waiter died before going on
                execution = _continue(home, flow, execution_id, lock, flows_dir, quiet)
        if wait_on_pause:
            execution = wait_on_pause_(execution, flow, home, flows_dir, quiet)
        show_result(execution, flow, home, [*flow.warnings, *notices], as_json, output)


def _continue(
    home: Any, flow: Any, execution_id: str, lock: Any, flows_dir: Path | None, quiet: bool
) -> Any:
    """Walk the resumed execution in this process (``lock`` held), with the live view."""
    from kflow.engine.executor import Executor
    from kflow.flow.repository import FlowRepository
    from kflow.storage.namespace import run_storage

    root = flows_dir if flows_dir is not None else Path.cwd()
    executor = Executor(
        flow,
        store=home.store,
        # the _files/<namespace>/ folders beside the flow, as `kflow run` binds them
        storage=run_storage(home.storage, flow.namespace, flow.path),
        home=home.path,
        flows=FlowRepository(root, preloaded=[flow]),
    )
    executor.pause_lock = lock
    stored = home.store.get_execution(execution_id)
    if quiet:
        return executor.resume(stored)
    from kflow.cli.run import make_view

    view = make_view()
    with view:
        executor.on_event = view.on_event
        return executor.resume(stored)


def follow(home: Any, execution_id: str) -> Any:
    """Wait while another process runs the execution; it as stored once it ended, or once
    it is PAUSED with no process on it (paused again, or left resumed by a process that
    died before going on)."""
    from kflow.engine.resume import POLL_SECONDS, someone_waits
    from kflow.states import State

    while True:
        execution = home.store.get_execution(execution_id)
        state = execution.state.current
        if state.terminal:
            return execution
        if state is State.PAUSED and not someone_waits(home.path, execution_id):
            return execution
        time.sleep(POLL_SECONDS)


def wait_on_pause(execution: Any, flow: Any, home: Any, flows_dir: Path | None, quiet: bool) -> Any:
    """``--wait-on-pause``: while the execution is PAUSED, wait for another process to
    resume it (then go on here), or, on a terminal, offer to resume it here."""
    from kflow.engine.resume import POLL_SECONDS, PauseLock, paused_runs, resumed_mark
    from kflow.states import State

    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    while execution.state.current is State.PAUSED:
        lock = PauseLock(home.path, execution.id)
        if not lock.acquire():  # another process resumed it meanwhile and runs it
            execution = follow(home, execution.id)
            continue
        sys.stderr.write(
            f"execution {execution.id} is PAUSED: waiting for "
            f"kflow resume {execution.id} [-i KEY=VALUE]... from another shell"
            + (", or answer here" if interactive else "")
            + "\n"
        )
        if interactive:
            question = _question(flow, execution)
            sys.stderr.write(question)
            sys.stderr.flush()
        mark = resumed_mark(home.path, execution.id)
        look = True  # it may have been resumed before this process held the lock
        while True:
            if look or mark.exists():  # the store is read only when something changed
                look = False
                stored = home.store.get_execution(execution.id)
                if stored.state.current is not State.PAUSED:
                    lock.release()
                    execution = follow(home, execution.id)
                    break
                if not paused_runs(stored):  # resumed by another process: go on here
                    execution = _continue(home, flow, execution.id, lock, flows_dir, quiet)
                    break
            if not interactive:
                time.sleep(POLL_SECONDS)
                continue
            answer = _line_within(POLL_SECONDS)  # the store is looked at meanwhile
            if answer is None:
                continue
            if answer == "":  # end of input: no more questions, only waiting
                interactive = False
                continue
            if answer.strip().lower() in ("y", "yes") and _ask_inputs(home, flow, stored):
                look = True  # marked resumed: the next look goes on here
                continue
            sys.stderr.write("still waiting (Ctrl-C stops waiting; the execution stays PAUSED)\n")
            sys.stderr.write(question)
            sys.stderr.flush()
    return execution


def _question(flow: Any, execution: Any) -> str:
    paused, _ = _pause_inputs(flow, execution)
    task = f" at task '{paused.task_id}'" if paused else ""
    return f"Resume execution {execution.id}{task} here? [y/N] "


def _line_within(seconds: float) -> str | None:
    """A line typed on the terminal within ``seconds``, with its newline (None: nothing
    typed yet; "": end of input)."""
    import select

    ready, _, _ = select.select([sys.stdin], [], [], seconds)
    if not ready:
        return None
    return sys.stdin.readline()


def _ask_inputs(home: Any, flow: Any, execution: Any) -> bool:
    """Ask each onResume input on the terminal (again until accepted) and mark the
    execution resumed. Whether it was (False at end of input)."""
    from kflow.engine.resume import claimed, mark_resumed
    from kflow.errors import InputError
    from kflow.flow.model import MISSING

    _, specs = _pause_inputs(flow, execution)
    while True:
        provided: dict[str, Any] = {}
        for spec in specs:
            shown = "" if spec.defaults is MISSING else f" [{spec.defaults}]"
            value = _prompt(f"  {spec.id} ({spec.type}){shown}: ")
            if value is None:
                return False
            if value != "":
                provided[spec.id] = value
        try:
            with claimed(home.path, execution.id):
                current = home.store.get_execution(execution.id)
                mark_resumed(home.path, home.store, home.storage, current, flow, provided)
            return True
        except InputError as exc:
            for problem in exc.problems:
                sys.stderr.write(f"error: {problem}\n")


def _prompt(text: str) -> str | None:
    """One line from the terminal (None at end of input)."""
    sys.stderr.write(text)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return None if not line else line.rstrip("\n")


wait_on_pause_ = wait_on_pause  # resume_command's parameter of the same name hides it
