"""``io.kestra.plugin.core.kv.Set``: create or replace a KV pair."""

from __future__ import annotations

from typing import Any

from kflow.kv import KV_TYPES, convert, parse_ttl
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.kv.common import KEY, NAMESPACE, namespace_kv, text


class Set(Task):
    type = "io.kestra.plugin.core.kv.Set"
    outputs = {}
    properties = {
        "key": KEY,
        "value": Prop(
            required=True,
            doc="The value; a lone {{ expression }} keeps its type (a map, a number...)",
        ),
        "namespace": NAMESPACE,
        "overwrite": Prop(
            default=True, kind="bool", doc="Replace an existing value (false: fail instead)"
        ),
        "ttl": Prop(kind="duration", doc="Time to live (PT1H): the pair expires then"),
        "kvType": Prop(
            kind="string",
            allowed=KV_TYPES,
            refused="not a Kestra kvType",
            doc="Read a text value as this type: " + ", ".join(KV_TYPES),
        ),
        "kvDescription": Prop(kind="string", doc="A description of the pair"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        store = namespace_kv(self, ctx)
        key = text(self, ctx, "key")
        value = ctx.render_typed(self.prop("value"))
        kv_type = text(self, ctx, "kvType")
        if kv_type:
            value = convert(value, kv_type)
        raw_ttl = self.prop("ttl")
        ttl = parse_ttl(ctx.render(raw_ttl) if isinstance(raw_ttl, str) else raw_ttl)
        store.put(
            key or "",
            value,
            ttl=ttl,
            overwrite=self.flag(ctx, "overwrite"),
            description=text(self, ctx, "kvDescription"),
        )
        return {}
