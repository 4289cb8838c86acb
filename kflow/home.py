"""Where kflow keeps its state: ``$KFLOW_HOME`` or the platform's user data dir."""

from __future__ import annotations

import os
from pathlib import Path


def kflow_home() -> Path:
    """The kflow home (not created here). ``KFLOW_HOME`` wins, so tests never touch a user's store."""
    env = os.environ.get("KFLOW_HOME")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir("kflow")).resolve()


def storage_root(home: Path | None = None) -> Path:
    """Root of the local internal storage (files behind ``kestra:///`` URIs)."""
    return (home or kflow_home()) / "storage"


def store_path(home: Path | None = None) -> Path:
    """The SQLite execution store."""
    return (home or kflow_home()) / "kflow.db"
