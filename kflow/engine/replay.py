"""The expression context of a finished execution, rebuilt from the store (Debug Expression)."""

from __future__ import annotations

from typing import Any

from kflow.engine.context import Services, kestra_envs
from kflow.engine.execution import Execution, iso_instant
from kflow.engine.outputs import build_views, labels_view
from kflow.storage.base import execution_prefix


def execution_context(execution: Execution, flow_source: str, storage: Any, parent: Execution | None = None) -> dict[str, Any]:
    """What ``{{ ... }}`` sees after the run: flow, execution, inputs, outputs, tasks, vars..."""
    from kflow.flow.inputs import input_context
    from kflow.flow.loader import parse_yaml

    try:
        data = parse_yaml(flow_source) or {}
    except Exception:  # noqa: BLE001 - the stored source parsed when it ran
        data = {}
    variables = data.get("variables") if isinstance(data, dict) else None
    outputs, tasks = build_views(execution.task_runs)
    labels = labels_view(execution.labels)
    prefixes = [execution_prefix(execution.namespace, execution.flow_id, execution.id)]
    if parent is not None:
        prefixes.append(execution_prefix(parent.namespace, parent.flow_id, parent.id))
    exec_vars: dict[str, Any] = {
        "id": execution.id,
        "startDate": iso_instant(execution.state.start),
        "originalId": execution.id,
        "state": execution.state.current.value,
    }
    if execution.outputs:
        exec_vars["outputs"] = execution.outputs
    ctx: dict[str, Any] = {
        "flow": {"id": execution.flow_id, "namespace": execution.namespace, "revision": execution.flow_revision},
        "execution": exec_vars,
        "outputs": outputs,
        "tasks": tasks,
        "inputs": input_context(execution.inputs),
        "vars": dict(variables) if isinstance(variables, dict) else {},
        "labels": labels,
        "envs": kestra_envs(),
        "globals": {},
        "_kflow": Services(storage, execution.namespace, execution.flow_id, execution.id, prefixes),
    }
    if execution.trigger is not None:
        ctx["trigger"] = execution.trigger.get("variables", {})
    return ctx
