"""``io.kestra.plugin.core.kv.Delete``: remove a KV pair (``outputs.t.deleted``)."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.kv.common import KEY, NAMESPACE, namespace_kv, text


class Delete(Task):
    type = "io.kestra.plugin.core.kv.Delete"
    outputs = {"deleted": Output("BOOLEAN", "Whether the key had a value that was deleted")}
    properties = {
        "key": KEY,
        "namespace": NAMESPACE,
        "errorOnMissing": Prop(default=False, kind="bool", doc="Fail when the key has no value"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        store = namespace_kv(self, ctx)
        key = text(self, ctx, "key") or ""
        deleted = store.delete(key)
        if not deleted and self.flag(ctx, "errorOnMissing"):
            raise TaskError(
                f"No value found for key '{key}' in namespace '{store.namespace}' and "
                "`errorOnMissing` is set to true"
            )
        return {"deleted": deleted}
