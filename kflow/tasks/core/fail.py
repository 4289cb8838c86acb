"""``io.kestra.plugin.core.execution.Fail``: fails (when ``condition`` holds)."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task, truthy_string


class Fail(Task):
    type = "io.kestra.plugin.core.execution.Fail"
    aliases = ("io.kestra.core.tasks.executions.Fail",)
    outputs = {}
    properties = {
        "condition": Prop(kind="string", doc="fail only when this renders truthy"),
        "errorMessage": Prop(default="Task failure", kind="string"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        message = str(ctx.render(self.prop("errorMessage") or "Task failure"))
        condition = self.prop("condition")
        if condition is None:
            raise TaskError(message)
        if not truthy_string(ctx.render(condition)):
            return {}
        # Kestra logs the message and fails with a fixed text when a condition holds
        ctx.log("ERROR", message)
        raise TaskError("Fail on a condition")
