"""``io.kestra.plugin.core.flow.Subflow``: runs another flow; its flow outputs come back."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.states import State
from kflow.tasks.base import Output, Prop, RunContext, Task, TaskResult

_TRANSMITTED = (State.FAILED, State.KILLED, State.WARNING)


class Subflow(Task):
    type = "io.kestra.plugin.core.flow.Subflow"
    aliases = ("io.kestra.core.tasks.flows.Subflow", "io.kestra.core.tasks.flows.Flow")
    outputs = {
        "executionId": Output("STRING", "The child execution's id"),
        "state": Output("STRING", "The child's final state (CREATED when not waiting)"),
        "outputs": Output(
            "MAP", "The child's flow outputs (or the legacy `outputs` property)", dynamic=True
        ),
    }
    properties = {
        "namespace": Prop(required=True, kind="string"),
        "flowId": Prop(required=True, kind="string"),
        "revision": Prop(
            kind="int",
            ignored="kflow runs the subflow's file as it is now (flows have no revisions locally)",
        ),
        "inputs": Prop(kind="map"),
        "labels": Prop(),
        "wait": Prop(default=True, kind="bool"),
        "transmitFailed": Prop(default=True, kind="bool"),
        "inheritLabels": Prop(default=False, kind="bool"),
        "outputs": Prop(kind="map"),
        "scheduleDate": Prop(
            kind="string", ignored="kflow starts the subflow execution at once, not at that date"
        ),
    }

    def run(self, ctx: RunContext) -> TaskResult:
        namespace = str(ctx.render(self.prop("namespace")))
        flow_id = str(ctx.render(self.prop("flowId")))
        inputs = ctx.render(self.prop("inputs") or {})
        labels = _labels(ctx.render(self.prop("labels") or {}))
        if self.prop("inheritLabels"):
            inherited = {
                k: v for k, v in ctx.variables.get("labels", {}).items() if not k.startswith("system")
            }
            labels = {**inherited, **labels}
        wait = _bool(self.prop("wait"), True)
        transmit = _bool(self.prop("transmitFailed"), True)
        child = ctx.run_subflow(namespace, flow_id, inputs, labels, wait, self.prop("outputs"))
        outputs: dict[str, Any] = {"executionId": child.id}
        if not wait:
            outputs["state"] = State.CREATED.value
            return TaskResult(outputs=outputs)
        state = child.state.current
        outputs["state"] = state.value
        if child.outputs:
            outputs["outputs"] = child.outputs
        elif child.subflow_outputs is not None:
            outputs["outputs"] = child.subflow_outputs
        if child.subflow_outputs_error is not None:
            raise TaskError(
                f"Failed to extract outputs with the error: {child.subflow_outputs_error}",
                outputs=outputs,
            )
        if transmit and state in _TRANSMITTED:
            if state is State.WARNING:
                return TaskResult(outputs=outputs, state=State.WARNING)
            raise TaskError(
                f"subflow {namespace}.{flow_id} ended {state.value} (execution {child.id})"
                + (f" — cause: {cause}" if (cause := _root_cause(child)) else ""),
                outputs=outputs,
            )
        return TaskResult(outputs=outputs)


def _root_cause(child: Any) -> str | None:
    """The innermost failure of a child execution (nested subflows included), so a parent's
    message says why without repeating every level."""
    cause: str | None = child.error
    for run in child.task_runs:
        if run.state.current in (State.FAILED, State.KILLED) and run.error:
            cause = run.error
    if cause and " — cause: " in cause:
        cause = cause.rsplit(" — cause: ", 1)[1]
    return cause


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _labels(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(i["key"]): str(i["value"]) for i in raw if isinstance(i, dict) and "key" in i}
    return {}
