"""``io.kestra.plugin.core.kv.Get``: the value of a KV pair (``outputs.t.value``)."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.kv import NamespaceKV, get_inherited, plain
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.kv.common import KEY, NAMESPACE, kv_store, text


class Get(Task):
    type = "io.kestra.plugin.core.kv.Get"
    outputs = {"value": Output("OBJECT", "The value, of the type it was set with (null if none)")}
    properties = {
        "key": KEY,
        "namespace": NAMESPACE,
        "errorOnMissing": Prop(default=False, kind="bool", doc="Fail when the key has no value"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        store = kv_store(ctx)
        namespace = text(self, ctx, "namespace") or ctx.namespace
        key = text(self, ctx, "key") or ""
        try:
            if namespace == ctx.namespace:
                # the flow's own namespace: parents are searched too, as in Kestra
                value = get_inherited(store, namespace, key)
            else:
                value = NamespaceKV(store, namespace).get(key)
            found = True
        except KeyError:
            value, found = None, False
        if not found and self.flag(ctx, "errorOnMissing"):
            raise TaskError(
                f"No value found for key '{key}' in namespace '{namespace}' and "
                "`errorOnMissing` is set to true"
            )
        return {"value": plain(value)}
