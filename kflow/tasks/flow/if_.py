"""``io.kestra.plugin.core.flow.If``: ``then`` or ``else`` by the rendered condition."""

from __future__ import annotations

from typing import Any

from kflow.tasks.base import (
    ChildGroup,
    FlowablePlan,
    FlowableTask,
    Output,
    Prop,
    RunContext,
    truthy_string,
)


class If(FlowableTask):
    type = "io.kestra.plugin.core.flow.If"
    aliases = ("io.kestra.core.tasks.flows.If",)
    outputs = {"evaluationResult": Output("BOOLEAN", "The condition, read as Kestra's truth rule")}
    properties = {
        "condition": Prop(required=True, doc="truthy unless it renders to false, 0, -0 or ''"),
        "then": Prop(required=True, kind="tasks"),
        "else": Prop(kind="tasks"),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        return [] if spec.props.get("then") else ["'then' must not be empty"]

    def plan(self, ctx: RunContext) -> FlowablePlan:
        from kflow.expr.values import to_string

        result = truthy_string(to_string(ctx.render(self.prop("condition"))))
        branch = self.prop("then") if result else (self.prop("else") or ())
        groups = [ChildGroup(tuple(branch))] if branch else []
        return FlowablePlan(groups=groups, outputs={"evaluationResult": result})
