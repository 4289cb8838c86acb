"""``io.kestra.plugin.core.flow.Parallel``: runs its tasks at once (``concurrent`` = limit)."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Prop, RunContext


class Parallel(FlowableTask):
    type = "io.kestra.plugin.core.flow.Parallel"
    aliases = ("io.kestra.core.tasks.flows.Parallel",)
    outputs = {}
    properties = {
        "tasks": Prop(required=True, kind="tasks"),
        "concurrent": Prop(default=0, kind="int", doc="0 = no limit"),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        return [] if spec.props.get("tasks") else ["'tasks' must not be empty"]

    def plan(self, ctx: RunContext) -> FlowablePlan:
        try:
            limit = int(ctx.render(self.prop("concurrent") or 0))
        except (TypeError, ValueError) as exc:
            raise TaskError("'concurrent' must be an integer") from exc
        groups = [ChildGroup((spec,)) for spec in self.prop("tasks")]
        return FlowablePlan(groups=groups, concurrency=0 if limit <= 0 else limit)
