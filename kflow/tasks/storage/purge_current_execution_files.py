"""``io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles``: deletes every stored file
of the current execution."""

from __future__ import annotations

from typing import Any

from kflow.storage.base import execution_prefix, to_uri
from kflow.tasks.base import Output, RunContext, Task
from kflow.tasks.storage.common import services


class PurgeCurrentExecutionFiles(Task):
    type = "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles"
    aliases = (
        "io.kestra.core.tasks.storages.PurgeCurrentExecutionFiles",
        "io.kestra.core.tasks.storages.PurgeExecution",
        "io.kestra.plugin.core.storage.PurgeExecution",
    )
    outputs = {"uris": Output("ARRAY", "kestra:/// URIs of the deleted files")}
    properties = {}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        storage = services(ctx).storage
        prefix = to_uri(execution_prefix(ctx.namespace, ctx.flow_id, ctx.execution_id))
        uris = list(storage.list(prefix))
        for uri in uris:
            storage.delete(uri)
        return {"uris": uris}
