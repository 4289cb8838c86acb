"""The typed flow model: what a validated Kestra flow YAML becomes.

Records are frozen: a flow is loaded once and shared by every task run (threads included).
Raw property values are kept exactly as written (strings are rendered only when a task
asks for them), so a flow that runs under kflow stays a valid Kestra flow.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kflow.notices import Notice

if TYPE_CHECKING:
    from kflow.tasks.base import Task


class _Missing:
    """Sentinel for "not written in the YAML" (distinct from an explicit null)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Location:
    """Where something was written: file, 1-based line and column."""

    path: str | None = None
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class TaskSpec:
    """One task as written. ``props`` holds the type-specific properties.

    Properties declared by the task class as task lists (``tasks``, ``then``, ``else``,
    Switch ``cases``/``defaults``) are already turned into tuples of ``TaskSpec`` (or a
    dict of them for ``cases``).
    """

    id: str
    type: str
    task_class: builtins.type[Task]
    props: dict[str, Any]
    description: str | None = None
    run_if: Any = MISSING
    disabled: bool = False
    allow_failure: bool = False
    allow_warning: bool = False
    timeout: Any = None
    retry: dict[str, Any] | None = None
    errors: tuple[TaskSpec, ...] = ()
    finally_: tuple[TaskSpec, ...] = ()
    log_level: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    location: Location = field(default_factory=Location, compare=False)

    def child_specs(self) -> list[TaskSpec]:
        """Every task spec nested directly in this one (main, errors, finally)."""
        out: list[TaskSpec] = []
        for value in self.props.values():
            if isinstance(value, tuple) and value and isinstance(value[0], TaskSpec):
                out.extend(value)
            elif isinstance(value, dict) and value and all(
                isinstance(v, tuple) for v in value.values()
            ):
                for v in value.values():
                    out.extend(s for s in v if isinstance(s, TaskSpec))
        out.extend(self.errors)
        out.extend(self.finally_)
        return out


@dataclass(frozen=True)
class InputSpec:
    """A flow input declaration. ``props`` keeps every key as written (type-specific ones:
    ``min``, ``max``, ``values``, ``validator``, ``itemType``, ``after``, ``before``...)."""

    id: str
    type: str
    required: bool = True
    defaults: Any = MISSING
    description: str | None = None
    props: dict[str, Any] = field(default_factory=dict)
    location: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class OutputSpec:
    """A flow output declaration: rendered after the tasks, then typed like an input."""

    id: str
    type: str
    value: Any
    description: str | None = None
    required: bool = True
    props: dict[str, Any] = field(default_factory=dict)
    location: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class TriggerSpec:
    """A declared trigger. kflow never fires one; ``kflow run --trigger-id`` runs the flow
    with the variables it would give (:mod:`kflow.flow.triggers`)."""

    id: str
    type: str
    props: dict[str, Any] = field(default_factory=dict)
    location: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class Flow:
    """A validated flow. ``source`` is the YAML text, kept with each execution.

    ``warnings`` are what the validator accepted but wants the user to know (keys with no
    local meaning, such as ``triggers``): the CLI prints them, the engine never does."""

    id: str
    namespace: str
    tasks: tuple[TaskSpec, ...]
    description: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    errors: tuple[TaskSpec, ...] = ()
    finally_: tuple[TaskSpec, ...] = ()
    after_execution: tuple[TaskSpec, ...] = ()
    disabled: bool = False
    revision: int = 1
    retry: dict[str, Any] | None = None
    path: str | None = None
    source: str = field(default="", repr=False)
    triggers: tuple[TriggerSpec, ...] = ()
    warnings: tuple[Notice, ...] = field(default=(), compare=False, repr=False)

    def all_tasks(self) -> list[TaskSpec]:
        """Every task spec of the flow, depth first."""
        out: list[TaskSpec] = []
        stack = [*self.tasks, *self.errors, *self.finally_, *self.after_execution]
        stack.reverse()
        while stack:
            spec = stack.pop()
            out.append(spec)
            stack.extend(reversed(spec.child_specs()))
        return out
