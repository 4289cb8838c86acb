"""``io.kestra.plugin.core.flow.EachSequential`` (deprecated): ForEach with ``value``."""

from __future__ import annotations

from kflow.tasks.base import FlowablePlan, FlowableTask, Prop, RunContext
from kflow.tasks.flow.foreach import ValueGroups, iteration_values


class EachSequential(FlowableTask):
    type = "io.kestra.plugin.core.flow.EachSequential"
    aliases = ("io.kestra.core.tasks.flows.EachSequential",)
    iterates = True
    outputs = {}
    properties = {"value": Prop(required=True), "tasks": Prop(required=True, kind="tasks")}

    def plan(self, ctx: RunContext) -> FlowablePlan:
        values = iteration_values(self.prop("value"), ctx)
        tasks = tuple(self.prop("tasks"))
        return FlowablePlan(groups=ValueGroups(tasks, values), concurrency=1)
