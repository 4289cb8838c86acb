"""``io.kestra.plugin.core.execution.Labels``: adds or overrides the execution's labels."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task, as_text


class Labels(Task):
    """Kestra ``execution/Labels.java``: ``labels`` is a map (keys and values rendered), a
    list of ``{key, value}`` maps, or a string rendering to a JSON object. A key starting
    with ``system.`` fails the task; others are merged into the execution's labels, which
    later tasks read as ``{{ labels.key }}`` and ``kflow`` stores with the execution."""

    type = "io.kestra.plugin.core.execution.Labels"
    aliases = ("io.kestra.core.tasks.executions.Labels",)
    outputs = {}
    properties = {
        "labels": Prop(required=True, doc="a key: value map, a list of {key, value}, or JSON"),
    }

    def _labels(self, ctx: RunContext) -> dict[str, str]:
        value = self.prop("labels")
        if isinstance(value, str):
            text = ctx.render(value)
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                raise TaskError(f"labels: {text!r} is not a JSON object: {exc}") from exc
            if not isinstance(parsed, Mapping):
                raise TaskError(f"labels: {text!r} is not a JSON object")
            return {str(k): as_text(v) for k, v in parsed.items()}
        if isinstance(value, list):
            out: dict[str, str] = {}
            for item in value:
                if not isinstance(item, Mapping):
                    raise TaskError(f"Unknown value type: {type(item).__name__}")
                out[as_text(ctx.render(item.get("key")))] = as_text(ctx.render(item.get("value")))
            return out
        if isinstance(value, Mapping):
            return {as_text(ctx.render(str(k))): as_text(ctx.render(v)) for k, v in value.items()}
        raise TaskError(f"Unknown value type: {type(value).__name__}")

    def run(self, ctx: RunContext) -> dict[str, Any]:
        labels = self._labels(ctx)
        for key, value in labels.items():
            if key.startswith("system."):
                raise TaskError(
                    "System labels can only be set by Kestra itself, offending label: "
                    f"{key}={value}"
                )
        ctx.update_labels(labels)
        return {}
