"""``io.kestra.plugin.core.flow.Switch``: the tasks of the case equal to the rendered value."""

from __future__ import annotations

from typing import Any

from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Output, Prop, RunContext


class Switch(FlowableTask):
    type = "io.kestra.plugin.core.flow.Switch"
    aliases = ("io.kestra.core.tasks.flows.Switch",)
    outputs = {
        "value": Output("STRING", "The rendered `value`"),
        "defaults": Output("BOOLEAN", "True when no case matched"),
    }
    properties = {
        "value": Prop(required=True, kind="string"),
        "cases": Prop(kind="cases"),
        "defaults": Prop(kind="tasks"),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        cases = spec.props.get("cases") or {}
        if not any(cases.values()) and not spec.props.get("defaults"):
            return ["No task defined, neither cases or default have any tasks"]
        return []

    def plan(self, ctx: RunContext) -> FlowablePlan:
        from kflow.expr.values import to_string

        value = to_string(ctx.render(self.prop("value")))
        cases = self.prop("cases") or {}
        if value in cases:
            return FlowablePlan(
                groups=[ChildGroup(tuple(cases[value]))],
                outputs={"value": value, "defaults": False},
            )
        defaults = self.prop("defaults")
        if defaults:
            return FlowablePlan(
                groups=[ChildGroup(tuple(defaults))], outputs={"value": value, "defaults": True}
            )
        return FlowablePlan(
            groups=[],
            outputs={"value": value, "defaults": True},
            failed=f"No task found for the value '{value}' and no defaults",
        )
