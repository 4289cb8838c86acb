"""``io.kestra.plugin.core.flow.ForEach``: its tasks once per value, outputs kept per value.

Each value becomes the string ``taskrun.value`` of the direct children: strings as is,
anything else as compact JSON (so ``outputs.sub['{"k":1}']`` matches Kestra's keys).
Values are de-duplicated; a null value is an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, overload

from kflow.errors import TaskError
from kflow.tasks.base import ChildGroup, FlowablePlan, FlowableTask, Prop, RunContext


def iteration_values(raw: Any, ctx: RunContext, task_name: str = "Each") -> list[str]:
    """The rendered, de-duplicated iteration values as strings (FlowableUtils.resolveEachTasks)."""
    from kflow.expr.values import to_json

    if isinstance(raw, str):
        rendered = ctx.render(raw)
        try:
            values = json.loads(rendered) if isinstance(rendered, str) else rendered
        except ValueError as exc:
            raise TaskError(
                f"'values' must render to a JSON array, got {str(rendered)[:80]!r}: {exc}"
            ) from exc
        if not isinstance(values, list):
            raise TaskError(f"'values' must render to a JSON array, got {str(rendered)[:80]!r}")
    elif isinstance(raw, list):
        values = [ctx.render(v) if isinstance(v, (str, dict)) else v for v in raw]
    else:
        raise TaskError("'values' must be a list or a JSON array string")
    nulls = sum(1 for v in values if v is None)
    if nulls:
        raise TaskError(f"Found '{nulls}' null values on {task_name}, with values={values}")
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        text = v if isinstance(v, str) else to_json(v)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


class ForEach(FlowableTask):
    type = "io.kestra.plugin.core.flow.ForEach"
    iterates = True
    outputs = {}
    properties = {
        "values": Prop(required=True, doc="a list, or a JSON array string / expression"),
        "concurrencyLimit": Prop(default=1, kind="int", doc="1 = one at a time, 0 = all at once"),
        "tasks": Prop(required=True, kind="tasks"),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        limit = spec.props.get("concurrencyLimit")
        if isinstance(limit, int) and limit < 0:
            return ["'concurrencyLimit' must be greater than or equal to 0"]
        if spec.props.get("values", 0) is None:
            return ["'values' must not be null"]
        return []

    def plan(self, ctx: RunContext) -> FlowablePlan:
        values = iteration_values(self.prop("values"), ctx, "ForEach")
        limit_raw = self.prop("concurrencyLimit")
        try:
            limit = int(ctx.render(limit_raw)) if limit_raw is not None else 1
        except (TypeError, ValueError) as exc:
            raise TaskError("'concurrencyLimit' must be an integer") from exc
        tasks = tuple(self.prop("tasks"))
        return FlowablePlan(groups=ValueGroups(tasks, values), concurrency=limit)


class ValueGroups(Sequence[ChildGroup]):
    """One group per iteration value, made when the executor reaches it: a million values
    would otherwise be a million ChildGroup objects held for the whole loop."""

    def __init__(self, tasks: tuple[Any, ...], values: list[str]) -> None:
        self.tasks = tasks
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> ChildGroup: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ChildGroup]: ...

    def __getitem__(self, index: int | slice) -> ChildGroup | Sequence[ChildGroup]:
        if isinstance(index, slice):
            return ValueGroups(self.tasks, self.values[index])
        return ChildGroup(self.tasks, self.values[index])

    def __iter__(self) -> Iterator[ChildGroup]:
        tasks = self.tasks
        return (ChildGroup(tasks, v) for v in self.values)
