"""``io.kestra.plugin.core.output.OutputValues``: the rendered ``values`` map as an output."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task


class OutputValues(Task):
    type = "io.kestra.plugin.core.output.OutputValues"
    aliases = ("io.kestra.core.tasks.outputs.OutputValues",)
    outputs = {"values": Output("MAP", "The rendered `values` map", dynamic=True)}
    properties = {"values": Prop(kind="any", doc="a map of output names to values")}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        values = self.prop("values")
        if values is None:
            return {"values": {}}
        if isinstance(values, str):
            # newest Kestra: a string expression that renders to a JSON object
            import json

            rendered = ctx.render(values)
            try:
                parsed = json.loads(rendered)
            except ValueError as exc:
                raise TaskError(f"'values' must render to a JSON object: {exc}") from exc
            if not isinstance(parsed, dict):
                raise TaskError("'values' must render to a JSON object")
            return {"values": parsed}
        if not isinstance(values, dict):
            raise TaskError("'values' must be a map of names to values")
        return {"values": ctx.render(values)}
