"""``io.kestra.plugin.core.namespace.DeleteFiles``: delete the namespace files matching
``files`` (a pattern or a list, matched as by ``DownloadFiles``). ``deleteParentFolder``
also removes the folders left empty. Metric ``deleted``; no outputs (Kestra sets none).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.namespace.common import FILES, as_task_error, namespace_files, namespace_prop
from kflow.tasks.namespace.common import patterns as file_patterns


class DeleteFiles(Task):
    type = "io.kestra.plugin.core.namespace.DeleteFiles"
    outputs = {}
    properties = {
        "namespace": namespace_prop(required=True),
        "files": FILES,
        "deleteParentFolder": Prop(
            default=False, kind="bool", doc="Also delete the folders left empty"
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        files = namespace_files(self, ctx)
        patterns = file_patterns(self, ctx, "Files must be a String or a list of String")
        prune = self.flag(ctx, "deleteParentFolder")
        matched = as_task_error("DeleteFiles", lambda: files.find(patterns))
        deleted = 0
        for path in matched:
            if as_task_error(f"cannot delete {path!r}", partial(files.delete, path, prune)):
                ctx.log("DEBUG", f"Deleted {path}")
                deleted += 1
        ctx.metric("deleted", "counter", deleted)
        return {}
