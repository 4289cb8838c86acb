"""The execution store: where executions, task runs, logs and outputs are kept.

An implementation must persist every change it is given (a later process reads it), keep
concurrent writers from several ``kflow run`` processes apart, and pass the contract tests
in ``tests/store``. SQLite is the local one; a server database would be a sibling module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, NamedTuple

from kflow.records import Execution, TaskRun

# The two read-only records below are named tuples rather than frozen dataclasses: as
# immutable, and a third of the import time (every `kflow run` imports this module, and a
# frozen dataclass costs 0.6 ms to create) and of the cost of each log line.


class ExecutionSummary(NamedTuple):
    """One row of ``kflow executions``."""

    id: str
    namespace: str
    flow_id: str
    state: str
    start: str
    end: str | None
    parent_id: str | None


class LogRecord(NamedTuple):
    """One log line of a task run (or of the execution, without a task run)."""

    execution_id: str
    taskrun_id: str | None
    task_id: str | None
    timestamp: str
    level: str
    message: str


class ExecutionStore(ABC):
    """Contract of an execution store (see the module docstring)."""

    @abstractmethod
    def create_execution(self, execution: Execution, flow_source: str) -> None: ...

    @abstractmethod
    def save_execution(self, execution: Execution) -> None:
        """Persist the execution's own fields (state, outputs); not its task runs."""

    @abstractmethod
    def save_taskrun(self, execution: Execution, taskrun: TaskRun) -> None: ...

    @abstractmethod
    def append_log(self, record: LogRecord) -> None: ...

    @abstractmethod
    def flush(self) -> None:
        """Block until every change given so far is durable."""

    @abstractmethod
    def get_execution(self, execution_id: str) -> Execution:
        """The execution and its task runs; ``last`` is the newest. NotFoundError if unknown."""

    def get_taskruns(
        self, execution_id: str, *, limit: int | None = None, with_error: bool = False
    ) -> list[TaskRun]:
        """The execution's task runs as stored, in the order they were created (each with
        its ``seq``): the first ``limit``, or only those with an error. What a
        :class:`~kflow.records.TaskRunList` reads back once the executor released finished
        runs from memory. Stores may read them more cheaply than this."""
        runs = [r for r in self.get_execution(execution_id).task_runs if r.error or not with_error]
        return runs if limit is None else runs[:limit]

    @abstractmethod
    def get_flow_source(self, execution_id: str) -> str: ...

    @abstractmethod
    def list_executions(
        self, limit: int = 20, namespace: str | None = None, flow_id: str | None = None
    ) -> list[ExecutionSummary]: ...

    @abstractmethod
    def children(self, execution_id: str) -> list[ExecutionSummary]:
        """Executions started by this one (subflows)."""

    @abstractmethod
    def get_logs(self, execution_id: str, task_id: str | None = None) -> list[LogRecord]: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def list_outputs(self, **filters: Any) -> list[dict[str, Any]]:
        """Task-output records across executions, newest first (filters: namespace,
        flow_id, task_id, state, execution_id, since, until, limit, after=(created, id))."""
