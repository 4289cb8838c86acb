"""``io.kestra.plugin.core.flow.Sequential``: runs its tasks one after another."""

from __future__ import annotations

from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Prop, RunContext


class Sequential(FlowableTask):
    type = "io.kestra.plugin.core.flow.Sequential"
    aliases = ("io.kestra.core.tasks.flows.Sequential",)
    outputs = {}
    properties = {"tasks": Prop(required=True, kind="tasks")}

    def plan(self, ctx: RunContext) -> FlowablePlan:
        return FlowablePlan(groups=[ChildGroup(tuple(self.prop("tasks")))])
