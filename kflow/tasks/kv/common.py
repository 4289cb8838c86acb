"""What the KV tasks share: the ``namespace`` property and the store it names."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.kv import NamespaceKV
from kflow.tasks.base import Prop, RunContext, Task

FLOW_NAMESPACE = "{{ flow.namespace }}"

NAMESPACE = Prop(
    default=FLOW_NAMESPACE,
    kind="string",
    doc="The namespace of the KV pair (default: the flow's)",
)
KEY = Prop(required=True, kind="string", doc="The key")


def kv_store(ctx: RunContext) -> Any:
    """The execution store, which holds the KV store."""
    services = ctx.variables.get("_kflow")
    store = getattr(services, "store", None)
    if store is None:
        raise TaskError("the KV tasks need an execution store: run them in a flow")
    return store


def text(task: Task, ctx: RunContext, name: str) -> str | None:
    """A string property rendered (None when absent)."""
    value = task.rendered(ctx, name)
    return None if value is None else str(value)


def namespace_kv(task: Task, ctx: RunContext) -> NamespaceKV:
    """The KV store of the task's ``namespace`` (rendered; the flow's by default)."""
    return NamespaceKV(kv_store(ctx), text(task, ctx, "namespace") or ctx.namespace)
