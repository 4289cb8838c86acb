"""How ``outputs`` and ``tasks`` look in expressions (Kestra's ``Execution.outputs()``).

A task run's outputs land at ``outputs[taskId]``, or under the iteration values of its
ancestors (outermost first) and its own value: ``outputs.sub['s1'].value``. Fragments are
deep-merged: maps recursively, two lists concatenated, a null never overwrites.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kflow.records import TaskRun
from kflow.secrets import decrypt_tree
from kflow.states import State


def deep_merge(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Merge ``source`` into ``target`` in place (Kestra's ``MapUtils.merge``)."""
    for key, value in source.items():
        if value is None:
            target.setdefault(key, None)
            continue
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            deep_merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(value)
        else:
            target[key] = value


def merge_run(view: dict[str, Any], task_id: str, keys: list[str], outputs: Mapping[str, Any]) -> None:
    """Merge one task run's (decrypted, copied) outputs at ``view[task_id][k1][k2]...``."""
    fragment: Any = decrypt_tree(dict(outputs))
    for key in reversed(keys):
        fragment = {key: fragment}
    deep_merge(view, {task_id: fragment})


def value_keys(run: TaskRun, ancestors: Iterable[TaskRun]) -> list[str]:
    """Iteration values of the ancestors that have one (outermost first), then the run's own."""
    keys = [a.value for a in ancestors if a.value is not None]
    if run.value is not None:
        keys.append(run.value)
    return keys


# One ``{"state": ...}`` map per state, shared by every valued entry: a ForEach over a
# million values kept a million identical small maps (184 bytes each). Nothing writes into
# them: set_state replaces entries, and expressions only read.
_STATE_ENTRIES = {state: {"state": state.value} for state in State}


def set_state(tasks: dict[str, Any], run: TaskRun) -> None:
    """``tasks.<id>.state`` or, for valued runs, ``tasks.<id>.<value>.state`` (last wins)."""
    if run.value is None:
        tasks[run.task_id] = {"state": run.state.current.value}
    else:
        entry = tasks.get(run.task_id)
        if not isinstance(entry, dict) or "state" in entry:
            entry = {}
            tasks[run.task_id] = entry
        entry[run.value] = _STATE_ENTRIES[run.state.current]


def ancestors_of(run: TaskRun, by_id: Mapping[str, TaskRun]) -> list[TaskRun]:
    """Outermost first."""
    chain: list[TaskRun] = []
    parent_id = run.parent_taskrun_id
    while parent_id is not None and parent_id in by_id:
        parent = by_id[parent_id]
        chain.append(parent)
        parent_id = parent.parent_taskrun_id
    chain.reverse()
    return chain


def build_views(runs: Sequence[TaskRun]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``outputs`` and ``tasks`` maps of a finished (stored) execution."""
    by_id = {r.id: r for r in runs}
    outputs: dict[str, Any] = {}
    tasks: dict[str, Any] = {}
    for run in runs:
        if run.outputs is not None:
            merge_run(outputs, run.task_id, value_keys(run, ancestors_of(run, by_id)), run.outputs)
        set_state(tasks, run)
    return outputs, tasks


def labels_view(labels: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """``labels`` in expressions: first value wins per key; ``system.*`` labels are nested
    (``labels.system.correlationId``), as Kestra's ``Label.toNestedMap`` gives them."""
    out: dict[str, Any] = {}
    for item in labels:
        key, value = item["key"], item["value"]
        if key.startswith("system."):
            system = out.setdefault("system", {})
            if isinstance(system, dict):
                system.setdefault(key[len("system.") :], value)
        else:
            out.setdefault(key, value)
    return out


def parents_entry(ancestors: list[TaskRun]) -> list[dict[str, Any]]:
    """``parents``: closest first, only ancestors with a value or non-empty outputs."""
    out: list[dict[str, Any]] = []
    for a in reversed(ancestors):
        if a.value is None and not a.outputs:
            continue
        entry: dict[str, Any] = {}
        if a.value is not None:
            entry["taskrun"] = {"value": a.value}
        if a.outputs:
            entry["outputs"] = decrypt_tree(a.outputs)
        out.append(entry)
    return out
