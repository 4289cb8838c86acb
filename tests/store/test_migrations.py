"""The store's schema moves forward by ordered steps: a store written by the first release
(schema 1) is upgraded when opened, in one transaction; a version that is not a number, or
is newer than this kflow, is refused with a clear message (exit 2)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from kflow.errors import StoreError
from kflow.store import sqlite as sqlite_store
from kflow.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore
from kflow.taskoutputs import RecordQuery, record_id

# The schema exactly as kflow's first release (schema version 1) wrote it: a copy, never
# to be edited, so the upgrade is tested against what users' stores really hold.
RELEASE_1_SCHEMA = [
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

STATE = {
    "current": "SUCCESS",
    "histories": [
        {"state": "CREATED", "date": "2025-01-02T03:04:05Z"},
        {"state": "RUNNING", "date": "2025-01-02T03:04:06Z"},
        {"state": "SUCCESS", "date": "2025-01-02T03:04:07Z"},
    ],
    "duration": "PT2S",
    "startDate": "2025-01-02T03:04:05Z",
    "endDate": "2025-01-02T03:04:07Z",
}


def write_release_1_store(path, version="1"):
    """A store as the first release left it: one finished execution, a task run with
    outputs, one log line, WAL mode."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for stmt in RELEASE_1_SCHEMA:
        conn.execute(stmt)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (version,))
    doc = {
        "id": "OLD1",
        "namespace": "company.team",
        "flowId": "hello",
        "flowRevision": 1,
        "inputs": {},
        "outputs": {},
        "labels": [],
        "state": STATE,
        "originalId": "OLD1",
        "deleted": False,
        "metadata": {"attemptNumber": 1, "originalCreatedDate": "2025-01-02T03:04:05Z"},
    }
    conn.execute(
        "INSERT INTO executions (id, namespace, flow_id, state, start_date, end_date, "
        "parent_id, flow_source, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "OLD1",
            "company.team",
            "hello",
            "SUCCESS",
            "2025-01-02T03:04:05Z",
            "2025-01-02T03:04:07Z",
            None,
            "id: hello\nnamespace: company.team\ntasks:\n  - id: hi\n"
            "    type: io.kestra.plugin.core.debug.Return\n    format: old\n",
            json.dumps(doc),
        ),
    )
    tr = {
        "id": "TR1",
        "executionId": "OLD1",
        "namespace": "company.team",
        "flowId": "hello",
        "taskId": "hi",
        "outputs": {"value": "old"},
        "state": STATE,
    }
    conn.execute(
        "INSERT INTO taskruns (id, execution_id, seq, task_id, state, doc) VALUES (?, ?, ?, ?, ?, ?)",
        ("TR1", "OLD1", 0, "hi", "SUCCESS", json.dumps(tr)),
    )
    conn.execute(
        "INSERT INTO task_outputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            "TR1",
            "OLD1",
            "company.team",
            "hello",
            "hi",
            None,
            "SUCCESS",
            "2025-01-02T03:04:05Z",
            json.dumps({"value": "old"}),
        ),
    )
    conn.execute(
        "INSERT INTO logs (execution_id, taskrun_id, task_id, ts, level, message) "
        "VALUES ('OLD1', 'TR1', 'hi', '2025-01-02T03:04:06Z', 'INFO', 'hello from v1')"
    )
    conn.close()


def version_of(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        conn.close()


def tables(path):
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def columns(path, table):
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def test_steps_are_ordered_and_numbered():
    assert SCHEMA_VERSION == 1 + len(MIGRATIONS) >= 2


def test_new_store_is_at_the_current_version(tmp_path):
    SQLiteStore(tmp_path / "k.db").close()
    assert version_of(tmp_path / "k.db") == str(SCHEMA_VERSION)
    assert {"host", "pid", "process_start"} <= set(columns(tmp_path / "k.db", "executions"))


def test_release_1_store_is_upgraded_and_keeps_its_data(tmp_path):
    db = tmp_path / "k.db"
    write_release_1_store(db)
    assert "host" not in columns(db, "executions")
    store = SQLiteStore(db)
    assert version_of(db) == str(SCHEMA_VERSION)
    assert {"host", "pid", "process_start"} <= set(columns(db, "executions"))
    ex = store.get_execution("OLD1")
    assert ex.state.current.value == "SUCCESS"
    assert ex.task_runs[0].outputs == {"value": "old"}
    assert [r.message for r in store.get_logs("OLD1")] == ["hello from v1"]
    # its task runs became task-output records, the one copy of their outputs
    (record,) = store.list_records(RecordQuery(task_name="hi")).records
    assert record.output == {"value": "old"}
    assert (record.status, record.expression, record.created_at) == (
        "completed", "outputs.hi", "2025-01-02T03:04:05.000000Z")
    assert record.tags == {"type": "io.kestra.plugin.core.debug.Return", "state": "SUCCESS"}
    assert record.id == record_id("TR1") and record.organization_id == "local"
    assert "task_outputs" not in tables(db)
    # a run before the upgrade has no process recorded: recovery leaves it alone
    assert store.recovered == []
    store.close()
    # opening again is a no-op (already current)
    SQLiteStore(db).close()
    assert version_of(db) == str(SCHEMA_VERSION)


def test_upgraded_home_runs_and_lists_through_the_cli(kflow_home, write_flow):
    kflow_home.mkdir(parents=True)
    write_release_1_store(kflow_home / "kflow.db")
    flow = write_flow(
        "id: hello\nnamespace: company.team\ntasks:\n"
        "  - {id: hi, type: io.kestra.plugin.core.debug.Return, format: new}\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "kflow", "run", str(flow), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "kflow", "executions", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["state"] for r in rows] == ["SUCCESS", "SUCCESS"]
    assert rows[1]["id"] == "OLD1"


def test_a_failing_step_leaves_the_store_at_its_old_version(tmp_path, monkeypatch):
    db = tmp_path / "k.db"
    write_release_1_store(db)

    def broken(conn):
        conn.execute("ALTER TABLE executions ADD COLUMN half_done TEXT")
        raise sqlite3.OperationalError("step failed on purpose")

    monkeypatch.setattr(sqlite_store, "MIGRATIONS", [*MIGRATIONS, broken])
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="step failed on purpose"):
        SQLiteStore(db)
    # one transaction: neither step 1->2 nor the half of the broken one is kept
    assert version_of(db) == "1"
    assert "host" not in columns(db, "executions")
    assert "half_done" not in columns(db, "executions")


def test_a_step_given_as_a_function_runs(tmp_path, monkeypatch):
    db = tmp_path / "k.db"
    write_release_1_store(db)
    seen = []

    def step(conn):
        seen.append(conn.execute("SELECT count(*) FROM executions").fetchone()[0])
        conn.execute("CREATE TABLE extra (x TEXT)")

    monkeypatch.setattr(sqlite_store, "MIGRATIONS", [*MIGRATIONS, step])
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    SQLiteStore(db).close()
    assert seen == [1]
    assert version_of(db) == str(SCHEMA_VERSION + 1)
    assert columns(db, "extra") == ["x"]


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("banana", "schema version 'banana', which is not a number"),
        ("", "schema version '', which is not a number"),
        ("0", "schema version 0, which no kflow writes"),
        (str(SCHEMA_VERSION + 1), f"newer kflow (schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION})"),
    ],
)
def test_bad_version_is_refused(tmp_path, version, message):
    db = tmp_path / "k.db"
    write_release_1_store(db, version=version)
    with pytest.raises(StoreError) as info:
        SQLiteStore(db)
    assert message in str(info.value)
    assert info.value.exit_code == 2
    assert info.value.hint
    assert version_of(db) == version  # untouched


@pytest.mark.parametrize("version", ["not-a-number", "99"])
def test_bad_version_through_the_cli(kflow_home, version):
    kflow_home.mkdir(parents=True)
    write_release_1_store(kflow_home / "kflow.db", version=version)
    proc = subprocess.run(
        [sys.executable, "-m", "kflow", "executions"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert "execution store" in proc.stderr and "hint:" in proc.stderr
