"""The task plugin interface and the registry of task types.

A task type is one class, registered under its Kestra type name (plus Kestra's legacy
aliases) in the ``kflow.tasks`` entry-point group. Built-ins and third-party plugins use
the same group; classes are imported only when a flow uses their type, and a plugin that
fails to import becomes one warning naming it (or a :class:`PluginError` if a flow uses it).

Writing a task::

    class Hello(Task):
        type = "com.example.Hello"
        properties = {"name": Prop(required=True, kind="string")}

        def run(self, ctx: RunContext) -> dict[str, Any]:
            return {"greeting": "Hello " + ctx.render(self.spec.props["name"])}
"""

from __future__ import annotations

import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from kflow.errors import PluginError
from kflow.states import State

if TYPE_CHECKING:
    from kflow.flow.model import TaskSpec

ENTRY_POINT_GROUP = "kflow.tasks"

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
    lists). Strings may always be expressions, so only literals of the wrong kind are refused.

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

    groups: list[ChildGroup]
    concurrency: int = 1
    outputs: dict[str, Any] = field(default_factory=dict)
    failed: str | None = None


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


class Task:
    """A runnable task type. Subclasses set ``type``, ``properties`` and implement ``run``."""

    type: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    properties: ClassVar[Mapping[str, Prop]] = {}
    flowable: ClassVar[bool] = False

    def __init__(self, spec: TaskSpec) -> None:
        self.spec = spec

    def prop(self, name: str) -> Any:
        """The property as written, or its declared default."""
        if name in self.spec.props:
            return self.spec.props[name]
        declared = self.properties.get(name)
        return declared.default if declared else None

    def run(self, ctx: RunContext) -> TaskResult | Mapping[str, Any]:
        """Do the work; return outputs (or a TaskResult). Raise TaskError to fail."""
        raise NotImplementedError(f"{type(self).__name__} does not implement run()")

    @classmethod
    def check(cls, spec: TaskSpec) -> list[str]:
        """Extra load-time checks for this type (messages; empty when fine)."""
        return []


class FlowableTask(Task):
    """A task that runs other tasks: it returns a plan, the executor runs it."""

    flowable: ClassVar[bool] = True
    # AllowFailure: a FAILED block ends WARNING (after its errors ran)
    failure_is_warning: ClassVar[bool] = False

    def plan(self, ctx: RunContext) -> FlowablePlan:
        raise NotImplementedError(f"{type(self).__name__} does not implement plan()")

    def run(self, ctx: RunContext) -> TaskResult | Mapping[str, Any]:  # pragma: no cover
        raise TypeError("flowable tasks are planned, not run")


# --------------------------------------------------------------------------- registry

# The built-in types, by Kestra type name: the same table is declared as entry points in
# pyproject.toml (a test keeps both equal). Looking built-ins up here first avoids scanning
# every installed distribution's metadata on each run.
BUILTINS: dict[str, str] = {
    "io.kestra.plugin.core.debug.Return": "kflow.tasks.core.return_:Return",
    "io.kestra.plugin.core.log.Log": "kflow.tasks.core.log:Log",
    "io.kestra.plugin.core.output.OutputValues": "kflow.tasks.core.output_values:OutputValues",
    "io.kestra.plugin.core.execution.Fail": "kflow.tasks.core.fail:Fail",
    "io.kestra.plugin.core.flow.Sleep": "kflow.tasks.core.sleep:Sleep",
    "io.kestra.plugin.core.flow.Subflow": "kflow.tasks.flow.subflow:Subflow",
    "io.kestra.plugin.core.flow.Sequential": "kflow.tasks.flow.sequential:Sequential",
    "io.kestra.plugin.core.flow.Parallel": "kflow.tasks.flow.parallel:Parallel",
    "io.kestra.plugin.core.flow.ForEach": "kflow.tasks.flow.foreach:ForEach",
    "io.kestra.plugin.core.flow.EachSequential": "kflow.tasks.flow.each_sequential:EachSequential",
    "io.kestra.plugin.core.flow.EachParallel": "kflow.tasks.flow.each_parallel:EachParallel",
    "io.kestra.plugin.core.flow.If": "kflow.tasks.flow.if_:If",
    "io.kestra.plugin.core.flow.AllowFailure": "kflow.tasks.flow.allow_failure:AllowFailure",
    "io.kestra.plugin.core.flow.Switch": "kflow.tasks.flow.switch:Switch",
    "io.kestra.plugin.core.http.Request": "kflow.tasks.http.request:Request",
    "io.kestra.plugin.core.http.Download": "kflow.tasks.http.download:Download",
    "io.kestra.plugin.jdbc.duckdb.Query": "kflow.tasks.jdbc.duckdb_query:DuckDbQuery",
    "io.kestra.plugin.scripts.shell.Commands": "kflow.tasks.scripts.shell_commands:ShellCommands",
    "io.kestra.plugin.scripts.shell.Script": "kflow.tasks.scripts.shell_script:ShellScript",
    "io.kestra.plugin.scripts.python.Script": "kflow.tasks.scripts.python_script:PythonScript",
    "io.kestra.plugin.scripts.python.Commands": "kflow.tasks.scripts.python_commands:PythonCommands",
}

# Kestra's legacy names (``@Plugin(aliases=...)``), mapped to the current type name.
ALIASES: dict[str, str] = {
    "io.kestra.core.tasks.debugs.Return": "io.kestra.plugin.core.debug.Return",
    "io.kestra.core.tasks.log.Log": "io.kestra.plugin.core.log.Log",
    "io.kestra.core.tasks.outputs.OutputValues": "io.kestra.plugin.core.output.OutputValues",
    "io.kestra.core.tasks.executions.Fail": "io.kestra.plugin.core.execution.Fail",
    "io.kestra.core.tasks.flows.Sleep": "io.kestra.plugin.core.flow.Sleep",
    "io.kestra.core.tasks.flows.Subflow": "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.core.tasks.flows.Flow": "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.core.tasks.flows.Sequential": "io.kestra.plugin.core.flow.Sequential",
    "io.kestra.core.tasks.flows.Parallel": "io.kestra.plugin.core.flow.Parallel",
    "io.kestra.core.tasks.flows.EachSequential": "io.kestra.plugin.core.flow.EachSequential",
    "io.kestra.core.tasks.flows.EachParallel": "io.kestra.plugin.core.flow.EachParallel",
    "io.kestra.core.tasks.flows.If": "io.kestra.plugin.core.flow.If",
    "io.kestra.core.tasks.flows.AllowFailure": "io.kestra.plugin.core.flow.AllowFailure",
    "io.kestra.core.tasks.flows.Switch": "io.kestra.plugin.core.flow.Switch",
    "io.kestra.plugin.fs.http.Request": "io.kestra.plugin.core.http.Request",
    "io.kestra.plugin.fs.http.Download": "io.kestra.plugin.core.http.Download",
}

# Types Kestra has that kflow knowingly refuses, with the reason given to the user.
UNSUPPORTED: dict[str, str] = {
    "io.kestra.core.tasks.scripts.Bash": "the deprecated Bash task is not supported; "
    "use io.kestra.plugin.scripts.shell.Commands",
}

_lock = threading.Lock()
_entry_points: dict[str, str] | None = None
_loaded: dict[str, type[Task]] = {}


def _scan_entry_points() -> dict[str, str]:
    """Type name → "module:Class" for every installed ``kflow.tasks`` entry point (once)."""
    global _entry_points
    with _lock:
        if _entry_points is None:
            from importlib.metadata import entry_points

            found: dict[str, str] = {}
            try:
                for ep in entry_points(group=ENTRY_POINT_GROUP):
                    found[ep.name] = ep.value
            except Exception as exc:  # a broken distribution must not stop kflow
                warnings.warn(f"cannot read kflow.tasks entry points: {exc}", stacklevel=2)
            _entry_points = found
        return _entry_points


def canonical_type(name: str) -> str:
    """The current Kestra type name for ``name`` (resolves legacy aliases)."""
    return ALIASES.get(name, name)


def known_types() -> list[str]:
    """Every task type name kflow can run (built-ins, aliases and plugins)."""
    names = set(BUILTINS) | set(ALIASES) | set(_scan_entry_points())
    return sorted(names)


def _import(target: str, type_name: str) -> type[Task]:
    import importlib

    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except Exception as exc:
        raise PluginError(
            f"task type {type_name} cannot be loaded from {target}: {exc}",
            hint="reinstall the plugin that provides it, or remove the task",
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise PluginError(f"{target} (task type {type_name}) is not a kflow Task class")
    return cls


def lookup(name: str) -> type[Task] | None:
    """The class for a task type name or alias, or None when no plugin provides it."""
    type_name = canonical_type(name)
    cls = _loaded.get(type_name)
    if cls is not None:
        return cls
    target = BUILTINS.get(type_name)
    if target is None:
        target = _scan_entry_points().get(type_name) or _scan_entry_points().get(name)
    if target is None:
        return None
    cls = _import(target, type_name)
    _loaded[type_name] = cls
    return cls


def register(cls: type[Task]) -> type[Task]:
    """Register a task class in-process (tests, embedding); entry points are the normal way."""
    _loaded[cls.type] = cls
    for alias in cls.aliases:
        ALIASES[alias] = cls.type
    return cls
