"""``io.kestra.plugin.core.execution.Exit``: ends the execution in the given state."""

from __future__ import annotations

from kflow.errors import TaskError
from kflow.states import State
from kflow.tasks.base import Prop, RunContext, Task, TaskResult

# Kestra's ExitState, and the kflow state each gives (Kestra spells CANCELLED "CANCELED" here)
EXIT_STATES = {
    "SUCCESS": State.SUCCESS,
    "WARNING": State.WARNING,
    "KILLED": State.KILLED,
    "FAILED": State.FAILED,
    "CANCELED": State.CANCELLED,
}


class Exit(Task):
    """Kestra ``execution/Exit.java`` (0.22+): the Exit run, the flowables around it and the
    execution end in ``state``; no further task starts (not the flow's ``errors`` or
    ``finally`` either). Tasks already running in parallel branches finish."""

    type = "io.kestra.plugin.core.execution.Exit"
    outputs = {}
    properties = {
        "state": Prop(
            default="SUCCESS",
            kind="string",
            allowed=tuple(EXIT_STATES),
            refused=f"the state must be one of {', '.join(EXIT_STATES)}",
        ),  # fmt: skip
    }

    def run(self, ctx: RunContext) -> TaskResult:
        name = str(ctx.render(self.prop("state") or "SUCCESS")).strip().upper()
        state = EXIT_STATES.get(name)
        if state is None:
            raise TaskError(f"Invalid exit state {name!r}: use one of {', '.join(EXIT_STATES)}")
        ctx.exit_execution(state)
        return TaskResult(outputs={}, state=state)
