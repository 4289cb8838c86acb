"""``io.kestra.plugin.core.storage.FilterItems``: keep (or drop) the items of a stored Ion
file for which an expression is true."""

from __future__ import annotations

from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task, truthy_string
from kflow.tasks.storage.common import check_uri, temp_file
from kflow.tasks.storage.items import items, render_on

_TYPES = ("INCLUDE", "EXCLUDE")
_ON_ERROR = ("FAIL", "INCLUDE", "EXCLUDE")


class FilterItems(Task):
    type = "io.kestra.plugin.core.storage.FilterItems"
    aliases = ("io.kestra.core.tasks.storages.FilterItems",)
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the Ion file of the items kept"),
        "processedItemsTotal": Output("LONG", "How many items were read"),
        "droppedItemsTotal": Output("LONG", "How many items were dropped"),
    }
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// Ion file to filter"),
        "filterCondition": Prop(
            required=True, kind="string",
            doc="Rendered per item, the item's fields as variables, e.g. {{ value > 3 }}",
        ),
        "filterType": Prop(default="INCLUDE", kind="string",
                           doc="INCLUDE keeps the items whose condition is true, EXCLUDE drops them"),
        "errorOrNullBehavior": Prop(
            default="FAIL", kind="string",
            doc="FAIL, INCLUDE or EXCLUDE an item whose condition fails or renders null",
        ),
    }  # fmt: skip

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = check_uri(ctx, self.rendered(ctx, "from"), "from")
        condition = self.prop("filterCondition")  # rendered per item, not beforehand
        if not isinstance(condition, str):
            raise TaskError("`filterCondition` must be a string expression, e.g. '{{ value > 3 }}'")
        keep_true = self._choice(ctx, "filterType", _TYPES) == "INCLUDE"
        on_error = self._choice(ctx, "errorOrNullBehavior", _ON_ERROR)
        processed = dropped = 0
        path = temp_file(ctx, ".ion")
        with open(path, "w", encoding="utf-8") as out:
            for line, item in items(ctx, uri):
                processed += 1
                try:
                    result: str | None = render_on(ctx, condition, item)
                except KflowError:
                    if on_error == "FAIL":
                        raise  # the expression's own error, as Kestra rethrows it
                    result = None
                if result is None:  # failed to render (Kestra: or rendered null)
                    keep = on_error == "INCLUDE"
                else:
                    keep = truthy_string(result.strip()) == keep_true
                if keep:  # the line as it was, as Kestra copies it
                    out.write(line + "\n")
                else:
                    dropped += 1
        return {"uri": ctx.put_file(path), "processedItemsTotal": processed,
                "droppedItemsTotal": dropped}  # fmt: skip

    def _choice(self, ctx: RunContext, name: str, allowed: tuple[str, ...]) -> str:
        value = str(self.rendered(ctx, name)).strip().upper()
        if value not in allowed:
            raise TaskError(f"`{name}` must be one of {', '.join(allowed)}, not {value!r}")
        return value
