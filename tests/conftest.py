"""Shared fixtures: every test gets its own KFLOW_HOME, so no test touches a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def kflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "kflow-home"
    monkeypatch.setenv("KFLOW_HOME", str(home))
    monkeypatch.delenv("KFLOW_ENCRYPTION_KEY", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[..., Path]:
    """Write a flow (YAML text, dedented) to a file and return its path."""

    def write(text: str, name: str = "flow.yml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_yaml(write_flow: Callable[..., Path]) -> Callable[..., Any]:
    """Run flow YAML text through the engine and return the Execution."""
    from kflow.api import run_flow

    def run(text: str, inputs: dict[str, Any] | None = None, **kw: Any) -> Any:
        return run_flow(write_flow(text), inputs or {}, **kw)

    return run


def kflow_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run kflow as a real subprocess (``python -m kflow``)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "kflow", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return kflow_cli


def run_json(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    proc = kflow_cli("run", *args, "--json", cwd=cwd)
    assert proc.stdout.strip(), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def by_task(execution: Any, task_id: str) -> list[Any]:
    return [tr for tr in execution.task_runs if tr.task_id == task_id]


def states(execution: Any) -> dict[str, str]:
    """task id → state of its last run."""
    return {tr.task_id: tr.state.current.value for tr in execution.task_runs}
