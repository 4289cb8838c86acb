"""``io.kestra.plugin.core.storage.LocalFiles`` (deprecated in Kestra 0.17, still runs):
files written into a working directory (``inputs``), then files of that directory stored
(``outputs``).

The task is meant to sit inside a ``WorkingDirectory``, whose directory the sibling tasks
share (``ctx.working_dir()`` gives it). Outside one, it gets a fresh directory of its own:
it writes ``inputs``, captures ``outputs`` from that same directory, and the directory goes
away: useful to turn inline text or stored files into named stored files (``uris``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task, as_text
from kflow.tasks.scripts.files import (
    compile_output_patterns,
    find_output_files,
    inside,
    upload_output_files,
)
from kflow.tasks.storage.common import check_uri

_CHUNK = 1 << 20


class LocalFiles(Task):
    """Writes ``inputs`` into a fresh directory, then stores the files matching ``outputs``."""

    type = "io.kestra.plugin.core.storage.LocalFiles"
    aliases = ("io.kestra.core.tasks.storages.LocalFiles",)
    outputs = {
        "uris": Output("MAP", "Relative path → kestra:/// URI of each stored file", dynamic=True),
    }
    properties = {
        "inputs": Prop(
            kind="any",
            doc="File name → text or kestra:/// URI (a map, or a JSON object / expression)",
        ),
        "outputs": Prop(kind="list", doc="Globs of files to store, relative to the directory"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        ctx.log(
            "WARN",
            "LocalFiles is deprecated in Kestra: use the inputFiles/outputFiles of script "
            "tasks or of a WorkingDirectory",
        )
        workdir = ctx.working_dir()
        for name, value in self._inputs(ctx).items():
            target = inside(workdir, name, "`inputs` entry")
            target.parent.mkdir(parents=True, exist_ok=True)
            if value is None:
                target.touch()
            elif value.startswith("kestra://"):
                uri = check_uri(ctx, value, f"inputs.{name}")
                try:
                    with ctx.open_file(uri) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
                except KflowError as exc:
                    raise TaskError(f"`inputs` entry {name!r}: {exc.message}") from exc
            else:
                target.write_bytes(value.encode("utf-8"))
        patterns = self.string_list(ctx, "outputs")
        try:
            compiled = compile_output_patterns(workdir, patterns)
            found = find_output_files(workdir, compiled)
        except TaskError as exc:
            raise TaskError(exc.message.replace("outputFiles", "`outputs`")) from exc
        return {"uris": upload_output_files(ctx, workdir, found)}

    def _inputs(self, ctx: RunContext) -> dict[str, str | None]:
        """``inputs`` rendered: a map (null values dropped, keys and values rendered), or
        text rendering to a JSON object (a null value there makes an empty file), as
        Kestra's ``PluginUtilsService.transformInputFiles`` reads them."""
        value = self.prop("inputs")
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return {
                as_text(ctx.render(k)): as_text(ctx.render(v))
                for k, v in value.items()
                if v is not None
            }
        if not isinstance(value, str):
            raise TaskError(
                f"Invalid `files` properties with type '{type(value).__name__}': "
                "`inputs` must be a map of file name to content, or a JSON object"
            )
        rendered = ctx.render_typed(value)
        if isinstance(rendered, str):
            try:
                rendered = json.loads(rendered)
            except ValueError as exc:
                raise TaskError(f"`inputs` must render to a JSON object: {exc}") from exc
        if not isinstance(rendered, Mapping):
            raise TaskError(f"`inputs` must render to a JSON object, got {as_text(rendered)!r}")
        # FilesService renders each file name once more
        return {
            as_text(ctx.render(as_text(k))): None if v is None else as_text(v)
            for k, v in rendered.items()
        }
