"""``io.kestra.plugin.core.log.PurgeLogs``: deletes log lines of this kflow home."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.store.base import LogRecord
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.core.common import ALL, iso_date_time
from kflow.tasks.core.log import LEVELS


class PurgeLogs(Task):
    """Kestra ``log/PurgeLogs.java`` (JDBC ``deleteByQuery``): the log lines timestamped
    between ``startDate`` (optional) and ``endDate``, of the executions of ``namespace``
    (exact) and ``flowId`` when given (else of every execution), at one of ``logLevels``
    when given. The lines of the running execution are included."""

    type = "io.kestra.plugin.core.log.PurgeLogs"
    outputs = {"count": Output("INTEGER", "How many log lines were deleted")}
    properties = {
        "namespace": Prop(kind="string", doc="only executions of this namespace"),
        "flowId": Prop(kind="string", doc="only executions of this flow (needs namespace)"),
        "logLevels": Prop(kind="list", doc="only lines at these levels"),
        "startDate": Prop(kind="string", doc="ISO date-time"),
        "endDate": Prop(required=True, kind="string", doc='ISO date-time, e.g. "{{ now() }}"'),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow.tasks.storage.common import services

        namespace = self.rendered(ctx, "namespace")
        flow_id = self.rendered(ctx, "flowId")
        if flow_id is not None and namespace is None:
            raise TaskError("`flowId` needs `namespace`")
        levels = self.prop("logLevels")
        wanted = None if levels is None else {str(v).upper() for v in levels}
        if wanted is not None and wanted - set(LEVELS):
            raise TaskError(f"unknown log levels: {', '.join(sorted(wanted - set(LEVELS)))}")
        start_text = self.rendered(ctx, "startDate")
        start = iso_date_time(start_text, "startDate") if start_text is not None else None
        end = iso_date_time(self.rendered(ctx, "endDate"), "endDate")

        def keep(record: LogRecord) -> bool:
            level = "WARN" if record.level == "WARNING" else record.level
            if wanted is not None and level not in wanted:
                return True
            at = iso_date_time(record.timestamp, "timestamp")
            return at > end or (start is not None and at < start)

        store = services(ctx).store
        count = 0
        for row in store.list_executions(limit=ALL, namespace=namespace, flow_id=flow_id):
            count += store.delete_logs(row.id, keep)
        return {"count": count}
