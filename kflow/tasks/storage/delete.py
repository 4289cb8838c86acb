"""``io.kestra.plugin.core.storage.Delete``: deletes a stored file."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, services


class Delete(Task):
    type = "io.kestra.plugin.core.storage.Delete"
    aliases = ("io.kestra.core.tasks.storages.Delete",)
    outputs = {
        "uri": Output("URI", "The deleted file's URI"),
        "deleted": Output("BOOLEAN", "Whether a file was deleted"),
    }
    properties = {
        "uri": Prop(required=True, kind="string", doc="The kestra:/// file to delete"),
        "errorOnMissing": Prop(default=False, kind="bool", doc="Fail when the file is missing"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "uri"), "uri")
        storage = services(ctx).storage
        deleted = storage.exists(uri) and storage.delete(uri) > 0
        if not deleted and self.flag(ctx, "errorOnMissing"):
            raise TaskError(f"Unable to find file '{uri}'")
        return {"uri": uri, "deleted": bool(deleted)}
