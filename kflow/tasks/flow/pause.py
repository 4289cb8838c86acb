"""``io.kestra.plugin.core.flow.Pause``: puts the execution in PAUSED until it is resumed
(``kflow resume``, a Resume task) or its ``pauseDuration`` elapses.

The executor does the pausing (states, waiting, resuming: see
:meth:`kflow.engine.executor.Executor._run_pause`); this class reads the properties:

- ``pauseDuration`` (``delay`` before Kestra 0.22 sets it too): how long to wait before
  ``behavior`` applies: RESUME (the Pause ends SUCCESS), WARN (WARNING), FAIL (FAILED),
  CANCEL (the execution ends CANCELLED). A manual resume before that always ends SUCCESS.
- ``timeout`` without a duration: the Pause ends FAILED once it elapses (WARNING with
  ``allowFailure``).
- ``onResume``: inputs asked when resuming, typed like flow inputs; the values are the
  Pause's output ``onResume`` (``{{ outputs.pause.onResume.approved }}``).
- ``tasks`` (deprecated): run after the resume, as a Sequential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from kflow.errors import KflowError
from kflow.flow.model import MISSING, InputSpec
from kflow.java.duration import duration_problem, parse_duration
from kflow.states import State
from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Output, Prop, RunContext

BEHAVIORS = ("RESUME", "WARN", "CANCEL", "FAIL")
# what the Pause ends in when its pauseDuration elapses (Pause.Behavior.mapToState; RESUME
# continues, i.e. SUCCESS once the pause is over)
BEHAVIOR_STATES = {
    "RESUME": State.SUCCESS,
    "WARN": State.WARNING,
    "CANCEL": State.CANCELLED,
    "FAIL": State.FAILED,
}


class PauseWait(NamedTuple):
    """How long a Pause waits by itself (``seconds``), the state it then ends in, and the
    property that set it (for messages). ``seconds`` None: it waits to be resumed."""

    seconds: float | None
    state: State
    source: str = ""
    text: str = ""


class Pause(FlowableTask):
    type = "io.kestra.plugin.core.flow.Pause"
    aliases = ("io.kestra.core.tasks.flows.Pause",)
    # the executor handles a task of this class itself (pause, wait, resume)
    pauses: ClassVar[bool] = True
    properties = {
        "pauseDuration": Prop(kind="duration", doc="e.g. pauseDuration: PT5M"),
        "delay": Prop(kind="duration", doc="deprecated: pauseDuration"),
        "behavior": Prop(
            kind="string",
            default="RESUME",
            doc="what happens when pauseDuration elapses: RESUME, WARN, FAIL or CANCEL",
        ),
        "onResume": Prop(kind="list", doc="inputs asked when the execution is resumed"),
        "tasks": Prop(kind="tasks", doc="deprecated: tasks run after the resume"),
    }
    outputs = {
        "onResume": Output("MAP", "the onResume inputs given when the execution was resumed")
    }

    def plan(self, ctx: RunContext) -> FlowablePlan:
        """The deprecated ``tasks``, run as a Sequential once the pause is over."""
        tasks = self.prop("tasks")
        return FlowablePlan(groups=[ChildGroup(tuple(tasks))] if tasks else [])

    def wait(self, ctx: RunContext, timeout: Any = None) -> PauseWait:
        """Render ``pauseDuration``/``delay``, ``behavior`` and the task ``timeout``.
        Raises KflowError for a value that does not render or parse."""
        for name in ("pauseDuration", "delay"):
            raw = self.prop(name)
            if raw is None:
                continue
            seconds, text = _seconds(ctx, name, raw)
            if seconds is None:  # an expression rendering to nothing: no duration
                continue
            behavior = str(ctx.render(self.prop("behavior")) or "RESUME").strip().upper()
            if behavior not in BEHAVIOR_STATES:
                raise KflowError(f"behavior {behavior!r} is not one of {', '.join(BEHAVIORS)}")
            return PauseWait(seconds, BEHAVIOR_STATES[behavior], name, text)
        if timeout is not None:
            seconds, text = _seconds(ctx, "timeout", timeout)
            if seconds is not None:
                return PauseWait(seconds, State.FAILED, "timeout", text)
        return PauseWait(None, State.SUCCESS)

    def on_resume(self) -> tuple[InputSpec, ...]:
        """The ``onResume`` declarations as input specs (those that are well formed)."""
        return on_resume_specs(self.prop("onResume"))

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        from kflow.flow.inputs import check_input_ids, check_input_spec

        problems: list[str] = []
        behavior = spec.props.get("behavior")
        if isinstance(behavior, str) and "{{" not in behavior and behavior not in BEHAVIORS:
            problems.append(f"behavior {behavior!r} must be one of {', '.join(BEHAVIORS)}")
        raw = spec.props.get("onResume")
        if raw is None:
            return problems
        if not isinstance(raw, list):
            return [*problems, "'onResume' must be a list of inputs (id, type...)"]
        for item in raw:
            if not isinstance(item, Mapping) or item.get("id") is None or not item.get("type"):
                problems.append("each onResume input must be a mapping with id and type")
        specs = on_resume_specs(raw)
        for one in specs:
            problems += [f"onResume: {p}" for p in check_input_spec(one)]
        problems += [f"onResume: {p}" for p in check_input_ids(list(specs))]
        return problems


def on_resume_specs(raw: Any) -> tuple[InputSpec, ...]:
    """``onResume`` items → InputSpecs, as flow inputs are read (malformed items left out:
    the load-time check reports them)."""
    if not isinstance(raw, list):
        return ()
    specs = []
    for item in raw:
        if not isinstance(item, Mapping) or item.get("id") is None or not item.get("type"):
            continue
        specs.append(
            InputSpec(
                id=str(item["id"]),
                type=str(item["type"]),
                required=bool(item.get("required", True)),
                defaults=item["defaults"] if "defaults" in item else MISSING,
                description=item.get("description"),
                props=dict(item),
            )
        )
    return tuple(specs)


def _seconds(ctx: RunContext, name: str, raw: Any) -> tuple[float | None, str]:
    value = ctx.render(raw) if isinstance(raw, str) else raw
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    text = str(value).strip()
    seconds = parse_duration(text)
    if seconds is None:
        raise KflowError(f"{name} {text!r} {duration_problem(text)}: write it like PT5M")
    if seconds < 0:
        raise KflowError(f"{name} {text!r} is negative: write it like PT5M")
    return seconds, text
