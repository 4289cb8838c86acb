"""``io.kestra.plugin.core.kv.GetKeys``: the keys of a namespace (``outputs.t.keys``)."""

from __future__ import annotations

from typing import Any

from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.kv.common import NAMESPACE, namespace_kv, text


class GetKeys(Task):
    type = "io.kestra.plugin.core.kv.GetKeys"
    outputs = {"keys": Output("ARRAY", "The keys (not expired), in key order")}
    properties = {
        "prefix": Prop(kind="string", doc="Only the keys starting with this"),
        "namespace": NAMESPACE,
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"keys": namespace_kv(self, ctx).keys(text(self, ctx, "prefix"))}
