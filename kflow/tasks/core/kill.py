"""``io.kestra.plugin.core.execution.Kill``: kills the current execution."""

from __future__ import annotations

from kflow.states import State
from kflow.tasks.base import Prop, RunContext, Task, TaskResult


class Kill(Task):
    """Kestra ``execution/Kill.java``: the Kill run and the execution end KILLED; no further
    task starts (not the flow's ``errors`` or ``finally`` either) and tasks still running in
    parallel branches are stopped and end KILLED. With ``propagateKill: true`` the subflow
    executions this execution started (``wait: false`` ones still running) are killed too."""

    type = "io.kestra.plugin.core.execution.Kill"
    outputs = {}
    properties = {
        "propagateKill": Prop(
            default=False, kind="bool", doc="Also kill the subflow executions it started"
        ),
    }

    def run(self, ctx: RunContext) -> TaskResult:
        ctx.kill_execution(self.flag(ctx, "propagateKill"))
        return TaskResult(outputs={}, state=State.KILLED)
