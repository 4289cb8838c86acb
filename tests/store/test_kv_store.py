"""The KV store in the execution store (kflow.store.base ``kv_*``), on SQLite and
PostgreSQL alike: rows round trip, ``overwrite`` only over an expired entry, organisations
kept apart; the SQLite schema step 4 -> 5 that adds the table; and a PostgreSQL store
shared by two kflow homes (two machines) shares its keys."""

from __future__ import annotations

import sqlite3

import pytest

from kflow.store import sqlite as sqlite_store
from kflow.store.base import KVRow
from kflow.store.sqlite import SQLiteStore

from .conftest import Stores
from .test_migrations import tables, version_of, write_release_1_store

T1 = "2025-01-02T03:04:05.000000Z"
T2 = "2025-01-02T04:04:05.000000Z"
T3 = "2025-01-02T05:04:05.000000Z"


def row(key: str, value: str = '"v"', *, ns: str = "company.team", expires: str | None = None,
        at: str = T1, kind: str = "STRING") -> KVRow:  # fmt: skip
    return KVRow(ns, key, kind, value, None, at, at, expires)


def test_rows_round_trip(stores: Stores) -> None:
    store = stores.open()
    assert store.kv_get("company.team", "k") is None
    assert store.kv_list() == []
    assert store.kv_set(row("k", '{"a": [1, 2.5, null]}', kind="JSON")) is True
    got = store.kv_get("company.team", "k")
    assert got == KVRow("company.team", "k", "JSON", '{"a": [1, 2.5, null]}', None, T1, T1, None)
    # another store object on the same location (another process) sees it at once
    assert stores.open().kv_get("company.team", "k") == got


def test_overwrite_replaces_but_keeps_the_creation_date(stores: Stores) -> None:
    store = stores.open()
    store.kv_set(row("k", '"one"'))
    assert store.kv_set(row("k", '"two"', at=T2, expires=T3)) is True
    assert store.kv_get("company.team", "k") == KVRow(
        "company.team", "k", "STRING", '"two"', None, T1, T2, T3
    )


def test_no_overwrite_keeps_a_live_entry_and_replaces_an_expired_one(stores: Stores) -> None:
    store = stores.open()
    store.kv_set(row("forever", '"one"'))
    store.kv_set(row("ttl", '"one"', expires=T2))
    assert store.kv_set(row("forever", '"two"'), overwrite=False, now=T3) is False
    assert store.kv_set(row("ttl", '"two"'), overwrite=False, now=T1) is False  # not yet
    assert store.kv_set(row("ttl", '"two"', at=T3), overwrite=False, now=T3) is True
    assert store.kv_set(row("new", '"x"'), overwrite=False, now=T3) is True
    values = {r.key: r.value for r in store.kv_list("company.team")}
    assert values == {"forever": '"one"', "new": '"x"', "ttl": '"two"'}


def test_list_delete_and_purge(stores: Stores) -> None:
    store = stores.open()
    for ns, key in [("company", "b"), ("company.team", "z"), ("company.team", "a"),
                    ("company", "a"), ("other", "k")]:  # fmt: skip
        store.kv_set(row(key, ns=ns))
    assert [(r.namespace, r.key) for r in store.kv_list()] == [
        ("company", "a"), ("company", "b"), ("company.team", "a"), ("company.team", "z"),
        ("other", "k"),
    ]  # fmt: skip
    assert [r.key for r in store.kv_list("company.team")] == ["a", "z"]
    assert store.kv_delete("company.team", "a") is True
    assert store.kv_delete("company.team", "a") is False
    assert store.kv_purge("company", ["a", "b", "missing", "a"]) == 2
    assert store.kv_purge("company", []) == 0
    assert [(r.namespace, r.key) for r in store.kv_list()] == [
        ("company.team", "z"), ("other", "k")
    ]


def test_keys_are_scoped_to_their_organisation(stores: Stores) -> None:
    local, acme = stores.open(), stores.open("acme")
    local.kv_set(row("k", '"local"'))
    acme.kv_set(row("k", '"acme"'))
    acme.kv_set(row("only-acme"))
    assert local.kv_get("company.team", "k").value == '"local"'
    assert acme.kv_get("company.team", "k").value == '"acme"'
    assert [r.key for r in local.kv_list()] == ["k"]
    assert acme.kv_delete("company.team", "k") is True
    assert local.kv_get("company.team", "k") is not None
    assert local.kv_purge("company.team", ["only-acme"]) == 0


def test_text_postgres_refuses_is_kept_readable(stores: Stores) -> None:
    store = stores.open()
    store.kv_set(KVRow("company", "k", "STRING", '"v"', "nul\x00here", T1, T1, None))
    assert store.kv_get("company", "k").description in ("nul\x00here", "nul\ufffdhere")


# ------------------------------------------------------------------ SQLite schema 4 -> 5
def test_a_version_4_store_gains_the_kv_table_and_keeps_its_runs(
    kflow_home, run_yaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written by the kflow before the KV store (schema 4, made by that code
    path: the first four steps only) is upgraded when next opened."""
    with monkeypatch.context() as m:
        m.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS[:3])
        m.setattr(sqlite_store, "SCHEMA_VERSION", 4)
        ex = run_yaml("""
id: before
namespace: company.team
tasks:
  - id: hi
    type: io.kestra.plugin.core.debug.Return
    format: kept
""")
    db = kflow_home / "kflow.db"
    assert version_of(db) == "4"
    assert "kv" not in tables(db)
    ex2 = run_yaml("""
id: after
namespace: company.team
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: k
    value: "{{ 41 + 1 }}"
  - id: get
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('k') }}"
""")
    assert version_of(db) == str(sqlite_store.SCHEMA_VERSION) == "5"
    assert ex2.task_runs[-1].outputs == {"value": "42"}
    store = SQLiteStore(db)
    try:
        assert store.get_execution(ex.id).task_runs[0].outputs == {"value": "kept"}
        assert [(r.key, r.type, r.value) for r in store.kv_list()] == [("k", "NUMBER", "42")]
    finally:
        store.close()


def test_a_release_1_store_reaches_the_kv_table(tmp_path) -> None:
    db = tmp_path / "k.db"
    write_release_1_store(db)
    store = SQLiteStore(db)
    try:
        assert store.kv_set(row("k")) is True
        assert [r.key for r in store.kv_list()] == ["k"]
    finally:
        store.close()
    assert version_of(db) == "5"


def test_an_older_store_read_only_has_an_empty_kv_store(tmp_path) -> None:
    db = tmp_path / "k.db"
    write_release_1_store(db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    store = SQLiteStore(db, read_only=True)
    try:
        assert store.kv_list() == []
        assert store.kv_get("company.team", "k") is None
        from kflow.errors import StoreError

        with pytest.raises(StoreError, match="read-only"):
            store.kv_set(row("k"))
    finally:
        store.close()
    assert version_of(db) == "1"


# ------------------------------------------------------------------ PostgreSQL, shared
def test_two_homes_share_keys_through_postgres(pg_db, tmp_path, monkeypatch, run_yaml) -> None:
    """Two kflow homes (two machines, or CI and a laptop) with the same KFLOW_DB: what a
    run on one sets, a run on the other reads."""
    from kflow.api import open_home, run_flow

    monkeypatch.setenv("KFLOW_DB", pg_db.url)
    ex1 = run_yaml("""
id: writer
namespace: company.team
tasks:
  - id: set
    type: io.kestra.plugin.core.kv.Set
    key: last_run
    value: "{{ {'rows': 12, 'at': '2025-01-02'} }}"
""")
    assert ex1.state.current.value == "SUCCESS"
    other = tmp_path / "other-home"
    monkeypatch.setenv("KFLOW_HOME", str(other))
    flow = tmp_path / "reader.yml"
    flow.write_text("""
id: reader
namespace: company.team.sub
tasks:
  - id: get
    type: io.kestra.plugin.core.kv.Get
    key: last_run
    namespace: company.team
  - id: inherited
    type: io.kestra.plugin.core.debug.Return
    format: "{{ kv('last_run').rows }}"
""")
    ex2 = run_flow(flow)
    assert {tr.task_id: tr.outputs for tr in ex2.task_runs} == {
        "get": {"value": {"rows": 12, "at": "2025-01-02"}},
        "inherited": {"value": "12"},
    }
    assert other.is_dir() and not (other / "kflow.db").exists()  # the keys are in PostgreSQL
    with open_home() as home:
        assert [(r.namespace, r.key, r.type) for r in home.store.kv_list()] == [
            ("company.team", "last_run", "JSON")
        ]


def test_a_postgres_database_of_schema_1_gains_the_kv_table(pg_db, monkeypatch) -> None:
    from kflow.store import postgres
    from kflow.store.postgres import PostgresStore

    from .test_postgres import admin

    with monkeypatch.context() as m:  # the database as the kflow before the KV store made it
        m.setattr(postgres, "MIGRATIONS", [])
        m.setattr(postgres, "SCHEMA_VERSION", 1)
        PostgresStore(pg_db.url).close()
    with admin(pg_db) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == ("1",)
        assert conn.execute("SELECT to_regclass('kv') IS NULL").fetchone() == (True,)
    store = PostgresStore(pg_db.url)
    try:
        assert store.kv_set(row("k")) is True
        assert [r.key for r in store.kv_list()] == ["k"]
    finally:
        store.close()
    with admin(pg_db) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == ("2",)
        # row-level security as on every table: a superuser sees the row, under its policy
        policies = conn.execute("SELECT count(*) FROM pg_policies WHERE tablename = 'kv'")
        assert policies.fetchone() == (1,)
