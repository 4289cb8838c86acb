"""Runs a flow: walks the task tree, keeps every state change and output, persists them.

The executor makes every decision (states, flowables, retries, outputs); tasks only do
their own work. Flowable tasks return a plan of child groups; groups run one after another
or on threads. Every task run is saved when it starts and when it ends.

A run can be killed (:meth:`Executor.kill`; Ctrl-C or SIGTERM when run from the main
thread): no task starts any more, running ones are told through ``ctx.cancelled`` (a
script's whole process group is stopped), and everything unfinished ends KILLED.

A Pause without a duration pauses the run: no task starts any more, running ones end, the
flowables around the Pause stay RUNNING and the execution is saved PAUSED. A later
:meth:`Executor.resume` walks the flow again over the stored task runs: a finished run is
kept (its outputs feed later tasks), an unfinished one goes on (see kflow.engine.resume).
"""

from __future__ import annotations

import copy
import io
import random
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kflow.engine.context import Services, TaskRunContext, kestra_envs
from kflow.engine.execution import Execution, StateHistory, TaskRun, iso_instant
from kflow.engine.outputs import labels_view, merge_run, set_state, value_keys
from kflow.errors import InputError, KflowError, TaskError, TaskTimeoutError
from kflow.flow.model import MISSING, Flow, TaskSpec
from kflow.ids import new_id
from kflow.java.duration import duration_problem, parse_duration, wait_for
from kflow.jsonvalues import to_json_outputs
from kflow.secrets import MASK
from kflow.states import State, apply_allowances, guess_final_state
from kflow.storage.base import Storage, execution_prefix, input_prefix, to_uri
from kflow.store.base import ExecutionStore, LogRecord
from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, TaskResult, truthy_string

if TYPE_CHECKING:
    from kflow.testing.suite import Fixtures

MAX_SUBFLOW_DEPTH = 10
MAX_POOL_THREADS = 64
TIMEOUT_GRACE_SECONDS = 5.0
# After Ctrl-C/SIGTERM, how long the main thread waits for the run to wind down (script
# process groups get SIGTERM, then SIGKILL one second later) before it records the runs
# still going as KILLED itself and lets kflow exit.
KILL_WAIT_SECONDS = 1.5
# Each nesting level of flowables costs about five Python frames in the executor and nine
# in the YAML loader; Kestra has no nesting limit, and the YAML parser stops at about 500
# levels. 10k frames stay far below the C stack of a thread (8 MB) on Python 3.11+.
RECURSION_LIMIT = 10_000
# Up to this many task runs an execution keeps them all in memory. Past it, each finished
# run inside a loop (a ForEach iteration and what runs below it) is released once stored,
# and ``execution.task_runs`` reads them back from the store: a ForEach over a million
# values kept ~2.6 KB per iteration (gigabytes) otherwise. Small runs never touch the store.
RETAIN_TASKRUNS = 20_000
# A task run is saved RUNNING only once it has run this long: most task runs (a Return, a
# Log, an iteration's quick child) end sooner, and their one save is the final one. See
# Executor._defer_running_save.
RUNNING_SAVE_DELAY = 0.02


class Event(NamedTuple):
    """A change the CLI may draw: ``execution``, ``taskrun`` or ``log``. A named tuple: as
    immutable as a frozen dataclass, cheaper to import and to make (three per task run)."""

    kind: str
    execution: Execution
    taskrun: TaskRun | None = None
    level: str | None = None
    message: str | None = None
    depth: int = 0


EventCallback = Callable[[Event], None]

# A run ending in one of these stops its sequence (and a loop with a limit).
_STOPS = frozenset({State.FAILED, State.KILLED, State.CANCELLED})


def allow_deep_flows() -> None:
    """Raise Python's recursion limit so that deeply nested flows load and run (the
    loader and the executor walk the task tree recursively)."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


class _KillSwitch:
    """Stops one run and its subflows: pulled once, seen by every task run.

    Task runs register their context while they run; pulling the switch sets each one's
    ``cancelled`` event (a script's process group is then killed) and no new task starts.
    Subflow executors share their parent's switch.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.contexts: set[TaskRunContext] = set()
        self.executors: list[Executor] = []

    def enter(self, ctx: TaskRunContext) -> None:
        with self.lock:
            self.contexts.add(ctx)
            if self.event.is_set():
                ctx.cancelled.set()

    def leave(self, ctx: TaskRunContext) -> None:
        with self.lock:
            self.contexts.discard(ctx)

    def pull(self) -> None:
        with self.lock:
            self.event.set()
            for ctx in self.contexts:
                ctx.cancelled.set()


class Executor:
    """Runs one execution of one flow. See :func:`kflow.run_flow` for the usual entry."""

    def __init__(
        self,
        flow: Flow,
        *,
        store: ExecutionStore,
        storage: Storage,
        home: Path,
        on_event: EventCallback | None = None,
        flows: Any = None,
        depth: int = 0,
        secrets: set[str] | None = None,
        fixtures: Fixtures | None = None,
    ) -> None:
        self.flow = flow
        # a test case's fixtures (kflow.testing): mocked tasks, inline files
        self.fixtures = fixtures
        self.store = store
        self.storage = storage
        self.home = home
        self.on_event = on_event
        self.flows = flows
        self.depth = depth
        self.lock = threading.RLock()
        self.secrets: set[str] = secrets if secrets is not None else set()
        self.execution: Execution | None = None
        self.outputs_view: dict[str, Any] = {}
        self.tasks_view: dict[str, Any] = {}
        self.base_context: dict[str, Any] = {}
        self._seq = 0
        self._background: list[threading.Thread] = []
        self._parent_prefix: str | None = None
        # flowable task run id → the directory its children share (WorkingDirectory)
        self._shared_dirs: dict[str, Path] = {}
        self._error_logs: list[dict[str, Any]] = []
        self._kill = _KillSwitch()
        self.retain_taskruns = RETAIN_TASKRUNS
        self._loop_runs: list[TaskRun] = []  # finished loop runs not released yet
        # RUNNING runs not saved yet, with when they started (see _defer_running_save)
        self._running_unsaved: dict[str, tuple[TaskRun, float]] = {}
        self._saver: threading.Thread | None = None
        # a Pause without duration was reached: no task starts, the walk unwinds
        self._pause = threading.Event()
        # a Pause's CANCEL behavior: no task starts, the execution ends CANCELLED
        self._cancel = threading.Event()
        # the state an Exit task ended the execution with: no task starts, parents take it
        self._exit: State | None = None
        # the executor whose Subflow task started this one (a Kill may propagate down)
        self._parent_executor: Executor | None = None
        # the stored runs a resumed walk takes up again, by their place in the flow
        self._existing: dict[tuple[str | None, str, str | None, int | None], deque[TaskRun]] = {}
        # held while this process runs or waits on the execution (kflow.engine.resume)
        self.pause_lock: Any = None

    # ================================================================= creation
    def prepare(
        self,
        raw_inputs: Mapping[str, Any] | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        parent: Execution | None = None,
        trigger: dict[str, Any] | None = None,
    ) -> Execution:
        """Check inputs and record the execution (CREATED). Nothing is recorded, and no
        file is stored, when an input is refused (InputError)."""
        from kflow.flow.inputs import resolve_inputs

        flow = self.flow
        if flow.disabled:
            raise KflowError(
                f"Cannot execute a flow which is disabled: {flow.namespace}.{flow.id}",
                hint="set 'disabled: false' in the flow",
            )
        exec_id = new_id()

        def store_file(input_id: str, local: Path) -> str:
            uri = to_uri(f"{input_prefix(flow.namespace, flow.id, exec_id, input_id)}/{local.name}")
            return self.storage.put(uri, local)

        inputs = resolve_inputs(
            flow.inputs,
            raw_inputs or {},
            render=self._render_static,
            store_file=store_file,
        )
        all_labels = dict(flow.labels)
        all_labels.update(labels or {})
        label_list = [{"key": k, "value": v} for k, v in all_labels.items()]
        correlation = exec_id if parent is None else _correlation(parent)
        label_list.append({"key": "system.correlationId", "value": correlation})
        execution = Execution(
            id=exec_id,
            namespace=flow.namespace,
            flow_id=flow.id,
            flow_revision=flow.revision,
            inputs=inputs,
            labels=label_list,
            parent_id=parent.id if parent is not None else None,
            trigger=trigger,
            flow_path=flow.path,
        )
        if self.fixtures is not None:  # a refused file name: nothing recorded
            for name, content in self.fixtures.files.items():
                uri = fixture_file_uri(flow.namespace, flow.id, exec_id, name)
                self.storage.put(uri, io.BytesIO(content.encode("utf-8")))
        self.execution = execution
        execution.task_runs.bind(self.store, exec_id)
        self.store.create_execution(execution, flow.source)
        self._emit(Event("execution", execution, depth=self.depth))
        return execution

    def _render_static(self, value: Any, inputs: Mapping[str, Any] | None = None) -> Any:
        """Render input defaults and dependsOn conditions with the flow-level context
        (no task, no outputs; the inputs resolved so far)."""
        from kflow import expr

        ctx: dict[str, Any] = {
            "flow": {"id": self.flow.id, "namespace": self.flow.namespace},
            "vars": self.flow.variables,
            "labels": dict(self.flow.labels),
            "envs": kestra_envs(),
            "globals": {},
        }
        if inputs is not None:
            ctx["inputs"] = dict(inputs)
        return expr.render_value(value, ctx)

    def _build_base_context(self, execution: Execution) -> None:
        from kflow.flow.inputs import input_context

        flow = self.flow
        labels = labels_view(execution.labels)
        prefixes = [execution_prefix(flow.namespace, flow.id, execution.id)]
        if self._parent_prefix:
            prefixes.append(self._parent_prefix)
        inputs = input_context(execution.inputs)
        self._collect_secrets(flow, execution.inputs, inputs)
        ctx: dict[str, Any] = {
            "flow": {"id": flow.id, "namespace": flow.namespace, "revision": flow.revision},
            "execution": {
                "id": execution.id,
                "startDate": iso_instant(execution.state.start),
                "originalId": execution.id,
            },
            "outputs": self.outputs_view,
            "tasks": self.tasks_view,
            "inputs": inputs,
            "vars": flow.variables if execution.variables is None else execution.variables,
            "labels": labels,
            "envs": kestra_envs(),
            "globals": {},
            "_kflow": Services(
                self.storage,
                flow.namespace,
                flow.id,
                execution.id,
                prefixes,
                error_logs=lambda: self._error_logs,
                on_secret=self.add_secret,
                store=self.store,
            ),
        }
        if execution.trigger is not None:
            ctx["trigger"] = execution.trigger.get("variables", {})
        if self.fixtures is not None and self.fixtures.files:
            ctx["files"] = {name: fixture_file_uri(flow.namespace, flow.id, execution.id, name)
                            for name in self.fixtures.files}  # fmt: skip
        self.base_context = ctx

    def _collect_secrets(self, flow: Flow, stored: Mapping[str, Any], clear: Mapping[str, Any]) -> None:
        for spec in flow.inputs:
            if spec.type == "SECRET":
                value: Any = clear
                for part in spec.id.split("."):
                    value = value.get(part) if isinstance(value, Mapping) else None
                if isinstance(value, str) and value:
                    self.add_secret(value)

    # ================================================================= running
    def run(self, execution: Execution | None = None) -> Execution:
        """Run the prepared execution to its final state and return it.

        On the main thread the tasks run on a thread of their own and this one only waits:
        Ctrl-C and SIGTERM (a ``KeyboardInterrupt`` raised here) then never land in the
        middle of a task's bookkeeping. The run is stopped (:meth:`kill`), whatever still
        runs is recorded KILLED, and the ``KeyboardInterrupt`` goes on to the caller.
        """
        execution = execution or self.execution
        if execution is None:
            raise RuntimeError("prepare() first")
        self.execution = execution
        allow_deep_flows()
        if threading.current_thread() is not threading.main_thread():
            return self._run(execution)
        outcome: list[Execution | BaseException] = []
        # an Event, not Thread.join(): a join interrupted by Ctrl-C wrongly marks the
        # thread as stopped on Python 3.11 (bpo-45274), so a second join would not wait
        done = threading.Event()

        def walk() -> None:
            try:
                outcome.append(self._run(execution))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                outcome.append(exc)
            finally:
                done.set()

        threading.Thread(target=walk, name="kflow-run", daemon=True).start()
        try:
            done.wait()
        except BaseException:
            self._interrupted(done)
            raise
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def resume(self, execution: Execution) -> Execution:
        """Continue a PAUSED execution read from the store (its Pause marked resumed by
        :func:`kflow.engine.resume.mark_resumed`, or still paused), to its end or to the
        next pause. Finished task runs are kept and their outputs seen by later tasks."""
        from kflow.engine.outputs import build_views
        from kflow.records import TaskRunList

        runs = self.store.get_taskruns(execution.id)  # with their stored seq
        execution.task_runs = TaskRunList(runs)
        execution.task_runs.bind(self.store, execution.id)
        self.execution = execution
        self._seq = max((r.seq for r in runs), default=0)
        self._existing = {}
        for run in runs:
            key = (run.parent_taskrun_id, run.task_id, run.value, run.iteration)
            self._existing.setdefault(key, deque()).append(run)
        outputs, tasks = build_views(runs)
        self.outputs_view.clear()
        self.outputs_view.update(outputs)
        self.tasks_view.clear()
        self.tasks_view.update(tasks)
        self._error_logs = [
            {"taskId": r.task_id, "message": r.message, "timestamp": r.timestamp}
            for r in self.store.get_logs(execution.id)
            if r.level == "ERROR"
        ]
        self._pause.clear()
        if self.depth == 0:  # this walk takes the resume up
            from kflow.engine.resume import resumed_mark

            resumed_mark(self.home, execution.id).unlink(missing_ok=True)
        return self.run(execution)

    def kill(self) -> None:
        """Stop the run (and its subflows): running tasks are told to stop, a script's
        whole process group is killed, no other task starts; they all end KILLED."""
        self._kill.pull()

    def _interrupted(self, done: threading.Event) -> None:
        self.kill()
        try:
            done.wait(KILL_WAIT_SECONDS)
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: stop waiting, record what is known
        with self._kill.lock:
            executors = list(self._kill.executors)
        for executor in executors:
            executor._mark_killed()
        self.store.flush()

    def _mark_killed(self) -> None:
        """Record every run still going KILLED (its task may never report back)."""
        execution = self.execution
        if execution is None:
            return
        with self.lock:
            for tr in execution.task_runs.in_memory():  # released runs all ended
                if not tr.state.current.terminal:
                    tr.state.set(State.KILLED)
                    self.store.save_taskrun(execution, tr)
            if not execution.state.current.terminal:
                execution.state.set(State.KILLED)
                self.store.save_execution(execution)

    def _run(self, execution: Execution) -> Execution:
        with self._kill.lock:  # so that run() can record it KILLED if it never returns
            self._kill.executors.append(self)
        try:
            return self._walk(execution)
        finally:
            with self._kill.lock:
                self._kill.executors.remove(self)
            if self.pause_lock is not None:
                self.pause_lock.release()
                if execution.state.current.terminal:
                    from kflow.engine.resume import forget

                    forget(self.home, execution.id)

    def _walk(self, execution: Execution) -> Execution:
        killed = self._kill.event
        self._build_base_context(execution)
        execution.state.set(State.RUNNING)
        self.store.save_execution(execution)
        self._emit(Event("execution", execution, depth=self.depth))
        main_state = guess_final_state(self._run_sequence(self.flow.tasks, None, None, None, []))
        if main_state in (State.FAILED, State.KILLED) and self.flow.errors:
            self._run_sequence(self.flow.errors, None, None, None, [])
        if self.flow.finally_:
            self._run_sequence(self.flow.finally_, None, None, None, [])
        final = main_state
        for t in self._background:
            t.join()
        if self._pause.is_set() and not killed.is_set():
            return self._suspend(execution)
        if self._cancel.is_set():
            final = State.CANCELLED
        if self._exit is not None:
            final = self._exit
        if self.flow.outputs and not killed.is_set():
            try:
                execution.outputs = self._flow_outputs()
            except KflowError as exc:
                execution.error = self.mask(f"Failed to render output values: {exc.message}")
                self.log(None, "ERROR", execution.error)
                final = State.FAILED
        if killed.is_set():
            final = State.KILLED
        with self.lock:
            if execution.state.current.terminal:  # already recorded KILLED by run()
                return execution
            execution.state.set(final)
            self.store.save_execution(execution)
        self._emit(Event("execution", execution, depth=self.depth))
        if self.flow.after_execution and not killed.is_set():
            self.base_context["execution"] = dict(
                self.base_context["execution"], state=final.value, outputs=execution.outputs
            )
            self._exit = None  # an Exit ends the execution, not what runs after it
            self._run_sequence(self.flow.after_execution, None, None, None, [])
        self.store.flush()
        return execution

    def _suspend(self, execution: Execution) -> Execution:
        """End the walk of a paused run: every unfinished run (the Pause, the flowables
        around it) saved as it is, the execution saved PAUSED."""
        with self.lock:
            for tr in execution.task_runs.in_memory():
                if not tr.state.current.terminal:
                    self._running_unsaved.pop(tr.id, None)
                    self.store.save_taskrun(execution, tr)
            if execution.state.current is not State.PAUSED:
                execution.state.set(State.PAUSED)
            self.store.save_execution(execution)
        self._emit(Event("execution", execution, depth=self.depth))
        self.store.flush()
        return execution

    def _flow_outputs(self) -> dict[str, Any]:
        from kflow import expr
        from kflow.flow.inputs import resolve_outputs

        rendered: dict[str, Any] = {}
        problems: list[str] = []
        for spec in self.flow.outputs:
            try:
                rendered[spec.id] = expr.render_value(spec.value, self.base_context)
            except KflowError as exc:
                problems.append(f"output `{spec.id}`: {exc.message}")
        if problems:
            raise InputError("; ".join(problems), problems=problems)
        return resolve_outputs(self.flow.outputs, rendered)

    def _run_sequence(
        self,
        specs: tuple[TaskSpec, ...],
        parent: TaskRun | None,
        value: str | None,
        iteration: int | None,
        ancestors: list[TaskRun],
    ) -> set[State]:
        """Run tasks one after another; a FAILED or KILLED run stops the sequence. Returns
        the final states of the runs (not the runs: a loop's finished runs may be released)."""
        states: set[State] = set()
        killed = self._kill.event
        for spec in specs:
            if spec.disabled:
                continue
            if killed.is_set() or self._stopping():  # no task starts once killed or paused
                break
            state = self._run_task(spec, parent, value, iteration, ancestors).state.current
            states.add(state)
            if state in _STOPS or not state.terminal:  # not terminal: paused inside
                break
        return states

    def update_labels(self, labels: Mapping[str, str]) -> None:
        """The Labels task: merge ``labels`` into the execution's (a key set again takes
        the new value), seen by later tasks as ``{{ labels.key }}`` and stored at once."""
        ex = self.execution
        assert ex is not None
        with self.lock:
            kept = [item for item in ex.labels if item["key"] not in labels]
            ex.labels = kept + [{"key": k, "value": v} for k, v in labels.items()]
            self.base_context["labels"] = labels_view(ex.labels)
            self.store.save_execution(ex)

    def execution_variables(self) -> dict[str, Any]:
        """A copy of the execution's variables (``{{ vars }}``): the flow's until a task
        changed them."""
        with self.lock:
            return copy.deepcopy(dict(self.base_context.get("vars") or {}))

    def update_variables(self, variables: Mapping[str, Any]) -> None:
        """SetVariables/UnsetVariables: replace the execution's variables, seen by later
        tasks as ``{{ vars.x }}`` and stored with the execution (a resume keeps them)."""
        ex = self.execution
        assert ex is not None
        with self.lock:
            ex.variables = copy.deepcopy(dict(variables))
            self.base_context["vars"] = ex.variables
            self.store.save_execution(ex)

    def request_exit(self, state: State) -> None:
        """The Exit task: no task starts any more; the flowables around it and the
        execution end in ``state`` (tasks still running in parallel branches finish)."""
        with self.lock:
            if self._exit is None:
                self._exit = state

    def kill_execution(self, own: TaskRunContext, propagate: bool) -> None:
        """The Kill task: this execution ends KILLED like with an Exit, and its task runs
        still going (in parallel branches) are told to stop and end KILLED; with
        ``propagate``, so do the subflow executions it started (and theirs)."""
        targets = {self}
        if propagate:
            with self._kill.lock:
                executors = list(self._kill.executors)
            grew = True
            while grew:
                found = {e for e in executors if e._parent_executor in targets}
                grew = not found <= targets
                targets |= found
        for executor in targets:
            executor.request_exit(State.KILLED)
        with self._kill.lock:
            for ctx in self._kill.contexts:
                if ctx is not own and ctx._executor in targets:
                    ctx.cancelled.set()

    def _stopping(self) -> bool:
        """A pause or a CANCEL behavior stops every task from starting."""
        return self._pause.is_set() or self._cancel.is_set() or self._exit is not None

    def _new_taskrun(
        self, spec: TaskSpec, parent: TaskRun | None, value: str | None, iteration: int | None
    ) -> TaskRun:
        ex = self.execution
        assert ex is not None
        with self.lock:
            self._seq += 1
            tr = TaskRun(
                id=new_id(),
                execution_id=ex.id,
                namespace=ex.namespace,
                flow_id=ex.flow_id,
                task_id=spec.id,
                task_type=spec.type,
                parent_taskrun_id=parent.id if parent is not None else None,
                value=value,
                iteration=iteration,
                seq=self._seq,
                retry_policy=spec.retry,
            )
            ex.task_runs.append(tr)
        return tr

    def _run_task(
        self,
        spec: TaskSpec,
        parent: TaskRun | None,
        value: str | None,
        iteration: int | None,
        ancestors: list[TaskRun],
    ) -> TaskRun:
        ex = self.execution
        assert ex is not None
        taken = self._take_existing(spec, parent, value, iteration)
        if taken is not None and taken.state.current.terminal:
            if self.on_event is not None:  # a resumed run shows what ran before the pause
                self._emit(Event("taskrun", ex, taken, depth=self.depth))
            return taken
        tr = taken or self._new_taskrun(spec, parent, value, iteration)
        tr.keys = tuple(value_keys(tr, ancestors))  # its record's expression
        ctx = TaskRunContext(self, spec, tr, ancestors)
        if taken is None and self.fixtures is not None:
            mocked = self._run_fixture(spec, tr, ctx, ancestors)
            if mocked is not None:
                return mocked
        self._kill.enter(ctx)
        try:
            if taken is not None:  # started before the pause: its runIf was evaluated
                pass
            elif spec.run_if is not MISSING:
                try:
                    cond = ctx.render(spec.run_if)
                except KflowError as exc:
                    return self._finish(tr, ancestors, State.FAILED, None, f"runIf: {exc.message}")
                if not truthy_string(cond if not isinstance(cond, bool) else str(cond).lower()):
                    return self._finish(tr, ancestors, State.SKIPPED, None, None)
            if taken is None:
                with self.lock:
                    tr.state.set(State.RUNNING)
                    self._defer_running_save(tr)
            if self.on_event is not None:  # no event to build for no one
                self._emit(Event("taskrun", ex, tr, depth=self.depth))
            if getattr(spec.task_class, "pauses", False):
                outcome = self._run_pause(spec, tr, ctx, ancestors)
                if outcome is None:  # paused until a resume: left unfinished
                    return tr
                state, outputs, error = outcome
            elif spec.task_class.flowable:
                state, outputs, error = self._run_flowable(spec, tr, ctx, ancestors)
                if self._pause.is_set() and not self._kill.event.is_set():
                    return tr  # paused inside: stays RUNNING until resumed
                if self._cancel.is_set() and state is not State.FAILED:
                    state = State.CANCELLED
                if self._exit is not None:  # an Exit inside: every parent ends as it says
                    state = self._exit
            else:
                state, outputs, error = self._run_runnable(spec, tr, ctx)
            if state is State.FAILED and (
                self._kill.event.is_set()
                or (self._exit is State.KILLED and ctx.cancelled.is_set())
            ):
                state = State.KILLED  # stopped by the kill, not a failure of its own
            state = apply_allowances(state, spec.allow_failure, spec.allow_warning)
            return self._finish(
                tr, ancestors, state, outputs, error, merged=spec.task_class.flowable
            )
        finally:
            self._kill.leave(ctx)
            ctx.cleanup()

    def _run_fixture(
        self, spec: TaskSpec, tr: TaskRun, ctx: TaskRunContext, ancestors: list[TaskRun]
    ) -> TaskRun | None:
        """A task run a test fixture stands for (Kestra's ``handleWorkerTask``): the task
        does not run (nor its runIf, retries, children); the run takes the fixture's state
        and its outputs, rendered. None: no fixture matches this run."""
        assert self.fixtures is not None
        fixture = next((f for f in self.fixtures.tasks if f.matches(spec.id, tr.value)), None)
        if fixture is None:
            return None
        with self.lock:
            tr.state.set(State.RUNNING)
        state, outputs, error = fixture.state, None, None
        if fixture.outputs is not None:
            try:
                outputs = ctx.render(fixture.outputs)
            except KflowError as exc:
                state, error = State.FAILED, f"fixture outputs: {exc.message}"
        self.log(tr, "INFO", f"task {spec.id} not run: a test fixture gives its state ({state})")
        ctx.cleanup()
        return self._finish(tr, ancestors, state, outputs, error)

    def _take_existing(
        self, spec: TaskSpec, parent: TaskRun | None, value: str | None, iteration: int | None
    ) -> TaskRun | None:
        """In a resumed walk, the stored run at this place of the flow (None: a new one)."""
        if not self._existing:
            return None
        key = (parent.id if parent is not None else None, spec.id, value, iteration)
        with self.lock:
            runs = self._existing.get(key)
            if not runs:
                return None
            run = runs.popleft()
            if not runs:
                del self._existing[key]
            return run

    # ----------------------------------------------------------------- pause
    def _run_pause(
        self, spec: TaskSpec, tr: TaskRun, ctx: TaskRunContext, ancestors: list[TaskRun]
    ) -> tuple[State, dict[str, Any] | None, str | None] | None:
        """A Pause task run (kflow.tasks.flow.pause). None: the run pauses here (the walk
        unwinds and the execution is saved PAUSED); else the Pause's final state."""
        ex = self.execution
        assert ex is not None
        task = spec.task_class(spec)
        resumed = tr.state.current is State.RUNNING and any(
            s is State.PAUSED for s, _ in tr.state.histories
        )
        if tr.state.current is State.PAUSED:  # taken up still paused: another was resumed
            self._pause.set()
            return None
        target = State.SUCCESS
        if not resumed:
            try:
                wait = task.wait(ctx, spec.timeout)  # type: ignore[attr-defined]
            except KflowError as exc:
                return State.FAILED, None, exc.message
            if wait.seconds is None and self.depth > 0:
                return (
                    State.FAILED,
                    None,
                    "a Pause without pauseDuration cannot pause a subflow run by kflow: "
                    "give it a pauseDuration, or pause the parent flow instead",
                )
            if wait.seconds is not None and self.depth == 0 and self.pause_lock is None:
                from kflow.engine.resume import PauseLock

                # before the run is saved PAUSED: `kflow resume` then hands it over to
                # this process (which waits) instead of running it a second time
                self.pause_lock = PauseLock(self.home, ex.id)
                self.pause_lock.acquire()
            self._mark_paused(ex, tr)
            if wait.seconds is None:
                self._pause.set()
                return None
            outcome = self._wait_paused(ex, tr, wait.seconds)
            if outcome == "killed":
                return State.KILLED, None, None
            if outcome == "elapsed":
                target = wait.state
                with self.lock:
                    tr.state.set(State.RUNNING)
                    self._defer_running_save(tr)
                level, what = _ELAPSED[(wait.source == "timeout", target)]
                self.log(tr, level, f"{wait.source} {wait.text} elapsed without a resume: {what}")
            self._unpause_execution(ex)
        outputs = dict(tr.outputs or {})
        if outputs:  # onResume values, seen by the tasks after the pause
            with self.lock:
                merge_run(self.outputs_view, tr.task_id, value_keys(tr, ancestors), outputs)
        if target is State.CANCELLED:
            self._cancel.set()
            return State.CANCELLED, outputs, None
        if target is State.FAILED:
            return State.FAILED, outputs, None
        if task.prop("tasks"):  # deprecated children, run after the resume
            state, _, error = self._run_flowable(spec, tr, ctx, ancestors)
            if self._pause.is_set() and not self._kill.event.is_set():
                return None
            if target is State.WARNING and state is State.SUCCESS:
                state = State.WARNING
            return state, outputs, error
        return target, outputs, None

    def _mark_paused(self, ex: Execution, tr: TaskRun) -> None:
        with self.lock:
            tr.state.set(State.PAUSED)
            self._running_unsaved.pop(tr.id, None)
            self.store.save_taskrun(ex, tr)
            if ex.state.current is not State.PAUSED:
                ex.state.set(State.PAUSED)
                self.store.save_execution(ex)
        if self.on_event is not None:
            self._emit(Event("taskrun", ex, tr, depth=self.depth))
            self._emit(Event("execution", ex, depth=self.depth))

    def _unpause_execution(self, ex: Execution) -> None:
        """The execution goes RUNNING again once no run of it is PAUSED."""
        with self.lock:
            if ex.state.current is State.PAUSED and not any(
                r.state.current is State.PAUSED for r in ex.task_runs.in_memory()
            ):
                ex.state.set(State.RUNNING)
                self.store.save_execution(ex)
        self._emit(Event("execution", ex, depth=self.depth))

    def _wait_paused(self, ex: Execution, tr: TaskRun, seconds: float) -> str:
        """Wait out a Pause's duration: ``elapsed``, ``killed``, or ``resumed`` when
        another process (``kflow resume``) or a Resume task resumed it first (its onResume
        values are then its outputs)."""
        from kflow.engine.resume import POLL_SECONDS, resumed_mark

        mark = resumed_mark(self.home, ex.id)
        deadline = time.monotonic() + seconds
        killed = self._kill.event
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "elapsed"
            if wait_for(killed, min(left, POLL_SECONDS)):
                return "killed"
            if not mark.exists():  # nothing resumed: the store is not read
                continue
            stored = next((r for r in self.store.get_taskruns(ex.id) if r.id == tr.id), None)
            if stored is not None and stored.state.current is State.RUNNING:
                mark.unlink(missing_ok=True)
                with self.lock:
                    tr.state.set(State.RUNNING)
                    tr.outputs = stored.outputs
                    self._defer_running_save(tr)
                return "resumed"

    def _finish(
        self,
        tr: TaskRun,
        ancestors: list[TaskRun],
        state: State,
        outputs: dict[str, Any] | None,
        error: str | None,
        merged: bool = False,
    ) -> TaskRun:
        ex = self.execution
        assert ex is not None
        if outputs:  # as Kestra's Jackson writes them, once (see kflow.jsonvalues)
            try:
                outputs = to_json_outputs(outputs)
            except TaskError as exc:
                state, outputs, error = State.FAILED, None, error or exc.message
        if state is not State.SKIPPED and outputs is None and error is None:
            outputs = {}
        if outputs is not None:
            tr.outputs = outputs
        if error is not None:
            tr.error = error = self.mask(error)
            self.log(tr, "ERROR", error)
        with self.lock:
            self._running_unsaved.pop(tr.id, None)  # its final save is the one that counts
            if tr.state.current.terminal:  # recorded KILLED by run() while it still ran
                return tr
            if tr.outputs is not None and not merged:
                merge_run(self.outputs_view, tr.task_id, value_keys(tr, ancestors), tr.outputs)
            tr.state.set(state)
            set_state(self.tasks_view, tr)
        self.store.save_taskrun(ex, tr)
        if self.on_event is not None:
            self._emit(Event("taskrun", ex, tr, depth=self.depth))
        if tr.value is not None or any(a.value is not None for a in ancestors):
            self._finished_in_loop(ex, tr)
        return tr

    def _defer_running_save(self, tr: TaskRun) -> None:
        """Save ``tr`` RUNNING once it has run RUNNING_SAVE_DELAY, unless it ended first.

        Two saves per task run (RUNNING, then its end) were half of a quick task's cost;
        a run that ends within the delay is saved once, at its end, which is what a crash
        must not lose. A longer one is saved RUNNING by the saver thread, so that other
        processes see it running and a ``kill -9`` leaves it to be marked KILLED. Called
        with ``self.lock`` held; the saver snapshots and queues under the same lock, and
        ``_finish`` takes the run out of ``_running_unsaved`` under it before its final
        save, so a RUNNING snapshot is never queued after the final one."""
        self._running_unsaved[tr.id] = (tr, time.monotonic())
        if self._saver is None:
            self._saver = threading.Thread(
                target=self._save_running_loop, name="kflow-running-saver", daemon=True
            )
            self._saver.start()

    def _save_running_loop(self) -> None:
        while True:
            time.sleep(RUNNING_SAVE_DELAY / 2)
            ex = self.execution
            with self.lock:
                if ex is None or ex.state.current.terminal or not self._running_unsaved:
                    self._saver = None  # started again by the next deferred save
                    return
                due = time.monotonic() - RUNNING_SAVE_DELAY
                for trid, (tr, since) in list(self._running_unsaved.items()):
                    if since <= due:
                        del self._running_unsaved[trid]
                        if not tr.state.current.terminal:
                            try:
                                self.store.save_taskrun(ex, tr)
                            except Exception:  # noqa: BLE001, S110 - the final save tells
                                pass  # (a store error surfaces there, on the run's thread)

    def _finished_in_loop(self, ex: Execution, tr: TaskRun) -> None:
        """Release finished loop runs from memory once the execution holds too many (see
        RETAIN_TASKRUNS); the store has them (saved just before)."""
        with self.lock:
            self._loop_runs.append(tr)
            if ex.task_runs.held > self.retain_taskruns:
                ex.task_runs.release(self._loop_runs)
                self._loop_runs = []

    # ----------------------------------------------------------------- runnable
    def _run_runnable(
        self, spec: TaskSpec, tr: TaskRun, ctx: TaskRunContext
    ) -> tuple[State, dict[str, Any] | None, str | None]:
        task = spec.task_class(spec)
        cache = self._task_cache(spec, tr, ctx)
        if cache is not None and not isinstance(cache, _CacheSlot):
            return cache  # a hit, or properties that cannot be rendered
        # a task's own retry, else the nearest enclosing flowable's (Kestra restarts the
        # failed children of a flowable that has a retry), else the flow's
        inherited = next((a.retry_policy for a in reversed(ctx.ancestors) if a.retry_policy), None)
        retry = spec.retry or inherited or self.flow.retry or {}
        max_attempts = _max_attempts(retry)
        max_duration = parse_duration(str(retry.get("maxDuration"))) if retry.get("maxDuration") else None
        started = time.monotonic()
        timeout: float | None = None
        if spec.timeout is not None:
            try:
                rendered = ctx.render(spec.timeout)
            except KflowError as exc:
                return State.FAILED, None, f"timeout: {exc.message}"
            timeout = parse_duration(str(rendered))
            if timeout is None:
                problem = duration_problem(str(rendered))
                return State.FAILED, None, f"timeout {rendered!r} {problem}: write it like PT30S"
        attempt = 0
        while True:
            attempt += 1
            att = StateHistory(State.RUNNING)
            tr.attempts.append(att)
            ctx._vars = None  # attemptsCount changes
            began = time.monotonic()
            state, outputs, error = self._attempt(task, ctx, timeout)
            att.set(state)
            tr.summary = self._summary(task, tr, outputs, (time.monotonic() - began) * 1000)
            if state is not State.FAILED or not retry:
                break
            if attempt >= max_attempts:
                break
            delay = _retry_delay(retry, attempt)
            if max_duration is not None and time.monotonic() - started + delay > max_duration:
                break
            self.log(tr, "WARN", f"attempt {attempt} failed ({error}); retrying in {delay:g}s")
            tr.state.set(State.RETRYING)
            self.store.save_taskrun(self.execution, tr)  # type: ignore[arg-type]
            if wait_for(ctx.cancelled, delay):
                break
            ctx.cancelled.clear()  # set by a timeout of the attempt that failed
            if self._kill.event.is_set():  # killed just before the clear
                break
            tr.state.set(State.RUNNING)
        if state is State.SUCCESS and attempt > 1 and retry.get("warningOnRetry"):
            state = State.WARNING
        if cache is not None and state in (State.SUCCESS, State.WARNING):
            from kflow.engine import taskcache

            taskcache.store(self.home, cache.key, cache.settings, state,
                            to_json_outputs(outputs or {}))  # fmt: skip
        return state, outputs, error

    def _task_cache(
        self, spec: TaskSpec, tr: TaskRun, ctx: TaskRunContext
    ) -> _CacheSlot | tuple[State, dict[str, Any] | None, str | None] | None:
        """``taskCache`` (:mod:`kflow.engine.taskcache`): None when off; the (state,
        outputs, error) to end the run with on a hit (or when the properties cannot be
        rendered); else where to keep the run's outputs."""
        raw = spec.raw.get("taskCache") if spec.raw else None
        if raw is None:
            return None
        from kflow.engine import taskcache

        settings = taskcache.cache_settings(raw)
        if settings is None:
            return None
        try:
            rendered = ctx.render(dict(spec.props))
        except KflowError as exc:
            return State.FAILED, None, exc.message
        key = taskcache.cache_key(tr.namespace, tr.flow_id, spec.id, spec.type, tr.value, rendered)
        hit = taskcache.lookup(self.home, key)
        if hit is not None:
            self.log(tr, "INFO", "Outputs taken from the task cache (taskCache): the task did not run")
            return hit[0], hit[1], None
        return _CacheSlot(key, settings)

    def _summary(
        self, task: Any, tr: TaskRun, outputs: dict[str, Any] | None, duration_ms: float
    ) -> dict[str, Any] | None:
        """The task type's record summary (Task.summary). A plugin's summary that fails or
        is not a map of JSON values is logged and left out: it never fails the run."""
        try:
            found = task.summary(outputs or {}, duration_ms)
            if not found:
                return None
            if not isinstance(found, dict):
                raise TypeError(f"it returned {type(found).__name__}, not a dict")
            return to_json_outputs(found)
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported, not fatal
            message = exc.message if isinstance(exc, KflowError) else str(exc)
            self.log(tr, "WARN", f"the summary of task type {tr.task_type} failed: {message}")
            return None

    def _attempt(
        self, task: Any, ctx: TaskRunContext, timeout: float | None
    ) -> tuple[State, dict[str, Any] | None, str | None]:
        result: list[Any] = []

        def call() -> None:
            try:
                result.append(("ok", task.run(ctx)))
            except BaseException as exc:  # noqa: BLE001 - reported as the task's failure
                result.append(("err", exc))

        if timeout is None:
            call()
        else:
            worker = threading.Thread(target=call, name=f"task-{ctx.task_id}", daemon=True)
            worker.start()
            worker.join(min(timeout, threading.TIMEOUT_MAX))  # longer: never times out
            if worker.is_alive():
                ctx.cancelled.set()
                worker.join(TIMEOUT_GRACE_SECONDS)
                partial = None
                if result and result[0][0] == "err" and isinstance(result[0][1], TaskError):
                    partial = result[0][1].outputs
                return (
                    State.FAILED,
                    partial,
                    f"Timeout after {spec_duration(timeout)}: the task ran longer than its "
                    "'timeout' and was stopped",
                )
        kind, payload = result[0]
        if kind == "ok":
            if isinstance(payload, TaskResult):
                return payload.state or State.SUCCESS, dict(payload.outputs), None
            return State.SUCCESS, dict(payload or {}), None
        exc = payload
        if isinstance(exc, TaskTimeoutError):
            return State.FAILED, exc.outputs, exc.message
        if isinstance(exc, TaskError):
            return State.FAILED, exc.outputs, exc.message
        if isinstance(exc, KflowError):
            return State.FAILED, None, str(exc) if exc.path else exc.message
        if isinstance(exc, KeyboardInterrupt):
            raise exc
        self.log(ctx.taskrun, "DEBUG", "".join(traceback.format_exception(exc)))
        return State.FAILED, None, f"{type(exc).__name__}: {exc}"

    # ----------------------------------------------------------------- flowable
    def _run_flowable(
        self, spec: TaskSpec, tr: TaskRun, ctx: TaskRunContext, ancestors: list[TaskRun]
    ) -> tuple[State, dict[str, Any] | None, str | None]:
        task = spec.task_class(spec)
        assert isinstance(task, FlowableTask)
        try:
            plan = task.plan(ctx)
        except KflowError as exc:
            return State.FAILED, None, exc.message
        except Exception as exc:  # noqa: BLE001 - a plugin bug fails its task, not kflow
            return State.FAILED, None, f"{type(exc).__name__}: {exc}"
        try:  # JSON values from the start: a kill may store them before the run ends
            tr.outputs = to_json_outputs(plan.outputs)
        except TaskError as exc:
            return State.FAILED, None, exc.message
        if tr.outputs is plan.outputs:
            tr.outputs = dict(plan.outputs)
        tr.planned = sum(len(g.tasks) for g in plan.groups)
        if tr.outputs is not None:
            # Kestra saves a flowable's outputs when its run is created, so its children
            # already see them (`{{ outputs.check.evaluationResult }}` inside an If)
            with self.lock:
                merge_run(self.outputs_view, tr.task_id, value_keys(tr, ancestors), tr.outputs)
        child_ancestors = [*ancestors, tr]
        error: str | None = None
        if plan.failed:
            state = State.FAILED
            error = plan.failed
        else:
            try:
                state = guess_final_state(self._run_plan(plan, tr, ancestors))
            except KflowError as exc:  # a driving flowable's own failure (outputFiles...)
                state, error = State.FAILED, exc.message
        if state in (State.FAILED, State.KILLED) and spec.errors:
            self._run_sequence(spec.errors, tr, None, None, child_ancestors)
        if spec.finally_:
            self._run_sequence(spec.finally_, tr, None, None, child_ancestors)
        if state is State.FAILED and type(task).failure_is_warning:
            state = State.WARNING
        return state, tr.outputs, error

    def _run_plan(self, plan: FlowablePlan, tr: TaskRun, ancestors: list[TaskRun]) -> set[State]:
        """Run a flowable's children: its groups, or its own ``drive``, with the directory
        they share (if any) known to their ``ctx.working_dir()``."""
        child_ancestors = [*ancestors, tr]
        if plan.workdir is not None:
            with self.lock:
                self._shared_dirs[tr.id] = plan.workdir
        try:
            if plan.drive is None:
                return self._run_groups(plan.groups, plan.concurrency, tr, child_ancestors)
            return plan.drive(_Children(self, tr, ancestors))
        finally:
            if plan.workdir is not None:
                with self.lock:
                    self._shared_dirs.pop(tr.id, None)

    def shared_dir(self, taskrun_id: str | None) -> Path | None:
        """The directory the children of flowable run ``taskrun_id`` share, if any."""
        if taskrun_id is None:
            return None
        with self.lock:
            return self._shared_dirs.get(taskrun_id)

    def _run_groups(
        self,
        groups: Sequence[ChildGroup],
        concurrency: int,
        parent: TaskRun,
        ancestors: list[TaskRun],
    ) -> set[State]:
        """Run a flowable's child groups; returns the final states of the runs."""

        def run_group(index: int, group: ChildGroup) -> set[State]:
            iteration = index if group.value is not None else None
            return self._run_sequence(group.tasks, parent, group.value, iteration, ancestors)

        states: set[State] = set()
        if concurrency == 1 or len(groups) <= 1:
            for i, group in enumerate(groups):
                group_states = run_group(i, group)
                states |= group_states
                if not group_states.isdisjoint(_STOPS):
                    break
                if self._kill.event.is_set() or self._stopping():
                    break
            return states
        workers = len(groups) if concurrency <= 0 else min(concurrency, len(groups))
        workers = max(1, min(workers, MAX_POOL_THREADS))
        failed = threading.Event()
        killed = self._kill.event
        errors: list[tuple[int, BaseException]] = []
        pending = iter(enumerate(groups))
        take = threading.Lock()

        def work() -> None:
            while True:
                with take:
                    item = next(pending, None)
                if item is None or killed.is_set() or self._stopping():
                    return
                i, group = item
                # with a limit, no new group starts after a failure; without one (0), every
                # group was created at once, as Kestra creates them all
                if failed.is_set() and concurrency > 0:
                    continue
                try:
                    group_states = run_group(i, group)
                except BaseException as exc:  # noqa: BLE001 - raised by the caller below
                    errors.append((i, exc))
                    continue
                with take:
                    states.update(group_states)
                if not group_states.isdisjoint(_STOPS):
                    failed.set()

        # Daemon threads rather than a ThreadPoolExecutor, whose workers the interpreter
        # joins at exit: a task that ignores a kill must not keep kflow from exiting.
        threads = [
            threading.Thread(target=work, name=f"kflow-group-{n}", daemon=True)
            for n in range(workers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise min(errors, key=lambda e: e[0])[1]
        return states

    # ----------------------------------------------------------------- subflows
    def run_subflow(
        self,
        ctx: TaskRunContext,
        namespace: str,
        flow_id: str,
        inputs: Mapping[str, Any],
        labels: Mapping[str, str],
        wait: bool,
        outputs: Mapping[str, Any] | None = None,
    ) -> Execution:
        if self.flows is None:
            raise TaskError("subflows need a flow directory (--flows DIR)")
        if self.depth + 1 > MAX_SUBFLOW_DEPTH:
            raise TaskError(
                f"subflow depth limit reached ({MAX_SUBFLOW_DEPTH} nested executions): "
                f"{namespace}.{flow_id} keeps calling subflows",
                outputs=None,
            )
        child_flow = self.flows.find(namespace, flow_id)
        parent = self.execution
        assert parent is not None
        child = Executor(
            child_flow,
            store=self.store,
            storage=self.storage,
            home=self.home,
            on_event=self.on_event,
            flows=self.flows,
            depth=self.depth + 1,
            secrets=self.secrets,
        )
        child._parent_prefix = execution_prefix(parent.namespace, parent.flow_id, parent.id)
        child._kill = self._kill  # killing the parent kills its subflows
        child._parent_executor = self
        trigger = {
            "id": ctx.task_id,
            "type": "io.kestra.plugin.core.flow.Subflow",
            "variables": {
                "executionId": parent.id,
                "namespace": parent.namespace,
                "flowId": parent.flow_id,
                "flowRevision": self.flow.revision,
            },
        }
        try:
            child_exec = child.prepare(inputs, labels=labels, parent=parent, trigger=trigger)
        except InputError as exc:
            raise TaskError(
                f"subflow {namespace}.{flow_id} refused its inputs: " + "; ".join(exc.problems)
            ) from exc
        if wait:
            child.run(child_exec)
            if outputs and not child_flow.outputs:
                # Subflow's legacy `outputs`, rendered in the child's context (Subflow.java)
                from kflow import expr

                try:
                    child_exec.subflow_outputs = expr.render_value(dict(outputs), child.base_context)
                except KflowError as exc:
                    child_exec.subflow_outputs_error = exc.message
        else:
            thread = threading.Thread(target=child.run, args=(child_exec,), daemon=True)
            thread.start()
            self._background.append(thread)
        return child_exec

    # ----------------------------------------------------------------- logs, events
    def add_secret(self, value: str) -> None:
        if value:
            with self.lock:
                self.secrets.add(value)

    def mask(self, text: str) -> str:
        """``text`` with every SECRET input and ``secret()`` value shown as ``******``."""
        with self.lock:  # tasks on other threads may add secrets meanwhile
            secrets = sorted(self.secrets, key=len, reverse=True)  # "abcdef" before "abc"
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def log(self, tr: TaskRun | None, level: str, message: str) -> None:
        ex = self.execution
        if ex is None:
            return
        message = self.mask(str(message))
        level = level.upper()
        record = LogRecord(
            execution_id=ex.id,
            taskrun_id=tr.id if tr else None,
            task_id=tr.task_id if tr else None,
            timestamp=iso_instant(datetime.now(UTC)),
            level=level,
            message=message,
        )
        self.store.append_log(record)
        if level == "ERROR":
            with self.lock:
                self._error_logs.append(
                    {"taskId": record.task_id, "message": message, "timestamp": record.timestamp}
                )
        if self.on_event is not None:
            self._emit(Event("log", ex, tr, level=level, message=message, depth=self.depth))

    def _emit(self, event: Event) -> None:
        observer = self.on_event
        if observer is None:
            return
        try:
            observer(event)
        except Exception as exc:  # noqa: BLE001 - a display never changes a result
            # e.g. a closed stdout: the run goes on to its real end, unobserved
            with self.lock:
                first = self.on_event is not None
                self.on_event = None
            if first and not isinstance(exc, BrokenPipeError):
                self.log(None, "WARN", f"progress display stopped: {type(exc).__name__}: {exc}")


class _Children:
    """:class:`kflow.tasks.base.Children` for one flowable run (see FlowablePlan.drive)."""

    def __init__(self, executor: Executor, tr: TaskRun, ancestors: list[TaskRun]) -> None:
        self._executor = executor
        self._tr = tr
        self._ancestors = ancestors  # the flowable's own
        self._child_ancestors = [*ancestors, tr]

    def run(self, tasks: Sequence[TaskSpec], iteration: int | None = None) -> set[State]:
        return self._executor._run_sequence(
            tuple(tasks), self._tr, None, iteration, self._child_ancestors
        )

    def set_outputs(self, outputs: Mapping[str, Any]) -> None:
        ex = self._executor
        tr = self._tr
        values = to_json_outputs(dict(outputs))
        with ex.lock:
            tr.outputs = values
            merge_run(ex.outputs_view, tr.task_id, value_keys(tr, self._ancestors), values)

    def stopped(self) -> bool:
        ex = self._executor
        return ex._kill.event.is_set() or ex._stopping()


# the log line of a Pause whose duration elapsed: (timeout?, final state) → level, text
_ELAPSED = {
    (False, State.SUCCESS): ("INFO", "the execution goes on"),
    (False, State.WARNING): ("WARN", "the pause ends WARNING (behavior WARN)"),
    (False, State.FAILED): ("ERROR", "the pause fails (behavior FAIL)"),
    (False, State.CANCELLED): ("WARN", "the execution is cancelled (behavior CANCEL)"),
    (True, State.FAILED): ("ERROR", "the pause fails (its timeout)"),
}


class _CacheSlot(NamedTuple):
    """Where a run with ``taskCache`` keeps its outputs."""

    key: str
    settings: Any


def fixture_file_uri(namespace: str, flow_id: str, execution_id: str, name: str) -> str:
    """Where a test fixture's inline file is stored for an execution (``files['name']``)."""
    return to_uri(f"{execution_prefix(namespace, flow_id, execution_id)}/files/{name}")


def _correlation(parent: Execution | None) -> str:
    if parent is None:
        return ""
    for label in parent.labels:
        if label["key"] == "system.correlationId":
            return label["value"]
    return parent.id


def spec_duration(seconds: float) -> str:
    from kflow.engine.execution import iso_duration

    return iso_duration(seconds)


def _max_attempts(retry: Mapping[str, Any]) -> int:
    if not retry:
        return 1
    value = retry.get("maxAttempt", retry.get("maxAttempts"))
    if value is None:
        return 1 if retry.get("maxDuration") is None else 1_000_000
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _retry_delay(retry: Mapping[str, Any], attempt: int) -> float:
    """Delay before attempt ``attempt + 1`` (Failsafe policies behind Kestra's retry types)."""
    kind = str(retry.get("type", "constant")).lower()
    if kind == "exponential":
        interval = parse_duration(str(retry.get("interval"))) or 1.0
        max_interval = parse_duration(str(retry.get("maxInterval"))) or interval
        factor = float(retry.get("delayFactor") or 2.0)
        return float(min(interval * factor ** (attempt - 1), max_interval))
    if kind == "random":
        lo = parse_duration(str(retry.get("minInterval"))) or 0.0
        hi = parse_duration(str(retry.get("maxInterval"))) or lo
        return random.uniform(lo, hi)  # noqa: S311 - jitter, not security
    return parse_duration(str(retry.get("interval"))) or 0.0
