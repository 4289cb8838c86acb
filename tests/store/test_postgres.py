"""What only the PostgreSQL store does (the shared behaviour is in test_contract.py):
row-level security between organisations, many writers into one database, schema steps
taken once, recovery, clear errors for a server that is missing or refuses, and the CLI
end to end with ``KFLOW_DB``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kflow.errors import NotFoundError, StoreError, UsageError
from kflow.records import Execution
from kflow.states import State
from kflow.store import postgres
from kflow.store.base import LogRecord
from kflow.store.postgres import PostgresStore
from kflow.taskoutputs import RecordQuery, record_id
from tests.pgserver_fixture import PgDatabase, PgServer

from .test_contract import add_run, finish, new_execution

psycopg = pytest.importorskip("psycopg")


def admin(db: PgDatabase) -> Any:
    return psycopg.connect(db.admin_url, autocommit=True)


# ------------------------------------------------------------------ row-level security


def _two_organisations(db: PgDatabase) -> None:
    for org in ("acme", "globex"):
        store = PostgresStore(db.url, organization_id=org)
        ex = new_execution(store, f"E-{org}")
        add_run(store, ex, f"T-{org}")
        store.append_log(LogRecord(ex.id, None, None, "2024-01-01T00:00:00Z", "INFO", org))
        finish(store, ex)
        store.close()


def test_policies_show_a_connection_its_organisation_only(pg_db: PgDatabase) -> None:
    """Checked with plain SQL as the application role (not a superuser, and the owner of
    the tables: FORCE makes the policies bind it too), not through the store's queries."""
    _two_organisations(pg_db)
    with psycopg.connect(pg_db.url, autocommit=True) as conn:
        is_super = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert is_super.fetchone() == (False,)
        tables = ("executions", "taskruns", "logs", "records")
        # no organisation set: nothing at all
        for table in tables:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        conn.execute("SET app.organization_id = 'acme'")
        for table in tables:
            orgs = conn.execute(f"SELECT DISTINCT organization_id FROM {table}").fetchall()
            assert orgs == [("acme",)], table
        # nor can it write into another organisation, or move a row there
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO logs (organization_id, execution_id, ts, level, message) "
                "VALUES ('globex', 'E-globex', 'now', 'INFO', 'forged')"
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE records SET organization_id = 'globex'")
        assert conn.execute("DELETE FROM executions WHERE id = 'E-globex'").rowcount == 0
    with admin(pg_db) as conn:  # behind the policies: both are there, untouched
        rows = conn.execute("SELECT organization_id, count(*) FROM logs GROUP BY 1 ORDER BY 1")
        assert rows.fetchall() == [("acme", 1), ("globex", 1)]


def test_a_superuser_connection_still_sees_one_organisation(pg_db: PgDatabase) -> None:
    """Superusers bypass row-level security: the store's own filters still apply."""
    _two_organisations(pg_db)
    store = PostgresStore(pg_db.admin_url, organization_id="acme")
    try:
        assert [e.id for e in store.list_executions()] == ["E-acme"]
        assert [r.taskrun_id for r in store.list_records(RecordQuery()).records] == ["T-acme"]
        with pytest.raises(NotFoundError):
            store.get_execution("E-globex")
        with pytest.raises(NotFoundError):
            store.get_record(record_id("T-globex"))
    finally:
        store.close()


# ------------------------------------------------------------------ writers


def test_eight_concurrent_writers_lose_nothing(pg_db: PgDatabase) -> None:
    """Eight stores (as eight runners would) write into one database at once."""
    runs, writers = 60, 8
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            store = PostgresStore(pg_db.url, organization_id="team")
            start.wait(timeout=60)
            ex = new_execution(store, f"W{n}")
            for i in range(runs):
                add_run(store, ex, f"W{n}-{i:03d}", outputs={"n": n, "i": i})
                if i % 10 == 0:
                    store.append_log(LogRecord(ex.id, None, None, "t", "INFO", f"{n}/{i}"))
            finish(store, ex)
            store.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = PostgresStore(pg_db.url, organization_id="team")
    try:
        records = list(store.iter_records(RecordQuery(limit=None)))
        assert len(records) == runs * writers
        assert {r.taskrun_id for r in records} == {
            f"W{n}-{i:03d}" for n in range(writers) for i in range(runs)
        }
        assert all(r.status == "completed" for r in records)
        assert len(store.list_executions(limit=100)) == writers
        for n in range(writers):
            ex = store.get_execution(f"W{n}")
            assert ex.state.current is State.SUCCESS
            assert [tr.outputs for tr in ex.task_runs] == [{"n": n, "i": i} for i in range(runs)]
            assert len(store.get_logs(ex.id)) == runs // 10
    finally:
        store.close()


def test_stores_opening_a_new_database_together_create_it_once(pg_db: PgDatabase) -> None:
    errors: list[BaseException] = []
    stores: list[PostgresStore] = []
    start = threading.Barrier(6)

    def open_one() -> None:
        try:
            start.wait(timeout=60)
            stores.append(PostgresStore(pg_db.url))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for store in stores:
        store.close()
    assert not errors and len(stores) == 6
    with admin(pg_db) as conn:
        assert conn.execute("SELECT value FROM meta").fetchall() == [
            (str(postgres.SCHEMA_VERSION),)
        ]


def test_writes_survive_a_dropped_connection(pg_db: PgDatabase) -> None:
    """A server restart or a network blip drops the connections: the writer retries its
    batch on a new one, and reads reconnect."""
    store = PostgresStore(pg_db.url)
    try:
        ex = new_execution(store, "Edrop")
        add_run(store, ex, "T1")
        store.flush()
        with admin(pg_db) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = 'kflow'",
                (pg_db.name,),
            ).fetchone()
        assert killed == (2,)  # the reader's and the writer's
        add_run(store, ex, "T2")
        finish(store, ex)
        store.flush()
        assert [tr.id for tr in store.get_execution("Edrop").task_runs] == ["T1", "T2"]
    finally:
        store.close()


def test_a_server_gone_for_good_is_reported_by_flush(pg_db: PgDatabase) -> None:
    """The writer keeps retrying for ``reconnect_wait`` seconds of a waiting flush(), then
    reports what it could not write (instead of blocking the run for ever)."""
    store = PostgresStore(pg_db.url, reconnect_wait=0.3)
    try:
        ex = new_execution(store, "Egone")
        store.flush()
        store.url = "postgresql://kflow@127.0.0.1:1/gone"  # every reconnection now fails
        with admin(pg_db) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = 'kflow'",
                (pg_db.name,),
            )
        add_run(store, ex, "T1")
        with pytest.raises(StoreError, match=r"stayed unreachable: \d+ changes were not") as err:
            store.flush()
        assert "(connection failed" in str(err.value) and err.value.hint
    finally:
        store.close()


def test_text_postgresql_refuses_is_kept_readable(pg_db: PgDatabase) -> None:
    """NUL characters and lone surrogates (SQLite keeps them) become U+FFFD, not a
    failed batch."""
    store = PostgresStore(pg_db.url)
    try:
        ex = Execution(
            id="Enul", namespace="n", flow_id="f", labels=[{"key": "k", "value": "a\x00b"}]
        )
        store.create_execution(ex, "id: f\n# \x00\n")
        add_run(store, ex, "T1", outputs={"v": "\x00"})
        store.append_log(LogRecord(ex.id, None, None, "t", "INFO", "bad \x00 \udcff end"))
        store.flush()
        assert store.get_logs(ex.id)[0].message == "bad \ufffd ? end"
        assert store.get_flow_source(ex.id) == "id: f\n# \ufffd\n"
        with pytest.raises(NotFoundError):
            store.get_execution("En\x00l")  # not a driver error
        rec = store.get_record(record_id("T1"))
        assert rec.output == {"v": "\x00"} and rec.tags["k"] == "a\ufffdb"
    finally:
        store.close()


# ------------------------------------------------------------------ schema


def test_a_new_schema_step_is_applied_once(
    pg_db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    PostgresStore(pg_db.url).close()
    calls: list[int] = []

    def step(conn: Any) -> None:
        calls.append(1)
        conn.execute("ALTER TABLE executions ADD COLUMN note TEXT")

    current = postgres.SCHEMA_VERSION  # the steps below come after the released ones
    monkeypatch.setattr(
        postgres,
        "MIGRATIONS",
        [*postgres.MIGRATIONS, step, ["CREATE INDEX notes ON executions (note)"]],
    )
    monkeypatch.setattr(postgres, "SCHEMA_VERSION", current + 2)
    PostgresStore(pg_db.url).close()
    PostgresStore(pg_db.url).close()
    assert calls == [1]
    with admin(pg_db) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(current + 2),)
        assert conn.execute("SELECT to_regclass('notes') IS NOT NULL").fetchone() == (True,)


def test_a_failing_step_leaves_the_schema_as_it_was(
    pg_db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    PostgresStore(pg_db.url).close()
    current = postgres.SCHEMA_VERSION
    monkeypatch.setattr(
        postgres,
        "MIGRATIONS",
        [*postgres.MIGRATIONS, ["ALTER TABLE executions ADD COLUMN note TEXT", "SELECT 1/0"]],
    )
    monkeypatch.setattr(postgres, "SCHEMA_VERSION", current + 1)
    with pytest.raises(StoreError, match="cannot open the PostgreSQL execution store"):
        PostgresStore(pg_db.url)
    with admin(pg_db) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (str(current),)
        column = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'note'"
        )
        assert column.fetchone() == (0,)


def test_a_version_that_is_not_a_number_is_refused(pg_db: PgDatabase) -> None:
    PostgresStore(pg_db.url).close()
    with admin(pg_db) as conn:
        conn.execute("UPDATE meta SET value = 'x1'")
    with pytest.raises(StoreError, match="schema version 'x1', which is not a number"):
        PostgresStore(pg_db.url)


def test_a_role_without_grants_gets_a_hint(pg_server: PgServer, pg_db: PgDatabase) -> None:
    PostgresStore(pg_db.url).close()
    with pg_server.admin() as conn:
        conn.execute("DROP ROLE IF EXISTS kflow_nobody")
        conn.execute("CREATE ROLE kflow_nobody LOGIN")
    with pytest.raises(StoreError, match="permission denied") as err:
        PostgresStore(pg_server.url(pg_db.name, "kflow_nobody"))
    assert "grant" in (err.value.hint or "")


# ------------------------------------------------------------------ recovery


def test_a_run_whose_process_died_is_marked_killed(pg_db: PgDatabase) -> None:
    store = PostgresStore(pg_db.url)
    ex = new_execution(store, "Edead")
    add_run(store, ex, "Tdone")
    add_run(store, ex, "Tbusy", state=State.RUNNING)
    ex.state.set(State.RUNNING)
    store.save_execution(ex)
    store.close()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with admin(pg_db) as conn:
        conn.execute("UPDATE executions SET pid = %s, process_start = NULL", (proc.pid,))
    other_org = PostgresStore(pg_db.url, organization_id="other")
    assert other_org.recovered == []  # not its run
    other_org.close()
    store = PostgresStore(pg_db.url)
    try:
        assert store.recovered == ["Edead"]
        back = store.get_execution("Edead")
        assert back.state.current is State.KILLED
        states = {tr.id: tr.state.current for tr in back.task_runs}
        assert states == {"Tdone": State.SUCCESS, "Tbusy": State.KILLED}
        assert any("marked KILLED" in r.message for r in store.get_logs("Edead"))
        assert store.get_record(record_id("Tdone")).status == "completed"
        busy = store.get_record(record_id("Tbusy"))
        assert (busy.status, busy.tags["state"]) == ("failed", "KILLED")
    finally:
        store.close()
    again = PostgresStore(pg_db.url)
    assert again.recovered == []
    again.close()


# ------------------------------------------------------------------ errors


def test_a_server_that_cannot_be_reached() -> None:
    with pytest.raises(
        StoreError,
        match=r"cannot connect to the PostgreSQL execution store at 127\.0\.0\.1:1/kflow",
    ) as err:
        PostgresStore("postgresql://someone:s3cret@127.0.0.1:1/kflow")
    assert "s3cret" not in str(err.value)
    assert "KFLOW_DB" in (err.value.hint or "")


def test_missing_psycopg_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg raises ImportError
    with pytest.raises(StoreError, match="psycopg") as err:
        PostgresStore("postgresql://localhost/kflow")
    assert "pip install 'kflow[postgres]'" in (err.value.hint or "")


def test_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from kflow.home import database_url

    monkeypatch.delenv("KFLOW_DB", raising=False)
    assert database_url() is None
    monkeypatch.setenv("KFLOW_DB", "  ")
    assert database_url() is None
    for url in ("postgresql://u@h/db", "postgres://u@h/db"):
        monkeypatch.setenv("KFLOW_DB", url)
        assert database_url() == url
    monkeypatch.setenv("KFLOW_DB", "mysql://root:pw@h/db")
    with pytest.raises(UsageError, match="unsupported KFLOW_DB 'mysql'") as err:
        database_url()
    assert "pw" not in str(err.value) and "postgresql://" in (err.value.hint or "")


# ------------------------------------------------------------------ the CLI


FLOW = """
    id: hello
    namespace: company.team
    tasks:
      - id: say
        type: io.kestra.plugin.core.debug.Return
        format: "big {{ 2 * 21 }}"
      - id: log
        type: io.kestra.plugin.core.log.Log
        message: hello from postgres
"""


def test_cli_runs_into_postgresql_and_reads_it_back(
    pg_db: PgDatabase,
    kflow_home: Path,
    cli: Callable[..., subprocess.CompletedProcess[str]],
    write_flow: Callable[..., Path],
) -> None:
    flow = write_flow(FLOW)
    env = {"KFLOW_DB": pg_db.url, "KFLOW_ORG": "acme"}
    run = cli("run", str(flow), "--json", env=env)
    assert run.returncode == 0, run.stderr
    eid = json.loads(run.stdout)["id"]
    out = cli("outputs", "last", "--json", env=env)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["executionId"] == eid and doc["state"] == "SUCCESS"
    assert {tr["taskId"]: tr["outputs"] for tr in doc["taskRuns"]}["say"] == {"value": "big 42"}
    listed = cli("executions", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [(e["id"], e["state"]) for e in json.loads(listed.stdout)] == [(eid, "SUCCESS")]
    logs = cli("logs", "last", env=env)
    assert "hello from postgres" in logs.stdout, logs.stderr
    # the global --db option does the same as KFLOW_DB; another organisation sees nothing
    other = cli("--db", pg_db.url, "--org", "globex", "executions", "--json")
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == []
    # nothing of it went to the kflow home's SQLite store
    assert not (kflow_home / "kflow.db").exists()
    store = PostgresStore(pg_db.url, organization_id="acme")
    try:
        assert {r.task_name for r in store.list_records(RecordQuery()).records} == {"say", "log"}
    finally:
        store.close()


def test_cli_errors_are_one_line_with_a_hint(
    cli: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    down = cli("executions", env={"KFLOW_DB": "postgresql://u:pw@127.0.0.1:1/kflow"})
    assert down.returncode == 2
    assert "cannot connect to the PostgreSQL execution store at 127.0.0.1:1" in down.stderr
    assert "hint:" in down.stderr and "Traceback" not in down.stderr and "pw" not in down.stderr
    other = cli("executions", env={"KFLOW_DB": "sqlite:///tmp/x.db"})
    assert other.returncode != 0
    assert "unsupported KFLOW_DB 'sqlite'" in other.stderr and "Traceback" not in other.stderr


LOOP = """
    id: loop
    namespace: company.team
    tasks:
      - id: each
        type: io.kestra.plugin.core.flow.ForEach
        values: "{{ range(1, 40) }}"
        tasks:
          - id: ret
            type: io.kestra.plugin.core.debug.Return
            format: "v{{ taskrun.value }}"
"""


def test_eight_kflow_runs_at_once_into_one_database(
    pg_db: PgDatabase, kflow_home: Path, write_flow: Callable[..., Path]
) -> None:
    """Eight ``kflow run`` processes (eight CI runners) write into one database at once:
    every execution, task run and record arrives."""
    import os

    flow = write_flow(LOOP)
    env = dict(os.environ, KFLOW_DB=pg_db.url, KFLOW_ORG="ci")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kflow", "run", str(flow), "--json"],
            env=dict(env, KFLOW_HOME=str(kflow_home / f"runner{n}")),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        for n in range(8)
    ]
    ids = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        ids.append(json.loads(out)["id"])
    store = PostgresStore(pg_db.url, organization_id="ci")
    try:
        assert sorted(e.id for e in store.list_executions(limit=100)) == sorted(ids)
        records = list(store.iter_records(RecordQuery(limit=None)))
        for eid in ids:
            runs = store.get_execution(eid).task_runs
            assert len(runs) == 41  # the ForEach and its 40 iterations (range ends included)
            mine = [r for r in records if r.flow_execution_id == eid]
            assert sorted(r.taskrun_id for r in mine) == sorted(tr.id for tr in runs)
            outputs = sorted(r.output["value"] for r in mine if r.output and r.task_name == "ret")
            assert outputs == sorted(f"v{i}" for i in range(1, 41))
        assert all(r.status == "completed" for r in records)
    finally:
        store.close()
