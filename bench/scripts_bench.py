"""Per-task overhead of the script tasks.

``bench_shell_overhead`` runs ``io.kestra.plugin.scripts.shell.Commands`` with the command
``true`` ``n`` times through a minimal in-memory RunContext (no engine, no expressions),
then ``subprocess.run(["sh", "-c", "true"])`` ``n`` times, and reports both per-run
times and their difference (the target is under 10 ms per task).

``bench_python_venv_reuse`` times a Python script task whose ``beforeCommands`` are pip
installs: the first run builds the cached virtualenv, later runs reuse it (the target for
a reused run is under 2 s), compared with running the venv's ``python`` directly.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from kflow.flow.model import TaskSpec
from kflow.tasks.base import RunContext
from kflow.tasks.scripts.python_script import PythonScript
from kflow.tasks.scripts.shell_commands import ShellCommands


class _BenchContext(RunContext):
    """Just enough of a RunContext for a task without expressions or files."""

    def __init__(self, root: Path) -> None:
        self.taskrun_id = "bench"
        self.task_id = "bench"
        self.execution_id = "bench"
        self.namespace = "bench"
        self.flow_id = "bench"
        self.value = None
        self._root = root
        self._cancelled = threading.Event()
        self._count = 0

    def render(self, value: Any, **extra: Any) -> Any:
        return value

    def render_typed(self, value: Any, **extra: Any) -> Any:
        return value

    @property
    def variables(self) -> Mapping[str, Any]:
        return {}

    def log(self, level: str, message: str) -> None:
        pass

    def metric(
        self, name: str, kind: str, value: float, tags: Mapping[str, str] | None = None
    ) -> None:
        pass

    def put_file(self, path: Path, name: str | None = None) -> str:
        raise NotImplementedError

    def open_file(self, uri: str) -> BinaryIO:
        raise NotImplementedError

    def working_dir(self) -> Path:
        self._count += 1
        path = self._root / f"w{self._count}"
        path.mkdir()
        return path

    @property
    def home(self) -> Path:
        return self._root

    @property
    def cancelled(self) -> threading.Event:
        return self._cancelled

    def add_secret(self, value: str) -> None:
        pass

    def run_subflow(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def _per_run_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_shell_overhead(n: int = 100) -> dict[str, float]:
    """Median per-run time of the task and of a bare subprocess, and the overhead (ms)."""
    spec = TaskSpec(
        id="bench",
        type=ShellCommands.type,
        task_class=ShellCommands,
        props={"commands": ["true"]},
    )
    task = ShellCommands(spec)
    root = Path(tempfile.mkdtemp(prefix="kflow-bench-"))
    try:
        ctx = _BenchContext(root)
        task.run(ctx)  # warm-up: imports, docker check cache, page cache
        subprocess.run(["sh", "-c", "true"], check=True)
        task_samples: list[float] = []
        raw_samples: list[float] = []
        for _ in range(n):
            started = time.perf_counter()
            task.run(ctx)
            task_samples.append(time.perf_counter() - started)
            started = time.perf_counter()
            subprocess.run(["sh", "-c", "true"], check=True)
            raw_samples.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    task_ms = _per_run_ms(task_samples)
    raw_ms = _per_run_ms(raw_samples)
    return {
        "n": float(n),
        "task_ms": round(task_ms, 3),
        "subprocess_ms": round(raw_ms, 3),
        "overhead_ms": round(task_ms - raw_ms, 3),
        "task_mean_ms": round(statistics.fmean(task_samples) * 1000, 3),
        "subprocess_mean_ms": round(statistics.fmean(raw_samples) * 1000, 3),
    }


def bench_python_venv_reuse(n: int = 5) -> dict[str, float]:
    """Seconds for the first run (venv build) and for reused runs of a Python script task.

    ``beforeCommands`` is ``pip install --no-index pip`` (already satisfied, so no network).
    """
    spec = TaskSpec(
        id="bench",
        type=PythonScript.type,
        task_class=PythonScript,
        props={"beforeCommands": ["pip install --no-index pip"], "script": "print(1)"},
    )
    task = PythonScript(spec)
    root = Path(tempfile.mkdtemp(prefix="kflow-bench-"))
    try:
        ctx = _BenchContext(root)
        started = time.perf_counter()
        task.run(ctx)
        first = time.perf_counter() - started
        reused: list[float] = []
        for _ in range(n):
            started = time.perf_counter()
            task.run(ctx)
            reused.append(time.perf_counter() - started)
        (venv,) = [p for p in (root / "venvs").iterdir() if p.is_dir() and p.name != "_base"]
        script = root / "direct.py"
        script.write_text("print(1)\n")
        direct: list[float] = []
        for _ in range(n):
            started = time.perf_counter()
            subprocess.run(
                [str(venv / "bin" / "python"), str(script)], check=True, capture_output=True
            )
            direct.append(time.perf_counter() - started)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "n": float(n),
        "first_run_s": round(first, 3),
        "reused_run_s": round(statistics.median(reused), 4),
        "direct_python_s": round(statistics.median(direct), 4),
        "reuse_overhead_s": round(statistics.median(reused) - statistics.median(direct), 4),
    }
