"""``io.kestra.plugin.core.debug.Return``: renders ``format`` into the ``value`` output."""

from __future__ import annotations

from typing import Any

from kflow.tasks.base import Output, Prop, RunContext, Task


class Return(Task):
    type = "io.kestra.plugin.core.debug.Return"
    aliases = ("io.kestra.core.tasks.debugs.Return",)
    outputs = {"value": Output("STRING", "The rendered `format`; absent when `format` is null")}
    properties = {"format": Prop(kind="string", doc="the text to render into `value`")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        fmt = self.prop("format")
        if fmt is None:
            return {}  # Kestra drops null outputs: no `value` at all
        value = ctx.render(fmt)
        ctx.log("DEBUG", str(value))
        ctx.metric("length", "counter", len(str(value)))
        return {"value": value if isinstance(value, str) else _as_text(value)}


def _as_text(value: Any) -> str:
    from kflow.expr.values import to_string

    return to_string(value)
