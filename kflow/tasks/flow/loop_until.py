"""``io.kestra.plugin.core.flow.LoopUntil`` (formerly ``WaitFor``): rounds of its tasks until
``condition`` holds or a limit of ``checkFrequency`` is reached.

As Kestra does it (``WaitFor.java`` and the executor's "WaitFor case", reference §4):

- the loop's output ``iterationCount`` is 1 when round 1 starts, so the children of round
  ``r`` see ``outputs.<loop>.iterationCount == r``; their ``taskrun.iteration`` is ``r``;
- a child that fails (without ``allowFailure``) ends the loop FAILED (``errors`` run);
- after round ``r`` the output becomes ``r + 1``; then, unless a limit is reached
  (``r + 1 > maxIterations``, or ``maxDuration`` elapsed since the loop started), the
  condition is rendered (it sees the children's latest outputs): truthy ends the loop,
  falsy waits ``interval`` and starts round ``r + 1``;
- a reached limit logs "Max iterations reached" / "Max duration reached" (WARN) and ends the
  loop, FAILED with ``failOnMaxReached: true``, else in the state of the last round.

Defaults of ``checkFrequency``: Kestra changed them in 0.23 (migration guide "LoopUntil
defaults"). kflow gives the type name its era's defaults: ``WaitFor`` keeps the old ones
(``maxIterations: 100``, ``maxDuration: PT1H``, ``interval: PT1S``), ``LoopUntil`` the new
ones (no limits, ``interval: PT1M``). Write ``checkFrequency`` to be independent of both.

Local differences: between rounds the loop waits in-process (Kestra puts the execution in
PAUSED); every round's child task runs are kept (Kestra keeps only the last round's), each
with its ``iteration``, and ``outputs.<child>`` holds the last round's outputs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.java.duration import parse_duration, wait_for
from kflow.states import State
from kflow.tasks.base import (
    ChildGroup,
    Children,
    FlowablePlan,
    FlowableTask,
    Output,
    Prop,
    RunContext,
    SubKey,
    truthy_string,
)

WAIT_FOR_NAMES = ("io.kestra.plugin.core.flow.WaitFor", "io.kestra.core.tasks.flows.WaitFor")
# checkFrequency defaults: (maxIterations, maxDuration, interval)
OLD_DEFAULTS: tuple[int | None, str | None, str] = (100, "PT1H", "PT1S")
NEW_DEFAULTS: tuple[int | None, str | None, str] = (None, None, "PT1M")
_STOPS = frozenset({State.FAILED, State.KILLED, State.CANCELLED})


class LoopUntil(FlowableTask):
    type = "io.kestra.plugin.core.flow.LoopUntil"
    aliases = WAIT_FOR_NAMES
    outputs = {
        "iterationCount": Output(
            "INTEGER", "The current round while it runs; rounds run + 1 at the end"
        ),
    }
    properties = {
        "tasks": Prop(required=True, kind="tasks"),
        "condition": Prop(
            required=True, kind="string", doc="Rendered after each round; truthy ends the loop"
        ),
        "failOnMaxReached": Prop(default=False, kind="bool"),
        "checkFrequency": Prop(
            kind="map",
            keys={"maxIterations": SubKey(), "maxDuration": SubKey(), "interval": SubKey()},
            doc="{maxIterations, maxDuration, interval}",
        ),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        problems: list[str] = []
        freq = spec.props.get("checkFrequency")
        if not isinstance(freq, Mapping):
            return problems
        count = freq.get("maxIterations")
        if isinstance(count, bool) or (isinstance(count, int) and count <= 0):
            problems.append("checkFrequency 'maxIterations' must be a positive integer")
        for key in ("maxDuration", "interval"):
            value = freq.get(key)
            if isinstance(value, str) and "{" not in value:
                seconds = parse_duration(value)
                if seconds is None or seconds <= 0:
                    problems.append(
                        f"checkFrequency '{key}' {value!r} must be a positive duration such "
                        "as PT10S"
                    )
        return problems

    def plan(self, ctx: RunContext) -> FlowablePlan:
        tasks = tuple(self.prop("tasks"))
        max_iterations, max_duration, interval = self._frequency(ctx)
        fail_on_max = self.flag(ctx, "failOnMaxReached")
        started = time.monotonic()

        def drive(children: Children) -> set[State]:
            round_ = 1
            while True:
                states = children.run(tasks, iteration=round_)
                if children.stopped() or any(s in _STOPS or not s.terminal for s in states):
                    return states  # failed, killed, or paused inside: the round ends here
                count = round_ + 1
                children.set_outputs({"iterationCount": count})
                reached = None
                if max_iterations is not None and count > max_iterations:
                    reached = "Max iterations reached"
                elif max_duration is not None and time.monotonic() - started > max_duration:
                    reached = "Max duration reached"
                if reached is not None:
                    ctx.log("WARN", reached)
                    if fail_on_max:
                        raise TaskError(f"{reached} and failOnMaxReached is true")
                    return states
                if self._condition(ctx):
                    return states
                if wait_for(ctx.cancelled, interval):
                    return states | {State.KILLED}
                if children.stopped():
                    return states
                round_ += 1

        return FlowablePlan(groups=[ChildGroup(tasks)], outputs={"iterationCount": 1}, drive=drive)

    def _condition(self, ctx: RunContext) -> bool:
        try:
            value = ctx.render(self.prop("condition"))
        except KflowError as exc:
            raise TaskError(f"condition: {exc.message}") from exc
        return truthy_string(value)

    def _frequency(self, ctx: RunContext) -> tuple[int | None, float | None, float]:
        """(maxIterations, maxDuration in seconds, interval in seconds), rendered."""
        written = str(self.spec.raw.get("type", ""))
        default_count, default_duration, default_interval = (
            OLD_DEFAULTS if written in WAIT_FOR_NAMES else NEW_DEFAULTS
        )
        freq = self.prop("checkFrequency")
        if isinstance(freq, str):
            freq = ctx.render_typed(freq)
        freq = ctx.render(dict(freq)) if isinstance(freq, Mapping) else {}
        count_raw = freq.get("maxIterations", default_count)
        count: int | None = None
        if count_raw is not None:
            try:
                count = int(str(count_raw).strip())
            except ValueError as exc:
                raise TaskError(
                    f"checkFrequency 'maxIterations' must be an integer, got {count_raw!r}"
                ) from exc
        duration_raw = freq.get("maxDuration", default_duration)
        duration = None if duration_raw is None else _seconds("maxDuration", duration_raw)
        interval = _seconds("interval", freq.get("interval") or default_interval)
        return count, duration, interval


def _seconds(name: str, value: Any) -> float:
    seconds = parse_duration(str(value))
    if seconds is None or seconds <= 0:
        raise TaskError(
            f"checkFrequency '{name}' {value!r} must be a positive duration such as PT10S"
        )
    return seconds
