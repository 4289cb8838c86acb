"""The expression context of a finished execution, rebuilt from the store (Debug Expression).

Kestra's Debug Expression builds this context without decrypting (``RunContextFactory.of(...,
decryptVariables=false)``, tested by ``ExecutionControllerTest.evalKeepEncryptedValues``): a
SECRET input, a SECRET flow output or a script's ``encryptedOutputs`` value renders as its
stored ``{"type":"io.kestra.datatype:aes_encrypted","value":"..."}``. Tasks, which get the
plaintext, are rendered by the executor, not from here.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from kflow.engine.context import Services, kestra_envs
from kflow.engine.outputs import ancestors_of, deep_merge, labels_view, set_state, value_keys
from kflow.records import Execution, TaskRun, iso_instant
from kflow.secrets import decrypt_tree
from kflow.storage.base import execution_prefix


def _views(runs: Sequence[TaskRun], decrypt: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """``outputs`` and ``tasks`` as :func:`kflow.engine.outputs.build_views` makes them, but
    with encrypted values kept as stored unless ``decrypt``."""
    by_id = {r.id: r for r in runs}
    outputs: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    for run in runs:
        if run.outputs is not None:
            fragment: Any = decrypt_tree(run.outputs) if decrypt else copy.deepcopy(run.outputs)
            for key in reversed(value_keys(run, ancestors_of(run, by_id))):
                fragment = {key: fragment}
            deep_merge(outputs, {run.task_id: fragment})
        set_state(tasks, run)
    return outputs, tasks


def execution_context(
    execution: Execution,
    flow_source: str,
    storage: Any,
    parent: Execution | None = None,
    *,
    decrypt: bool = False,
    store: Any = None,
) -> dict[str, Any]:
    """What ``{{ ... }}`` sees after the run: flow, execution, inputs, outputs, tasks, vars...

    Encrypted values stay encrypted, as in Kestra's Debug Expression; ``decrypt=True``
    (``kflow eval --decrypt``) gives their plaintext, as tasks saw it. ``store`` (the
    execution store) lets ``kv()`` read the KV store as it is now.
    """
    from kflow.flow.inputs import input_context
    from kflow.flow.loader import parse_yaml

    try:
        data = parse_yaml(flow_source) or {}
    except Exception:  # noqa: BLE001 - the stored source parsed when it ran
        data = {}
    variables = data.get("variables") if isinstance(data, dict) else None
    if execution.variables is not None:  # changed by SetVariables/UnsetVariables
        variables = execution.variables
    outputs, tasks = _views(execution.task_runs, decrypt)
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
        exec_vars["outputs"] = (
            decrypt_tree(execution.outputs) if decrypt else copy.deepcopy(execution.outputs)
        )
    ctx: dict[str, Any] = {
        "flow": {
            "id": execution.flow_id,
            "namespace": execution.namespace,
            "revision": execution.flow_revision,
        },
        "execution": exec_vars,
        "outputs": outputs,
        "tasks": tasks,
        "inputs": input_context(execution.inputs) if decrypt else copy.deepcopy(execution.inputs),
        "vars": dict(variables) if isinstance(variables, dict) else {},
        "labels": labels,
        "envs": kestra_envs(),
        "globals": {},
        "_kflow": Services(
            storage, execution.namespace, execution.flow_id, execution.id, prefixes, store=store
        ),
    }
    if execution.trigger is not None:
        ctx["trigger"] = execution.trigger.get("variables", {})
    return ctx
