"""Which task runner a script task gets: kflow runs scripts with the Process runner.

Kestra defaults to the Docker runner; kflow is a local runner and defaults to Process. A
task that only *implies* Docker (``containerImage``, legacy ``docker``/``runner: DOCKER``)
runs with Process and says so once in its logs. A task that explicitly asks for the Docker
task runner fails with a message saying what to do, since kflow cannot honour it.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import RunContext

PROCESS = "io.kestra.plugin.core.runner.Process"
DOCKER = "io.kestra.plugin.scripts.runner.docker.Docker"
_DOCKER_CHECK_TIMEOUT = 3.0

_docker_lock = threading.Lock()
_docker_answer: bool | None = None
# (execution id, task id) pairs already told that their container settings are ignored,
# so a task inside a ForEach says it once per execution, not once per iteration.
_noticed: set[tuple[str, str]] = set()
_NOTICED_LIMIT = 10_000


def docker_available() -> bool:
    """True when a Docker engine answers ``docker info`` (asked once per process)."""
    global _docker_answer
    with _docker_lock:
        if _docker_answer is None:
            _docker_answer = _ask_docker()
        return _docker_answer


def _ask_docker() -> bool:
    exe = shutil.which("docker")
    if exe is None:
        return False
    try:
        done = subprocess.run(
            [exe, "info", "--format", "{{.ServerVersion}}"],
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_DOCKER_CHECK_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def reset_docker_cache() -> None:
    """Forget the cached ``docker info`` answer and the notices given (tests)."""
    global _docker_answer
    with _docker_lock:
        _docker_answer = None
        _noticed.clear()


def check_runner(
    ctx: RunContext,
    task_runner: Any,
    container_image: Any,
    docker: Any,
    runner: Any,
) -> None:
    """Fail for runners kflow cannot use; log a notice when Docker was only implied.

    Arguments are the rendered ``taskRunner``, ``containerImage``, ``docker`` (legacy) and
    ``runner`` (legacy, ``PROCESS``/``DOCKER``) properties.
    """
    if task_runner is not None:
        kind = task_runner.get("type") if isinstance(task_runner, Mapping) else None
        if kind == PROCESS:
            return
        if kind == DOCKER:
            if not docker_available():
                raise TaskError(
                    f"taskRunner {DOCKER} needs a Docker engine, but none answers "
                    "(`docker info` failed or docker is not installed): set "
                    f"`taskRunner: {{type: {PROCESS}}}` to run the script on this machine, "
                    "or start Docker",
                )
            raise TaskError(
                f"Docker task runner is not supported by kflow yet: set "
                f"`taskRunner: {{type: {PROCESS}}}` to run the script on this machine",
            )
        raise TaskError(
            f"taskRunner type {kind!r} is not supported by kflow: use {PROCESS}"
            if kind
            else f"taskRunner must be a map with a `type`, e.g. `taskRunner: {{type: {PROCESS}}}`"
        )
    legacy = str(runner).upper() if runner is not None else None
    if legacy == "PROCESS":
        return
    image = container_image
    if image is None and isinstance(docker, Mapping):
        image = docker.get("image")
    if image is None and legacy != "DOCKER" and docker is None:
        return
    with _docker_lock:
        key = (ctx.execution_id, ctx.task_id)
        if key in _noticed:
            return
        if len(_noticed) >= _NOTICED_LIMIT:
            _noticed.clear()
        _noticed.add(key)
    what = f"containerImage {image!r}" if image is not None else "the Docker runner"
    reason = "no Docker engine" if not docker_available() else "kflow runs scripts locally"
    ctx.log("WARN", f"{what} ignored: {reason}; running with the Process runner")
