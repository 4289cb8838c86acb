"""``io.kestra.plugin.core.execution.SetVariables``: merges a map into the execution's
variables, which later tasks read as ``{{ vars.x }}``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task


def deep_merge(current: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Kestra's ``MapUtils.deepMerge``: a map merged into a map key by key, any other value
    replaced; keys keep their first position."""
    merged = dict(current)
    for key, value in new.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


class SetVariables(Task):
    """Kestra ``execution/SetVariables.java``: ``variables`` (keys and values rendered) is
    deep-merged into the execution's variables, which start as the flow's ``variables``.
    With ``overwrite: false`` a key that already exists fails the task and changes nothing.
    The variables are stored with the execution (a resumed run keeps them)."""

    type = "io.kestra.plugin.core.execution.SetVariables"
    outputs = {}
    properties = {
        "variables": Prop(required=True, doc="The variables: a map, or an expression giving one"),
        "overwrite": Prop(
            default=True, kind="bool", doc="Replace existing variables (false: fail instead)"
        ),
    }

    def _variables(self, ctx: RunContext) -> dict[str, Any]:
        value = self.prop("variables")
        if isinstance(value, str):
            value = ctx.render_typed(value)
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError as exc:
                    raise TaskError(f"variables: {value!r} is not a JSON object: {exc}") from exc
        elif isinstance(value, Mapping):
            value = {str(ctx.render(str(k))): ctx.render(v) for k, v in value.items()}
        if not isinstance(value, Mapping):
            raise TaskError(f"variables must be a map, not {type(value).__name__}")
        return dict(value)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        new = self._variables(ctx)
        current = ctx.execution_variables()
        if not self.flag(ctx, "overwrite"):
            duplicated = [key for key in new if key in current]
            if duplicated:
                raise TaskError(
                    "`overwrite` is set to false and the following variables already exist: "
                    + ",".join(duplicated)
                )
        ctx.update_variables(deep_merge(current, new))
        return {}
