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
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from kflow.errors import KflowError, StoreError
from kflow.records import Execution, TaskRun, iso_instant, now
from kflow.store import common, process
from kflow.store.base import ExecutionSummary, LogRecord
from kflow.store.common import (
    LIVE_STATES,
    MAX_INT,
    TERMINAL,
    Change,
    SQLStore,
    dumps,
    record_row,
)
from kflow.taskoutputs import (
    DEFAULT_ORG,
    SYSTEM,
    RecordPage,
    RecordQuery,
    fixed_instant,
    fixed_text,
)

# the shared writer pieces under the names they had here (tests import them)
_by_statement = common.by_statement
_table = common.table_of
MAX_QUEUED = common.MAX_QUEUED

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
            conn.execute("UPDATE taskruns SET doc = ? WHERE id = ?", (dumps(doc), trid))


_RECORDS_TABLE = [
    # `seq` orders listings (newest first: the order records reached the store) and is the
    # keyset cursor: SQLite commits one writer at a time, so a record that arrives while a
    # listing pages through lands above its first page, never between two pages
    """CREATE TABLE records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        taskrun_id TEXT NOT NULL UNIQUE,
        flow_execution_id TEXT NOT NULL,
        organization_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        task_name TEXT NOT NULL,
        task_type TEXT NOT NULL,
        iteration_value TEXT,
        iteration_index INTEGER,
        parent_taskrun_id TEXT,
        status TEXT NOT NULL,
        state TEXT NOT NULL,
        summary TEXT NOT NULL,
        output TEXT,
        tags TEXT NOT NULL,
        expression TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
    )""",
    "CREATE INDEX records_org ON records (organization_id, seq)",
    "CREATE INDEX records_task ON records (organization_id, task_name, seq)",
    "CREATE INDEX records_flow ON records (organization_id, namespace, flow_id, seq)",
    "CREATE INDEX records_execution ON records (flow_execution_id, seq)",
    "CREATE INDEX records_created ON records (organization_id, created_at)",
    "CREATE INDEX records_status ON records (organization_id, status, seq)",
]


def _task_types(flow_source: str) -> dict[str, str]:
    """Task id -> type in a stored flow source (for records migrated from runs that did
    not store their task type); empty when the source does not read."""
    from kflow.flow.yamlio import BoundedSafeLoader, load_bounded

    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            tid, ttype = node.get("id"), node.get("type")
            if isinstance(tid, str) and isinstance(ttype, str):
                found.setdefault(tid, ttype)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    try:
        walk(load_bounded(flow_source, BoundedSafeLoader))
    except Exception:  # noqa: BLE001 - a source kflow cannot read: no types, no failure
        return {}
    return found


def _to_records(conn: sqlite3.Connection) -> None:
    """Migration 3 -> 4: every task run gets its task-output record (kflow.taskoutputs),
    which becomes the one stored copy of its outputs: finished runs' outputs come from
    task_outputs (dropped afterwards), unfinished runs' from their documents (removed
    there). Executions gain their organisation (all ``local`` until now)."""
    from kflow.taskoutputs import DEFAULT_ORG, SYSTEM, expression, record_id, status_of

    conn.execute(
        f"ALTER TABLE executions ADD COLUMN organization_id TEXT NOT NULL DEFAULT '{DEFAULT_ORG}'"
    )
    for stmt in _RECORDS_TABLE:
        conn.execute(stmt)
    executions = conn.execute("SELECT id, doc, flow_source FROM executions").fetchall()
    for eid, exec_doc, source in executions:
        try:
            labels = {
                str(lab["key"]): str(lab["value"]) for lab in json.loads(exec_doc).get("labels") or []
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            labels = {}
        types: dict[str, str] | None = None
        rows = conn.execute(
            "SELECT t.id, t.doc, t.seq, o.outputs, o.created FROM taskruns t "
            "LEFT JOIN task_outputs o ON o.taskrun_id = t.id WHERE t.execution_id = ? "
            "ORDER BY t.seq",
            (eid,),
        ).fetchall()
        for trid, doc_text, _seq, outputs_text, created in rows:
            try:
                doc = json.loads(doc_text)
                state = str(doc["state"]["current"])
                histories = doc["state"].get("histories") or []
                start = created or (histories[0]["date"] if histories else None)
            except (ValueError, TypeError, KeyError, IndexError):
                continue  # a document kflow did not write: left as it is
            output_text = outputs_text
            if "outputs" in doc:
                if output_text is None and doc["outputs"] is not None:
                    output_text = dumps(doc["outputs"])
                del doc["outputs"]
                conn.execute("UPDATE taskruns SET doc = ? WHERE id = ?", (dumps(doc), trid))
            if types is None:
                types = _task_types(source)
            task_id = str(doc.get("taskId"))
            ttype = types.get(task_id, "")
            value = doc.get("value")
            tags = {**labels, "type": ttype, "state": state}
            stamp = fixed_text(start) if start else fixed_instant(now())
            conn.execute(
                "INSERT INTO records (id, taskrun_id, flow_execution_id, organization_id, "
                "namespace, flow_id, task_name, task_type, iteration_value, iteration_index, "
                "parent_taskrun_id, status, state, summary, output, tags, expression, "
                "created_at, updated_at, updated_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record_id(trid), trid, eid, DEFAULT_ORG, doc.get("namespace", ""),
                    doc.get("flowId", ""), task_id, ttype, value, doc.get("iteration"),
                    doc.get("parentTaskRunId"), status_of(state), state, "{}", output_text,
                    dumps(tags), expression(task_id, (value,) if value is not None else ()),
                    stamp, stamp, SYSTEM,
                ),
            )  # fmt: skip
    conn.execute("DROP TABLE task_outputs")


def _records_view(conn: sqlite3.Connection) -> None:
    """For a read-only store older than records (schema < 4): a temporary view with the
    records' columns over its task runs and task_outputs, so every read query works on
    it unchanged and nothing is written to the file."""
    from kflow.taskoutputs import expression, record_id, status_of

    def expr(task_id: str, value: Any) -> str:
        return expression(task_id, (str(value),) if value is not None else ())

    conn.create_function("kflow_record_id", 1, record_id, deterministic=True)
    conn.create_function("kflow_status", 1, status_of, deterministic=True)
    conn.create_function("kflow_expression", 2, expr, deterministic=True)
    conn.execute(
        "CREATE TEMP VIEW records AS SELECT t.rowid AS seq, kflow_record_id(t.id) AS id, "
        "t.id AS taskrun_id, t.execution_id AS flow_execution_id, "
        f"'{DEFAULT_ORG}' AS organization_id, e.namespace AS namespace, "
        "e.flow_id AS flow_id, t.task_id AS task_name, '' AS task_type, "
        "json_extract(t.doc, '$.value') AS iteration_value, "
        "json_extract(t.doc, '$.iteration') AS iteration_index, "
        "json_extract(t.doc, '$.parentTaskRunId') AS parent_taskrun_id, "
        "kflow_status(t.state) AS status, t.state AS state, '{}' AS summary, "
        "COALESCE(o.outputs, json_extract(t.doc, '$.outputs')) AS output, "
        "json_object('type', '', 'state', t.state) AS tags, "
        "kflow_expression(t.task_id, json_extract(t.doc, '$.value')) AS expression, "
        "COALESCE(o.created, json_extract(t.doc, '$.state.histories[0].date')) AS created_at, "
        "COALESCE(o.created, json_extract(t.doc, '$.state.histories[0].date')) AS updated_at, "
        f"'{SYSTEM}' AS updated_by "
        "FROM taskruns t JOIN executions e ON e.id = t.execution_id "
        "LEFT JOIN task_outputs o ON o.taskrun_id = t.id"
    )


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
    # 3 -> 4: task-output records (see _to_records), the one copy of a run's outputs;
    # executions carry their organisation.
    _to_records,
    # 4 -> 5: the namespace KV store (kflow.kv), per organisation.
    [
        """CREATE TABLE kv (
            organization_id TEXT NOT NULL,
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            type TEXT NOT NULL,
            value TEXT NOT NULL,
            description TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            expires_at TEXT,
            PRIMARY KEY (organization_id, namespace, key)
        )""",
    ],
]

SCHEMA_VERSION = 1 + len(MIGRATIONS)

# How long close() waits for disk space before giving up (the next open then marks the
# unfinished run KILLED). The writer retries every common.RETRY_EVERY meanwhile.
FULL_DISK_WAIT = 60.0

# A record follows its task run; a deleted or stale record keeps that status (and its
# audit fields) when a still-running task saves again.
_UPSERT_RECORD = (
    "INSERT INTO records (id, taskrun_id, flow_execution_id, organization_id, namespace, "
    "flow_id, task_name, task_type, iteration_value, iteration_index, parent_taskrun_id, "
    "status, state, summary, output, tags, expression, created_at, updated_at, updated_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(taskrun_id) DO UPDATE SET state = excluded.state, "
    "summary = excluded.summary, output = excluded.output, tags = excluded.tags, "
    "task_type = excluded.task_type, expression = excluded.expression, "
    "status = CASE WHEN records.status IN ('deleted', 'stale') THEN records.status "
    "ELSE excluded.status END, "
    "updated_at = CASE WHEN records.status IN ('deleted', 'stale') THEN records.updated_at "
    "ELSE excluded.updated_at END, "
    "updated_by = CASE WHEN records.status IN ('deleted', 'stale') THEN records.updated_by "
    "ELSE excluded.updated_by END"
)

BUSY_WAIT = 30.0  # seconds an opener waits for another process's lock


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


class SQLiteStore(SQLStore):
    """See the module docstring. ``read_only`` opens the file without ever writing to it
    (no migration, no recovery): every write raises StoreError."""

    _read: sqlite3.Connection

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        full_disk_wait: float = FULL_DISK_WAIT,
        organization_id: str = DEFAULT_ORG,
    ) -> None:
        self.path = Path(path)
        self.organization_id = organization_id
        # executions carry their organisation from schema 4 on; an older store read as it
        # is (read-only) holds one organisation's runs only
        self._org = " AND organization_id = ?"
        self._org_args: tuple[str, ...] = (organization_id,)
        self.read_only = read_only
        self.full_disk_wait = full_disk_wait
        self.recovered: list[str] = []
        self._read_lock = threading.Lock()
        self._init_writer()
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
        if version < 4:
            # an older schema is read as it is: its task runs are shown as records
            _records_view(self._read)
            self._org, self._org_args = "", ()
        self._has_kv = version >= 5  # older: an empty KV store

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
        return common.schema_version(
            row[0], str(self.path), SCHEMA_VERSION,
            damaged="the file is damaged or not kflow's: move it away to start a new store",
            elsewhere="KFLOW_HOME",
        )  # fmt: skip

    def _migrate(self) -> None:
        """Bring the store to SCHEMA_VERSION: every missing step, in order, in one
        transaction, so a crash or a concurrent opener never sees half an upgrade."""
        conn = self._read
        if self._version(conn) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._version(conn)  # again, under the lock: another process may have
            common.apply_steps(conn, version, _SCHEMA_V1, MIGRATIONS)
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
        marks = ",".join("?" * len(LIVE_STATES))
        select = (
            f"SELECT id, host, pid, process_start FROM executions WHERE state IN ({marks}) "
            "AND host = ?"
        )
        candidates = common.dead_runs(conn.execute(select, (*LIVE_STATES, me.host)).fetchall(), me)
        if not candidates:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # checked again under the write lock: another opener may have marked them
            for eid, host, pid, start in conn.execute(select, (*LIVE_STATES, me.host)).fetchall():
                if eid in candidates and process.is_dead(host, pid, start):
                    self._mark_killed(conn, eid, host, pid)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                conn.execute("ROLLBACK")
            raise

    def _mark_killed(self, conn: sqlite3.Connection, eid: str, host: str, pid: int) -> None:
        marks = ",".join("?" * len(TERMINAL))
        for trid, doc_text in conn.execute(
            f"SELECT id, doc FROM taskruns WHERE execution_id = ? AND state NOT IN ({marks})",
            (eid, *TERMINAL),
        ).fetchall():
            killed = common.killed_taskrun(doc_text)
            if killed is None:
                continue  # a document kflow did not write: leave it as it is
            conn.execute(
                "UPDATE taskruns SET state = 'KILLED', doc = ? WHERE id = ?", (killed, trid)
            )
            conn.execute(  # its record follows (a deleted or stale one keeps its status)
                "UPDATE records SET state = 'KILLED', tags = json_set(tags, '$.state', 'KILLED'), "
                "status = CASE WHEN status IN ('deleted', 'stale') THEN status ELSE 'failed' END, "
                "updated_at = ? WHERE taskrun_id = ?",
                (fixed_instant(now()), trid),
            )
        (doc_text,) = conn.execute("SELECT doc FROM executions WHERE id = ?", (eid,)).fetchone()
        killed_execution = common.killed_execution(doc_text)
        if killed_execution is None:
            return
        conn.execute(
            "UPDATE executions SET state = 'KILLED', end_date = ?, doc = ? WHERE id = ?",
            (*killed_execution, eid),
        )
        conn.execute(
            "INSERT INTO logs (execution_id, taskrun_id, task_id, ts, level, message) "
            "VALUES (?, NULL, NULL, ?, 'ERROR', ?)",
            (eid, iso_instant(now()), common.killed_message(pid, host)),
        )
        self.recovered.append(eid)

    # ----------------------------------------------------------------- writer
    # (the loop is common.QueuedWriter's; these are its SQLite parts)
    def _writer_connection(self, conn: sqlite3.Connection | None) -> sqlite3.Connection:
        return conn if conn is not None else _connect(self.path)

    def _commit_batch(self, conn: sqlite3.Connection, pending: list[Change]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        for sql, rows in common.by_statement(pending):
            conn.executemany(sql, rows)
        conn.execute("COMMIT")

    def _batch_failed(
        self, conn: sqlite3.Connection | None, exc: BaseException
    ) -> tuple[sqlite3.Connection | None, bool]:
        """A full disk may pass (the batch is kept and retried); anything else is final."""
        if conn is not None:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        return conn, _is_disk_full(exc)

    def _retry_window(self) -> float:
        return self.full_disk_wait

    def _batch_lost(self, exc: BaseException, count: int) -> StoreError:
        return StoreError(
            f"the disk holding {self.path} stayed full: {count} "
            "changes to the execution store were not written",
            hint="free some space; the unfinished execution is marked "
            "KILLED when the kflow home is next opened",
        )

    def _write_error(self, exc: BaseException) -> StoreError:
        return StoreError(f"cannot write to the execution store {self.path}: {exc}")

    def _enqueue(self, sql: str, params: tuple[Any, ...]) -> None:
        self._enqueue_all([(sql, params)])

    def _enqueue_all(self, writes: list[Change]) -> None:
        """Queue statements that the writer commits in one transaction."""
        if self.read_only:
            raise StoreError(
                f"the kflow home {self.path.parent} is read-only: nothing can be recorded",
                hint="run flows with KFLOW_HOME pointing to a writable directory",
            )
        self._ensure_writer()
        self._queue.put(writes)

    # ----------------------------------------------------------------- writes
    def create_execution(self, execution: Execution, flow_source: str) -> None:
        me = process.current()
        self._enqueue(
            "INSERT INTO executions (id, namespace, flow_id, state, start_date, end_date, "
            "parent_id, flow_source, doc, host, pid, process_start, organization_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                execution.id,
                execution.namespace,
                execution.flow_id,
                execution.state.current.value,
                iso_instant(execution.state.start),
                None,
                execution.parent_id,
                flow_source,
                dumps(execution.to_dict(with_taskruns=False)),
                me.host,
                me.pid,
                me.start,
                self.organization_id,
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
                dumps(execution.to_dict(with_taskruns=False)),
                me.host,
                me.pid,
                me.start,
                execution.id,
            ),
        )

    def save_taskrun(self, execution: Execution, taskrun: TaskRun) -> None:
        doc = taskrun.to_dict()
        outputs = doc.pop("outputs")  # kept once, in the run's record (get_execution joins it)
        state = taskrun.state.current.value
        # its last change: the newest state date (no clock read, no date printed twice)
        stamp = fixed_instant(taskrun.state.histories[-1][1])
        # one item: the document and the record are committed together, so a kill between
        # two commits cannot leave a run without its outputs
        self._enqueue_all(
            [
                (
                    "INSERT INTO taskruns (id, execution_id, seq, task_id, state, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "state = excluded.state, doc = excluded.doc",
                    (taskrun.id, taskrun.execution_id, taskrun.seq, taskrun.task_id, state,
                     dumps(doc)),
                ),
                (
                    _UPSERT_RECORD,
                    record_row(self.organization_id, execution, taskrun, outputs, state, stamp),
                ),
            ]
        )  # fmt: skip

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

    def _kv_write(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """The KV store's writes, in one immediate transaction on the reading connection
        (busy_timeout waits for another process's writer)."""
        if self.read_only:
            self._enqueue_all([])  # raises the read-only StoreError
        counts: list[int] = []
        with self._read_lock:
            conn = self._read
            try:
                conn.execute("BEGIN IMMEDIATE")
                for sql, params in statements:
                    counts.append(conn.execute(sql, params).rowcount)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self._write_error(exc) from exc
        return counts

    # ----------------------------------------------------------------- reads
    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            return self._read.execute(sql, params).fetchall()

    def resolve_id(self, execution_id: str) -> str:
        """``last`` → newest execution; a unique prefix → the full id (common.resolve_id)."""
        return common.resolve_id(
            execution_id,
            lambda: self._query(
                f"SELECT id FROM executions WHERE parent_id IS NULL{self._org} "
                "ORDER BY start_date DESC, rowid DESC LIMIT 1",
                self._org_args,
            ),
            lambda: self._query(
                f"SELECT id FROM executions WHERE id = ?{self._org}",
                (execution_id, *self._org_args),
            ),
            lambda: self._query(
                f"SELECT id FROM executions WHERE substr(id, 1, ?) = ?{self._org} LIMIT 2",
                (len(execution_id), execution_id, *self._org_args),
            ),
        )

    def get_taskruns(
        self, execution_id: str, *, limit: int | None = None, with_error: bool = False
    ) -> list[TaskRun]:
        self.flush()
        if self._org and not self._query(
            f"SELECT 1 FROM executions WHERE id = ?{self._org}", (execution_id, *self._org_args)
        ):
            return []  # another organisation's execution
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
            "SELECT t.doc, o.output, t.seq, o.task_type FROM taskruns t "
            "LEFT JOIN records o ON o.taskrun_id = t.id "
            f"WHERE t.execution_id = ?{where} ORDER BY t.seq LIMIT ?"
        )

        def batches() -> Generator[list[Any], None, None]:
            with self._read_lock:
                cursor = self._read.execute(sql, (eid, MAX_INT if limit is None else limit))
                while rows := cursor.fetchmany(1000):
                    yield rows

        return common.taskrun_docs(batches())

    def list_executions(
        self, limit: int = 20, namespace: str | None = None, flow_id: str | None = None
    ) -> list[ExecutionSummary]:
        self.flush()
        where, params = ([self._org[5:]], list(self._org_args)) if self._org else ([], [])
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
                (*params, min(limit, MAX_INT)),
            )
        )

    def children(self, execution_id: str) -> list[ExecutionSummary]:
        return self._summaries(
            self._query(
                "SELECT id, namespace, flow_id, state, start_date, end_date, parent_id "
                f"FROM executions WHERE parent_id = ?{self._org} ORDER BY start_date",
                (execution_id, *self._org_args),
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

    # ----------------------------------------------------------------- records
    def _tags_where(self, tags: Mapping[str, str]) -> tuple[list[str], list[Any]]:
        """Each tag a condition on its JSON path (tags are JSON text in SQLite)."""
        where: list[str] = []
        params: list[Any] = []
        for key, value in tags.items():
            where.append("json_extract(tags, ?) = ?")
            params.extend([f'$."{key}"', value])
        return where, params

    def list_records(self, query: RecordQuery) -> RecordPage:
        self.flush()
        limit = 50 if query.limit is None else query.limit
        where, params = self._record_where(query)
        return common.list_records(self._query, where, params, limit, "?")

    def _change_records(self, where: str, params: tuple[Any, ...], status: str, by: str,
                        keep: tuple[str, ...]) -> list[str]:  # fmt: skip
        """Set ``status`` on the matching records (of this organisation, not already in one
        of ``keep``), in one transaction; the ids changed."""
        self.flush()
        if self.read_only:
            self._enqueue_all([])  # raises the read-only StoreError
        marks = ",".join("?" * len(keep))
        stamp = fixed_instant(now())
        with self._read_lock:
            conn = self._read
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [
                    str(r[0])
                    for r in conn.execute(
                        f"SELECT id FROM records WHERE organization_id = ? AND {where} "
                        f"AND status NOT IN ({marks})",
                        (self.organization_id, *params, *keep),
                    ).fetchall()
                ]
                for i in range(0, len(ids), 500):
                    chunk = ids[i : i + 500]
                    conn.execute(
                        "UPDATE records SET status = ?, updated_at = ?, updated_by = ? "
                        f"WHERE id IN ({','.join('?' * len(chunk))})",
                        (status, stamp, by, *chunk),
                    )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return ids

    def delete_records(self, record_ids: Sequence[str], by: str) -> list[str]:
        changed: list[str] = []
        ids = list(dict.fromkeys(record_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            changed += self._change_records(
                f"id IN ({','.join('?' * len(chunk))})", tuple(chunk), "deleted", by,
                ("deleted",),
            )  # fmt: skip
        return changed

    def executions_ended_before(self, instant: str) -> list[ExecutionSummary]:
        self.flush()
        return self._summaries(
            self._query(
                "SELECT id, namespace, flow_id, state, start_date, end_date, parent_id "
                "FROM executions WHERE end_date IS NOT NULL AND end_date < ?"
                f"{self._org} ORDER BY end_date",
                (instant, *self._org_args),
            )
        )

    def mark_stale(self, execution_ids: Sequence[str], by: str) -> int:
        changed = 0
        ids = list(execution_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            changed += len(
                self._change_records(
                    f"flow_execution_id IN ({','.join('?' * len(chunk))})", tuple(chunk),
                    "stale", by, ("deleted", "stale"),
                )
            )  # fmt: skip
        return changed
