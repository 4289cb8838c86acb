"""``taskCache: {enabled, ttl}`` on a runnable task: reuse its outputs across executions.

Kestra (0.23+, docs "Task cache") stores a task's state and outputs and, while ``ttl`` has
not passed, skips the task when it runs again with the same inputs, reusing them. kflow keys
an entry by the flow, the task (id, type, iteration value) and its properties rendered for
this run, so a change of input that reaches the task's properties is a new entry; entries
are JSON files under ``<kflow home>/cache/tasks/``. Only a SUCCESS or WARNING run is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kflow.states import State

CACHE_DIR = ("cache", "tasks")


@dataclass(frozen=True)
class CacheSettings:
    """A task's ``taskCache``, read: caching on, entries kept ``ttl`` seconds (None: forever)."""

    ttl: float | None


def cache_settings(raw: Any) -> CacheSettings | None:
    """The settings of a task's ``taskCache`` as written, or None when caching is off."""
    if not isinstance(raw, Mapping) or raw.get("enabled") is not True:
        return None
    ttl = raw.get("ttl")
    if ttl is None:
        return CacheSettings(None)
    from kflow.java.duration import parse_duration

    return CacheSettings(parse_duration(str(ttl)))


def cache_key(namespace: str, flow_id: str, spec_id: str, spec_type: str, value: str | None,
              rendered: Any) -> str:  # fmt: skip
    """The entry key: a hash of where the task is and of its rendered properties."""
    text = json.dumps(
        [namespace, flow_id, spec_id, spec_type, value, rendered],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _path(home: Path, key: str) -> Path:
    return home.joinpath(*CACHE_DIR, f"{key}.json")


def lookup(
    home: Path, key: str, now: datetime | None = None
) -> tuple[State, dict[str, Any]] | None:
    """The cached (state, outputs) for ``key`` when present and not expired."""
    path = _path(home, key)
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    expires = entry.get("expires")
    if expires is not None and datetime.fromisoformat(expires) <= (now or datetime.now(UTC)):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    try:
        return State(entry["state"]), dict(entry["outputs"])
    except (KeyError, ValueError, TypeError):
        return None


def store(home: Path, key: str, settings: CacheSettings, state: State, outputs: Mapping[str, Any],
          now: datetime | None = None) -> None:  # fmt: skip
    """Keep a finished run's state and outputs (written atomically)."""
    moment = now or datetime.now(UTC)
    expires = (
        None if settings.ttl is None else (moment + timedelta(seconds=settings.ttl)).isoformat()
    )
    entry = {"state": state.value, "outputs": dict(outputs), "created": moment.isoformat(),
             "expires": expires}  # fmt: skip
    path = _path(home, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh, ensure_ascii=False, default=str)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
