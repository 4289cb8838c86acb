"""``io.kestra.plugin.core.flow.EachParallel`` (deprecated): every child of every value at once."""

from __future__ import annotations

from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Prop, RunContext
from kflow.tasks.flow.foreach import iteration_values


class EachParallel(FlowableTask):
    type = "io.kestra.plugin.core.flow.EachParallel"
    aliases = ("io.kestra.core.tasks.flows.EachParallel",)
    iterates = True
    outputs = {}
    properties = {
        "value": Prop(required=True),
        "tasks": Prop(required=True, kind="tasks"),
        "concurrent": Prop(default=0, kind="int"),
    }

    def plan(self, ctx: RunContext) -> FlowablePlan:
        values = iteration_values(self.prop("value"), ctx)
        limit = int(ctx.render(self.prop("concurrent") or 0))
        groups = [ChildGroup((t,), v) for v in values for t in self.prop("tasks")]
        return FlowablePlan(groups=groups, concurrency=0 if limit <= 0 else limit)
