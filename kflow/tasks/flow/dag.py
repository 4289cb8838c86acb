"""``io.kestra.plugin.core.flow.Dag``: tasks started as soon as the tasks they depend on ended.

``tasks`` is a list of ``{task: {...}, dependsOn: [ids]}``. A dependency on an id that is not
one of the Dag's tasks, or a cycle, is refused when the flow loads (Kestra's
``DagTaskValidator``: ``Not existing task id in dependency: taskX``, ``Cyclic dependency
detected: task1, task2``). A task starts when every task it depends on has ended (any end:
Kestra's ``resolveDagNexts`` asks only for a terminated run; a disabled task counts as
ended); independent tasks run at the same time, at most ``concurrent`` at once (0: no
limit). After a failure (without ``allowFailure``) no other task starts, the running ones
end, then ``errors`` run and the Dag is FAILED. Ties start in declaration order.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from kflow.errors import TaskError
from kflow.states import State
from kflow.tasks.base import (
    ChildGroup,
    Children,
    FlowablePlan,
    FlowableTask,
    Prop,
    RunContext,
)

_STOPS = frozenset({State.FAILED, State.KILLED, State.CANCELLED})


def dependencies(spec: Any) -> dict[str, tuple[str, ...]]:
    """Task id → the ids it depends on, as written under the Dag's ``tasks``."""
    out: dict[str, tuple[str, ...]] = {}
    raw_items = spec.raw.get("tasks") if isinstance(spec.raw, Mapping) else None
    children = spec.props.get("tasks") or ()
    for child, item in zip(children, raw_items or (), strict=False):
        depends = item.get("dependsOn") if isinstance(item, Mapping) else None
        out[child.id] = tuple(str(d) for d in depends or ())
    for child in children:
        out.setdefault(child.id, ())
    return out


def problems(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Kestra's two load-time checks: unknown ids first, then cycles (in task order)."""
    missing = list(dict.fromkeys(d for deps in edges.values() for d in deps if d not in edges))
    if missing:
        return ["Not existing task id in dependency: " + ", ".join(missing)]
    cyclic = [tid for tid, deps in edges.items() if deps and tid in _reachable(tid, edges)]
    if cyclic:
        return ["Cyclic dependency detected: " + ", ".join(cyclic)]
    return []


def _reachable(start: str, edges: Mapping[str, Sequence[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(edges.get(start, ()))
    while stack:
        tid = stack.pop()
        if tid in seen:
            continue
        seen.add(tid)
        stack.extend(edges.get(tid, ()))
    return seen


class Dag(FlowableTask):
    type = "io.kestra.plugin.core.flow.Dag"
    aliases = ("io.kestra.core.tasks.flows.Dag",)
    outputs = {}
    properties = {
        "tasks": Prop(
            required=True, kind="dag", doc="A list of {task: {...}, dependsOn: [task ids]}"
        ),
        "concurrent": Prop(
            default=0, kind="int", doc="At most this many tasks at once; 0 = no limit"
        ),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        found = problems(dependencies(spec))
        limit = spec.props.get("concurrent")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < 0:
            found.append("'concurrent' must be greater than or equal to 0")
        return found

    def plan(self, ctx: RunContext) -> FlowablePlan:
        specs = tuple(self.prop("tasks"))
        edges = dependencies(self.spec)
        try:
            limit = int(ctx.render(self.prop("concurrent") or 0))
        except (TypeError, ValueError) as exc:
            raise TaskError("'concurrent' must be an integer") from exc

        def drive(children: Children) -> set[State]:
            return _Scheduler(specs, edges, limit).run(children)

        return FlowablePlan(groups=[ChildGroup(specs)], concurrency=limit, drive=drive)


class _Scheduler:
    """Starts each task on a thread of its own once its dependencies ended."""

    def __init__(
        self, specs: Sequence[Any], edges: Mapping[str, Sequence[str]], limit: int
    ) -> None:
        self.pending = [s for s in specs if not s.disabled]
        self.done = {s.id for s in specs if s.disabled}
        self.edges = edges
        self.limit = limit
        self.cond = threading.Condition()
        self.running = 0
        self.failed = False
        self.states: set[State] = set()
        self.errors: list[BaseException] = []

    def run(self, children: Children) -> set[State]:
        threads: list[threading.Thread] = []
        with self.cond:
            while True:
                if not self.failed and not children.stopped():
                    for spec in self._ready():
                        self.pending.remove(spec)
                        self.running += 1
                        t = threading.Thread(
                            target=self._one, args=(children, spec), name=f"kflow-dag-{spec.id}",
                            daemon=True,
                        )  # fmt: skip
                        threads.append(t)
                        t.start()
                if self.running == 0:
                    break
                self.cond.wait()
        for t in threads:
            t.join()
        if self.errors:
            raise self.errors[0]
        return self.states

    def _ready(self) -> list[Any]:
        ready = [s for s in self.pending if all(d in self.done for d in self.edges.get(s.id, ()))]
        if self.limit > 0:
            ready = ready[: max(0, self.limit - self.running)]
        return ready

    def _one(self, children: Children, spec: Any) -> None:
        found: set[State] = set()
        try:
            found = children.run([spec])
        except BaseException as exc:  # noqa: BLE001 - raised on the Dag's thread
            with self.cond:
                self.errors.append(exc)
                self.failed = True
        with self.cond:
            self.states |= found
            self.done.add(spec.id)
            self.running -= 1
            if any(s in _STOPS or not s.terminal for s in found):  # or paused inside
                self.failed = True
            self.cond.notify_all()
