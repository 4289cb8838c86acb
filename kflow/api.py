"""The engine's front door: open a kflow home, run a flow, read executions back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kflow.engine.executor import EventCallback, Executor
from kflow.flow.model import Flow
from kflow.home import (
    database_url,
    is_read_only,
    kflow_home,
    make_private,
    organization,
    storage_root,
    store_path,
)
from kflow.records import Execution
from kflow.storage.local import LocalStorage
from kflow.store.base import ExecutionStore

if TYPE_CHECKING:
    from kflow.testing.suite import Fixtures


@dataclass
class Home:
    """A kflow home: its storage and its execution store. A ``read_only`` home (a
    read-only mount) can be inspected; running a flow there raises StoreError. The store
    is the home's SQLite file, or the PostgreSQL database KFLOW_DB names: stored files
    stay in the home either way."""

    path: Path
    storage: LocalStorage
    store: ExecutionStore
    read_only: bool = False

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Home:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_home(path: Path | None = None) -> Home:
    """Open (creating if needed) the kflow home at ``path`` or ``$KFLOW_HOME``.

    A writable home is made private (0700) and its store brought to the current schema;
    executions whose process died (``kill -9``) are marked KILLED. A read-only home is
    opened as it is, for reading. With ``KFLOW_DB`` set (``kflow --db``), executions,
    task runs, logs and records go to that PostgreSQL database instead, scoped to the
    organisation (``KFLOW_ORG``)."""
    from kflow.errors import UsageError

    # both read first: a bad KFLOW_DB or KFLOW_ORG is refused before anything is created
    url = database_url()
    org = organization()

    home = Path(path) if path is not None else kflow_home()
    try:
        if not home.is_dir():
            home.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    read_only = is_read_only(home)
    if not read_only:
        make_private(home)
    store: ExecutionStore
    if url is not None:
        from kflow.store.postgres import PostgresStore

        store = PostgresStore(url, organization_id=org)
    else:
        from kflow.store.sqlite import SQLiteStore

        store = SQLiteStore(store_path(home), read_only=read_only, organization_id=org)
    return Home(
        home,
        LocalStorage(storage_root(home), read_only=read_only),
        store,
        read_only=read_only,
    )


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
    trigger: Mapping[str, Any] | None = None,
    namespace_files: str | Path | Mapping[str, str | Path] | None = None,
    fixtures: Fixtures | None = None,
) -> Execution:
    """Run a flow to its end and return the execution (never raises for a failed run:
    look at ``execution.state.current``). Bad flows or inputs raise KflowError.

    ``trigger`` is the execution's trigger, ``{id, type, variables}``: its ``variables``
    are ``trigger.*`` in expressions (:func:`kflow.flow.triggers.trigger_for_run`).

    ``namespace_files`` is the folder of the flow's namespace files, or namespace →
    folder; by default the ``_files/<namespace>/`` folders beside the flow file. Other
    namespaces keep their files in the home (:mod:`kflow.storage.namespace`).

    ``fixtures`` are a test case's (:mod:`kflow.testing`): the tasks they mock do not run,
    their inline files are ``files['name']`` in expressions."""
    from kflow.flow.repository import FlowRepository
    from kflow.storage.namespace import NamespaceFolders, run_folders

    if not isinstance(flow, Flow):
        flow = load_flow(flow)
    folders = run_folders(flow.namespace, flow.path, namespace_files)  # refused before a run
    from kflow.flow.validate import refuse_missing_extras

    refuse_missing_extras(flow)  # a missing optional package: refused before any task runs
    owned = home is None
    h = home or open_home()
    try:
        if h.read_only:
            from kflow.errors import StoreError

            raise StoreError(
                f"the kflow home {h.path} is read-only: a run cannot be recorded there",
                hint="point KFLOW_HOME to a writable directory to run flows; a read-only "
                "home can still be inspected (executions, outputs, logs, preview)",
            )
        root = Path(flows_dir) if flows_dir is not None else (
            Path(flow.path).parent if flow.path else Path.cwd()
        )
        executor = Executor(
            flow,
            store=h.store,
            storage=NamespaceFolders(h.storage, folders) if folders else h.storage,
            home=h.path,
            on_event=on_event,
            flows=FlowRepository(root, preloaded=[flow]),
            fixtures=fixtures,
        )
        execution = executor.prepare(
            inputs or {}, labels=labels, trigger=dict(trigger) if trigger is not None else None
        )
        return executor.run(execution)
    finally:
        if owned:
            h.close()


def resume_execution(
    execution_id: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    flows_dir: str | Path | None = None,
    home: Home | None = None,
    on_event: EventCallback | None = None,
) -> Execution:
    """Resume a PAUSED execution (``last``, an id or a prefix) with ``inputs`` as the
    onResume values of its Pause, and run it in this process to its end or its next pause
    (what ``kflow resume`` does). When another process waits on it (``kflow run
    --wait-on-pause``, a Pause with a pauseDuration), that process goes on instead and
    the execution is returned as stored once marked resumed. Raises UsageError when it is
    not PAUSED, InputError for refused inputs."""
    from kflow.engine.resume import (
        PauseLock,
        claimed,
        load_stored_flow,
        mark_resumed,
        require_writable,
    )
    from kflow.flow.repository import FlowRepository

    owned = home is None
    h = home or open_home()
    try:
        store = h.store
        eid = store.resolve_id(execution_id)
        require_writable(h)
        lock = PauseLock(h.path, eid)
        with claimed(h.path, eid):
            execution = store.get_execution(eid)
            flow = load_stored_flow(store, execution)
            mark_resumed(h.path, store, h.storage, execution, flow, inputs or {})
            here = lock.acquire()
        if not here:
            return store.get_execution(eid)
        root = Path(flows_dir) if flows_dir is not None else Path.cwd()
        from kflow.storage.namespace import run_storage

        executor = Executor(
            flow,
            store=store,
            storage=run_storage(h.storage, flow.namespace, flow.path),
            home=h.path,
            on_event=on_event,
            flows=FlowRepository(root, preloaded=[flow]),
        )
        executor.pause_lock = lock
        return executor.resume(store.get_execution(eid))
    finally:
        if owned:
            h.close()
