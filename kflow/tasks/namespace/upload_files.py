"""``io.kestra.plugin.core.namespace.UploadFiles``: store files as namespace files.

``files`` are patterns matched in the working directory (the shared one inside a
``WorkingDirectory``): each match is uploaded to ``destination`` + its relative path.
``filesMap`` maps a namespace file path to a ``kestra:///`` URI (a map, or a JSON object
as text); a URI that does not exist is skipped, as in Kestra. ``conflict`` decides what an
existing file becomes: OVERWRITE (default), ERROR, SKIP. No outputs (Kestra sets none).

Where the files go is where ``read()`` reads them: the folder the run binds to the
namespace, else the kflow home (:mod:`kflow.storage.namespace`). Two kflow choices where
Kestra glues strings: ``destination`` and a ``filesMap`` key are joined with one ``/``
(Kestra's ``/scripts`` + ``a.py`` gives ``/scriptsa.py``), and a ``kestra://`` URI in
``files`` is uploaded under its file name, as Kestra did before 0.19.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from typing import Any

from kflow.errors import TaskError
from kflow.storage.namespace import CONFLICTS, NamespaceFiles
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.namespace.common import as_task_error, join, namespace_files, namespace_prop
from kflow.tasks.scripts.files import compile_output_patterns, find_output_files


class UploadFiles(Task):
    type = "io.kestra.plugin.core.namespace.UploadFiles"
    outputs = {}
    properties = {
        "namespace": namespace_prop(required=False),
        "files": Prop(kind="list", doc="Patterns of working-directory files to upload"),
        "filesMap": Prop(kind="any", doc="Namespace file path → kestra:/// URI to upload"),
        "destination": Prop(default="/", kind="string", doc="Folder the files go to"),
        "conflict": Prop(
            default="OVERWRITE", kind="string", allowed=CONFLICTS, doc="OVERWRITE | ERROR | SKIP"
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        files = namespace_files(self, ctx)
        destination = "/" + str(self.rendered(ctx, "destination") or "").lstrip("/")
        conflict = str(self.rendered(ctx, "conflict") or "OVERWRITE").upper()
        if conflict not in CONFLICTS:
            raise TaskError(f"conflict must be one of {', '.join(CONFLICTS)}, got {conflict!r}")
        if self.prop("files") is None and self.prop("filesMap") is None:
            raise TaskError("files or filesMap is required")
        uploaded = 0
        entries = self.string_list(ctx, "files")
        for uri in (e for e in entries if e.startswith("kestra://")):
            name = uri.rstrip("/").rsplit("/", 1)[-1]
            uploaded += self._put_uri(ctx, files, join(destination, name), uri, conflict)
        patterns = [e for e in entries if not e.startswith("kestra://")]
        if patterns:
            workdir = ctx.working_dir()
            for local in find_output_files(workdir, compile_output_patterns(workdir, patterns)):
                target = join(destination, local.relative_to(workdir).as_posix())
                uploaded += as_task_error(
                    f"cannot upload {target!r}", partial(files.put, target, local, conflict)
                )
        for target, uri in self._files_map(ctx).items():
            uploaded += self._put_uri(ctx, files, join(destination, target), uri, conflict)
        ctx.log("INFO", f"Uploaded {uploaded} files to namespace '{files.namespace}'")
        return {}

    def _files_map(self, ctx: RunContext) -> dict[str, str]:
        value = self.prop("filesMap")
        if value is None:
            return {}
        rendered = ctx.render_typed(value) if isinstance(value, str) else ctx.render(value)
        if isinstance(rendered, str):
            try:
                rendered = json.loads(rendered)
            except ValueError as exc:
                raise TaskError(f"filesMap must be a map or a JSON object: {exc}") from exc
        if not isinstance(rendered, Mapping) or not all(
            isinstance(v, str) for v in rendered.values()
        ):
            raise TaskError("filesMap must be a Map<String, String>")
        return {str(k): v for k, v in rendered.items()}

    @staticmethod
    def _put_uri(
        ctx: RunContext, files: NamespaceFiles, target: str, uri: str, conflict: str
    ) -> int:
        exists = as_task_error(f"cannot read {uri}", lambda: files.storage.exists(uri))
        if not exists:
            ctx.log("INFO", f"{uri} does not exist: not uploaded to {target!r}")
            return 0

        def put() -> bool:
            with ctx.open_file(uri) as src:
                return files.put(target, src, conflict)

        return int(as_task_error(f"cannot upload {target!r}", put))
