"""``io.kestra.plugin.core.storage.Reverse``: a stored file with its lines in reverse order."""

from __future__ import annotations

import codecs
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, extension_of, read_lines, temp_file


class Reverse(Task):
    type = "io.kestra.plugin.core.storage.Reverse"
    aliases = ("io.kestra.core.tasks.storages.Reverse",)
    outputs = {"uri": Output("URI", "kestra:/// URI of the reversed file (source extension)")}
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// file to reverse"),
        "separator": Prop(default="\n", kind="string", doc="Written after every line"),
        "charset": Prop(default="UTF-8", kind="string", doc="The file's charset"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "from"), "from")
        separator = str(self.rendered(ctx, "separator"))
        charset = str(self.rendered(ctx, "charset"))
        try:
            codecs.lookup(charset)
        except LookupError as exc:
            raise TaskError(f"unknown charset {charset!r}") from exc
        lines = read_lines(ctx, uri, charset)
        path = temp_file(ctx, extension_of(uri))
        with open(path, "wb") as out:
            for line in reversed(lines):
                out.write((line + separator).encode(charset))
        return {"uri": ctx.put_file(path)}
