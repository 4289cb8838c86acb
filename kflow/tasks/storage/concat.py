"""``io.kestra.plugin.core.storage.Concat``: concatenates stored files into one."""

from __future__ import annotations

import json
import shutil
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, temp_file


class Concat(Task):
    type = "io.kestra.plugin.core.storage.Concat"
    aliases = ("io.kestra.core.tasks.storages.Concat",)
    outputs = {"uri": Output("URI", "kestra:/// URI of the concatenated file")}
    properties = {
        "files": Prop(
            required=True,
            doc="The kestra:/// files: a list (each item rendered) or a text rendering "
            "to a JSON array of URIs",
        ),
        "separator": Prop(
            kind="string", doc="Written after every file, the last included (not rendered)"
        ),
        "extension": Prop(default=".tmp", kind="string", doc="The result's extension (not rendered)"),
    }

    def _files(self, ctx: RunContext) -> list[str]:
        files = self.prop("files")
        if isinstance(files, list):
            return [str(ctx.render(item)) for item in files]
        if isinstance(files, str):
            text = ctx.render(files)
            try:
                value = json.loads(text) if isinstance(text, str) else text
            except ValueError as exc:
                raise TaskError(
                    f"Invalid `files` properties: {text!r} is not a JSON array of URIs"
                ) from exc
            if not isinstance(value, list):
                raise TaskError(f"Invalid `files` properties: {text!r} is not a JSON array of URIs")
            return [str(item) for item in value]
        from kflow.expr.values import java_class_name  # the class Kestra's message names

        raise TaskError(f"Invalid `files` properties with type 'class {java_class_name(files)}'")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uris = [check_uri(ctx, uri, "files") for uri in self._files(ctx)]
        separator = self.prop("separator")
        sep = None if separator is None else str(separator).encode("utf-8")
        path = temp_file(ctx, str(self.prop("extension")))
        with open(path, "wb") as out:
            for uri in uris:
                with ctx.open_file(uri) as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
                if sep is not None:
                    out.write(sep)
        return {"uri": ctx.put_file(path)}
