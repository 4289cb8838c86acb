"""``io.kestra.plugin.core.storage.DeduplicateItems``: keep the last item of each key of a
stored Ion file, in the order the survivors had."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.storage.common import check_uri, temp_file
from kflow.tasks.storage.items import items, render_on


class DeduplicateItems(Task):
    type = "io.kestra.plugin.core.storage.DeduplicateItems"
    aliases = ("io.kestra.core.tasks.storages.DeduplicateItems",)
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the Ion file of the items kept"),
        "numKeys": Output("LONG", "How many distinct keys there were"),
        "processedItemsTotal": Output("LONG", "How many items were read"),
        "droppedItemsTotal": Output("LONG", "How many items were dropped"),
    }
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// Ion file to deduplicate"),
        "expr": Prop(required=True, kind="string",
                     doc="The key of an item, rendered per item, e.g. {{ id }}"),
    }  # fmt: skip

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow import ion

        uri = check_uri(ctx, self.rendered(ctx, "from"), "from")
        key_expr = self.prop("expr")  # rendered per item, not beforehand
        if not isinstance(key_expr, str):
            raise TaskError("`expr` must be a string expression, e.g. '{{ id }}'")
        # first pass: the position of the last item of each key (the file is read twice,
        # never held in memory: only the keys are)
        last: dict[str, int] = {}
        processed = 0
        for index, (_line, item) in enumerate(items(ctx, uri)):
            last[render_on(ctx, key_expr, item)] = index
            processed = index + 1
        keep = set(last.values())
        path = temp_file(ctx, ".ion")
        with open(path, "w", encoding="utf-8") as out:
            for index, (_line, item) in enumerate(items(ctx, uri)):
                if index in keep:  # re-serialized, as Kestra's FileSerde writes it
                    out.write(ion.dumps_line(item) + "\n")
        return {"uri": ctx.put_file(path), "numKeys": len(last),
                "processedItemsTotal": processed, "droppedItemsTotal": processed - len(keep)}  # fmt: skip
