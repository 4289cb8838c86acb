"""The kflow home is private: created 0700 (an existing one tightened when opened), the store
and its WAL files 0600, stored files 0600 in 0700 directories."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys

import pytest

from kflow.api import open_home
from kflow.home import make_private
from kflow.storage.local import LocalStorage


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask():
    """A permissive umask, as many machines have: the modes must not depend on it."""
    old = os.umask(0o002)
    yield
    os.umask(old)


def test_new_home_is_private(kflow_home):
    with open_home() as home:
        home.storage.put("kestra:///company/team/f/executions/E1/out.txt", io.BytesIO(b"secret"))
        home.store.flush()
    assert mode(kflow_home) == 0o700
    assert mode(kflow_home / "kflow.db") == 0o600
    storage = kflow_home / "storage"
    stored = storage / "company/team/f/executions/E1/out.txt"
    assert stored.read_bytes() == b"secret"
    assert mode(stored) == 0o600
    for d in [storage, *(p for p in storage.rglob("*") if p.is_dir())]:
        assert mode(d) == 0o700, d


def test_wal_files_are_private_while_a_run_writes(kflow_home, write_flow):
    flow = write_flow(
        "id: f\nnamespace: company.team\ntasks:\n"
        "  - {id: a, type: io.kestra.plugin.core.debug.Return, format: x}\n"
    )
    from kflow.api import run_flow

    with open_home() as home:
        run_flow(flow, home=home)
        wal = [kflow_home / "kflow.db-wal", kflow_home / "kflow.db-shm"]
        assert all(p.exists() for p in wal)
        assert [mode(p) for p in wal] == [0o600, 0o600]


def test_existing_home_and_store_are_tightened(kflow_home):
    kflow_home.mkdir(mode=0o755)
    os.chmod(kflow_home, 0o755)
    with open_home():
        pass
    os.chmod(kflow_home / "kflow.db", 0o644)
    os.chmod(kflow_home, 0o775)
    proc = subprocess.run(
        [sys.executable, "-m", "kflow", "executions"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert mode(kflow_home) == 0o700
    assert mode(kflow_home / "kflow.db") == 0o600


def test_nested_new_home_parents_are_left_to_the_user(tmp_path, monkeypatch):
    home = tmp_path / "a" / "b" / "home"
    monkeypatch.setenv("KFLOW_HOME", str(home))
    with open_home():
        pass
    assert mode(home) == 0o700
    assert mode(tmp_path / "a") == 0o775  # a parent is not kflow's: umask 002 applies


def test_shared_directories_are_never_tightened(tmp_path):
    sticky = tmp_path / "shared-tmp"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    make_private(sticky)
    assert stat.S_IMODE(sticky.stat().st_mode) == 0o1777


def test_stored_file_directories_created_0700_at_every_level(tmp_path):
    storage = LocalStorage(tmp_path / "st")
    storage.put("kestra:///x/y/z/file.bin", io.BytesIO(b"1"))
    assert [mode(tmp_path / "st" / p) for p in ("", "x", "x/y", "x/y/z")] == [0o700] * 4
    assert mode(tmp_path / "st/x/y/z/file.bin") == 0o600
