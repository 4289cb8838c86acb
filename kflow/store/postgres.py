"""PostgreSQL execution store (``KFLOW_DB=postgresql://...``): one store for a team.

Several machines and CI runners write their executions, task runs, logs and task-output
records into one database, and anyone reads them back with the usual commands. It keeps
the SQLite store's behaviour (:mod:`kflow.store.sqlite` is the reference): changes are
queued and committed by a writer thread in batches (group commit: a network round trip per
change would make a run of quick tasks crawl), ``flush()`` blocks until they are durable,
and reads see every change given before them.

Organisations are kept apart by the database itself: every table has an
``organization_id`` and a row-level security policy that shows a connection only the rows
of the organisation it set (``app.organization_id``), ``FORCE``\\d so that the tables'
owner obeys it too. The queries filter on the organisation as well, so a connection as a
superuser (which bypasses row-level security) still sees one organisation only.

psycopg 3 is imported only here, and only when a postgresql:// URL is used: it is the
optional extra ``kflow[postgres]``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kflow.errors import StoreError
from kflow.records import Execution, TaskRun, iso_instant, now
from kflow.store import common, process
from kflow.store.base import ExecutionSummary, LogRecord

# the writer, batching, recovery and record pieces both stores share (kflow.store.common),
# so that the two stores cannot drift apart
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
    RecordPage,
    RecordQuery,
    fixed_instant,
    status_of,
)

if TYPE_CHECKING:
    import psycopg

# The setting each connection names its organisation with; the policies read it.
ORG_SETTING = "app.organization_id"
_ORG_POLICY = f"organization_id = current_setting('{ORG_SETTING}', true)"
_ORG_TABLES = ("executions", "taskruns", "logs", "records")

# pg_advisory_xact_lock keys ("kflow" in ASCII, then a purpose): one serialises schema
# changes between processes opening a new database together, the other the commits of
# transactions that write records, so that `seq` order is commit order.
MIGRATE_LOCK = 0x6B666C6F7701
RECORDS_LOCK = 0x6B666C6F7702


def _policy(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY kflow_organization ON {table} USING ({_ORG_POLICY}) "
        f"WITH CHECK ({_ORG_POLICY})",
    ]


# The schema of the first release (version 1). Never edit it: a change is a new step in
# MIGRATIONS, so every existing database reaches the same shape. Dates are ISO text, as
# in SQLite, compared byte by byte as SQLite does (COLLATE "C": a language's collation
# may skip the punctuation of ``...:00Z`` against ``...:00.123Z``); documents, summaries
# and outputs are the JSON text json.dumps wrote (JSONB would refuse the NaN it may write
# and renumber big numbers); tags (strings only) are JSONB, filtered by containment.
_SCHEMA_V1 = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"""CREATE TABLE executions (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL DEFAULT current_setting('{ORG_SETTING}'),
        namespace TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        state TEXT NOT NULL,
        start_date TEXT COLLATE "C" NOT NULL,
        end_date TEXT COLLATE "C",
        parent_id TEXT,
        flow_source TEXT NOT NULL,
        doc TEXT NOT NULL,
        host TEXT,
        pid BIGINT,
        process_start TEXT,
        seq BIGSERIAL
    )""",
    "CREATE INDEX executions_start ON executions (organization_id, start_date, seq)",
    "CREATE INDEX executions_flow ON executions (organization_id, namespace, flow_id, start_date)",
    "CREATE INDEX executions_parent ON executions (parent_id)",
    "CREATE INDEX executions_state ON executions (state, host)",
    "CREATE INDEX executions_end ON executions (organization_id, end_date)",
    f"""CREATE TABLE taskruns (
        id TEXT PRIMARY KEY,
        organization_id TEXT NOT NULL DEFAULT current_setting('{ORG_SETTING}'),
        execution_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        task_id TEXT NOT NULL,
        state TEXT NOT NULL,
        has_error BOOLEAN NOT NULL DEFAULT false,
        doc TEXT NOT NULL
    )""",
    "CREATE INDEX taskruns_execution ON taskruns (execution_id, seq)",
    f"""CREATE TABLE logs (
        id BIGSERIAL PRIMARY KEY,
        organization_id TEXT NOT NULL DEFAULT current_setting('{ORG_SETTING}'),
        execution_id TEXT NOT NULL,
        taskrun_id TEXT,
        task_id TEXT,
        ts TEXT COLLATE "C" NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL
    )""",
    "CREATE INDEX logs_execution ON logs (execution_id, id)",
    # `seq` orders listings (newest first) and is the keyset cursor; the transactions that
    # write records commit one at a time (RECORDS_LOCK), so seq order is commit order
    f"""CREATE TABLE records (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        taskrun_id TEXT NOT NULL UNIQUE,
        flow_execution_id TEXT NOT NULL,
        organization_id TEXT NOT NULL DEFAULT current_setting('{ORG_SETTING}'),
        namespace TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        task_name TEXT NOT NULL,
        task_type TEXT NOT NULL,
        iteration_value TEXT,
        iteration_index BIGINT,
        parent_taskrun_id TEXT,
        status TEXT NOT NULL,
        state TEXT NOT NULL,
        summary TEXT NOT NULL,
        output TEXT,
        tags JSONB NOT NULL,
        expression TEXT NOT NULL,
        created_at TEXT COLLATE "C" NOT NULL,
        updated_at TEXT COLLATE "C" NOT NULL,
        updated_by TEXT NOT NULL
    )""",
    "CREATE INDEX records_org ON records (organization_id, seq)",
    "CREATE INDEX records_task ON records (organization_id, task_name, seq)",
    "CREATE INDEX records_flow ON records (organization_id, namespace, flow_id, seq)",
    "CREATE INDEX records_execution ON records (flow_execution_id, seq)",
    "CREATE INDEX records_created ON records (organization_id, created_at)",
    "CREATE INDEX records_status ON records (organization_id, status, seq)",
    # tag filters are containment queries (tags @> '{"k": "v"}'), which this index serves
    "CREATE INDEX records_tags ON records USING gin (tags jsonb_path_ops)",
    *(stmt for table in _ORG_TABLES for stmt in _policy(table)),
]

Migration = Sequence[str] | Callable[["psycopg.Connection[Any]"], None]

# MIGRATIONS[n - 1] takes a database from version n to n + 1 (SQL statements, or a
# function for a step SQL alone cannot express). Append only; a released step is never
# edited.
MIGRATIONS: list[Migration] = [
    # 1 -> 2: the namespace KV store (kflow.kv), per organisation like every table.
    [
        f"""CREATE TABLE kv (
            organization_id TEXT NOT NULL DEFAULT current_setting('{ORG_SETTING}'),
            namespace TEXT COLLATE "C" NOT NULL,
            key TEXT COLLATE "C" NOT NULL,
            type TEXT NOT NULL,
            value TEXT NOT NULL,
            description TEXT,
            created_at TEXT COLLATE "C" NOT NULL,
            updated_at TEXT COLLATE "C" NOT NULL,
            expires_at TEXT COLLATE "C",
            PRIMARY KEY (organization_id, namespace, key)
        )""",
        *_policy("kv"),
    ],
]

SCHEMA_VERSION = 1 + len(MIGRATIONS)

# How long the writer keeps retrying a batch while the server cannot be reached (a
# restart, a network blip) before flush() reports the changes lost; how often it retries.
RECONNECT_WAIT = 60.0  # (the writer retries every common.RETRY_EVERY)
CONNECT_TIMEOUT = 10  # seconds, unless the URL sets connect_timeout

# A record follows its task run; a deleted or stale record keeps that status (and its
# audit fields) when a still-running task saves again (as _UPSERT_RECORD in sqlite.py).
_UPSERT_RECORD = (
    "INSERT INTO records (id, taskrun_id, flow_execution_id, organization_id, namespace, "
    "flow_id, task_name, task_type, iteration_value, iteration_index, parent_taskrun_id, "
    "status, state, summary, output, tags, expression, created_at, updated_at, updated_by) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, "
    "%s, %s) "
    "ON CONFLICT (taskrun_id) DO UPDATE SET state = excluded.state, "
    "summary = excluded.summary, output = excluded.output, tags = excluded.tags, "
    "task_type = excluded.task_type, expression = excluded.expression, "
    "status = CASE WHEN records.status IN ('deleted', 'stale') THEN records.status "
    "ELSE excluded.status END, "
    "updated_at = CASE WHEN records.status IN ('deleted', 'stale') THEN records.updated_at "
    "ELSE excluded.updated_at END, "
    "updated_by = CASE WHEN records.status IN ('deleted', 'stale') THEN records.updated_by "
    "ELSE excluded.updated_by END"
)
_UPSERT_TASKRUN = (
    "INSERT INTO taskruns (id, organization_id, execution_id, seq, task_id, state, "
    "has_error, doc) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
    "state = excluded.state, has_error = excluded.has_error, doc = excluded.doc"
)
_INSERT_LOG = (
    "INSERT INTO logs (organization_id, execution_id, taskrun_id, task_id, ts, level, "
    "message) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_SUMMARY_COLUMNS = "id, namespace, flow_id, state, start_date, end_date, parent_id"


def _psycopg() -> Any:
    """psycopg, or a StoreError saying how to install it (it is an optional extra)."""
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "KFLOW_DB names a PostgreSQL store, but psycopg (PostgreSQL's driver) is not installed",
            hint="pip install 'kflow[postgres]', or unset KFLOW_DB to use the SQLite store",
        ) from None
    return psycopg


def _text(value: str | None) -> str | None:
    """Text PostgreSQL accepts: it refuses NUL characters and lone surrogates, which a
    log line or a flow file may hold (SQLite keeps them); they become U+FFFD."""
    if value is None or (value.isascii() and "\x00" not in value):
        return value
    value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def describe(url: str) -> str:
    """Where a URL points, for messages: ``host:port/dbname``, never the password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - a URL psycopg cannot parse: the scheme is enough
        return "postgresql://..."
    host = str(info.get("host") or "localhost")
    port = str(info.get("port") or "5432")
    where = host if host.startswith("/") else f"{host}:{port}"
    return f"{where}/{info.get('dbname') or info.get('user') or ''}".rstrip("/")


class _Unreachable(StoreError):
    """The server cannot be reached (the writer retries; an opener reports it).
    ``reason``: the driver's words alone."""

    reason = ""


class PostgresStore(SQLStore):
    """See the module docstring. ``url`` is a libpq URL (``postgresql://user:pw@host/db``);
    the store sees and writes the rows of ``organization_id`` only."""

    read_only = False  # a database kflow cannot write refuses at open (no read-only mode)
    _writer_name = "kflow-pg-writer"
    _mark = "%s"
    _read: psycopg.Connection[Any]

    def __init__(
        self,
        url: str,
        *,
        organization_id: str = DEFAULT_ORG,
        reconnect_wait: float = RECONNECT_WAIT,
    ) -> None:
        self._pg = _psycopg()
        self.url = url
        self.location = describe(url)
        self.organization_id = organization_id
        self.reconnect_wait = reconnect_wait
        self.recovered: list[str] = []
        self._read_lock = threading.Lock()
        self._init_writer()
        self._read = self._connect()
        try:
            self._migrate()
            self._recover()
        except BaseException as exc:
            self._read.close()
            if isinstance(exc, self._pg.Error):
                raise self._error("cannot open", exc) from exc
            raise

    # ----------------------------------------------------------------- connections
    def _connect(self) -> psycopg.Connection[Any]:
        """A connection in autocommit mode (transactions are explicit), set to this
        store's organisation for the whole session."""
        pg = self._pg
        kwargs: dict[str, Any] = {"autocommit": True, "application_name": "kflow"}
        if "connect_timeout" not in self.url and not os.environ.get("PGCONNECT_TIMEOUT"):
            kwargs["connect_timeout"] = CONNECT_TIMEOUT
        try:
            conn: psycopg.Connection[Any] = pg.connect(self.url, **kwargs)
        except pg.Error as exc:
            error = _Unreachable(
                f"cannot connect to the PostgreSQL execution store at {self.location}: "
                f"{_one_line(exc)}",
                hint="check that the server is running and reachable, and the host, port, "
                "user, password and database in KFLOW_DB (or --db)",
            )
            error.reason = _one_line(exc)
            raise error from None
        try:
            conn.execute("SELECT set_config(%s, %s, false)", (ORG_SETTING, self.organization_id))
        except BaseException:
            conn.close()
            raise
        return conn

    def _error(self, what: str, exc: BaseException) -> StoreError:
        if isinstance(exc, self._pg.errors.InsufficientPrivilege):
            hint = (
                "grant this database user the kflow tables (SELECT, INSERT, UPDATE, DELETE, "
                "and USAGE on their sequences); a new database is set up by a user that "
                "may create tables in it"
            )
        else:
            hint = "check the PostgreSQL server and KFLOW_DB (or --db)"
        return StoreError(
            f"{what} the PostgreSQL execution store at {self.location}: {_one_line(exc)}",
            hint=hint,
        )

    # ----------------------------------------------------------------- schema
    def _version(self, conn: psycopg.Connection[Any]) -> int | None:
        """The database's schema version; None for a database without kflow's tables."""
        # a query of pg_class, not to_regclass(): that reads a cache that may not yet know
        # of a table another opener committed while this one waited for MIGRATE_LOCK
        exists = conn.execute(
            "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relname = 'meta' AND n.nspname = current_schema()"
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return None
        return common.schema_version(
            row[0], self.location, SCHEMA_VERSION,
            damaged="the database is damaged or not kflow's: point KFLOW_DB at another database",
            elsewhere="KFLOW_DB",
        )  # fmt: skip

    def _migrate(self) -> None:
        """Bring the database to SCHEMA_VERSION: every missing step, in order, in one
        transaction (DDL is transactional in PostgreSQL), under an advisory lock so that
        processes opening a new database together create it once."""
        conn = self._read
        if self._version(conn) == SCHEMA_VERSION:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            version = self._version(conn)  # again, under the lock
            if version == SCHEMA_VERSION:
                return
            common.apply_steps(conn, version, _SCHEMA_V1, MIGRATIONS)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    # ----------------------------------------------------------------- recovery
    def _recover(self) -> None:
        """Mark KILLED each execution of this organisation run on this host whose process
        is gone (``kill -9``, power cut), with its unfinished task runs. Runs on other
        hosts are never judged: only their own host can tell."""
        me = process.current()
        conn = self._read
        select = (
            "SELECT id, host, pid, process_start FROM executions WHERE state = ANY(%s) "
            "AND host = %s AND organization_id = %s"
        )
        params = (list(LIVE_STATES), me.host, self.organization_id)
        candidates = common.dead_runs(conn.execute(select, params).fetchall(), me)
        if not candidates:
            return
        with conn.transaction():
            # checked again, rows locked: another opener may have marked them meanwhile
            for eid, host, pid, start in conn.execute(
                select + " AND id = ANY(%s) FOR UPDATE", (*params, candidates)
            ).fetchall():
                if process.is_dead(host, pid, start):
                    self._mark_killed(conn, eid, host, pid)

    def _mark_killed(self, conn: psycopg.Connection[Any], eid: str, host: str, pid: int) -> None:
        for trid, doc_text in conn.execute(
            "SELECT id, doc FROM taskruns WHERE execution_id = %s AND NOT (state = ANY(%s))",
            (eid, list(TERMINAL)),
        ).fetchall():
            killed = common.killed_taskrun(doc_text)
            if killed is None:
                continue  # a document kflow did not write: leave it as it is
            conn.execute(
                "UPDATE taskruns SET state = 'KILLED', doc = %s WHERE id = %s", (killed, trid)
            )
            # its record follows (a deleted or stale one keeps that status)
            conn.execute(
                "UPDATE records SET state = 'KILLED', tags = tags || %s::jsonb, "
                "status = CASE WHEN status IN ('deleted', 'stale') THEN status "
                "ELSE %s END WHERE taskrun_id = %s",
                (json.dumps({"state": "KILLED"}), status_of("KILLED"), trid),
            )
        row = conn.execute("SELECT doc FROM executions WHERE id = %s", (eid,)).fetchone()
        assert row is not None
        killed_execution = common.killed_execution(row[0])
        if killed_execution is None:
            return
        conn.execute(
            "UPDATE executions SET state = 'KILLED', end_date = %s, doc = %s WHERE id = %s",
            (*killed_execution, eid),
        )
        conn.execute(
            _INSERT_LOG,
            (
                self.organization_id, eid, None, None, iso_instant(now()), "ERROR",
                common.killed_message(pid, host),
            ),
        )  # fmt: skip
        self.recovered.append(eid)

    # ----------------------------------------------------------------- writer
    # (the loop is common.QueuedWriter's; these are its PostgreSQL parts)
    def _writer_connection(self, conn: psycopg.Connection[Any] | None) -> psycopg.Connection[Any]:
        return conn if conn is not None and not conn.closed else self._connect()

    def _commit_batch(self, conn: psycopg.Connection[Any], pending: list[Change]) -> None:
        """One batch, one transaction. A batch that writes records first takes
        RECORDS_LOCK: its records get their ``seq`` and commit before any other writer's,
        so a listing paging down ``seq`` never misses one committed behind its cursor."""
        with conn.transaction(), conn.cursor() as cur:
            if any(sql is _UPSERT_RECORD for sql, _ in pending):
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (RECORDS_LOCK,))
            for sql, rows in common.by_statement(pending):
                cur.executemany(sql, rows)

    def _batch_failed(
        self, conn: psycopg.Connection[Any] | None, exc: BaseException
    ) -> tuple[psycopg.Connection[Any] | None, bool]:
        """Connection lost, server shutting down or out of resources (disk), deadlock or
        serialisation failure: worth another try, on a new connection if this one broke."""
        transient = isinstance(exc, (self._pg.OperationalError, _Unreachable))
        if transient and conn is not None and conn.broken:
            conn.close()
            conn = None
        return conn, transient

    def _retry_window(self) -> float:
        return self.reconnect_wait

    def _batch_lost(self, exc: BaseException, count: int) -> StoreError:
        return StoreError(
            f"the PostgreSQL execution store at {self.location} stayed "
            f"unreachable: {count} changes were not written "
            f"({exc.reason if isinstance(exc, _Unreachable) else _one_line(exc)})",
            hint="check the server; the unfinished execution is marked "
            "KILLED when a kflow on this host next opens the store",
        )

    def _write_error(self, exc: BaseException) -> StoreError:
        return self._error("cannot write to", exc)

    # ----------------------------------------------------------------- writes
    def create_execution(self, execution: Execution, flow_source: str) -> None:
        me = process.current()
        self._enqueue_all(
            [
                (
                    "INSERT INTO executions (id, namespace, flow_id, state, start_date, "
                    "end_date, parent_id, flow_source, doc, host, pid, process_start, "
                    "organization_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s)",
                    (
                        execution.id, _text(execution.namespace), _text(execution.flow_id),
                        execution.state.current.value, iso_instant(execution.state.start),
                        None, execution.parent_id, _text(flow_source),
                        dumps(execution.to_dict(with_taskruns=False)), me.host, me.pid,
                        me.start, self.organization_id,
                    ),
                )
            ]
        )  # fmt: skip

    def save_execution(self, execution: Execution) -> None:
        end = execution.state.end
        me = process.current()  # whoever saves it runs it now (a resumed run changes hands)
        self._enqueue_all(
            [
                (
                    "UPDATE executions SET state = %s, end_date = %s, doc = %s, host = %s, "
                    "pid = %s, process_start = %s WHERE id = %s",
                    (
                        execution.state.current.value, iso_instant(end) if end else None,
                        dumps(execution.to_dict(with_taskruns=False)), me.host, me.pid,
                        me.start, execution.id,
                    ),
                )
            ]
        )  # fmt: skip

    def save_taskrun(self, execution: Execution, taskrun: TaskRun) -> None:
        doc = taskrun.to_dict()
        outputs = doc.pop("outputs")  # kept once, in the run's record (get_execution joins it)
        state = taskrun.state.current.value
        stamp = fixed_instant(taskrun.state.histories[-1][1])  # its last change
        # one item: the document and the record are committed together
        self._enqueue_all(
            [
                (
                    _UPSERT_TASKRUN,
                    (taskrun.id, self.organization_id, taskrun.execution_id, taskrun.seq,
                     _text(taskrun.task_id), state, taskrun.error is not None, dumps(doc)),
                ),
                (
                    _UPSERT_RECORD,
                    record_row(
                        self.organization_id, execution, taskrun, outputs, state, stamp, _text
                    ),
                ),
            ]
        )  # fmt: skip

    def append_log(self, record: LogRecord) -> None:
        self._enqueue_all(
            [
                (
                    _INSERT_LOG,
                    (
                        self.organization_id, record.execution_id, record.taskrun_id,
                        _text(record.task_id), record.timestamp, record.level,
                        _text(record.message),
                    ),
                )
            ]
        )  # fmt: skip

    def _kv_write(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """The KV store's writes, in one transaction on the reading connection."""
        counts: list[int] = []
        with self._read_lock:
            conn = self._read
            try:
                with conn.transaction(), conn.cursor() as cur:
                    for sql, params in statements:
                        cur.execute(sql, [_text(p) if type(p) is str else p for p in params])
                        counts.append(cur.rowcount)
            except self._pg.Error as exc:
                raise self._error("cannot write to", exc) from exc
        return counts

    # ----------------------------------------------------------------- reads
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read (its own implicit transaction). Text parameters are made
        acceptable to PostgreSQL (an id typed with a NUL is then simply not found), any
        driver error becomes a StoreError, and a dropped connection is replaced once."""
        args = [_text(p) if type(p) is str else p for p in params]
        with self._read_lock:
            try:
                return self._read.execute(sql, args).fetchall()
            except self._pg.Error as exc:
                if not self._read.broken:
                    raise self._error("cannot read", exc) from exc
            # the connection dropped (a server restart): once more on a new one
            self._read.close()
            self._read = self._connect()
            try:
                return self._read.execute(sql, args).fetchall()
            except self._pg.Error as exc:
                raise self._error("cannot read", exc) from exc

    def resolve_id(self, execution_id: str) -> str:
        """``last`` → newest execution; a unique prefix → the full id (common.resolve_id)."""
        org = self.organization_id
        return common.resolve_id(
            execution_id,
            lambda: self._query(
                "SELECT id FROM executions WHERE parent_id IS NULL AND organization_id = %s "
                "ORDER BY start_date DESC, seq DESC LIMIT 1",
                (org,),
            ),
            lambda: self._query(
                "SELECT id FROM executions WHERE id = %s AND organization_id = %s",
                (execution_id, org),
            ),
            lambda: self._query(
                "SELECT id FROM executions WHERE starts_with(id, %s) AND organization_id = %s "
                "LIMIT 2",
                (_text(execution_id), org),
            ),
        )

    def get_taskruns(
        self, execution_id: str, *, limit: int | None = None, with_error: bool = False
    ) -> list[TaskRun]:
        self.flush()
        where = " AND t.has_error" if with_error else ""
        return [
            TaskRun.from_dict(doc, seq)
            for doc, seq in self._taskrun_docs(execution_id, where, limit)
        ]

    def _taskrun_docs(
        self, eid: str, where: str = "", limit: int | None = None
    ) -> Iterator[tuple[dict[str, Any], int]]:
        """Each task run's document (outputs joined back) with its ``seq``, in order, read
        1000 at a time (keyset on seq, id; each batch its own short query): a million
        runs are never a million documents at once, and no transaction stays open."""
        sql = (
            "SELECT t.doc, o.output, t.seq, o.task_type, t.id FROM taskruns t "
            "LEFT JOIN records o ON o.taskrun_id = t.id "
            f"WHERE t.execution_id = %s AND t.organization_id = %s{where} "
            "AND (t.seq, t.id) > (%s, %s) ORDER BY t.seq, t.id LIMIT %s"
        )

        def batches() -> Generator[list[tuple[Any, ...]], None, None]:
            left = MAX_INT if limit is None else max(0, limit)
            after: tuple[int, str] = (-MAX_INT, "")
            while left > 0:
                rows = self._query(sql, (eid, self.organization_id, *after, min(left, 1000)))
                if not rows:
                    return
                yield rows
                left -= len(rows)
                after = (int(rows[-1][2]), str(rows[-1][4]))

        return common.taskrun_docs(batches())

    def list_executions(
        self, limit: int = 20, namespace: str | None = None, flow_id: str | None = None
    ) -> list[ExecutionSummary]:
        self.flush()
        where, params = ["organization_id = %s"], [self.organization_id]
        if namespace:
            where.append("namespace = %s")
            params.append(namespace)
        if flow_id:
            where.append("flow_id = %s")
            params.append(flow_id)
        return self._summaries(
            self._query(
                f"SELECT {_SUMMARY_COLUMNS} FROM executions WHERE {' AND '.join(where)} "
                "ORDER BY start_date DESC, seq DESC LIMIT %s",
                (*params, max(0, min(limit, MAX_INT))),
            )
        )

    def children(self, execution_id: str) -> list[ExecutionSummary]:
        return self._summaries(
            self._query(
                f"SELECT {_SUMMARY_COLUMNS} FROM executions WHERE parent_id = %s "
                "AND organization_id = %s ORDER BY start_date, seq",
                (execution_id, self.organization_id),
            )
        )

    def get_logs(self, execution_id: str, task_id: str | None = None) -> list[LogRecord]:
        self.flush()
        eid = self.resolve_id(execution_id)
        sql = "SELECT execution_id, taskrun_id, task_id, ts, level, message FROM logs "
        sql += "WHERE execution_id = %s AND organization_id = %s"
        params: tuple[Any, ...] = (eid, self.organization_id)
        if task_id:
            sql += " AND task_id = %s"
            params = (*params, task_id)
        return [LogRecord(*r) for r in self._query(sql + " ORDER BY id", params)]

    # ----------------------------------------------------------------- records
    def _tags_where(self, tags: Mapping[str, str]) -> tuple[list[str], list[Any]]:
        """Every tag must match; tags are strings, so containment is `tags ->> k = v` for
        each, and the GIN index (records_tags) serves it."""
        return ["tags @> %s::jsonb"], [json.dumps({_text(k): _text(v) for k, v in tags.items()})]

    def list_records(self, query: RecordQuery) -> RecordPage:
        self.flush()
        limit = 50 if query.limit is None else max(0, query.limit)
        where, params = self._record_where(query)
        return common.list_records(self._query, where, params, limit, "%s")

    def _change_records(
        self, where: str, params: Sequence[Any], status: str, by: str, keep: tuple[str, ...]
    ) -> list[str]:
        """Set ``status`` on the matching records (of this organisation, not already in one
        of ``keep``), in one transaction; the ids changed. It takes RECORDS_LOCK like the
        writers, so it never deadlocks with a batch upserting the same records."""
        self.flush()
        stamp = fixed_instant(now())
        with self._read_lock:
            conn = self._read
            try:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (RECORDS_LOCK,))
                    rows = conn.execute(
                        "UPDATE records SET status = %s, updated_at = %s, updated_by = %s "
                        f"WHERE organization_id = %s AND {where} AND NOT (status = ANY(%s)) "
                        "RETURNING id, seq",
                        (status, stamp, _text(by), self.organization_id, *params, list(keep)),
                    ).fetchall()
            except self._pg.Error as exc:
                raise self._error("cannot write to", exc) from exc
        return [str(r[0]) for r in sorted(rows, key=lambda r: int(r[1]))]

    def delete_records(self, record_ids: Sequence[str], by: str) -> list[str]:
        ids = [_text(i) for i in dict.fromkeys(record_ids)]
        if not ids:
            return []
        return self._change_records("id = ANY(%s)", (ids,), "deleted", by, ("deleted",))

    def executions_ended_before(self, instant: str) -> list[ExecutionSummary]:
        self.flush()
        return self._summaries(
            self._query(
                f"SELECT {_SUMMARY_COLUMNS} FROM executions WHERE end_date IS NOT NULL "
                "AND end_date < %s AND organization_id = %s ORDER BY end_date",
                (_text(instant), self.organization_id),
            )
        )

    def mark_stale(self, execution_ids: Sequence[str], by: str) -> int:
        ids = list(dict.fromkeys(execution_ids))
        if not ids:
            return 0
        return len(
            self._change_records(
                "flow_execution_id = ANY(%s)", (ids,), "stale", by, ("deleted", "stale")
            )
        )
