"""``io.kestra.plugin.core.execution.PurgeExecutions``: deletes executions of this kflow home."""

from __future__ import annotations

from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.states import State
from kflow.storage.base import execution_prefix, to_uri
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.core.common import ALL, iso_date_time


class PurgeExecutions(Task):
    """Kestra ``execution/PurgeExecutions.java`` (``ExecutionService.purge``): the
    executions of ``namespace``/``flowId`` (exact; every one when not given) started between
    ``startDate`` (optional) and ``endDate``, in ``states`` when given, lose what the four
    switches say: the execution and its task runs, its log lines, its metrics (kept inside
    its task runs, so gone with them), its stored files. Their task-output records are
    soft-deleted. The running execution itself is never purged."""

    type = "io.kestra.plugin.core.execution.PurgeExecutions"
    aliases = ("io.kestra.core.tasks.storages.Purge", "io.kestra.plugin.core.storage.Purge")
    outputs = {
        "executionsCount": Output("INTEGER", "Executions deleted"),
        "logsCount": Output("INTEGER", "Log lines deleted"),
        "storagesCount": Output("INTEGER", "Stored files deleted"),
        "metricsCount": Output("INTEGER", "Metrics deleted with their task runs"),
    }
    properties = {
        "namespace": Prop(kind="string", doc="only executions of this namespace"),
        "flowId": Prop(kind="string", doc="only executions of this flow (needs namespace)"),
        "startDate": Prop(kind="string", doc="ISO date-time"),
        "endDate": Prop(required=True, kind="string", doc='ISO date-time, e.g. "{{ now() }}"'),
        "states": Prop(kind="list", doc="only executions in these states"),
        "purgeExecution": Prop(kind="bool", default=True, doc="delete the executions"),
        "purgeLog": Prop(kind="bool", default=True, doc="delete their log lines"),
        "purgeMetric": Prop(kind="bool", default=True, doc="delete their metrics"),
        "purgeStorage": Prop(kind="bool", default=True, doc="delete their stored files"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow.tasks.storage.common import services

        namespace = self.rendered(ctx, "namespace")
        flow_id = self.rendered(ctx, "flowId")
        if flow_id is not None and namespace is None:
            raise TaskError("`flowId` needs `namespace`")
        start_text = self.rendered(ctx, "startDate")
        start = iso_date_time(start_text, "startDate") if start_text is not None else None
        end = iso_date_time(self.rendered(ctx, "endDate"), "endDate")
        wanted = None
        if self.prop("states") is not None:
            names = {str(s).upper() for s in self.prop("states")}
            wanted = {"CANCELLED" if n == "CANCELED" else n for n in names}
            unknown = wanted - {s.value for s in State}
            if unknown:
                raise TaskError(f"unknown states: {', '.join(sorted(unknown))}")
        svc = services(ctx)
        store, storage = svc.store, svc.storage
        counts = {"executionsCount": 0, "logsCount": 0, "storagesCount": 0, "metricsCount": 0}
        for row in store.list_executions(limit=ALL, namespace=namespace, flow_id=flow_id):
            if row.id == ctx.execution_id or (wanted is not None and row.state not in wanted):
                continue
            started = iso_date_time(row.start, "start")
            if started > end or (start is not None and started < start):
                continue
            if self.flag(ctx, "purgeStorage"):
                prefix = to_uri(execution_prefix(row.namespace, row.flow_id, row.id))
                for uri in list(storage.list(prefix)):
                    storage.delete(uri)
                    counts["storagesCount"] += 1
            if self.flag(ctx, "purgeLog"):
                counts["logsCount"] += store.delete_logs(row.id, lambda _record: False)
            if self.flag(ctx, "purgeExecution"):
                try:
                    runs = store.get_execution(row.id).task_runs
                except KflowError:
                    runs = []
                metrics = sum(len(tr.metrics) for tr in runs)
                if store.delete_execution(row.id, by=f"task {ctx.task_id} of {ctx.execution_id}"):
                    counts["executionsCount"] += 1
                    if self.flag(ctx, "purgeMetric"):
                        counts["metricsCount"] += metrics
        return counts
