"""``io.kestra.plugin.core.flow.Sleep``: waits ``duration`` (interrupted by timeout/kill)."""

from __future__ import annotations

from typing import Any

from kflow.durations import parse_duration
from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task


class Sleep(Task):
    type = "io.kestra.plugin.core.flow.Sleep"
    aliases = ("io.kestra.core.tasks.flows.Sleep",)
    properties = {"duration": Prop(required=True, kind="duration", doc="e.g. duration: PT5S")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        raw = ctx.render(self.prop("duration"))
        seconds = parse_duration(str(raw))
        if seconds is None or seconds < 0:
            raise TaskError(f"'duration' {raw!r} is not an ISO-8601 duration such as PT5S")
        if ctx.cancelled.wait(seconds):
            raise TaskError("sleep interrupted")
        return {}
