"""``io.kestra.plugin.core.log.Fetch``: an execution's log lines as an ION file."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.core.log import LEVELS


def target_execution(task: Task, ctx: RunContext) -> tuple[str, str, str]:
    """(namespace, flowId, executionId) from ``namespace``/``flowId``/``executionId``,
    with Kestra's rules (``PluginUtilsService.executionFromTaskParameters``)."""
    namespace = task.rendered(ctx, "namespace")
    flow_id = task.rendered(ctx, "flowId")
    execution_id = task.rendered(ctx, "executionId")
    if execution_id is None:
        if namespace is not None or flow_id is not None:
            raise TaskError(
                "`namespace` and `flowId` should only be set when `executionId` is set."
            )
        return ctx.namespace, ctx.flow_id, ctx.execution_id
    if (namespace is None) != (flow_id is None):
        raise TaskError("Both `namespace` and `flowId` must be set when `executionId` is set.")
    return str(namespace or ctx.namespace), str(flow_id or ctx.flow_id), str(execution_id)


def _instant(text: str) -> Any:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text


class Fetch(Task):
    """Kestra ``log/Fetch.java``: the log lines of the execution (the current one by
    default) at ``level`` or above, those of ``tasksId`` only (in that order) when given,
    one ION record per line. kflow's records have no thread or trigger: those are null."""

    type = "io.kestra.plugin.core.log.Fetch"
    aliases = ("io.kestra.core.tasks.log.Fetch",)
    outputs = {
        "uri": Output("URI", "The ION file of log records"),
        "size": Output("INTEGER", "How many log lines it holds"),
    }
    properties = {
        "namespace": Prop(kind="string", doc="with executionId: the execution's namespace"),
        "flowId": Prop(kind="string", doc="with executionId: the execution's flow"),
        "executionId": Prop(kind="string", doc="default: the current execution"),
        "tasksId": Prop(kind="list", doc="only the lines of these tasks"),
        "level": Prop(
            default="INFO",
            kind="string",
            allowed=LEVELS,
            refused=f"the level must be one of {', '.join(LEVELS)}",
        ),  # fmt: skip
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow import ion
        from kflow.tasks.storage.common import services

        namespace, flow_id, execution_id = target_execution(self, ctx)
        minimum = LEVELS.index(str(self.prop("level") or "INFO").upper())
        store = services(ctx).store
        records: list[Any] = []
        try:
            execution = store.get_execution(execution_id)
        except KflowError:
            execution = None
        if execution is not None and (execution.namespace, execution.flow_id) == (
            namespace,
            flow_id,
        ):
            task_ids = self.prop("tasksId")
            if task_ids is not None:
                for task_id in task_ids:
                    records.extend(store.get_logs(execution.id, str(task_id)))
            else:
                records = store.get_logs(execution.id)
        attempts: dict[str, int] = {}
        rows = []
        for record in records:
            level = "WARN" if record.level == "WARNING" else record.level
            if level in LEVELS and LEVELS.index(level) < minimum:
                continue
            rows.append({
                "namespace": namespace,
                "flowId": flow_id,
                "taskId": record.task_id,
                "executionId": record.execution_id,
                "taskRunId": record.taskrun_id,
                "attemptNumber": attempts.get(record.taskrun_id or "", 0) if record.taskrun_id else None,
                "triggerId": None,
                "timestamp": _instant(record.timestamp),
                "level": level,
                "thread": None,
                "message": record.message,
            })  # fmt: skip
        with tempfile.NamedTemporaryFile("wb", suffix=".ion", delete=False) as fh:
            size = ion.write_rows(rows, fh)
            path = Path(fh.name)
        try:
            uri = ctx.put_file(path)
        finally:
            path.unlink(missing_ok=True)
        return {"uri": uri, "size": size}
