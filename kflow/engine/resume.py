"""Resuming a PAUSED execution, from this process or another one.

A Pause without ``pauseDuration`` leaves its execution PAUSED in the store and the process
ends: no process runs a paused execution (recovery never marks it KILLED). Resuming it
has two steps, which may happen in two processes:

1. :func:`mark_resumed`: the first PAUSED task run gets its ``onResume`` inputs (typed
   and checked like flow inputs) as outputs and goes RUNNING, as Kestra's
   ``ExecutionService.resume`` does. The execution stays PAUSED until step 2 picks it up.
2. continuing: an :class:`~kflow.engine.executor.Executor` walks the flow again over the
   stored task runs (:meth:`~kflow.engine.executor.Executor.resume`): finished runs are
   kept with their outputs, the resumed Pause ends, and the tasks after it run.

Who continues is told by a lock file per execution in the home (``pauses/<id>.lock``):
the process running the execution, or waiting on it (a Pause with a duration, ``kflow run
--wait-on-pause``), holds it, and the operating system releases it when that process dies.
``kflow resume`` marks the resume and, when nobody holds the lock, continues the run
itself; otherwise the waiting process sees the change in the store and goes on. A second
lock (``<id>.claim``) makes the check-and-mark of step 1 one step across processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kflow.errors import KflowError, UsageError
from kflow.flow.model import Flow, InputSpec, TaskSpec
from kflow.records import Execution, TaskRun
from kflow.states import State
from kflow.storage.base import Storage, input_prefix, to_uri
from kflow.store.base import ExecutionStore

POLL_SECONDS = 0.25  # how often a waiting process looks at the store


def require_writable(home: Any) -> None:
    """Refuse to resume in a read-only home (a :class:`kflow.api.Home`)."""
    if home.read_only:
        from kflow.errors import StoreError

        raise StoreError(
            f"the kflow home {home.path} is read-only: a resume cannot be recorded there",
            hint="point KFLOW_HOME to a writable directory to resume executions",
        )


def _lock_path(home: Path, execution_id: str, kind: str) -> Path:
    folder = home / "pauses"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / f"{execution_id}.{kind}"


class PauseLock:
    """The lock a process holds while it runs or waits on an execution (see the module
    docstring). ``acquire`` never blocks; released by :meth:`release` or at exit."""

    def __init__(self, home: Path, execution_id: str) -> None:
        self.path = _lock_path(home, execution_id, "lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        import fcntl

        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def resumed_mark(home: Path, execution_id: str) -> Path:
    """The file :func:`mark_resumed` creates: a waiting process looks for it (cheap)
    rather than reading every task run from the store each time it looks."""
    return _lock_path(home, execution_id, "resumed")


def forget(home: Path, execution_id: str) -> None:
    """Remove the lock files of an execution that ended (nothing resumes it any more)."""
    for kind in ("lock", "claim", "resumed"):
        try:
            (home / "pauses" / f"{execution_id}.{kind}").unlink()
        except OSError:
            pass


def someone_waits(home: Path, execution_id: str) -> bool:
    """Whether a live process runs or waits on the execution (holds its PauseLock)."""
    probe = PauseLock(home, execution_id)
    if probe.acquire():
        probe.release()
        return False
    return True


@contextmanager
def claimed(home: Path, execution_id: str) -> Iterator[None]:
    """The check-and-mark of a resume, one process at a time (blocks briefly)."""
    import fcntl

    fd = os.open(_lock_path(home, execution_id, "claim"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def paused_runs(execution: Execution) -> list[TaskRun]:
    """The PAUSED task runs, in creation order."""
    return [tr for tr in execution.task_runs if tr.state.current is State.PAUSED]


def find_spec(flow: Flow, task_id: str) -> TaskSpec | None:
    return next((s for s in flow.all_tasks() if s.id == task_id), None)


def on_resume_specs(flow: Flow, taskrun: TaskRun) -> tuple[InputSpec, ...]:
    """The ``onResume`` declarations of the Pause behind ``taskrun`` (none for others)."""
    spec = find_spec(flow, taskrun.task_id)
    if spec is None or not getattr(spec.task_class, "pauses", False):
        return ()
    from kflow.tasks.flow.pause import on_resume_specs as specs_of

    return specs_of(spec.props.get("onResume"))


def require_paused(execution: Execution) -> None:
    state = execution.state.current
    if state is not State.PAUSED:
        raise UsageError(
            f"execution {execution.id} is {state.value}, not PAUSED: there is nothing to resume",
            hint="kflow executions lists the paused ones (state PAUSED)",
        )


def mark_resumed(
    home: Path,
    store: ExecutionStore,
    storage: Storage,
    execution: Execution,
    flow: Flow,
    provided: Mapping[str, Any],
    render: Callable[..., Any] | None = None,
) -> TaskRun | None:
    """Step 1 of a resume (module docstring): the first PAUSED task run goes RUNNING with
    its ``onResume`` values as outputs; saved and flushed, then :func:`resumed_mark`
    tells a waiting process. Raises UsageError when the
    execution is not PAUSED and InputError for refused inputs (nothing changes then).
    None when no task run is PAUSED (already resumed, waiting to be continued)."""
    from kflow.flow.inputs import resolve_inputs
    from kflow.jsonvalues import to_json_outputs

    require_paused(execution)
    runs = paused_runs(execution)
    if not runs:
        return None
    taskrun = runs[0]
    specs = on_resume_specs(flow, taskrun)

    def store_file(input_id: str, local: Path) -> str:
        # where Kestra's resume stores them: with the execution's inputs
        prefix = input_prefix(execution.namespace, execution.flow_id, execution.id, input_id)
        return storage.put(to_uri(f"{prefix}/{local.name}"), local)

    values = resolve_inputs(specs, provided, render=render, store_file=store_file)
    # an optional input not given is absent, not null (Jackson leaves nulls out of
    # Pause.Output; `{{ outputs.pause.onResume.x ?? 'MISSING' }}`)
    values = {k: v for k, v in values.items() if v is not None}
    taskrun.state.set(State.RUNNING)
    taskrun.outputs = to_json_outputs({"onResume": values}) if specs else {}
    store.save_taskrun(execution, taskrun)
    store.flush()
    resumed_mark(home, execution.id).touch()
    return taskrun


def load_stored_flow(store: ExecutionStore, execution: Execution) -> Flow:
    """The flow as it ran (its source is kept with the execution)."""
    from kflow.flow.validate import parse_flow

    source = store.get_flow_source(execution.id)
    try:
        return parse_flow(source, execution.flow_path)
    except KflowError as exc:
        raise KflowError(
            f"the flow source stored with execution {execution.id} no longer loads: {exc.message}",
            hint="this kflow cannot resume it; the kflow version that ran it can",
        ) from exc


def resume_from_task(
    ctx: Any,
    execution_id: str | None,
    namespace: str | None,
    flow_id: str | None,
    inputs: Mapping[str, Any],
) -> str:
    """What the Resume task does (kflow.tasks.core.resume): resume a PAUSED execution of
    this home (the current one when ``execution_id`` is None) with ``inputs`` as its
    onResume values. A process waiting on it (a Pause with a duration, ``kflow run
    --wait-on-pause``, this very run) goes on by itself; otherwise the execution is
    continued here, to its end or its next pause. Returns a line saying which. Raises
    KflowError (the task fails) when it is unknown, of another flow, or not PAUSED."""
    from kflow.engine.executor import Executor
    from kflow.errors import NotFoundError, TaskError

    executor: Executor = ctx._executor  # the engine's own context (kflow.engine.context)
    store, home = executor.store, executor.home
    target_id = execution_id or ctx.execution_id
    store.flush()  # this run's own changes are still queued: resolve_id reads the database
    try:
        target_id = store.resolve_id(target_id)
    except NotFoundError:
        raise TaskError(f"No execution found for execution id {target_id}") from None
    lock = PauseLock(home, target_id)
    with claimed(home, target_id):
        target = store.get_execution(target_id)
        if (namespace and namespace != target.namespace) or (flow_id and flow_id != target.flow_id):
            raise TaskError(
                f"execution {target_id} is of flow {target.namespace}.{target.flow_id}, "
                f"not {namespace or target.namespace}.{flow_id or target.flow_id}"
            )
        if target.state.current is not State.PAUSED:
            raise TaskError(
                f"The execution is not paused: {target_id} is {target.state.current.value}"
            )
        flow = load_stored_flow(store, target)
        mark_resumed(home, store, executor.storage, target, flow, inputs)
        here = target_id != ctx.execution_id and lock.acquire()
    if not here:
        return f"resumed execution {target_id}: the process waiting on it goes on"
    continued = Executor(
        flow,
        store=store,
        storage=executor.storage,
        home=home,
        flows=executor.flows,
        secrets=set(executor.secrets),
    )
    continued.pause_lock = lock
    ended = continued.resume(store.get_execution(target_id))
    return f"resumed execution {target_id} and ran it here: it ended {ended.state.current.value}"
