"""SQLite execution store (WAL), one file in the kflow home.

Writes go through one writer thread that commits whatever is queued in one short
transaction (group commit): a run of 10,000 task runs costs a few hundred commits instead
of 20,000, while every change is still on disk within milliseconds, so a killed run leaves
a readable record. ``busy_timeout`` lets several ``kflow run`` processes share one home.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from pathlib import Path
from typing import Any

from kflow.engine.execution import Execution, TaskRun, iso_instant
from kflow.errors import KflowError, NotFoundError
from kflow.store.base import ExecutionStore, ExecutionSummary, LogRecord

SCHEMA_VERSION = 1

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS executions (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        state TEXT NOT NULL,
        start_date TEXT NOT NULL,
        end_date TEXT,
        parent_id TEXT,
        flow_source TEXT NOT NULL,
        doc TEXT NOT NULL,
        seq INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS executions_start ON executions (start_date)",
    "CREATE INDEX IF NOT EXISTS executions_flow ON executions (namespace, flow_id, start_date)",
    "CREATE INDEX IF NOT EXISTS executions_parent ON executions (parent_id)",
    """CREATE TABLE IF NOT EXISTS taskruns (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        task_id TEXT NOT NULL,
        state TEXT NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS taskruns_execution ON taskruns (execution_id, seq)",
    # One row per task run that produced outputs: the task-output records, queryable
    # across executions by flow, task, state and date (keyset pagination on created, id).
    """CREATE TABLE IF NOT EXISTS task_outputs (
        taskrun_id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        value TEXT,
        state TEXT NOT NULL,
        created TEXT NOT NULL,
        outputs TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS task_outputs_flow ON task_outputs "
    "(namespace, flow_id, task_id, created)",
    "CREATE INDEX IF NOT EXISTS task_outputs_created ON task_outputs (created, taskrun_id)",
    """CREATE TABLE IF NOT EXISTS logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        execution_id TEXT NOT NULL,
        taskrun_id TEXT,
        task_id TEXT,
        ts TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS logs_execution ON logs (execution_id, id)",
]

_STOP = object()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class SQLiteStore(ExecutionStore):
    """See the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._read = _connect(self.path)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            hint = (
                "the file is damaged or not kflow's: move it away to start a new store"
                if "not a database" in str(exc) or "malformed" in str(exc)
                else "check KFLOW_HOME points to a writable directory"
            )
            raise KflowError(
                f"cannot open the execution store {self.path}: {exc}", hint=hint
            ) from exc
        self._read_lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._writer_error: BaseException | None = None
        self._start_lock = threading.Lock()

    # ----------------------------------------------------------------- schema
    def _migrate(self) -> None:
        conn = self._read
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _SCHEMA:
                conn.execute(stmt)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise KflowError(
                    f"the execution store {self.path} was written by a newer kflow "
                    f"(schema {row[0]} > {SCHEMA_VERSION})",
                    hint="upgrade kflow, or point KFLOW_HOME elsewhere",
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # ----------------------------------------------------------------- writer
    def _ensure_writer(self) -> None:
        if self._writer is not None:
            return
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, name="kflow-store-writer", daemon=True
                )
                self._writer.start()

    def _write_loop(self) -> None:
        conn = _connect(self.path)
        while True:
            item = self._queue.get()
            batch = [item]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(b is _STOP for b in batch)
            ops = [b for b in batch if b is not _STOP and not isinstance(b, threading.Event)]
            try:
                if ops:
                    conn.execute("BEGIN IMMEDIATE")
                    for sql, params in ops:
                        conn.execute(sql, params)
                    conn.execute("COMMIT")
            except BaseException as exc:  # surfaced by the next flush()
                self._writer_error = exc
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            for b in batch:
                if isinstance(b, threading.Event):
                    b.set()
                self._queue.task_done()
            if stop:
                conn.close()
                return

    def _enqueue(self, sql: str, params: tuple[Any, ...]) -> None:
        self._ensure_writer()
        self._queue.put((sql, params))

    def flush(self) -> None:
        if self._writer is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait()
        if self._writer_error is not None:
            err, self._writer_error = self._writer_error, None
            raise KflowError(f"cannot write to the execution store {self.path}: {err}")

    def close(self) -> None:
        if self._writer is not None:
            self.flush()
            self._queue.put(_STOP)
            self._writer.join(timeout=10)
            self._writer = None
        self._read.close()

    # ----------------------------------------------------------------- writes
    def create_execution(self, execution: Execution, flow_source: str) -> None:
        self._enqueue(
            "INSERT INTO executions (id, namespace, flow_id, state, start_date, end_date, "
            "parent_id, flow_source, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                execution.id,
                execution.namespace,
                execution.flow_id,
                execution.state.current.value,
                iso_instant(execution.state.start),
                None,
                execution.parent_id,
                flow_source,
                json.dumps(execution.to_dict(with_taskruns=False), default=str),
            ),
        )

    def save_execution(self, execution: Execution) -> None:
        end = execution.state.end
        self._enqueue(
            "UPDATE executions SET state = ?, end_date = ?, doc = ? WHERE id = ?",
            (
                execution.state.current.value,
                iso_instant(end) if end else None,
                json.dumps(execution.to_dict(with_taskruns=False), default=str),
                execution.id,
            ),
        )

    def save_taskrun(self, execution: Execution, taskrun: TaskRun) -> None:
        doc = taskrun.to_dict()
        self._enqueue(
            "INSERT INTO taskruns (id, execution_id, seq, task_id, state, doc) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "state = excluded.state, doc = excluded.doc",
            (
                taskrun.id,
                taskrun.execution_id,
                taskrun.seq,
                taskrun.task_id,
                taskrun.state.current.value,
                json.dumps(doc, default=str),
            ),
        )
        if taskrun.outputs and taskrun.state.current.terminal:
            self._enqueue(
                "INSERT OR REPLACE INTO task_outputs (taskrun_id, execution_id, namespace, "
                "flow_id, task_id, value, state, created, outputs) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    taskrun.id,
                    taskrun.execution_id,
                    taskrun.namespace,
                    taskrun.flow_id,
                    taskrun.task_id,
                    taskrun.value,
                    taskrun.state.current.value,
                    iso_instant(taskrun.state.start),
                    json.dumps(taskrun.outputs, default=str),
                ),
            )

    def append_log(self, record: LogRecord) -> None:
        self._enqueue(
            "INSERT INTO logs (execution_id, taskrun_id, task_id, ts, level, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.execution_id,
                record.taskrun_id,
                record.task_id,
                record.timestamp,
                record.level,
                record.message,
            ),
        )

    # ----------------------------------------------------------------- reads
    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            return self._read.execute(sql, params).fetchall()

    def resolve_id(self, execution_id: str) -> str:
        """``last`` → newest execution; a unique prefix → the full id."""
        if execution_id == "last":
            rows = self._query(
                "SELECT id FROM executions WHERE parent_id IS NULL "
                "ORDER BY start_date DESC, rowid DESC LIMIT 1"
            )
            if not rows:
                raise NotFoundError(
                    "there is no execution yet in this kflow home",
                    hint="run a flow first: kflow run flow.yml",
                )
            return str(rows[0][0])
        rows = self._query("SELECT id FROM executions WHERE id = ?", (execution_id,))
        if rows:
            return str(rows[0][0])
        # a prefix of an id (ids are case-sensitive: no LIKE, no wildcards)
        rows = self._query(
            "SELECT id FROM executions WHERE substr(id, 1, ?) = ? LIMIT 2",
            (len(execution_id), execution_id),
        )
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

    def get_execution(self, execution_id: str) -> Execution:
        self.flush()
        eid = self.resolve_id(execution_id)
        row = self._query("SELECT doc FROM executions WHERE id = ?", (eid,))
        data = json.loads(row[0][0])
        runs = self._query(
            "SELECT doc FROM taskruns WHERE execution_id = ? ORDER BY seq", (eid,)
        )
        data["taskRunList"] = [json.loads(r[0]) for r in runs]
        return Execution.from_dict(data)

    def get_flow_source(self, execution_id: str) -> str:
        eid = self.resolve_id(execution_id)
        row = self._query("SELECT flow_source FROM executions WHERE id = ?", (eid,))
        return str(row[0][0])

    def _summaries(self, rows: list[tuple[Any, ...]]) -> list[ExecutionSummary]:
        return [ExecutionSummary(*r) for r in rows]

    def list_executions(
        self, limit: int = 20, namespace: str | None = None, flow_id: str | None = None
    ) -> list[ExecutionSummary]:
        self.flush()
        where, params = [], []
        if namespace:
            where.append("namespace = ?")
            params.append(namespace)
        if flow_id:
            where.append("flow_id = ?")
            params.append(flow_id)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._summaries(
            self._query(
                "SELECT id, namespace, flow_id, state, start_date, end_date, parent_id "
                f"FROM executions {clause} ORDER BY start_date DESC, rowid DESC LIMIT ?",
                (*params, limit),
            )
        )

    def children(self, execution_id: str) -> list[ExecutionSummary]:
        return self._summaries(
            self._query(
                "SELECT id, namespace, flow_id, state, start_date, end_date, parent_id "
                "FROM executions WHERE parent_id = ? ORDER BY start_date",
                (execution_id,),
            )
        )

    def get_logs(self, execution_id: str, task_id: str | None = None) -> list[LogRecord]:
        self.flush()
        eid = self.resolve_id(execution_id)
        sql = "SELECT execution_id, taskrun_id, task_id, ts, level, message FROM logs "
        sql += "WHERE execution_id = ?"
        params: tuple[Any, ...] = (eid,)
        if task_id:
            sql += " AND task_id = ?"
            params = (eid, task_id)
        return [LogRecord(*r) for r in self._query(sql + " ORDER BY id", params)]

    def list_outputs(self, **filters: Any) -> list[dict[str, Any]]:
        """Task-output records, newest first; filters: namespace, flow_id, task_id, state,
        since, until (ISO dates), limit, after=(created, taskrun_id) for keyset paging."""
        self.flush()
        where, params = [], []
        for col in ("namespace", "flow_id", "task_id", "state", "execution_id"):
            if filters.get(col):
                where.append(f"{col} = ?")
                params.append(filters[col])
        if filters.get("since"):
            where.append("created >= ?")
            params.append(filters["since"])
        if filters.get("until"):
            where.append("created < ?")
            params.append(filters["until"])
        if filters.get("after"):
            created, trid = filters["after"]
            where.append("(created, taskrun_id) < (?, ?)")
            params.extend([created, trid])
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = self._query(
            "SELECT taskrun_id, execution_id, namespace, flow_id, task_id, value, state, "
            f"created, outputs FROM task_outputs {clause} "
            "ORDER BY created DESC, taskrun_id DESC LIMIT ?",
            (*params, int(filters.get("limit") or 100)),
        )
        keys = ("taskRunId", "executionId", "namespace", "flowId", "taskId", "value", "state",
                "createdAt", "outputs")  # fmt: skip
        out = []
        for r in rows:
            rec = dict(zip(keys, r, strict=True))
            rec["outputs"] = json.loads(rec["outputs"])
            out.append(rec)
        return out
