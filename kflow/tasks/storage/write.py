"""``io.kestra.plugin.core.storage.Write``: stores a rendered text as a file."""

from __future__ import annotations

from typing import Any

from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import temp_file


class Write(Task):
    type = "io.kestra.plugin.core.storage.Write"
    aliases = ("io.kestra.core.tasks.storages.Write",)
    outputs = {"uri": Output("URI", "kestra:/// URI of the stored file")}
    properties = {
        "content": Prop(required=True, kind="string", doc="The text to store (rendered, UTF-8)"),
        "extension": Prop(kind="string", doc="The stored file's extension, e.g. .txt (default .tmp)"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        content = ctx.render(self.prop("content"))
        if not isinstance(content, str):
            from kflow.tasks.base import as_text

            content = as_text(content)
        ext = self.rendered(ctx, "extension")
        path = temp_file(ctx, str(ext) if ext else None)
        path.write_bytes(content.encode("utf-8"))
        return {"uri": ctx.put_file(path)}
