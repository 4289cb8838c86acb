"""A real PostgreSQL for the tests, started once per session by pgserver (a pip package
that ships the server binaries: nothing to install on the machine, CI included).

Each test gets a fresh database (``kflow_<n>``) owned by a login role that is NOT a
superuser, and connects as that role: superusers bypass row-level security, so only such
a role shows that the policies keep organisations apart.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

APP_ROLE = "kflow_app"


@dataclass
class PgDatabase:
    """One test's database: ``url`` connects as the application role, ``admin_url`` as
    the superuser (to set a database up, or to look behind row-level security)."""

    name: str
    url: str
    admin_url: str


class PgServer:
    def __init__(self, server: Any, socket_dir: str) -> None:
        self.server = server
        self.socket_dir = socket_dir
        self._numbers = itertools.count(1)

    def url(self, database: str, user: str = APP_ROLE) -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.url("postgres", "postgres"), autocommit=True)

    def new_database(self) -> PgDatabase:
        name = f"kflow_{next(self._numbers)}"
        with self.admin() as conn:
            # owned by the application role: it creates kflow's tables, as a team's
            # service account would, and its policies still bind it (FORCE)
            conn.execute(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}')
        return PgDatabase(name, self.url(name), self.url(name, "postgres"))


def _let_server_user_in(datadir: Path) -> None:
    """Run as root, pgserver runs PostgreSQL as its own user and opens the directories
    above the data directory to it; but every pytest session tightens
    ``/tmp/pytest-of-<user>`` back to 0700 when it starts, so another session started
    meanwhile would make ``pg_ctl stop`` fail. Opened again (traverse only) to stop."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    for parent in datadir.parents:
        if parent == Path(tempfile.gettempdir()) or parent == parent.parent:
            break
        try:
            parent.chmod(parent.stat().st_mode | 0o011)
        except OSError:
            pass


def start(datadir: Path) -> Iterator[PgServer]:
    """Start the server in ``datadir`` (a pytest tmp dir, outside any KFLOW_HOME) and the
    application role; stop it at the end."""
    pgserver = pytest.importorskip("pgserver", reason="the PostgreSQL tests need pgserver")
    pytest.importorskip("psycopg", reason="the PostgreSQL tests need psycopg")
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        server = pgserver.get_server(datadir, cleanup_mode="stop")
    try:
        pg = PgServer(server, str(datadir))
        with pg.admin() as conn:
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")
            # a throwaway server: durability only costs time (at each CREATE DATABASE and
            # at the final checkpoint)
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")
        yield pg
    finally:
        _let_server_user_in(datadir)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
