"""``io.kestra.plugin.core.namespace.DownloadFiles``: copy namespace files into this
execution's storage.

``files`` is a pattern or a list of them, matched against ``/dir/file`` as Kestra's
``PathMatcherPredicate`` does (a pattern starting with a word character matches at any
depth; ``**`` crosses folders). Output ``files``: ``/dir/file`` → the stored copy's
``kestra:///`` URI (named ``destination`` + ``dir/file``, one ``/`` between them); metric
``downloaded``.
"""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

from kflow.storage.namespace import NamespaceFiles
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.namespace.common import FILES, as_task_error, join, namespace_files, namespace_prop
from kflow.tasks.namespace.common import patterns as file_patterns


class DownloadFiles(Task):
    type = "io.kestra.plugin.core.namespace.DownloadFiles"
    outputs = {
        "files": Output("MAP", "Namespace file path → kestra:/// URI of its copy", dynamic=True),
    }
    properties = {
        "namespace": namespace_prop(required=True),
        "files": FILES,
        "destination": Prop(default="", kind="string", doc="Folder of the copies"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        files = namespace_files(self, ctx)
        patterns = file_patterns(
            self, ctx, "The files property must be a string or a list of strings"
        )
        destination = str(self.rendered(ctx, "destination") or "")
        matched = as_task_error("DownloadFiles", lambda: files.find(patterns))
        workdir = ctx.working_dir()
        downloaded: dict[str, str] = {}
        for path in matched:
            local = workdir / f"download-{len(downloaded)}"
            as_task_error(f"cannot download {path!r}", partial(_copy, files, path, local))
            name = join(destination, path).lstrip("/")
            downloaded[path] = as_task_error(
                f"cannot store {path!r}", partial(ctx.put_file, local, name)
            )
            ctx.log("DEBUG", f"Downloaded {downloaded[path]}")
        ctx.metric("downloaded", "counter", len(downloaded))
        return {"files": downloaded}


def _copy(files: NamespaceFiles, path: str, local: Path) -> None:
    with files.open(path) as src, open(local, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
