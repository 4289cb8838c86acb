"""The task plugin interface: what a plugin author reads.

A task type is one :class:`Task` subclass declaring its ``properties`` (:class:`Prop`) and
``outputs`` (:class:`Output`), registered under its Kestra type name in the ``kflow.tasks``
entry-point group (the lookup itself lives in :mod:`kflow.tasks.registry`).

Writing a task::

    class Hello(Task):
        type = "com.example.Hello"
        properties = {"name": Prop(required=True, kind="string")}
        outputs = {"greeting": Output("STRING", "Hello and the name")}

        def run(self, ctx: RunContext) -> dict[str, Any]:
            return {"greeting": "Hello " + ctx.render(self.spec.props["name"])}
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Protocol

from kflow.states import State

if TYPE_CHECKING:
    from kflow.flow.model import TaskSpec

# Properties every Kestra task accepts (Task.java); handled by the executor.
COMMON_PROPERTIES = frozenset(
    {
        "id",
        "type",
        "description",
        "retry",
        "timeout",
        "disabled",
        "runIf",
        "allowFailure",
        "allowWarning",
        "logLevel",
        "logToFile",
        "workerGroup",
        "version",
        "taskCache",
    }
)
# Extra properties every flowable task accepts (handled by the executor).
FLOWABLE_PROPERTIES = frozenset({"errors", "finally"})

# Common properties that Kestra honours and kflow accepts without acting on them: a flow
# using them still runs, with a warning (``kflow.notices``) saying why it makes no difference.
IGNORED_TASK_PROPERTIES: Mapping[str, str] = {
    "workerGroup": "worker groups (Kestra Enterprise) have no local meaning: "
    "every task runs on this machine",
    "logToFile": "kflow keeps every log line in its execution store "
    "(read them with 'kflow logs'); no log file is written",
    "version": "kflow ships one implementation of each task type; the plugin version "
    "is not selectable",
}


@dataclass(frozen=True)
class SubKey:
    """A key of a map property (HTTP ``options``, ``options.auth``...), honoured by the task
    unless it says otherwise.

    ``refused`` says why kflow refuses the key at load (it would change the result and kflow
    does not honour it); with ``allowed``, only literal values outside ``allowed`` are
    refused (expressions are checked when they render). ``ignored`` says why the key has no
    local effect (a warning). ``keys`` declares a nested mapping.
    """

    refused: str = ""
    ignored: str = ""
    allowed: tuple[str, ...] | None = None
    keys: Mapping[str, SubKey] | None = None


@dataclass(frozen=True)
class Prop:
    """A declared task property.

    ``kind`` drives load-time checks: ``any``, ``string``, ``bool``, ``int``, ``number``,
    ``list``, ``map``, ``duration``, ``tasks`` (a list of tasks), ``cases`` (a map of task
    lists), ``dag`` (a list of ``{task, dependsOn}``: the tasks become a tuple). Strings may always be expressions, so only literals of the wrong kind are refused.

    ``refused``/``allowed``/``ignored`` work as in :class:`SubKey`, for the whole property;
    ``keys`` declares the keys a ``map`` property accepts (others are refused by name).
    """

    required: bool = False
    default: Any = None
    kind: str = "any"
    doc: str = ""
    refused: str = ""
    ignored: str = ""
    allowed: tuple[str, ...] | None = None
    keys: Mapping[str, SubKey] | None = None


@dataclass(frozen=True)
class Output:
    """A declared task output: its Kestra type and what it holds.

    ``type`` is the name Kestra's plugin docs use (``STRING``, ``INTEGER``, ``BOOLEAN``,
    ``URI``, ``MAP``, ``ARRAY``, ``OBJECT``...). ``dynamic`` marks a map whose keys the flow
    decides (OutputValues ``values``, a script's ``vars``): names below it are not checked.
    An output that a run may leave out (Kestra drops null outputs) is still declared.
    """

    type: str
    doc: str = ""
    dynamic: bool = False


@dataclass
class TaskResult:
    """What a runnable task returns: its outputs and, rarely, a forced final state
    (a script that wrote to stderr ends WARNING)."""

    outputs: dict[str, Any] = field(default_factory=dict)
    state: State | None = None


@dataclass(frozen=True)
class ChildGroup:
    """Tasks a flowable runs one after another; ``value`` is the iteration value given to
    each direct child run (ForEach), or None."""

    tasks: tuple[TaskSpec, ...]
    value: str | None = None


@dataclass
class FlowablePlan:
    """What a flowable task asks the executor to do.

    Groups run one after another when ``concurrency`` is 1, all at once when 0, else at
    most ``concurrency`` at a time. ``outputs`` are the flowable's own outputs (If's
    ``evaluationResult``); ``failed`` makes the flowable FAILED with that message
    (Switch with no matching case and no defaults).
    """

    groups: Sequence[ChildGroup]
    concurrency: int = 1
    outputs: dict[str, Any] = field(default_factory=dict)
    failed: str | None = None
    # A flowable that schedules its children itself (LoopUntil's rounds, Dag's edges,
    # WorkingDirectory's files after the last child): called instead of running ``groups``
    # (then only counted for progress); returns the final states of the child runs it made.
    # A TaskError it raises fails the flowable with its message.
    drive: Callable[[Children], set[State]] | None = None
    # What ``ctx.working_dir()`` gives every direct child (WorkingDirectory's shared one).
    workdir: Path | None = None


class Children(Protocol):
    """The executor's side of :attr:`FlowablePlan.drive`: runs a flowable's children.

    ``run`` may be called from several threads at once (a Dag's branches)."""

    def run(self, tasks: Sequence[TaskSpec], iteration: int | None = None) -> set[State]:
        """Run ``tasks`` one after another as children of the flowable (a FAILED or KILLED
        run stops the sequence); ``iteration`` becomes their ``taskrun.iteration``.
        Returns the final states of the runs."""
        ...

    def set_outputs(self, outputs: Mapping[str, Any]) -> None:
        """Replace the flowable's own outputs; children started afterwards see them."""
        ...

    def stopped(self) -> bool:
        """True once no child may start any more (the run was killed, paused, cancelled
        or exited): the flowable then returns what it has."""
        ...


class RunContext(ABC):
    """What a task may use while it runs; the executor provides the implementation."""

    taskrun_id: str
    task_id: str
    execution_id: str
    namespace: str
    flow_id: str
    value: str | None

    @abstractmethod
    def render(self, value: Any, **extra: Any) -> Any:
        """Render a property: strings → rendered strings, maps and lists item by item,
        other values unchanged. ``extra`` adds variables (``workingDir``...)."""

    @abstractmethod
    def render_typed(self, value: Any, **extra: Any) -> Any:
        """Render with Kestra's typed rule: a lone ``{{ expr }}`` gives the native value."""

    @property
    @abstractmethod
    def variables(self) -> Mapping[str, Any]:
        """The expression context of this task run."""

    @abstractmethod
    def log(self, level: str, message: str) -> None:
        """Record a log line of this task run (secrets are masked)."""

    @abstractmethod
    def metric(self, name: str, kind: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        """Record a metric (``counter`` or ``timer``) of this task run."""

    @abstractmethod
    def put_file(self, path: Path, name: str | None = None) -> str:
        """Store a local file under this task run's storage prefix; returns its kestra:/// URI."""

    @abstractmethod
    def open_file(self, uri: str) -> BinaryIO:
        """Open a stored file for reading (refuses URIs outside the storage root)."""

    @abstractmethod
    def working_dir(self) -> Path:
        """A fresh working directory for this task run, removed when the run ends."""

    @property
    @abstractmethod
    def home(self) -> Path:
        """The kflow home (for caches such as Python virtual environments)."""

    @property
    @abstractmethod
    def cancelled(self) -> threading.Event:
        """Set when the task must stop (timeout or kill); long-running tasks poll it."""

    @abstractmethod
    def add_secret(self, value: str) -> None:
        """Mask ``value`` in every later log line."""

    @abstractmethod
    def run_subflow(
        self,
        namespace: str,
        flow_id: str,
        inputs: Mapping[str, Any],
        labels: Mapping[str, str],
        wait: bool,
        outputs: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run another flow as a child execution; returns its ``Execution``. ``outputs``
        (Subflow's legacy property) is rendered in the child's context when the child
        declares no flow outputs: the result is ``execution.subflow_outputs``."""


    # Hooks of tasks that change the execution itself (Kestra's ExecutionUpdatableTask);
    # not abstract, so that a RunContext written before them still works.
    def update_labels(self, labels: Mapping[str, str]) -> None:
        """Merge ``labels`` into the current execution's labels (a key set again takes the
        new value); later tasks see them as ``{{ labels.key }}``."""
        raise NotImplementedError("this runner cannot change the execution's labels")

    def find_flow(self, namespace: str, flow_id: str) -> Any:
        """The flow (or deprecated template) ``namespace.flow_id`` found where subflows are
        looked up (``kflow run --flows``); raises NotFoundError when there is none."""
        raise NotImplementedError("this runner cannot look flows up")

    def exit_execution(self, state: State) -> None:
        """End the execution in ``state`` once this task ends: no task starts any more and
        the flowables around this task end in ``state`` too."""
        raise NotImplementedError("this runner cannot end the execution early")

    def kill_execution(self, propagate: bool) -> None:
        """End the execution KILLED once this task ends (as :meth:`exit_execution`) and
        stop its other running tasks; ``propagate`` also kills the subflow executions it
        started."""
        raise NotImplementedError("this runner cannot kill the execution")

    def execution_variables(self) -> dict[str, Any]:
        """A copy of the execution's variables (``{{ vars }}``), for a task to change and
        give back to :meth:`update_variables`."""
        raise NotImplementedError("this runner cannot read the execution's variables")

    def update_variables(self, variables: Mapping[str, Any]) -> None:
        """Replace the execution's variables; later tasks see them as ``{{ vars.x }}``."""
        raise NotImplementedError("this runner cannot change the execution's variables")

    def namespace_files(self, namespace: str | None = None) -> Any:
        """The :class:`kflow.storage.namespace.NamespaceFiles` of ``namespace`` (default:
        the flow's), where this run keeps them (a bound folder or the kflow home). This
        default reads the home's storage, for a RunContext written before folders."""
        from kflow.home import storage_root
        from kflow.storage.local import LocalStorage
        from kflow.storage.namespace import NamespaceFiles

        return NamespaceFiles(LocalStorage(storage_root(self.home)), namespace or self.namespace)


class Task:
    """A runnable task type. Subclasses set ``type``, ``properties`` and implement ``run``."""

    type: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    properties: ClassVar[Mapping[str, Prop]] = {}
    # The outputs a run may produce; None = not declared (a plugin written before outputs
    # were declared), treated like ``dynamic_outputs``.
    outputs: ClassVar[Mapping[str, Output] | None] = None
    # True when the flow decides the output names (no load-time check of ``outputs.t.x``).
    dynamic_outputs: ClassVar[bool] = False
    flowable: ClassVar[bool] = False
    # Optional packages the type needs, as (import name, kflow extra) pairs, e.g.
    # ``(("fastavro", "avro"),)``. ``run`` refuses a flow using the type before any task runs
    # when one is missing (naming the ``pip install`` line); ``validate`` only warns, so a CI
    # check of a valid flow never depends on optional packages.
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Set on a deprecated type: what to use instead. ``validate`` warns (code
    # "deprecated-type") naming the type; the flow still runs.
    deprecated: ClassVar[str] = ""

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec

    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        """The small map a listing of task-output records shows for a finished run
        (``summary`` in ``kflow outputs`` and ``kflow serve``): a few numbers a person
        scans for, not the outputs again. ``duration_ms`` is the last attempt's run time.
        Plugins override it; values must be JSON (numbers, strings, booleans)."""
        return {}

    def prop(self, name: str) -> Any:
        """The property as written, or its declared default."""
        if name in self.spec.props:
            return self.spec.props[name]
        declared = self.properties.get(name)
        return declared.default if declared else None

    # ----------------------------------------------------------------- typed properties
    # Properties may be written as literals or as expressions; these helpers give every
    # task the same reading of both (they began as the script tasks' helpers).
    def rendered(self, ctx: RunContext, name: str, **extra: Any) -> Any:
        """A property rendered as written (None when absent and without default)."""
        value = self.prop(name)
        return None if value is None else ctx.render(value, **extra)

    def flag(self, ctx: RunContext, name: str) -> bool:
        """A boolean property; expressions and "true"/"false" strings allowed."""
        value = self.prop(name)
        if isinstance(value, str):
            value = ctx.render_typed(value)
            if isinstance(value, str):
                return value.strip().lower() == "true"
        return bool(value)

    def string_list(
        self, ctx: RunContext, name: str, extra: Mapping[str, Any] | None = None
    ) -> list[str]:
        """A list-of-strings property, each item rendered (a lone expression may give a list,
        or a JSON array as text); non-string items become compact JSON."""
        extra = extra or {}
        value = self.prop(name)
        if value is None:
            return []
        if isinstance(value, str):
            value = ctx.render_typed(value, **extra)
            if isinstance(value, str):
                text = value.strip()
                if text.startswith("["):
                    try:
                        value = json.loads(text)
                    except ValueError:
                        value = [value]
                else:
                    value = [value]
        else:
            value = ctx.render(list(value), **extra)
        if not isinstance(value, list):
            value = [value]
        return [
            item if isinstance(item, str) else as_text(item) for item in value if item is not None
        ]

    def run(self, ctx: RunContext) -> TaskResult | Mapping[str, Any]:
        """Do the work; return outputs (or a TaskResult). Raise TaskError to fail."""
        raise NotImplementedError(f"{type(self).__name__} does not implement run()")

    @classmethod
    def check(cls, spec: TaskSpec) -> list[str]:
        """Extra load-time checks for this type (messages; empty when fine)."""
        return []

    @classmethod
    def required_programs(cls, spec: TaskSpec) -> tuple[str, ...]:
        """Programs the task runs that must be on ``PATH`` (Node's ``node``): like a missing
        optional package, ``validate`` warns and ``run`` refuses the flow when one is missing."""
        return ()


class FlowableTask(Task):
    """A task that runs other tasks: it returns a plan, the executor runs it."""

    flowable: ClassVar[bool] = True
    # Each direct child run gets an iteration value (ForEach): the outputs of the tasks
    # below are reached as ``outputs.t[value]...``, one key per such ancestor.
    iterates: ClassVar[bool] = False
    # AllowFailure: a FAILED block ends WARNING (after its errors ran)
    failure_is_warning: ClassVar[bool] = False

    def plan(self, ctx: RunContext) -> FlowablePlan:
        raise NotImplementedError(f"{type(self).__name__} does not implement plan()")

    def run(self, ctx: RunContext) -> TaskResult | Mapping[str, Any]:  # pragma: no cover
        raise TypeError("flowable tasks are planned, not run")



def as_text(value: Any) -> str:
    """A property item as text: strings as they are, other values as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        # int()/float() first: Pebble's Long and Float subclasses print as Long(1) via repr
        return str(int(value) if isinstance(value, int) else float(value))
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def truthy_string(text: Any) -> bool:
    """Kestra's ``TruthUtils``: false only for ``false``, ``0``, ``-0`` or empty.

    Here rather than in the executor so that tasks (If, Fail) and ``runIf`` share one rule
    without tasks importing the executor.
    """
    if text is None:
        return False
    if isinstance(text, bool):
        return text
    s = str(text).strip()
    return s not in ("", "false", "0", "-0")


# Registry names that lived here before :mod:`kflow.tasks.registry` existed; plugins and
# tests may still import them from ``kflow.tasks.base``. Resolved lazily, because the
# registry imports this module.
_REGISTRY_NAMES = frozenset(
    {
        "ALIASES",
        "BUILTINS",
        "ENTRY_POINT_GROUP",
        "UNSUPPORTED",
        "canonical_type",
        "known_types",
        "lookup",
        "register",
    }
)


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        from kflow.tasks import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
