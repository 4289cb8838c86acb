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


def is_read_only(home: Path) -> bool:
    """True for a home kflow may read but not write: a read-only mount (an archived CI
    artifact), or a directory or store this user cannot write. Checked on the mount flag
    too, since root passes every permission check but still cannot write there."""
    if hasattr(os, "statvfs"):  # POSIX
        try:
            if os.statvfs(home).f_flag & os.ST_RDONLY:
                return True
        except OSError:
            pass
    if not os.access(home, os.W_OK | os.X_OK):
        return True
    db = store_path(home)
    return db.exists() and not os.access(db, os.W_OK)


def make_private(home: Path) -> None:
    """Tighten the home to 0700: its store holds inputs, outputs and logs. Only a
    directory this user owns, and never a shared one (sticky, like /tmp) or the user's
    own home directory, in case KFLOW_HOME points at one of those."""
    if not hasattr(os, "geteuid"):  # not POSIX: no mode bits to tighten
        return
    try:
        st = home.stat()
    except OSError:
        return
    if (
        st.st_uid != os.geteuid()
        or st.st_mode & 0o1000
        or not st.st_mode & 0o077
        or home == Path(home.anchor)
        or home == Path(os.path.expanduser("~")).resolve()
    ):
        return
    try:
        os.chmod(home, 0o700)
    except OSError:
        pass


ORG_ENV = "KFLOW_ORG"
DB_ENV = "KFLOW_DB"
_ORG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def organization() -> str:
    """The organisation runs and records belong to: ``KFLOW_ORG`` (the CLI's ``--org``
    sets it), else ``local``. Letters, digits, ``-``, ``_`` and ``.`` only."""
    from kflow.errors import UsageError
    from kflow.taskoutputs import DEFAULT_ORG

    org = os.environ.get(ORG_ENV, "").strip() or DEFAULT_ORG
    if len(org) > 100 or not set(org) <= _ORG_CHARS:
        raise UsageError(
            f"invalid organisation {org[:100]!r}",
            hint="use letters, digits, '-', '_' and '.' only (at most 100), e.g. --org acme",
        )
    return org


_DB_SCHEMES = ("postgresql://", "postgres://")


def database_url() -> str | None:
    """The shared execution store's URL: ``KFLOW_DB`` (the CLI's ``--db`` sets it), a
    ``postgresql://`` URL; None (unset or empty) for the SQLite store in the kflow home.
    Any other value is refused rather than ignored: a typo must not send a team's runs
    to a private SQLite file unnoticed."""
    from kflow.errors import UsageError

    url = os.environ.get(DB_ENV, "").strip()
    if not url:
        return None
    if url.lower().startswith(_DB_SCHEMES):
        return url
    # only the scheme is shown: the rest of the URL may hold a password
    scheme = url.partition("://")[0] if "://" in url else url[:20]
    raise UsageError(
        f"unsupported KFLOW_DB {scheme!r}: only PostgreSQL URLs are supported",
        hint="use postgresql://user:password@host:5432/dbname, or unset KFLOW_DB (and drop "
        "--db) to keep executions in the kflow home's SQLite store",
    )
