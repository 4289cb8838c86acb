"""``io.kestra.plugin.core.execution.Resume``: resumes a PAUSED execution of this kflow
home, the current one by default, with ``inputs`` as the onResume values of its Pause.

When no process waits on the execution (its ``kflow run`` ended at the pause), the Resume
task continues it in this process, to its end or its next pause, before it ends itself
(kflow has no server to hand it to). See :func:`kflow.engine.resume.resume_from_task`.
"""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task


class Resume(Task):
    type = "io.kestra.plugin.core.execution.Resume"
    aliases = ("io.kestra.core.tasks.executions.Resume",)
    outputs = {}
    properties = {
        "executionId": Prop(kind="string", doc="the execution to resume (default: this one)"),
        "namespace": Prop(kind="string", doc="the namespace the execution must belong to"),
        "flowId": Prop(kind="string", doc="the flow the execution must belong to"),
        "inputs": Prop(kind="map", doc="the onResume input values"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow.engine.resume import resume_from_task

        inputs = self.rendered(ctx, "inputs") or {}
        if not isinstance(inputs, dict):
            raise TaskError(f"'inputs' must be a map of onResume values, not {inputs!r}")
        execution_id = _text(self.rendered(ctx, "executionId"))
        namespace = _text(self.rendered(ctx, "namespace"))
        flow_id = _text(self.rendered(ctx, "flowId"))
        if execution_id is None and (namespace or flow_id):
            raise TaskError(
                "Resume by namespace and flowId alone (the newest paused execution of a "
                "flow) is not supported by kflow: give executionId too"
            )
        ctx.log("INFO", resume_from_task(ctx, execution_id, namespace, flow_id, inputs))
        return {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
