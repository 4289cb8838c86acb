"""``io.kestra.plugin.core.execution.UnsetVariables``: removes keys from the execution's
variables (``{{ vars }}``)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task


class UnsetVariables(Task):
    """Kestra ``execution/UnsetVariables.java``: each name of ``variables`` (rendered) is
    removed; a dotted name (``a.b``) removes a key of a nested map. As in Kestra, a missing
    last key is simply not there to remove; a missing or non-map parent (``a`` of ``a.b``)
    fails the task unless ``ignoreMissing`` is true (Kestra fails it either way, with a
    NullPointerException)."""

    type = "io.kestra.plugin.core.execution.UnsetVariables"
    outputs = {}
    properties = {
        "variables": Prop(required=True, doc="The names of the variables to remove"),
        "ignoreMissing": Prop(
            default=False, kind="bool", doc="Ignore a name whose parent map is missing"
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        names = self.string_list(ctx, "variables")
        ignore_missing = self.flag(ctx, "ignoreMissing")
        variables = ctx.execution_variables()
        for name in names:
            _remove(variables, name, name, ignore_missing)
        ctx.update_variables(variables)
        return {}


def _remove(variables: MutableMapping[str, Any], key: str, name: str, ignore_missing: bool) -> None:
    prefix, dot, rest = key.partition(".")
    if not dot:
        variables.pop(key, None)
        return
    inner = variables.get(prefix)
    if not isinstance(inner, MutableMapping):
        if ignore_missing:
            return
        raise TaskError(
            f"cannot unset variable '{name}': '{prefix}' is not a map of the execution's "
            "variables (set ignoreMissing: true to skip it)"
        )
    _remove(inner, rest, name, ignore_missing)
