"""The engine's front door: open a kflow home, run a flow, read executions back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kflow.engine.execution import Execution
from kflow.engine.executor import EventCallback, Executor
from kflow.flow.model import Flow
from kflow.home import kflow_home, storage_root, store_path
from kflow.storage.local import LocalStorage
from kflow.store.sqlite import SQLiteStore


@dataclass
class Home:
    """A kflow home: its storage and its execution store."""

    path: Path
    storage: LocalStorage
    store: SQLiteStore

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Home:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_home(path: Path | None = None) -> Home:
    """Open (creating if needed) the kflow home at ``path`` or ``$KFLOW_HOME``."""
    from kflow.errors import UsageError

    home = Path(path) if path is not None else kflow_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(
            f"the kflow home {home} is not a directory",
            hint="point KFLOW_HOME to a directory (it is created if missing)",
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot create the kflow home {home}: {exc.strerror}",
            hint="point KFLOW_HOME to a writable directory",
        ) from None
    return Home(home, LocalStorage(storage_root(home)), SQLiteStore(store_path(home)))


def load_flow(path: str | Path, *, check_templates: bool = False) -> Flow:
    """Load and validate a flow file (raises FlowError). ``check_templates`` also parses
    every template (what ``kflow validate`` does; Kestra fails such tasks at run time)."""
    from kflow.flow.validate import load_flow as _load

    return _load(path, check_templates=check_templates)


def run_flow(
    flow: Flow | str | Path,
    inputs: Mapping[str, Any] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    flows_dir: str | Path | None = None,
    home: Home | None = None,
    on_event: EventCallback | None = None,
) -> Execution:
    """Run a flow to its end and return the execution (never raises for a failed run:
    look at ``execution.state.current``). Bad flows or inputs raise KflowError."""
    from kflow.flow.repository import FlowRepository

    if not isinstance(flow, Flow):
        flow = load_flow(flow)
    owned = home is None
    h = home or open_home()
    try:
        root = Path(flows_dir) if flows_dir is not None else (
            Path(flow.path).parent if flow.path else Path.cwd()
        )
        executor = Executor(
            flow,
            store=h.store,
            storage=h.storage,
            home=h.path,
            on_event=on_event,
            flows=FlowRepository(root, preloaded=[flow]),
        )
        execution = executor.prepare(inputs or {}, labels=labels)
        return executor.run(execution)
    finally:
        if owned:
            h.close()
