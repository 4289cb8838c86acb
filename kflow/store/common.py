"""What the SQL execution stores share: the Python that does not depend on the database.

:mod:`kflow.store.sqlite` and :mod:`kflow.store.postgres` must behave alike (the contract
tests in ``tests/store`` run against both), so everything that is the same in both lives
here once and cannot drift apart: the writer's queue and batching loop, a task run's
record row, a selected row read back as an :class:`OutputRecord`, the decisions of
``resolve_id``, the task-run documents read back, the KILLED marks of recovery, the
record filters and the keyset loops of the record listings, the schema version checks and
steps. :class:`SQLStore` is the base class of both stores. What stays in each backend is
its SQL where the text truly differs (placeholders are given as ``mark``: ``?`` or ``%s``),
its connections and the errors its driver raises.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any

from kflow.errors import KflowError, NotFoundError, StoreError
from kflow.records import Execution, StateHistory, TaskRun
from kflow.states import State
from kflow.store import process
from kflow.store.base import ExecutionStore, ExecutionSummary, KVRow, LogRecord
from kflow.taskoutputs import (
    SYSTEM,
    OutputRecord,
    RecordPage,
    RecordQuery,
    expression,
    fixed_instant,
    record_id,
    status_of,
)

Rows = list[tuple[Any, ...]]
Change = tuple[str, tuple[Any, ...]]

# States of an execution whose process is running it. PAUSED (and QUEUED) executions
# wait for a person or a slot, not for a process: a dead process says nothing about them.
LIVE_STATES = ("CREATED", "RUNNING", "RETRYING")
TERMINAL = tuple(s.value for s in State if s.terminal)

# Changes waiting for the writer, at most: past it a run waits for the writer (a loop of
# quick tasks makes changes faster than SQLite commits them; unbounded, the queue of a
# million-iteration ForEach held gigabytes of documents).
MAX_QUEUED = 10_000
RETRY_EVERY = 0.2  # how often the writer tries a batch again while it cannot commit
MAX_INT = 2**63 - 1  # the largest integer of both databases

STOP = object()  # queued by close(): the writer commits what it has and ends
# the ids and names every task-run document repeats (interned when read back)
REPEATED = ("executionId", "namespace", "flowId", "taskId", "parentTaskRunId")

RECORD_COLUMNS = (
    "id, flow_execution_id, organization_id, namespace, flow_id, task_name, taskrun_id, "
    "task_type, status, created_at, updated_at, updated_by, iteration_value, iteration_index, "
    "parent_taskrun_id, summary, output, tags, expression, seq"
)


class WriteQueue:
    """The writer's inbox: a deque and a wake-up event. ``queue.Queue`` took two locks and
    a notify per change on the executor's thread, and as many on the writer's, for each of
    the four changes a quick task makes; a deque's ends need no lock. A put waits (briefly
    sleeping) while ``limit`` changes are queued, so a run never outgrows its writer."""

    def __init__(self, limit: int) -> None:
        self._items: deque[Any] = deque()
        self._wake = threading.Event()
        self.limit = limit

    def put(self, item: Any, *, wait: bool = True) -> None:
        items = self._items
        while wait and len(items) >= self.limit:
            time.sleep(0.001)
        items.append(item)
        if not self._wake.is_set():
            self._wake.set()

    def take(self, timeout: float | None) -> list[Any]:
        """Everything queued; waits up to ``timeout`` (None: for ever) when nothing is."""
        items = self._items
        if not items:
            self._wake.wait(timeout)
        self._wake.clear()  # before draining: a put after the drain sets it again
        out = []
        while items:
            out.append(items.popleft())
        return out


def dumps(doc: Any) -> str:
    """A document as JSON, strictly: a value with no JSON form is a bug where the document
    was made (records' ``to_dict`` and outputs are JSON values, see kflow.jsonvalues), so it
    raises StoreError here instead of being written as some ``str()`` text."""
    try:
        return json.dumps(doc)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot record a value that is not JSON: {exc}") from exc


def by_statement(pending: list[Change]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """A batch's changes as ``executemany`` calls: one per run of the same statement, so
    the writer does not hold the GIL the executor needs in a Python loop per row.

    Changes to different tables are independent, and the batch commits as one transaction
    (no reader sees their order), so they are grouped by table; within a table they keep
    their order (an execution is inserted before it is updated)."""
    tables: dict[str, list[tuple[str, list[tuple[Any, ...]]]]] = {}
    for sql, params in pending:
        runs = tables.setdefault(table_of(sql), [])
        if runs and runs[-1][0] == sql:
            runs[-1][1].append(params)
        else:
            runs.append((sql, [params]))
    return [run for runs in tables.values() for run in runs]


def table_of(sql: str) -> str:
    """The table a write statement changes (``INSERT [OR REPLACE] INTO t``, ``UPDATE t``)."""
    words = sql.split(None, 5)
    if words[0] == "UPDATE":
        return words[1]
    return words[words.index("INTO") + 1]


class QueuedWriter(ABC):
    """The writer thread both stores commit through (group commit): changes are queued,
    and one thread commits whatever is queued as one transaction. A batch that fails for a
    reason that may pass (a full disk, a lost server) is kept and tried again, later
    changes joining it in order, until a waiting flush() has waited ``_retry_window()``.

    A store supplies its connection, its commit and how it judges a failure (the hooks
    below); ``_writer_name`` names the thread."""

    _writer_name = "kflow-store-writer"
    _queue: WriteQueue
    _writer: threading.Thread | None
    _writer_error: BaseException | None
    _start_lock: threading.Lock

    def _init_writer(self) -> None:
        self._queue = WriteQueue(MAX_QUEUED)
        self._writer = None
        self._writer_error = None
        self._start_lock = threading.Lock()

    # hooks ------------------------------------------------------------------
    @abstractmethod
    def _writer_connection(self, conn: Any) -> Any:
        """The connection to commit on: ``conn`` while usable, else a new one."""

    @abstractmethod
    def _commit_batch(self, conn: Any, pending: list[Change]) -> None:
        """Commit ``pending`` in one transaction (or raise with nothing committed)."""

    @abstractmethod
    def _batch_failed(self, conn: Any, exc: BaseException) -> tuple[Any, bool]:
        """After a failed commit: the connection to keep (None: a new one next time) and
        whether the failure may pass (the batch is then kept and retried)."""

    @abstractmethod
    def _retry_window(self) -> float:
        """Seconds a waiting flush() lets the writer retry before the batch is lost."""

    @abstractmethod
    def _batch_lost(self, exc: BaseException, count: int) -> StoreError:
        """The error flush() reports when ``count`` changes were given up after ``exc``."""

    @abstractmethod
    def _write_error(self, exc: BaseException) -> StoreError:
        """The error flush() reports for a writer failure that is not a KflowError."""

    # the writer -----------------------------------------------------------------
    def _ensure_writer(self) -> None:
        if self._writer is not None:
            return
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, name=self._writer_name, daemon=True
                )
                self._writer.start()

    def _write_loop(self) -> None:
        """Commit queued changes in batches; a failure that may pass keeps the batch and
        retries it (see the class docstring), flush() waiting meanwhile."""
        conn: Any = None
        pending: list[Change] = []
        waiters: list[threading.Event] = []
        waiting_since = 0.0  # when the oldest flush() still waiting began
        failing_since: float | None = None
        stop = False
        while True:
            items = self._queue.take(timeout=RETRY_EVERY if pending else None)
            for it in items:
                if it is STOP:
                    stop = True
                elif isinstance(it, threading.Event):
                    if not waiters:
                        waiting_since = time.monotonic()
                    waiters.append(it)
                else:
                    pending.extend(it)
            if pending:
                try:
                    conn = self._writer_connection(conn)
                    self._commit_batch(conn, pending)
                    pending = []
                    failing_since = None
                except BaseException as exc:
                    conn, transient = self._batch_failed(conn, exc)
                    if not transient:
                        self._writer_error = exc  # surfaced by the next flush()
                        pending = []
                    elif failing_since is None:
                        failing_since = time.monotonic()
                    elif (
                        waiters
                        and time.monotonic() - max(failing_since, waiting_since)
                        > self._retry_window()
                    ):
                        self._writer_error = self._batch_lost(exc, len(pending))
                        pending = []
                        failing_since = None
            if not pending:
                for w in waiters:
                    w.set()
                waiters = []
            items = []  # not kept alive while waiting for the next batch
            if stop and not pending:
                if conn is not None:
                    conn.close()
                return

    def _enqueue_all(self, writes: list[Change]) -> None:
        """Queue statements that the writer commits in one transaction."""
        self._ensure_writer()
        self._queue.put(writes)

    def flush(self) -> None:
        """Block until every change given so far is committed; raise what the writer met."""
        if self._writer is None:
            return
        done = threading.Event()
        self._queue.put(done, wait=False)
        done.wait()
        if self._writer_error is not None:
            err, self._writer_error = self._writer_error, None
            if isinstance(err, KflowError):
                raise err
            raise self._write_error(err)

    def _close_writer(self) -> None:
        """Flush, then end the writer thread (even when the flush raised)."""
        try:
            if self._writer is not None:
                self.flush()
        finally:
            if self._writer is not None:
                self._queue.put(STOP, wait=False)
                self._writer.join(timeout=10)
                self._writer = None


# ----------------------------------------------------------------- writes
def record_row(
    organization_id: str,
    execution: Execution,
    tr: TaskRun,
    outputs: Any,
    state: str,
    stamp: str,
    text: Callable[[str | None], str | None] | None = None,
) -> tuple[Any, ...]:
    """The values of a task run's record, in the column order of both ``_UPSERT_RECORD``
    statements. ``text`` cleans the names and tags for a database that refuses some
    characters (PostgreSQL); None (SQLite) keeps them and costs nothing on the hot path."""
    keys = tr.keys if tr.keys is not None else ((tr.value,) if tr.value is not None else ())
    tags = {str(lab.get("key")): str(lab.get("value")) for lab in execution.labels}
    tags["type"] = tr.task_type
    tags["state"] = state
    namespace: str | None = tr.namespace
    flow_id: str | None = tr.flow_id
    task_id: str | None = tr.task_id
    value = tr.value
    if text is not None:
        namespace, flow_id, task_id, value = (
            text(namespace),
            text(flow_id),
            text(task_id),
            text(value),
        )
        tags = {text(k) or "": text(v) or "" for k, v in tags.items()}
    return (
        record_id(tr.id), tr.id, tr.execution_id, organization_id, namespace, flow_id, task_id,
        tr.task_type, value, tr.iteration, tr.parent_taskrun_id, status_of(state), state,
        dumps(tr.summary) if tr.summary else "{}", None if outputs is None else dumps(outputs),
        dumps(tags),
        expression(tr.task_id, keys), fixed_instant(tr.state.start), stamp, SYSTEM,
    )  # fmt: skip


# ----------------------------------------------------------------- recovery
def dead_runs(rows: Iterable[tuple[Any, ...]], me: process.ProcessIdentity) -> list[Any]:
    """The ids of ``(id, host, pid, process_start)`` rows whose process is gone (this
    process's own runs are alive by definition)."""
    return [
        r[0]
        for r in rows
        if (r[2], r[3]) != (me.pid, me.start) and process.is_dead(r[1], r[2], r[3])
    ]


def killed_state(state: dict[str, Any]) -> dict[str, Any]:
    history = StateHistory.from_dict(state)
    history.set(State.KILLED)
    return history.to_dict()


def killed_taskrun(doc_text: str) -> str | None:
    """A task run's document marked KILLED (and its last unfinished attempt); None for a
    document kflow did not write (left as it is)."""
    doc = json.loads(doc_text)
    try:
        doc["state"] = killed_state(doc["state"])
        attempts = doc.get("attempts") or []
        if attempts and attempts[-1]["state"]["current"] not in TERMINAL:
            attempts[-1]["state"] = killed_state(attempts[-1]["state"])
    except (KeyError, ValueError, TypeError):
        return None
    return dumps(doc)


def killed_execution(doc_text: str) -> tuple[Any, str] | None:
    """An execution's document marked KILLED, with its new end date; None for a document
    kflow did not write."""
    doc = json.loads(doc_text)
    try:
        doc["state"] = killed_state(doc["state"])
    except (KeyError, ValueError, TypeError):
        return None
    return doc["state"].get("endDate"), dumps(doc)


def killed_message(pid: int, host: str) -> str:
    return f"marked KILLED: the process running it (pid {pid} on {host}) is gone"


# ----------------------------------------------------------------- reads
def resolve_id(
    execution_id: str,
    newest: Callable[[], Rows],
    exact: Callable[[], Rows],
    prefixed: Callable[[], Rows],
) -> str:
    """``last`` → the newest top-level execution; an id; a unique prefix of 4+ characters
    → the full id. The three lookups (their SQL differs) run only when needed: ``newest``
    one row, ``exact`` the id itself, ``prefixed`` up to two ids starting with it."""
    if execution_id == "last":
        rows = newest()
        if not rows:
            raise NotFoundError(
                "there is no execution yet in this kflow home",
                hint="run a flow first: kflow run flow.yml",
            )
        return str(rows[0][0])
    rows = exact()
    if rows:
        return str(rows[0][0])
    # a prefix of an id (ids are case-sensitive: no LIKE, no wildcards)
    rows = prefixed()
    if len(rows) == 1 and len(execution_id) >= 4:
        return str(rows[0][0])
    if rows and len(execution_id) < 4:
        raise NotFoundError(
            f"execution id prefix {execution_id!r} is too short (use at least 4 characters)",
            hint="list executions with: kflow executions",
        )
    if len(rows) > 1:
        raise NotFoundError(
            f"execution id prefix {execution_id!r} matches several executions",
            hint="give more characters of the id (kflow executions lists them)",
        )
    raise NotFoundError(
        f"no execution with id {execution_id!r}",
        hint="list executions with: kflow executions",
    )


def taskrun_docs(
    batches: Generator[Sequence[Sequence[Any]], None, None],
) -> Iterator[tuple[dict[str, Any], int]]:
    """Each task run's document with its ``seq``, from batches of ``(doc, output, seq,
    task_type, ...)`` rows: the outputs (kept once, in the run's record) and the task
    type joined back, and the ids and names every run repeats made one string each (not
    one per run read). ``batches`` is closed as soon as this ends, however it ends: it may
    hold a lock or a cursor that a traceback must not keep alive."""
    shared: dict[str, str] = {}
    try:
        for rows in batches:
            for row in rows:
                doc = json.loads(row[0])
                for key in REPEATED:
                    value = doc.get(key)
                    if type(value) is str:
                        doc[key] = shared.setdefault(value, value)
                if "outputs" not in doc:  # kept once, in the run's record
                    doc["outputs"] = None if row[1] is None else json.loads(row[1])
                if row[3]:
                    doc["taskType"] = row[3]
                yield doc, int(row[2])
    finally:
        batches.close()


def output_record(row: Sequence[Any]) -> OutputRecord:
    """A ``SELECT {RECORD_COLUMNS}`` row as a record (tags: JSON text, or the dict a
    JSONB column reads as)."""
    (rid, eid, org, ns, flow, task, trid, ttype, status, created, updated, by, value,
     index, parent, summary, output, tags, expr, _seq) = row  # fmt: skip
    return OutputRecord(
        id=rid, flow_execution_id=eid, organization_id=org, namespace=ns, flow_id=flow,
        task_name=task, taskrun_id=trid, task_type=ttype, status=status,
        created_at=created, updated_at=updated, updated_by=by, iteration_value=value,
        iteration_index=index, parent_taskrun_id=parent, summary=json.loads(summary),
        output=None if output is None else json.loads(output),
        tags=tags if isinstance(tags, dict) else json.loads(tags), expression=expr,
    )  # fmt: skip


def record_where(
    organization_id: str,
    query: RecordQuery,
    mark: str,
    tags_where: Callable[[Mapping[str, str]], tuple[list[str], list[Any]]],
) -> tuple[list[str], list[Any]]:
    """The conditions and parameters of a record query, with ``mark`` as placeholder;
    ``tags_where`` gives the conditions on tags (the one SQL that differs by database)."""
    where: list[str] = [f"organization_id = {mark}"]
    params: list[Any] = [organization_id]
    for column, value in (
        ("flow_execution_id", query.flow_execution_id),
        ("namespace", query.namespace),
        ("flow_id", query.flow_id),
        ("task_name", query.task_name),
        ("status", query.status),
    ):
        if value is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if not query.include_deleted and query.status != "deleted":
        where.append("status <> 'deleted'")
    if query.tags:
        tag_where, tag_params = tags_where(query.tags)
        where.extend(tag_where)
        params.extend(tag_params)
    if query.created_after is not None:
        where.append(f"created_at >= {mark}")
        params.append(query.created_after)
    if query.created_before is not None:
        where.append(f"created_at < {mark}")
        params.append(query.created_before)
    return where, params


def after_seq(select: Callable[[str, tuple[Any, ...]], Rows], organization_id: str,
              record: str, mark: str) -> int:  # fmt: skip
    """The ``seq`` of the record a page starts after; NotFoundError if unknown."""
    rows = select(
        f"SELECT seq FROM records WHERE id = {mark} AND organization_id = {mark}",
        (record, organization_id),
    )
    if not rows:
        raise NotFoundError(
            f"no task-output record with id {record!r} to page after",
            hint="pass the id printed for the next page (kflow outputs --after ID)",
        )
    return int(rows[0][0])


def list_records(
    select: Callable[[str, tuple[Any, ...]], Rows],
    where: list[str],
    params: list[Any],
    limit: int,
    mark: str,
) -> RecordPage:
    """One page of ``limit`` records newest first; one more is read to tell whether more
    follow."""
    rows = select(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE {' AND '.join(where)} "
        f"ORDER BY seq DESC LIMIT {mark}",
        (*params, min(limit, MAX_INT - 1) + 1),
    )
    return RecordPage([output_record(r) for r in rows[:limit]], len(rows) > limit)


def iter_records(
    select: Callable[[str, tuple[Any, ...]], Rows],
    where: list[str],
    params: list[Any],
    limit: int | None,
    mark: str,
) -> Iterator[OutputRecord]:
    """Every matching record newest first, in keyset batches of 500, each its own short
    query: no read transaction held open across the caller's work (on SQLite, a long
    export never blocks the WAL checkpoint) and memory stays flat."""
    left = MAX_INT if limit is None else limit
    below = MAX_INT
    sql = (
        f"SELECT {RECORD_COLUMNS} FROM records WHERE {' AND '.join(where)} "
        f"AND seq < {mark} ORDER BY seq DESC LIMIT {mark}"
    )
    while left > 0:
        rows = select(sql, (*params, below, min(left, 500)))
        if not rows:
            return
        for r in rows:
            yield output_record(r)
        left -= len(rows)
        below = int(rows[-1][-1])


def get_record(
    select: Callable[[str, tuple[Any, ...]], Rows], organization_id: str, rid: str, mark: str
) -> OutputRecord:
    """One record by id, deleted ones too; NotFoundError if unknown."""
    rows = select(
        f"SELECT {RECORD_COLUMNS} FROM records WHERE id = {mark} AND organization_id = {mark}",
        (rid, organization_id),
    )
    if not rows:
        raise NotFoundError(
            f"no task-output record with id {rid!r}",
            hint="list records with: kflow outputs",
        )
    return output_record(rows[0])


# The kv table's columns after organization_id, in KVRow's order.
KV_COLUMNS = "namespace, key, type, value, description, created_at, updated_at, expires_at"


# ----------------------------------------------------------------- the shared store
class SQLStore(QueuedWriter, ExecutionStore):
    """The part of an SQL execution store that is the same in SQLite and PostgreSQL: the
    writer (:class:`QueuedWriter`) and the reads whose SQL differs only by placeholder
    (``_mark``). A backend supplies ``_query`` (one read, its rows), ``_taskrun_docs`` and
    ``_tags_where`` (the tag filter's SQL), and everything else of the contract."""

    _mark = "?"
    _read: Any  # the backend's connection for reads (and its own transactions)

    @abstractmethod
    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> Rows:
        """The rows of one read."""

    @abstractmethod
    def _taskrun_docs(
        self, eid: str, where: str = "", limit: int | None = None
    ) -> Iterator[tuple[dict[str, Any], int]]:
        """Each task run's document (outputs joined back) with its ``seq``, in order."""

    @abstractmethod
    def _tags_where(self, tags: Mapping[str, str]) -> tuple[list[str], list[Any]]:
        """The conditions and parameters that match every tag of a record query."""

    @abstractmethod
    def _change_records(
        self, where: str, params: tuple[Any, ...], status: str, by: str, keep: tuple[str, ...]
    ) -> list[str]:
        """Set ``status`` on the records matching ``where`` (of this organisation, not
        already in one of ``keep``), in one transaction; the ids changed."""

    def close(self) -> None:
        try:
            self._close_writer()
        finally:
            self._read.close()

    def get_execution(self, execution_id: str) -> Execution:
        self.flush()
        eid = self.resolve_id(execution_id)
        row = self._query(f"SELECT doc FROM executions WHERE id = {self._mark}", (eid,))
        data = json.loads(row[0][0])
        data["taskRunList"] = [doc for doc, _ in self._taskrun_docs(eid)]
        return Execution.from_dict(data)

    def delete_logs(self, execution_id: str, keep: Callable[[LogRecord], bool]) -> int:
        self.flush()
        m = self._mark
        rows = self._query(
            "SELECT id, execution_id, taskrun_id, task_id, ts, level, message FROM logs "
            f"WHERE execution_id = {m}",
            (execution_id,),
        )
        doomed = [row[0] for row in rows if not keep(LogRecord(*row[1:]))]
        if not doomed:
            return 0
        return sum(self._kv_write([(f"DELETE FROM logs WHERE id = {m}", (i,)) for i in doomed]))

    def delete_execution(self, execution_id: str, by: str) -> bool:
        self.flush()
        m = self._mark
        try:
            self.delete_execution_records(execution_id, by)
        except NotFoundError:
            return False
        counts = self._kv_write([
            (f"DELETE FROM taskruns WHERE execution_id = {m}", (execution_id,)),
            (f"DELETE FROM executions WHERE id = {m}", (execution_id,)),
        ])  # fmt: skip
        return counts[-1] > 0

    def get_flow_source(self, execution_id: str) -> str:
        eid = self.resolve_id(execution_id)
        row = self._query(f"SELECT flow_source FROM executions WHERE id = {self._mark}", (eid,))
        return str(row[0][0])

    def _summaries(self, rows: Rows) -> list[ExecutionSummary]:
        return [ExecutionSummary(*r) for r in rows]

    def _record_where(self, query: RecordQuery) -> tuple[list[str], list[Any]]:
        """The conditions and parameters of a record query, ``after`` included."""
        mark = self._mark
        where, params = record_where(self.organization_id, query, mark, self._tags_where)
        if query.after is not None:
            where.append(f"seq < {mark}")
            params.append(after_seq(self._query, self.organization_id, query.after, mark))
        return where, params

    def iter_records(self, query: RecordQuery) -> Iterator[OutputRecord]:
        self.flush()
        where, params = self._record_where(query)
        yield from iter_records(self._query, where, params, query.limit, self._mark)

    def get_record(self, record_id: str) -> OutputRecord:
        self.flush()
        return get_record(self._query, self.organization_id, record_id, self._mark)

    def execution_records(self, execution_id: str) -> list[OutputRecord]:
        self.flush()
        eid = self.resolve_id(execution_id)
        mark = self._mark
        return [
            output_record(r)
            for r in self._query(
                f"SELECT {RECORD_COLUMNS} FROM records WHERE flow_execution_id = {mark} "
                f"AND organization_id = {mark} ORDER BY (SELECT t.seq FROM taskruns t "
                "WHERE t.id = records.taskrun_id), seq",
                (eid, self.organization_id),
            )
        ]

    def delete_execution_records(self, execution_id: str, by: str) -> list[str]:
        eid = self.resolve_id(execution_id)
        return self._change_records(
            f"flow_execution_id = {self._mark}", (eid,), "deleted", by, ("deleted",)
        )


    # ----------------------------------------------------------------- KV store
    # The same SQL on both databases (placeholders aside); a backend runs the writes in
    # one transaction of its own (_kv_write). Reads and writes are immediate, not queued.
    _has_kv = True  # False for a read-only SQLite store older than the kv table

    @abstractmethod
    def _kv_write(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Run the statements in one transaction; each one's count of changed rows."""

    def kv_get(self, namespace: str, key: str) -> KVRow | None:
        if not self._has_kv:
            return None
        m = self._mark
        rows = self._query(
            f"SELECT {KV_COLUMNS} FROM kv WHERE organization_id = {m} AND namespace = {m} "
            f"AND key = {m}",
            (self.organization_id, namespace, key),
        )
        return KVRow(*rows[0]) if rows else None

    def kv_set(self, row: KVRow, *, overwrite: bool = True, now: str = "") -> bool:
        m = self._mark
        sql = (
            f"INSERT INTO kv (organization_id, {KV_COLUMNS}) VALUES ({m}, {m}, {m}, {m}, {m}, "
            f"{m}, {m}, {m}, {m}) ON CONFLICT (organization_id, namespace, key) DO UPDATE SET "
            "type = excluded.type, value = excluded.value, description = excluded.description, "
            "updated_at = excluded.updated_at, expires_at = excluded.expires_at"
        )
        params: tuple[Any, ...] = (self.organization_id, *row)
        if not overwrite:  # only over an entry that has expired
            sql += f" WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= {m}"
            params = (*params, now)
        return self._kv_write([(sql, params)])[0] > 0

    def kv_delete(self, namespace: str, key: str) -> bool:
        return self.kv_purge(namespace, [key]) > 0

    def kv_list(self, namespace: str | None = None) -> list[KVRow]:
        if not self._has_kv:
            return []
        m = self._mark
        where, params = f"organization_id = {m}", [self.organization_id]
        if namespace is not None:
            where += f" AND namespace = {m}"
            params.append(namespace)
        return [
            KVRow(*r)
            for r in self._query(
                f"SELECT {KV_COLUMNS} FROM kv WHERE {where} ORDER BY namespace, key",
                tuple(params),
            )
        ]

    def kv_purge(self, namespace: str, keys: Sequence[str]) -> int:
        m = self._mark
        sql = f"DELETE FROM kv WHERE organization_id = {m} AND namespace = {m} AND key = {m}"
        unique = list(dict.fromkeys(keys))
        if not unique:
            return 0
        return sum(self._kv_write([(sql, (self.organization_id, namespace, k)) for k in unique]))


# ----------------------------------------------------------------- schema
def schema_version(raw: Any, store: str, latest: int, *, damaged: str, elsewhere: str) -> int:
    """The schema version read from ``meta`` (``raw``), checked: a number from 1 to
    ``latest``; else StoreError naming ``store``, with the backend's hints."""
    try:
        version = int(str(raw).strip())
    except ValueError:
        raise StoreError(
            f"the execution store {store} has schema version {str(raw)[:40]!r}, "
            "which is not a number",
            hint=damaged,
        ) from None
    if version > latest:
        raise StoreError(
            f"the execution store {store} was written by a newer kflow "
            f"(schema {version} > {latest})",
            hint=f"upgrade kflow, or point {elsewhere} elsewhere",
        )
    if version < 1:
        raise StoreError(
            f"the execution store {store} has schema version {version}, which no kflow writes",
            hint=damaged,
        )
    return version


def apply_steps(
    conn: Any,
    version: int | None,
    schema_v1: Sequence[str],
    migrations: Sequence[Sequence[str] | Callable[[Any], None]],
) -> None:
    """Every schema step from ``version`` (None: a new store, created at version 1) to the
    last of ``migrations``: SQL statements, or a function given the connection."""
    if version is None:
        for stmt in schema_v1:
            conn.execute(stmt)
        version = 1
    for step in migrations[version - 1 :]:
        if callable(step):
            step(conn)
        else:
            for stmt in step:
                conn.execute(stmt)
