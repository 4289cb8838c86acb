"""SQLite execution store (WAL), one file in the kflow home.

Writes go through one writer thread that commits whatever is queued in one short
transaction (group commit): a run of 10,000 task runs costs a few hundred commits instead
of 20,000, while every change is still on disk within milliseconds, so a killed run leaves
a readable record. ``busy_timeout`` lets several ``kflow run`` processes share one home.

The schema moves forward by numbered steps (:data:`MIGRATIONS`), applied in one
transaction when a writable store is opened; a read-only store is read as it is. A full
disk does not lose changes: the writer keeps its batch and retries until space allows.
Opening a store writably also marks KILLED the executions whose process died (``kill -9``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from kflow.errors import KflowError, NotFoundError, StoreError
from kflow.records import Execution, StateHistory, TaskRun, iso_instant, now
from kflow.states import State
from kflow.store import process
from kflow.store.base import ExecutionStore, ExecutionSummary, LogRecord

# The schema as the first release wrote it (version 1). Never edit it: a change to the
# schema is a new step in MIGRATIONS, so every existing store reaches the same shape.
_SCHEMA_V1 = [
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


def _outputs_once(conn: sqlite3.Connection) -> None:
    """Migration 2 -> 3: drop the outputs from each taskruns document whose task_outputs
    row holds the same outputs (compared as values, in Python: SQLite's JSON functions
    reject the NaN that json.dumps may have written). A document whose outputs differ
    keeps them: the document wins when both exist (see get_execution)."""
    rows = conn.execute(
        "SELECT t.id, t.doc, o.outputs FROM taskruns t JOIN task_outputs o ON o.taskrun_id = t.id"
    ).fetchall()
    for trid, doc_text, outputs_text in rows:
        try:
            doc = json.loads(doc_text)
            same = isinstance(doc, dict) and doc.get("outputs") == json.loads(outputs_text)
        except ValueError:
            continue  # a document kflow did not write: leave it as it is
        if same and doc.get("outputs") is not None:
            del doc["outputs"]
            conn.execute("UPDATE taskruns SET doc = ? WHERE id = ?", (_dumps(doc), trid))


Migration = Sequence[str] | Callable[[sqlite3.Connection], None]

# MIGRATIONS[n - 1] takes a store from version n to n + 1: SQL statements, or a function
# for a step SQL alone cannot express. Append only; a released step is never edited.
MIGRATIONS: list[Migration] = [
    # 1 -> 2: who runs each execution (kflow.store.process), so a run whose process was
    # killed -9 is found and marked KILLED; the state index keeps that check cheap.
    [
        "ALTER TABLE executions ADD COLUMN host TEXT",
        "ALTER TABLE executions ADD COLUMN pid INTEGER",
        "ALTER TABLE executions ADD COLUMN process_start TEXT",
        "CREATE INDEX IF NOT EXISTS executions_state ON executions (state)",
    ],
    # 2 -> 3: a finished task run's outputs are kept once, in task_outputs (see
    # _outputs_once); before, its taskruns document held a second copy.
    _outputs_once,
]

SCHEMA_VERSION = 1 + len(MIGRATIONS)

# States of an execution whose process is running it. PAUSED (and QUEUED) executions
# wait for a person or a slot, not for a process: a dead process says nothing about them.
_LIVE_STATES = ("CREATED", "RUNNING", "RETRYING")
_TERMINAL = tuple(s.value for s in State if s.terminal)

# How long close() waits for disk space before giving up (the next open then marks the
# unfinished run KILLED); how often the writer retries meanwhile.
FULL_DISK_WAIT = 60.0
_RETRY_EVERY = 0.2

_STOP = object()
_REPEATED = ("executionId", "namespace", "flowId", "taskId", "parentTaskRunId")
# Changes waiting for the writer, at most: past it a run waits for the writer (a loop of
# quick tasks makes changes faster than SQLite commits them; unbounded, the queue of a
# million-iteration ForEach held gigabytes of documents).
MAX_QUEUED = 10_000
_MAX_INT = 2**63 - 1  # SQLite's largest integer


BUSY_WAIT = 30.0  # seconds an opener waits for another process's lock


class _WriteQueue:
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


def _connect(path: Path, wait: float = BUSY_WAIT) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=wait, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        _set_wal(conn, wait)
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _set_wal(conn: sqlite3.Connection, wait: float) -> None:
    """WAL is a property of the file, set once by its first opener. Switching a new file
    to WAL needs an exclusive lock, and SQLite answers "database is locked" at once, with
    no busy handler, while another process holds any lock on it: several ``kflow run``
    started together on a fresh home all get here. So the switch is retried, with a
    growing pause, for as long as the busy timeout would have waited."""
    deadline = time.monotonic() + wait
    pause = 0.001
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                # SQLite keeps the old mode when it could not take the lock
                (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if str(mode).lower() == "wal":
                return
            last = sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            last = exc
        if time.monotonic() + pause > deadline:
            raise last
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """``mode=ro`` reads the WAL a killed writer left behind; on a read-only mount of a
    cleanly closed store SQLite cannot create the ``-shm`` file that needs, and there
    is no WAL to read, so the file is opened ``immutable``."""
    last: sqlite3.Error | None = None
    for query in ("mode=ro", "immutable=1"):
        conn = sqlite3.connect(
            f"{path.as_uri()}?{query}", uri=True, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            last = exc
    assert last is not None
    raise last


def _is_disk_full(exc: BaseException) -> bool:
    """SQLITE_FULL, or an I/O error (ENOSPC while growing the WAL or its index)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "disk is full" in str(exc)
    return code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)


def _make_private(path: Path) -> None:
    """0600 on a file of ours: executions hold inputs, outputs and logs."""
    if not hasattr(os, "geteuid"):  # not POSIX: no mode bits to tighten
        return
    try:
        st = path.stat()
        if st.st_uid == os.geteuid() and st.st_mode & 0o077:
            os.chmod(path, st.st_mode & 0o700)
    except OSError:
        pass


def _dumps(doc: Any) -> str:
    """A document as JSON, strictly: a value with no JSON form is a bug where the document
    was made (records' ``to_dict`` and outputs are JSON values, see kflow.jsonvalues), so it
    raises StoreError here instead of being written as some ``str()`` text."""
    try:
        return json.dumps(doc)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot record a value that is not JSON: {exc}") from exc


def _by_statement(
    pending: list[tuple[str, tuple[Any, ...]]],
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """A batch's changes as ``executemany`` calls: one per run of the same statement, so
    the writer does not hold the GIL the executor needs in a Python loop per row.

    Changes to different tables are independent, and the batch commits as one transaction
    (no reader sees their order), so they are grouped by table; within a table they keep
    their order (an execution is inserted before it is updated)."""
    tables: dict[str, list[tuple[str, list[tuple[Any, ...]]]]] = {}
    for sql, params in pending:
        runs = tables.setdefault(_table(sql), [])
        if runs and runs[-1][0] == sql:
            runs[-1][1].append(params)
        else:
            runs.append((sql, [params]))
    return [run for runs in tables.values() for run in runs]


def _table(sql: str) -> str:
    """The table a write statement changes (``INSERT [OR REPLACE] INTO t``, ``UPDATE t``)."""
    words = sql.split(None, 5)
    if words[0] == "UPDATE":
        return words[1]
    return words[words.index("INTO") + 1]


def _killed(state: dict[str, Any]) -> dict[str, Any]:
    history = StateHistory.from_dict(state)
    history.set(State.KILLED)
    return history.to_dict()


class SQLiteStore(ExecutionStore):
    """See the module docstring. ``read_only`` opens the file without ever writing to it
    (no migration, no recovery): every write raises StoreError."""

    def __init__(
        self, path: Path, *, read_only: bool = False, full_disk_wait: float = FULL_DISK_WAIT
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.full_disk_wait = full_disk_wait
        self.recovered: list[str] = []
        self._read_lock = threading.Lock()
        self._queue = _WriteQueue(MAX_QUEUED)
        self._writer: threading.Thread | None = None
        self._writer_error: BaseException | None = None
        self._start_lock = threading.Lock()
        self._full_since: float | None = None
        if read_only:
            self._open_read_only()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # created 0600 before SQLite opens it: the -wal and -shm files take its mode
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError:
            pass  # SQLite reports the problem below, with the hint
        try:
            self._read = _connect(self.path)
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from exc
        try:
            for suffix in ("", "-wal", "-shm"):
                _make_private(Path(f"{self.path}{suffix}"))
            self._migrate()
            try:
                self._recover()
            except sqlite3.OperationalError as exc:
                if not _is_disk_full(exc):
                    raise
                # a full disk: the dead runs are marked by a later open, when space allows
        except BaseException as exc:
            self._read.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._open_error(exc) from exc
            raise

    def _open_error(self, exc: sqlite3.Error) -> KflowError:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            hint = "the file is damaged or not kflow's: move it away to start a new store"
        elif _is_disk_full(exc):
            hint = "free some space on the disk that holds the kflow home"
        else:
            hint = "check KFLOW_HOME points to a writable directory"
        return StoreError(f"cannot open the execution store {self.path}: {exc}", hint=hint)

    def _open_read_only(self) -> None:
        if not self.path.is_file():
            raise StoreError(
                f"the kflow home {self.path.parent} is read-only and has no execution "
                f"store ({self.path.name} is missing)",
                hint="point KFLOW_HOME to a kflow home that holds a kflow.db",
            )
        try:
            self._read = _connect_read_only(self.path)
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from exc
        try:
            version = self._version(self._read)
        except BaseException as exc:
            self._read.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._open_error(exc) from exc
            raise
        if version is None:
            self._read.close()
            raise StoreError(
                f"the execution store {self.path} is empty and the kflow home is read-only",
                hint="point KFLOW_HOME to a kflow home that holds runs",
            )
        # an older schema reads fine: every version has what the read queries use

    # ----------------------------------------------------------------- schema
    def _version(self, conn: sqlite3.Connection) -> int | None:
        """The store's schema version; None for a new (empty) file."""
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        if row is None:
            return None
        try:
            version = int(str(row[0]).strip())
        except ValueError:
            raise StoreError(
                f"the execution store {self.path} has schema version {str(row[0])[:40]!r}, "
                "which is not a number",
                hint="the file is damaged or not kflow's: move it away to start a new store",
            ) from None
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the execution store {self.path} was written by a newer kflow "
                f"(schema {version} > {SCHEMA_VERSION})",
                hint="upgrade kflow, or point KFLOW_HOME elsewhere",
            )
        if version < 1:
            raise StoreError(
                f"the execution store {self.path} has schema version {version}, "
                "which no kflow writes",
                hint="the file is damaged or not kflow's: move it away to start a new store",
            )
        return version

    def _migrate(self) -> None:
        """Bring the store to SCHEMA_VERSION: every missing step, in order, in one
        transaction, so a crash or a concurrent opener never sees half an upgrade."""
        conn = self._read
        if self._version(conn) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._version(conn)  # again, under the lock: another process may have
            if version is None:
                for stmt in _SCHEMA_V1:
                    conn.execute(stmt)
                version = 1
            for step in MIGRATIONS[version - 1 :]:
                if callable(step):
                    step(conn)
                else:
                    for stmt in step:
                        conn.execute(stmt)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                conn.execute("ROLLBACK")
            raise

    # ----------------------------------------------------------------- recovery
    def _recover(self) -> None:
        """Mark KILLED each execution of this host whose process is gone (``kill -9``,
        power cut), with its unfinished task runs; ids end in ``self.recovered``."""
        me = process.current()
        conn = self._read
        marks = ",".join("?" * len(_LIVE_STATES))
        select = (
            f"SELECT id, host, pid, process_start FROM executions WHERE state IN ({marks}) "
            "AND host = ?"
        )
        candidates = [
            r[0]
            for r in conn.execute(select, (*_LIVE_STATES, me.host)).fetchall()
            if (r[2], r[3]) != (me.pid, me.start) and process.is_dead(r[1], r[2], r[3])
        ]
        if not candidates:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # checked again under the write lock: another opener may have marked them
            for eid, host, pid, start in conn.execute(select, (*_LIVE_STATES, me.host)).fetchall():
                if eid in candidates and process.is_dead(host, pid, start):
                    self._mark_killed(conn, eid, host, pid)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                conn.execute("ROLLBACK")
            raise

    def _mark_killed(self, conn: sqlite3.Connection, eid: str, host: str, pid: int) -> None:
        marks = ",".join("?" * len(_TERMINAL))
        for trid, doc_text in conn.execute(
            f"SELECT id, doc FROM taskruns WHERE execution_id = ? AND state NOT IN ({marks})",
            (eid, *_TERMINAL),
        ).fetchall():
            doc = json.loads(doc_text)
            try:
                doc["state"] = _killed(doc["state"])
                attempts = doc.get("attempts") or []
                if attempts and attempts[-1]["state"]["current"] not in _TERMINAL:
                    attempts[-1]["state"] = _killed(attempts[-1]["state"])
            except (KeyError, ValueError, TypeError):
                continue  # a document kflow did not write: leave it as it is
            conn.execute(
                "UPDATE taskruns SET state = 'KILLED', doc = ? WHERE id = ?",
                (_dumps(doc), trid),
            )
        (doc_text,) = conn.execute("SELECT doc FROM executions WHERE id = ?", (eid,)).fetchone()
        doc = json.loads(doc_text)
        try:
            doc["state"] = _killed(doc["state"])
        except (KeyError, ValueError, TypeError):
            return
        conn.execute(
            "UPDATE executions SET state = 'KILLED', end_date = ?, doc = ? WHERE id = ?",
            (doc["state"].get("endDate"), _dumps(doc), eid),
        )
        conn.execute(
            "INSERT INTO logs (execution_id, taskrun_id, task_id, ts, level, message) "
            "VALUES (?, NULL, NULL, ?, 'ERROR', ?)",
            (
                eid,
                iso_instant(now()),
                f"marked KILLED: the process running it (pid {pid} on {host}) is gone",
            ),
        )
        self.recovered.append(eid)

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
        """Commit queued changes in batches. On a full disk the batch is kept and tried
        again (later changes join it, in order) until space allows; flush() waits."""
        conn: sqlite3.Connection | None = None
        pending: list[tuple[str, tuple[Any, ...]]] = []
        waiters: list[threading.Event] = []
        waiting_since = 0.0  # when the oldest flush() still waiting began
        stop = False
        while True:
            items = self._queue.take(timeout=_RETRY_EVERY if pending else None)
            for it in items:
                if it is _STOP:
                    stop = True
                elif isinstance(it, threading.Event):
                    if not waiters:
                        waiting_since = time.monotonic()
                    waiters.append(it)
                else:
                    pending.extend(it)
            if pending:
                try:
                    if conn is None:
                        conn = _connect(self.path)
                    conn.execute("BEGIN IMMEDIATE")
                    for sql, rows in _by_statement(pending):
                        conn.executemany(sql, rows)
                    conn.execute("COMMIT")
                    pending = []
                    self._full_since = None
                except BaseException as exc:
                    if conn is not None:
                        try:
                            conn.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                    if not _is_disk_full(exc):
                        self._writer_error = exc  # surfaced by the next flush()
                        pending = []
                    elif self._full_since is None:
                        self._full_since = time.monotonic()
                    elif (
                        waiters
                        and time.monotonic() - max(self._full_since, waiting_since)
                        > self.full_disk_wait
                    ):
                        self._writer_error = StoreError(
                            f"the disk holding {self.path} stayed full: {len(pending)} "
                            "changes to the execution store were not written",
                            hint="free some space; the unfinished execution is marked "
                            "KILLED when the kflow home is next opened",
                        )
                        pending = []
                        self._full_since = None
            if not pending:
                for w in waiters:
                    w.set()
                waiters = []
            items = []  # not kept alive while waiting for the next batch
            if stop and not pending:
                if conn is not None:
                    conn.close()
                return

    def _enqueue(self, sql: str, params: tuple[Any, ...]) -> None:
        self._enqueue_all([(sql, params)])

    def _enqueue_all(self, writes: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Queue statements that the writer commits in one transaction."""
        if self.read_only:
            raise StoreError(
                f"the kflow home {self.path.parent} is read-only: nothing can be recorded",
                hint="run flows with KFLOW_HOME pointing to a writable directory",
            )
        self._ensure_writer()
        self._queue.put(writes)

    def flush(self) -> None:
        if self._writer is None:
            return
        done = threading.Event()
        self._queue.put(done, wait=False)
        done.wait()
        if self._writer_error is not None:
            err, self._writer_error = self._writer_error, None
            if isinstance(err, KflowError):
                raise err
            raise StoreError(f"cannot write to the execution store {self.path}: {err}")

    def close(self) -> None:
        try:
            if self._writer is not None:
                self.flush()
        finally:
            if self._writer is not None:
                self._queue.put(_STOP, wait=False)
                self._writer.join(timeout=10)
                self._writer = None
            self._read.close()

    # ----------------------------------------------------------------- writes
    def create_execution(self, execution: Execution, flow_source: str) -> None:
        me = process.current()
        self._enqueue(
            "INSERT INTO executions (id, namespace, flow_id, state, start_date, end_date, "
            "parent_id, flow_source, doc, host, pid, process_start) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                execution.id,
                execution.namespace,
                execution.flow_id,
                execution.state.current.value,
                iso_instant(execution.state.start),
                None,
                execution.parent_id,
                flow_source,
                _dumps(execution.to_dict(with_taskruns=False)),
                me.host,
                me.pid,
                me.start,
            ),
        )

    def save_execution(self, execution: Execution) -> None:
        end = execution.state.end
        me = process.current()  # whoever saves it runs it now (a resumed run changes hands)
        self._enqueue(
            "UPDATE executions SET state = ?, end_date = ?, doc = ?, host = ?, pid = ?, "
            "process_start = ? WHERE id = ?",
            (
                execution.state.current.value,
                iso_instant(end) if end else None,
                _dumps(execution.to_dict(with_taskruns=False)),
                me.host,
                me.pid,
                me.start,
                execution.id,
            ),
        )

    def save_taskrun(self, execution: Execution, taskrun: TaskRun) -> None:
        doc = taskrun.to_dict()
        finished = taskrun.outputs and taskrun.state.current.terminal
        if finished:
            # kept once, in the task_outputs row written below (get_execution joins it)
            del doc["outputs"]
        writes: list[tuple[str, tuple[Any, ...]]] = [
            (
                "INSERT INTO taskruns (id, execution_id, seq, task_id, state, doc) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "state = excluded.state, doc = excluded.doc",
                (
                    taskrun.id,
                    taskrun.execution_id,
                    taskrun.seq,
                    taskrun.task_id,
                    taskrun.state.current.value,
                    _dumps(doc),
                ),
            )
        ]
        if finished:
            writes.append(
                (
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
                        _dumps(taskrun.outputs),
                    ),
                )
            )
        # one item: the document without its outputs and the outputs row are committed
        # together, so a kill between two commits cannot leave a finished run without them
        self._enqueue_all(writes)

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
        data["taskRunList"] = [doc for doc, _ in self._taskrun_docs(eid)]
        return Execution.from_dict(data)

    def get_taskruns(
        self, execution_id: str, *, limit: int | None = None, with_error: bool = False
    ) -> list[TaskRun]:
        self.flush()
        where = " AND json_extract(t.doc, '$.error') IS NOT NULL" if with_error else ""
        return [
            TaskRun.from_dict(doc, seq)
            for doc, seq in self._taskrun_docs(execution_id, where, limit)
        ]

    def _taskrun_docs(
        self, eid: str, where: str = "", limit: int | None = None
    ) -> Iterator[tuple[dict[str, Any], int]]:
        """Each task run's document (outputs joined back) with its ``seq``, in order; read
        a batch at a time, so that a million runs are never a million documents at once."""
        sql = (
            "SELECT t.doc, o.outputs, t.seq FROM taskruns t "
            "LEFT JOIN task_outputs o ON o.taskrun_id = t.id "
            f"WHERE t.execution_id = ?{where} ORDER BY t.seq LIMIT ?"
        )
        # the ids and names every run repeats, one string each (not one per run read)
        shared: dict[str, str] = {}
        with self._read_lock:
            cursor = self._read.execute(sql, (eid, _MAX_INT if limit is None else limit))
            while rows := cursor.fetchmany(1000):
                for doc_text, outputs_text, seq in rows:
                    doc = json.loads(doc_text)
                    for key in _REPEATED:
                        value = doc.get(key)
                        if type(value) is str:
                            doc[key] = shared.setdefault(value, value)
                    if "outputs" not in doc and outputs_text is not None:
                        doc["outputs"] = json.loads(outputs_text)  # a finished run's, kept once
                    yield doc, seq

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
                (*params, min(limit, _MAX_INT)),
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
