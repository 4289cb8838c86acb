"""The expression context of a task run and the ``RunContext`` tasks receive."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from kflow.engine.outputs import parents_entry
from kflow.errors import KflowError, StorageError
from kflow.records import TaskRun, iso_instant
from kflow.states import State
from kflow.storage.base import execution_prefix, taskrun_prefix, to_uri, uri_path
from kflow.tasks.base import RunContext

if TYPE_CHECKING:
    from kflow.engine.executor import Executor
    from kflow.flow.model import TaskSpec


def kestra_envs() -> dict[str, str]:
    """``envs``: variables starting with ``ENV_`` (Kestra's ``env-vars-prefix`` today) or
    ``KESTRA_`` (its default before), prefix stripped, lower-cased; ``ENV_`` wins when
    both give a name."""
    out: dict[str, str] = {}
    for key, value in os.environ.items():
        if key.startswith("KESTRA_") and not key.startswith(("KESTRA_CONFIGURATION",)):
            if key == "KESTRA_PLUGINS_PATH":
                continue
            out.setdefault(key[len("KESTRA_") :].lower(), value)
        elif key.startswith("ENV_") and len(key) > 4:
            out[key[4:].lower()] = value
    return out


class Services:
    """What expression functions (``read``, ``fileSize``, ``secret``...) may reach.

    ``read()`` is limited to the current execution's files (and its parent's, for a
    subflow) and namespace files, as in Kestra; a namespace file is read where the run
    keeps it (:mod:`kflow.storage.namespace`), a missing one with Kestra's message.

    ``on_secret`` receives every value ``secret()`` hands out, so that the runner masks it
    in log lines (Kestra's ``RunContextLogger.usedSecret``); outside a run it is ``None``.
    """

    def __init__(
        self,
        storage: Any,
        namespace: str,
        flow_id: str,
        execution_id: str,
        allowed_prefixes: list[str],
        error_logs: Any = None,
        on_secret: Callable[[str], None] | None = None,
        store: Any = None,
    ) -> None:
        self.storage = storage
        self.store = store  # the execution store, which holds the KV store
        self.namespace = namespace
        self.flow_id = flow_id
        self.execution_id = execution_id
        self.allowed_prefixes = allowed_prefixes
        self._error_logs = error_logs
        self._on_secret = on_secret

    def check_file(self, uri: str) -> None:
        """Refuse a ``kestra:///`` URI outside this execution's files (StorageError), as
        Kestra bounds ``read()`` and the storage tasks. Namespace files
        (``kestra:///<ns>/_files/…``) may be read: Kestra OSS restricts no namespace."""
        from kflow.storage.namespace import is_namespace_file

        path = uri_path(uri)
        if any(path.startswith(p + "/") for p in self.allowed_prefixes):
            return
        if is_namespace_file(uri):
            return
        raise StorageError(
            f"Unable to read the file '{uri}' as it didn't belong to the current execution"
        )

    def _namespace_file(self, uri: str) -> tuple[Any, str] | None:
        """(NamespaceFiles, path) when ``uri`` is a namespace file, else None."""
        from kflow.storage.namespace import NamespaceFiles, is_namespace_file

        if not is_namespace_file(uri):
            return None
        ns_path, _, rel = uri_path(uri)[1:].partition("/_files/")
        return NamespaceFiles(self.storage, ns_path.replace("/", ".")), rel

    def read_file(self, uri: str) -> bytes:
        if not uri.startswith("kestra://"):
            # a namespace file of the flow's namespace
            from kflow.storage.namespace import namespace_file_uri

            uri = namespace_file_uri(self.namespace, uri)
        self.check_file(uri)
        found = self._namespace_file(uri)
        with found[0].open(found[1]) if found else self.storage.open(uri) as fh:
            data: bytes = fh.read()
            return data

    def file_size(self, uri: str) -> int:
        self.check_file(uri)
        found = self._namespace_file(uri)
        size: int = found[0].size(found[1]) if found else self.storage.size(uri)
        return size

    def file_exists(self, uri: str) -> bool:
        try:
            self.check_file(uri)
        except StorageError:
            return False
        exists: bool = self.storage.exists(uri)
        return exists

    def secret(self, key: str) -> str:
        """Kestra OSS reads secrets from ``SECRET_<KEY>`` env vars, base64-encoded; a
        ``kflow run --secrets FILE`` file gives them too (and wins)."""
        from kflow.secrets import lookup_secret

        value = lookup_secret(key)
        if value is None:
            raise KflowError(
                f"Cannot find secret for key '{key}'",
                hint=f"set the environment variable SECRET_{key} to the base64 of the value, "
                "or give it in a file: kflow run --secrets FILE",
            )
        self.used_secret(value)
        return value

    def used_secret(self, value: str) -> None:
        """Mark ``value`` as secret: log lines and error messages of the run mask it."""
        if value and self._on_secret is not None:
            self._on_secret(value)

    def kv(self, key: str, namespace: str | None = None) -> Any:
        """The typed value of ``key`` in ``namespace`` (default: the flow's); KeyError when
        absent, KVError when it expired (:mod:`kflow.kv`)."""
        if self.store is None:
            raise KflowError("kv() needs the execution store: evaluate it in a run")
        from kflow.kv import NamespaceKV

        return NamespaceKV(self.store, namespace or self.namespace).get(key)

    def error_logs(self) -> list[dict[str, Any]]:
        return list(self._error_logs() if self._error_logs else [])


class TaskRunContext(RunContext):
    """The executor's implementation of :class:`kflow.tasks.base.RunContext`."""

    def __init__(
        self,
        executor: Executor,
        spec: TaskSpec,
        taskrun: TaskRun,
        ancestors: list[TaskRun],
    ) -> None:
        self._executor = executor
        self.spec = spec
        self.taskrun = taskrun
        self.ancestors = ancestors
        self.taskrun_id = taskrun.id
        self.task_id = taskrun.task_id
        self.execution_id = taskrun.execution_id
        self.namespace = taskrun.namespace
        self.flow_id = taskrun.flow_id
        self.value = taskrun.value
        self._cancelled = threading.Event()
        self._workdirs: list[Path] = []
        self._vars: dict[str, Any] | None = None

    # ----------------------------------------------------------------- variables
    @property
    def variables(self) -> Mapping[str, Any]:
        if self._vars is None:
            ex = self._executor
            tr = self.taskrun
            variables = dict(ex.base_context)
            variables["task"] = {"id": self.spec.id, "type": self.spec.type}
            taskrun: dict[str, Any] = {
                "id": tr.id,
                "startDate": iso_instant(tr.state.start),
                "attemptsCount": max(len(tr.attempts) - 1, 0),
            }
            if tr.parent_taskrun_id is not None:
                taskrun["parentId"] = tr.parent_taskrun_id
            if tr.value is not None:
                taskrun["value"] = tr.value
            if tr.iteration is not None:
                taskrun["iteration"] = tr.iteration
            variables["taskrun"] = taskrun
            parents = parents_entry(self.ancestors)
            if parents:
                variables["parents"] = parents
                variables["parent"] = parents[0]
            self._vars = variables
        return self._vars

    def _with(self, extra: dict[str, Any]) -> Mapping[str, Any]:
        if not extra:
            return self.variables
        merged = dict(self.variables)
        merged.update(extra)
        return merged

    def render(self, value: Any, **extra: Any) -> Any:
        from kflow import expr

        return expr.render_value(value, self._with(extra))

    def render_typed(self, value: Any, **extra: Any) -> Any:
        from kflow import expr

        if isinstance(value, str):
            return expr.render_typed(value, self._with(extra))
        return expr.render_value(value, self._with(extra))

    # ----------------------------------------------------------------- side effects
    def log(self, level: str, message: str) -> None:
        self._executor.log(self.taskrun, level, message)

    def metric(self, name: str, kind: str, value: float, tags: Mapping[str, str] | None = None) -> None:
        entry: dict[str, Any] = {"name": name, "type": kind, "value": value}
        if tags:
            entry["tags"] = dict(tags)
        with self._executor.lock:
            self.taskrun.metrics.append(entry)

    def storage_prefix(self) -> str:
        tr = self.taskrun
        return taskrun_prefix(tr.namespace, tr.flow_id, tr.execution_id, tr.task_id, tr.id)

    def put_file(self, path: Path, name: str | None = None) -> str:
        name = name or Path(path).name
        # a name may have folders (DownloadFiles keeps the namespace file's path)
        if any(part in ("", ".", "..") for part in name.split("/")):
            raise StorageError(f"invalid stored file name {name!r}")
        uri = to_uri(f"{self.storage_prefix()}/{name}")
        return self._executor.storage.put(uri, Path(path))

    def open_file(self, uri: str) -> BinaryIO:
        return self._executor.storage.open(uri)

    def namespace_files(self, namespace: str | None = None) -> Any:
        from kflow.storage.namespace import NamespaceFiles

        return NamespaceFiles(self._executor.storage, namespace or self.namespace)

    def working_dir(self) -> Path:
        # a WorkingDirectory's children all get its directory (removed when it ends)
        shared = self._executor.shared_dir(self.taskrun.parent_taskrun_id)
        if shared is not None:
            return shared
        base = self._executor.home / "tmp"
        base.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f"{self.task_id}-", dir=base)).resolve()
        self._workdirs.append(path)
        return path

    def cleanup(self) -> None:
        for path in self._workdirs:
            shutil.rmtree(path, ignore_errors=True)
        self._workdirs.clear()

    @property
    def home(self) -> Path:
        return self._executor.home

    @property
    def cancelled(self) -> threading.Event:
        return self._cancelled

    def add_secret(self, value: str) -> None:
        self._executor.add_secret(value)

    def update_labels(self, labels: Mapping[str, str]) -> None:
        self._executor.update_labels(labels)
        self._vars = None

    def exit_execution(self, state: State) -> None:
        self._executor.request_exit(state)

    def kill_execution(self, propagate: bool) -> None:
        self._executor.kill_execution(self, propagate)

    def execution_variables(self) -> dict[str, Any]:
        return self._executor.execution_variables()

    def update_variables(self, variables: Mapping[str, Any]) -> None:
        self._executor.update_variables(variables)
        self._vars = None

    def find_flow(self, namespace: str, flow_id: str) -> Any:
        flows = self._executor.flows
        if flows is None:
            raise KflowError("no flows directory to look flows up in")
        return flows.find(namespace, flow_id)

    def run_subflow(
        self,
        namespace: str,
        flow_id: str,
        inputs: Mapping[str, Any],
        labels: Mapping[str, str],
        wait: bool,
        outputs: Mapping[str, Any] | None = None,
    ) -> Any:
        return self._executor.run_subflow(self, namespace, flow_id, inputs, labels, wait, outputs)


def execution_prefixes(namespace: str, flow_id: str, execution_id: str) -> str:
    return execution_prefix(namespace, flow_id, execution_id)
