"""``io.kestra.plugin.core.execution.Count``: counts executions of flows or namespaces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kflow.errors import TaskError
from kflow.states import State
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.core.common import ALL, iso_date_time


class Count(Task):
    """Kestra ``execution/Count.java``: executions of this kflow home started between
    ``startDate`` (default 30 days ago) and ``endDate`` (default now), in ``states`` when
    given, counted per flow (each of ``flows``, 0 when none) and per namespace (each of
    ``namespaces`` that has some); a group is kept when ``expression``, rendered with its
    ``count``, gives exactly ``true``. ``total`` sums the kept counts."""

    type = "io.kestra.plugin.core.execution.Count"
    aliases = ("io.kestra.core.tasks.executions.Counts",)
    outputs = {
        "results": Output("ARRAY", "[{namespace, flowId, count}] of the kept groups"),
        "total": Output("INTEGER", "The sum of their counts"),
    }
    properties = {
        "flows": Prop(kind="list", doc="[{namespace, flowId}]"),
        "namespaces": Prop(kind="list", doc="namespaces (exact)"),
        "states": Prop(kind="list", doc="only executions in these states"),
        "startDate": Prop(required=True, kind="string", doc="ISO date-time"),
        "endDate": Prop(kind="string", doc="ISO date-time (default now)"),
        "expression": Prop(required=True, kind="string", doc='e.g. "{{ count >= 5 }}"'),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow.tasks.storage.common import services

        flows = self.prop("flows")
        namespaces = self.prop("namespaces")
        if flows is None and namespaces is None:
            raise TaskError("You must provide a list of flows or namespaces")
        now = datetime.now(UTC)
        start = self.rendered(ctx, "startDate")
        end = self.rendered(ctx, "endDate")
        start_at = iso_date_time(start, "startDate") if start is not None else now - timedelta(days=30)
        end_at = iso_date_time(end, "endDate") if end is not None else now
        wanted = None
        if self.prop("states") is not None:
            wanted = {str(s).upper() for s in self.prop("states")}
            wanted |= {"CANCELLED"} if "CANCELED" in wanted else set()
            unknown = wanted - {s.value for s in State} - {"CANCELED"}
            if unknown:
                raise TaskError(f"unknown states: {', '.join(sorted(unknown))}")
        store = services(ctx).store

        def count(namespace: str, flow_id: str | None) -> dict[str, int]:
            per_flow: dict[str, int] = {}
            for row in store.list_executions(limit=ALL, namespace=namespace, flow_id=flow_id):
                if wanted is not None and row.state not in wanted:
                    continue
                if start_at <= iso_date_time(row.start, "start") <= end_at:
                    per_flow[row.flow_id] = per_flow.get(row.flow_id, 0) + 1
            return per_flow

        groups: list[tuple[str, str | None, int]] = []
        for flow in flows or []:
            if not isinstance(flow, dict) or "namespace" not in flow or "flowId" not in flow:
                raise TaskError("each of `flows` must be a map with `namespace` and `flowId`")
            ns, fid = str(flow["namespace"]), str(flow["flowId"])
            groups.append((ns, fid, count(ns, fid).get(fid, 0)))
        for namespace in namespaces or []:
            total = sum(count(str(namespace), None).values())
            if total:
                groups.append((str(namespace), None, total))
        results = []
        for group_ns, group_flow, n in groups:
            kept = ctx.render(self.prop("expression"), count=n)
            if str(kept) == "true":
                results.append({"namespace": group_ns, "flowId": group_flow, "count": n})
        return {"results": results, "total": sum(r["count"] for r in results)}
