"""``io.kestra.plugin.core.flow.AllowFailure``: a Sequential block whose failure is a WARNING.

Children run one after another (the first failure stops the block, its ``errors`` run);
a FAILED block ends WARNING so the flow goes on (AllowFailure.java, AllowFailureTest).
"""

from __future__ import annotations

from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Prop, RunContext


class AllowFailure(FlowableTask):
    type = "io.kestra.plugin.core.flow.AllowFailure"
    aliases = ("io.kestra.core.tasks.flows.AllowFailure",)
    outputs = {}
    properties = {"tasks": Prop(required=True, kind="tasks")}
    # the executor maps this flowable's FAILED state to WARNING
    failure_is_warning = True

    def plan(self, ctx: RunContext) -> FlowablePlan:
        return FlowablePlan(groups=[ChildGroup(tuple(self.prop("tasks")))])
