"""``io.kestra.plugin.core.execution.Assert``: fails when any condition renders falsy."""

from __future__ import annotations

from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.tasks.base import Prop, RunContext, Task, truthy_string


class Assert(Task):
    """Render each condition (``0``, ``-0``, ``false`` and ``""`` are false); log each failed
    one, count ``success``/``failed`` metrics, then fail with ``N assertion(s) failed!``
    followed by ``errorMessage`` on its own line (Kestra ``execution/Assert.java``)."""

    type = "io.kestra.plugin.core.execution.Assert"
    outputs = {}
    properties = {
        "conditions": Prop(required=True, kind="list", doc="expressions that must be truthy"),
        "errorMessage": Prop(kind="string", doc="added to the failure message"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        conditions = self.prop("conditions")
        if isinstance(conditions, str):
            conditions = [conditions]
        failed = success = 0
        for condition in conditions or []:
            try:
                rendered = ctx.render(condition)
            except KflowError as exc:
                ctx.log(
                    "ERROR", f"Assertion `{condition}` failed, failed to render `{exc.message}`"
                )
                failed += 1
                continue
            if truthy_string(rendered):
                success += 1
            else:
                ctx.log("ERROR", f"Assertion `{condition}` failed!")
                failed += 1
        ctx.metric("success", "counter", success)
        ctx.metric("failed", "counter", failed)
        if failed:
            message = f"{failed} assertion{'s' if failed > 1 else ''} failed!"
            extra = self.rendered(ctx, "errorMessage")
            if extra is not None:
                message += "\n" + str(extra)
            raise TaskError(message)
        return {}
