"""``io.kestra.plugin.core.flow.Sleep``: waits ``duration`` (interrupted by timeout/kill)."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.java.duration import duration_problem, parse_duration, wait_for
from kflow.tasks.base import Prop, RunContext, Task


class Sleep(Task):
    type = "io.kestra.plugin.core.flow.Sleep"
    aliases = ("io.kestra.core.tasks.flows.Sleep",)
    outputs = {}
    properties = {"duration": Prop(required=True, kind="duration", doc="e.g. duration: PT5S")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        raw = ctx.render(self.prop("duration"))
        seconds = parse_duration(str(raw))
        if seconds is None:
            raise TaskError(
                f"'duration' {raw!r} {duration_problem(str(raw))}: write it like PT5S or PT1H30M"
            )
        if seconds < 0:
            raise TaskError(f"'duration' {raw!r} is negative: write it like PT5S or PT1H30M")
        if wait_for(ctx.cancelled, seconds):
            raise TaskError("sleep interrupted")
        return {}
