"""A small RunContext over a temp dir, so script tasks can be tested without the engine."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import jinja2
import pytest

from kflow.flow.model import TaskSpec
from kflow.tasks.base import RunContext, Task, TaskResult
from kflow.tasks.scripts import runners

_LONE = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


class FakeContext(RunContext):
    """Storage is a dict of URI → local file; logs and metrics are kept in lists."""

    def __init__(
        self, root: Path, variables: Mapping[str, Any] | None = None, home: Path | None = None
    ) -> None:
        self.root = root
        self.taskrun_id = "tr1"
        self.task_id = "task"
        self.execution_id = "exec1"
        self.namespace = "company.team"
        self.flow_id = "flow"
        self.value = None
        self._variables = dict(variables or {})
        self._home = home or root / "home"
        self._home.mkdir(parents=True, exist_ok=True)
        root.mkdir(parents=True, exist_ok=True)
        # Same layout as the engine's local storage, so namespace files are found.
        self._storage = self._home / "storage"
        self._storage.mkdir(exist_ok=True)
        self._cancelled = threading.Event()
        self.logs: list[tuple[str, str]] = []
        self.metrics: list[tuple[str, str, float, dict[str, str]]] = []
        self.secrets: list[str] = []
        self.workdirs: list[Path] = []
        self.stored: list[str] = []
        self.on_log: Callable[[str, str], None] | None = None

    # expressions
    def _render_str(self, text: str, extra: Mapping[str, Any]) -> str:
        return _ENV.from_string(text).render({**self._variables, **extra})

    def render(self, value: Any, **extra: Any) -> Any:
        if isinstance(value, str):
            return self._render_str(value, extra)
        if isinstance(value, Mapping):
            return {self.render(k, **extra): self.render(v, **extra) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.render(v, **extra) for v in value]
        return value

    def render_typed(self, value: Any, **extra: Any) -> Any:
        if isinstance(value, str):
            match = _LONE.match(value)
            if match:
                return _ENV.compile_expression(match.group(1))({**self._variables, **extra})
        return self.render(value, **extra)

    @property
    def variables(self) -> Mapping[str, Any]:
        return self._variables

    # side effects
    def log(self, level: str, message: str) -> None:
        for secret in self.secrets:
            message = message.replace(secret, "******")
        self.logs.append((level, message))
        if self.on_log is not None:
            self.on_log(level, message)

    def metric(
        self, name: str, kind: str, value: float, tags: Mapping[str, str] | None = None
    ) -> None:
        self.metrics.append((name, kind, value, dict(tags or {})))

    def put_file(self, path: Path, name: str | None = None) -> str:
        name = name or path.name
        assert "/" not in name
        rel = f"company/team/flow/executions/{self.execution_id}/tasks/task/tr1/{name}"
        dest = self._storage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        self.stored.append(rel)
        return f"kestra:///{rel}"

    def store(self, rel: str, content: bytes) -> str:
        """Put a file in storage directly (test setup); returns its URI."""
        dest = self._storage / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(content)
        return f"kestra:///{rel}"

    def open_file(self, uri: str) -> BinaryIO:
        assert uri.startswith("kestra:///") and ".." not in uri
        return open(self._storage / uri[len("kestra:///") :], "rb")

    def read(self, uri: str) -> str:
        with self.open_file(uri) as f:
            return f.read().decode("utf-8")

    def working_dir(self) -> Path:
        path = self.root / f"work{len(self.workdirs)}"
        path.mkdir()
        self.workdirs.append(path)
        return path.resolve()

    @property
    def home(self) -> Path:
        return self._home

    @property
    def cancelled(self) -> threading.Event:
        return self._cancelled

    def add_secret(self, value: str) -> None:
        self.secrets.append(value)

    def run_subflow(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    # helpers for tests
    def set_vars(self, **values: Any) -> None:
        self._variables.update(values)

    def lines(self, level: str | None = None) -> list[str]:
        return [m for lv, m in self.logs if level is None or lv == level]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFLOW_HOME", str(tmp_path / "kflow-home"))
    monkeypatch.delenv("KFLOW_ENCRYPTION_KEY", raising=False)
    runners.reset_docker_cache()


@pytest.fixture(scope="session")
def python_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kflow home shared by the Python tests, so each virtualenv is built once per run."""
    return tmp_path_factory.mktemp("python-home")


@pytest.fixture
def ctx(tmp_path: Path) -> FakeContext:
    return FakeContext(tmp_path / "ctx")


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., FakeContext]:
    """Another context (own storage and work dirs), sharing nothing with ``ctx``."""
    count = 0

    def factory(
        variables: Mapping[str, Any] | None = None, home: Path | None = None
    ) -> FakeContext:
        nonlocal count
        count += 1
        made = FakeContext(tmp_path / f"ctx{count}", variables, home)
        made.execution_id = f"exec-made{count}"
        return made

    return factory


def make_task(task_class: type[Task], **props: Any) -> Task:
    """An instance of ``task_class`` for a task written with ``props``."""
    spec = TaskSpec(id="task", type=task_class.type, task_class=task_class, props=props)
    return task_class(spec)


@pytest.fixture
def run_task() -> Callable[..., TaskResult]:
    """``run_task(TaskClass, ctx, **props)`` runs a task and returns its TaskResult."""

    def runner(task_class: type[Task], ctx: FakeContext, **props: Any) -> TaskResult:
        result = make_task(task_class, **props).run(ctx)
        assert isinstance(result, TaskResult)
        return result

    return runner


@pytest.fixture
def task_factory() -> Callable[..., Task]:
    return make_task
