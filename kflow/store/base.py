"""The execution store: where executions, task runs, logs and outputs are kept.

An implementation must persist every change it is given (a later process reads it), keep
concurrent writers from several ``kflow run`` processes apart, and pass the contract tests
in ``tests/store``. SQLite is the local one; a server database would be a sibling module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from kflow.records import Execution, TaskRun
from kflow.taskoutputs import DEFAULT_ORG, OutputRecord, RecordPage, RecordQuery

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


class KVRow(NamedTuple):
    """One entry of the KV store as stored (:mod:`kflow.kv` gives it meaning): ``value``
    is JSON text of the value's plain form, ``type`` its Kestra ``kvType``; dates are
    fixed-width ISO instants (:func:`kflow.taskoutputs.fixed_instant`), so they compare as
    text; ``expires_at`` is None for a key without TTL."""

    namespace: str
    key: str
    type: str
    value: str
    description: str | None
    created_at: str
    updated_at: str
    expires_at: str | None


class ExecutionStore(ABC):
    """Contract of an execution store (see the module docstring).

    A store is opened for one organisation (``organization_id``): the executions and
    task-output records it writes carry it, and every read sees that organisation's rows
    only (on PostgreSQL, row-level security enforces it)."""

    organization_id: str = DEFAULT_ORG

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
    def resolve_id(self, execution_id: str) -> str:
        """``last`` → the newest top-level execution; a unique prefix (4+ characters) → the
        full id; NotFoundError otherwise. Only this organisation's executions."""

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

    def delete_logs(self, execution_id: str, keep: Callable[[LogRecord], bool]) -> int:
        """Delete the log lines of an execution for which ``keep`` is false, in one
        transaction (the PurgeLogs task); how many were deleted. Not abstract: a store
        written before it refuses."""
        from kflow.errors import StoreError

        raise StoreError(f"{type(self).__name__} cannot delete log lines")

    def delete_execution(self, execution_id: str, by: str) -> bool:
        """Delete an execution and its task runs (the PurgeExecutions task); its
        task-output records are soft-deleted (``by``), its log lines and files are left to
        :meth:`delete_logs` and the storage. False when it was not there."""
        from kflow.errors import StoreError

        raise StoreError(f"{type(self).__name__} cannot delete executions")

    @abstractmethod
    def close(self) -> None: ...

    # ----------------------------------------------------------- task-output records
    # One record per task run (kflow.taskoutputs), written by save_taskrun with the run:
    # the record is the one stored copy of the run's outputs.

    @abstractmethod
    def list_records(self, query: RecordQuery) -> RecordPage:
        """One page of records, newest first (keyset pagination on ``query.after``: a page
        neither skips nor repeats a record while runs are being written). An unknown
        ``after`` id raises NotFoundError."""

    @abstractmethod
    def iter_records(self, query: RecordQuery) -> Iterator[OutputRecord]:
        """Every record the query matches (``limit`` None: all), newest first, read a
        batch at a time: memory stays flat however many there are."""

    @abstractmethod
    def get_record(self, record_id: str) -> OutputRecord:
        """One record by id, deleted ones too; NotFoundError if unknown."""

    @abstractmethod
    def execution_records(self, execution_id: str) -> list[OutputRecord]:
        """The records of one execution, deleted ones too, in task-run order."""

    @abstractmethod
    def delete_records(self, record_ids: Sequence[str], by: str) -> list[str]:
        """Soft-delete: status ``deleted``, ``updated_by`` = ``by``; the ids changed
        (unknown or already deleted ids are left out)."""

    @abstractmethod
    def delete_execution_records(self, execution_id: str, by: str) -> list[str]:
        """Soft-delete every record of an execution; the ids changed."""

    @abstractmethod
    def executions_ended_before(self, instant: str) -> list[ExecutionSummary]:
        """Finished executions whose end is before ``instant`` (ISO), for ``kflow purge``."""

    @abstractmethod
    def mark_stale(self, execution_ids: Sequence[str], by: str) -> int:
        """Status ``stale`` for the records of these executions (not deleted ones): their
        stored files were purged. How many records changed."""

    # ----------------------------------------------------------------- KV store
    # Kestra's namespace KV store (io.kestra.plugin.core.kv.*, kv()), kept beside the
    # executions so that a shared (PostgreSQL) store shares it too, per organisation.
    # Writes are immediate (not queued): the next task of the run reads them. The store
    # keeps rows; expiry, types and key rules are kflow.kv's.

    @abstractmethod
    def kv_get(self, namespace: str, key: str) -> KVRow | None:
        """The entry, expired or not; None when there is none."""

    @abstractmethod
    def kv_set(self, row: KVRow, *, overwrite: bool = True, now: str = "") -> bool:
        """Write the entry. With ``overwrite`` False an entry already there that has not
        expired by ``now`` (a fixed-width ISO instant) is kept and False returned; True
        when written. A replaced entry keeps its ``created_at``."""

    @abstractmethod
    def kv_delete(self, namespace: str, key: str) -> bool:
        """Remove the entry; False when there was none."""

    @abstractmethod
    def kv_list(self, namespace: str | None = None) -> list[KVRow]:
        """Every entry of ``namespace`` (None: of every namespace), expired ones too,
        ordered by namespace then key."""

    @abstractmethod
    def kv_purge(self, namespace: str, keys: Sequence[str]) -> int:
        """Remove these keys of ``namespace`` in one transaction; how many were there."""
