"""``io.kestra.plugin.core.storage.Size``: the size in bytes of a stored file."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, services


class Size(Task):
    type = "io.kestra.plugin.core.storage.Size"
    aliases = ("io.kestra.core.tasks.storages.Size",)
    outputs = {"size": Output("LONG", "The file's size in bytes")}
    properties = {"uri": Prop(required=True, kind="string", doc="The kestra:/// file to measure")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "uri"), "uri")
        storage = services(ctx).storage
        if not storage.exists(uri):
            raise TaskError(f"Unable to find file '{uri}'")
        return {"size": int(storage.size(uri))}
