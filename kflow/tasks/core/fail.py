"""``io.kestra.plugin.core.execution.Fail``: fails (when ``condition`` holds)."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task


class Fail(Task):
    type = "io.kestra.plugin.core.execution.Fail"
    aliases = ("io.kestra.core.tasks.executions.Fail",)
    properties = {
        "condition": Prop(kind="string", doc="fail only when this renders truthy"),
        "errorMessage": Prop(default="Flow failure", kind="string"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow.engine.executor import truthy_string

        condition = self.prop("condition")
        if condition is not None and not truthy_string(ctx.render(condition)):
            return {}
        raise TaskError(str(ctx.render(self.prop("errorMessage") or "Flow failure")))
