"""Fixtures of the store tests: a PostgreSQL server for the session (started only when a
test asks for it), a fresh database per test, and ``stores``: one shared file or database
of each kind of store, opened as many times as a test needs (as several processes would)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kflow.store.base import ExecutionStore
from tests.pgserver_fixture import PgDatabase, PgServer, start


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    yield from start(tmp_path_factory.mktemp("pg"))


@pytest.fixture
def pg_db(pg_server: PgServer) -> PgDatabase:
    """A new, empty database for this test (the application role owns it)."""
    return pg_server.new_database()


class Stores:
    """One store location of one ``kind`` ("sqlite" or "postgres")."""

    def __init__(self, kind: str, path: Path, db: PgDatabase | None) -> None:
        self.kind = kind
        self.path = path
        self.db = db
        self.opened: list[ExecutionStore] = []

    def open(self, organization_id: str = "local") -> ExecutionStore:
        """A new store object on the shared location, for one organisation."""
        store: ExecutionStore
        if self.db is not None:
            from kflow.store.postgres import PostgresStore

            store = PostgresStore(self.db.url, organization_id=organization_id)
        else:
            from kflow.store.sqlite import SQLiteStore

            store = SQLiteStore(self.path, organization_id=organization_id)
        self.opened.append(store)
        return store

    def set_schema_version(self, version: int) -> None:
        """Write a schema version into the store (as another kflow would have)."""
        sql = f"UPDATE meta SET value = '{version}' WHERE key = 'schema_version'"
        if self.db is not None:
            import psycopg

            with psycopg.connect(self.db.admin_url, autocommit=True) as conn:
                conn.execute(sql.encode())
        else:
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                conn.execute(sql)
            finally:
                conn.close()

    def close_all(self) -> None:
        for store in self.opened:
            try:
                store.close()
            except Exception:  # noqa: BLE001 - closed already, or its open failed
                pass


@pytest.fixture(params=["sqlite", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    db: PgDatabase | None = None
    if request.param == "postgres":
        db = request.getfixturevalue("pg_db")
    found = Stores(request.param, tmp_path / "contract.db", db)
    yield found
    found.close_all()
