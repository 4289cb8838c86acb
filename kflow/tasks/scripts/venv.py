"""Cached Python virtual environments for Python script tasks.

``pip install polars`` in a flow must never touch kflow's own environment, and must not
cost a download on every run. Each Python task therefore runs in a virtualenv under
``<home>/venvs/<key>``, where the key hashes the base interpreter, the ``pip install``
lines of ``beforeCommands`` and the ``dependencies`` list:

- When every ``beforeCommands`` line is a plain ``pip install`` (no shell syntax, no local
  requirement or source files), the lines run once, when the venv is built; later runs
  find the ``.kflow-ready`` marker and skip them.
- Otherwise (``export``, ``cd``, ``pip install -r req.txt``...) the venv is built once and
  every line still runs before the script on each run, like in a fresh container; the venv
  is then locked for the whole run, since those lines may change it.

A build holds an exclusive ``fcntl`` lock (concurrent kflow runs wait), and the marker is
written only after every step succeeded: a failed install leaves nothing "ready".
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from kflow.errors import TaskError
from kflow.tasks.base import RunContext
from kflow.tasks.scripts.process import run_streaming

READY_MARKER = ".kflow-ready"
# Bump when what a build puts in a venv changes, so old caches are not reused.
LAYOUT_VERSION = 1

_PIP_INSTALL = re.compile(
    r"(?:pip3?(?:\.\d+)?|python3?(?:\.\d+)?\s+-m\s+pip)\s+install(?:\s+(?P<args>.*))?"
)
_SHELL_OPERATORS = set("();<>|&")
_LOCAL_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable"}
_ARCHIVES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2")
_LOCK_POLL_SECONDS = 0.1

PYTHON_ENV = {
    "PYTHONUNBUFFERED": "true",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


def is_cacheable_pip_install(line: str) -> bool:
    """True for a ``pip install`` line whose result depends only on its text.

    Shell syntax, requirement/constraint/editable options and relative paths make the
    outcome depend on files or state the key does not see, so such lines are not cached.
    """
    match = _PIP_INSTALL.fullmatch(line.strip())
    if match is None:
        return False
    args = match.group("args") or ""
    unquoted = re.sub(r"'[^']*'", "", args)
    if any(c in unquoted for c in "$`\\\n"):
        return False
    lexer = shlex.shlex(args, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return False
    if any(set(token) <= _SHELL_OPERATORS for token in tokens):
        return False
    if not tokens:
        return False
    for token in tokens:
        if token.split("=", 1)[0] in _LOCAL_OPTIONS:
            return False
        if token.startswith("-") and not token.startswith("--") and set(token[1:]) & set("rce"):
            return False
        if token.startswith((".", "~")):
            return False
        relative = not token.startswith("-") and "://" not in token and not os.path.isabs(token)
        if relative and ("/" in token or token.endswith(_ARCHIVES)):
            return False
    return True


@dataclass
class PythonEnv:
    """A ready virtualenv: ``run_before`` are the beforeCommands the task must still run."""

    path: Path
    run_before: list[str] = field(default_factory=list)
    cached: bool = True

    @property
    def bin_dir(self) -> Path:
        return self.path / "bin"

    def apply(self, env: MutableMapping[str, str]) -> None:
        """Make ``python``/``pip`` resolve to this venv in ``env``."""
        env["VIRTUAL_ENV"] = str(self.path)
        env["PATH"] = os.pathsep.join(filter(None, [str(self.bin_dir), env.get("PATH", "")]))
        env.pop("PYTHONHOME", None)


@dataclass(frozen=True)
class _BaseInterpreter:
    executable: str
    version: str


def _base_interpreter(ctx: RunContext, python_version: str | None) -> _BaseInterpreter:
    current = ".".join(map(str, sys.version_info[:3]))
    base = getattr(sys, "_base_executable", None) or sys.executable
    if not python_version or current == python_version or current.startswith(python_version + "."):
        return _BaseInterpreter(os.path.realpath(base), current)
    found = shutil.which(f"python{python_version}")
    if found:
        return _BaseInterpreter(os.path.realpath(found), python_version)
    ctx.log(
        "WARN",
        f"pythonVersion {python_version} is not installed on this machine "
        f"(no python{python_version} on PATH); using Python {current}",
    )
    return _BaseInterpreter(os.path.realpath(base), current)


def _key(base: _BaseInterpreter, kind: str, lines: list[str], dependencies: list[str]) -> str:
    material = json.dumps(
        {
            "layout": LAYOUT_VERSION,
            "python": [base.executable, base.version],
            "kind": kind,
            "lines": [" ".join(line.split()) for line in lines],
            "dependencies": dependencies,
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:24]


def is_ready(path: Path) -> bool:
    """True when ``path`` is a completely built venv."""
    return (path / READY_MARKER).is_file() and (path / "bin" / "python").exists()


@contextlib.contextmanager
def _locked(ctx: RunContext, lock_path: Path, what: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path``; waiting honours ``ctx.cancelled``."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[bytes] = open(lock_path, "a+b")  # noqa: SIM115 - closed below
    try:
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if ctx.cancelled.is_set():
                    raise TaskError(
                        f"killed while waiting for the Python environment {what}"
                    ) from None
                if not told:
                    ctx.log("INFO", f"Waiting for another kflow run using {what}")
                    told = True
                time.sleep(_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _setup_failed(message: str, exit_code: int | None = None) -> TaskError:
    outputs: dict[str, object] = {"vars": {}, "outputFiles": {}}
    if exit_code is not None:
        outputs = {"exitCode": exit_code, **outputs}
    return TaskError(message, outputs=outputs)


def _run_step(
    ctx: RunContext,
    argv: list[str],
    cwd: Path,
    env: Mapping[str, str],
    what: str,
) -> None:
    """Run one build step with its output in the task logs; raise TaskError on failure.

    The step's stderr is logged as WARN and does not count for ``warningOnStdErr``: it is
    kflow's preparation, done once, not the task's own output.
    """
    tail: list[str] = []

    def on_line(line: str, is_stderr: bool) -> None:
        if is_stderr:
            tail.append(line)
            del tail[:-10]
        ctx.log("WARN" if is_stderr else "INFO", line)

    try:
        result = run_streaming(argv, cwd=cwd, env=env, on_line=on_line, cancelled=ctx.cancelled)
    except OSError as exc:
        raise _setup_failed(f"{what}: cannot start {argv[0]}: {exc}") from exc
    if result.killed:
        raise _setup_failed(f"{what}: killed", result.exit_code)
    if result.exit_code != 0:
        detail = (":\n" + "\n".join(tail)) if tail else ""
        raise _setup_failed(
            f"{what} failed with exit code {result.exit_code}{detail}", result.exit_code
        )


def _template(
    ctx: RunContext, base: _BaseInterpreter, workdir: Path, env: Mapping[str, str]
) -> Path:
    """A pristine venv (with pip) for ``base``, built once; new venvs are copies of it.

    ``python -m venv`` spends ~3 s installing pip; copying a built venv takes ~0.3 s.
    """
    key = _key(base, "template", [], [])
    path = ctx.home / "venvs" / "_base" / key
    if not is_ready(path):
        with _locked(ctx, path.with_name(key + ".lock"), path):
            if not is_ready(path):
                if path.exists():
                    shutil.rmtree(path)
                try:
                    _run_step(
                        ctx,
                        [base.executable, "-m", "venv", str(path)],
                        workdir,
                        env,
                        f"Creating the base Python environment {path}",
                    )
                    _mark_ready(path, {"python": base.version, "interpreter": base.executable})
                except BaseException:
                    shutil.rmtree(path, ignore_errors=True)
                    raise
    return path


def _clone(template: Path, path: Path) -> None:
    """Copy the template venv to ``path`` and point its scripts at the new location."""
    shutil.copytree(
        template, path, symlinks=True, ignore=shutil.ignore_patterns(READY_MARKER + "*")
    )
    old, new = str(template).encode(), str(path).encode()
    for file in [path / "pyvenv.cfg", *(path / "bin").iterdir()]:
        if file.is_symlink() or not file.is_file():
            continue
        data = file.read_bytes()
        if old in data:
            file.write_bytes(data.replace(old, new))


def _build(
    ctx: RunContext,
    base: _BaseInterpreter,
    path: Path,
    workdir: Path,
    env: Mapping[str, str],
    install_lines: list[str],
    dependencies: list[str],
) -> None:
    """Create the venv at ``path``, add the ``kestra`` helper, run the install lines."""
    template = _template(ctx, base, workdir, env)
    if path.exists():
        shutil.rmtree(path)
    try:
        _clone(template, path)
        _install_helper(path)
        venv = PythonEnv(path)
        step_env = dict(env)
        venv.apply(step_env)
        script = list(install_lines)
        if dependencies:
            script.append("python -m pip install " + " ".join(map(shlex.quote, dependencies)))
        if script:
            _run_step(
                ctx,
                ["/bin/sh", "-c", "\n".join(["set -e", *script])],
                workdir,
                step_env,
                "Installing the Python dependencies",
            )
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def _install_helper(path: Path) -> None:
    source = Path(__file__).with_name("_kestra_helper.py").read_text(encoding="utf-8")
    for site in sorted((path / "lib").glob("python*/site-packages")):
        (site / "kestra.py").write_text(source, encoding="utf-8")


def _mark_ready(path: Path, description: Mapping[str, object]) -> None:
    tmp = path / (READY_MARKER + ".tmp")
    tmp.write_text(json.dumps(description, indent=2), encoding="utf-8")
    os.replace(tmp, path / READY_MARKER)


@contextlib.contextmanager
def python_env(
    ctx: RunContext,
    workdir: Path,
    before_commands: list[str],
    dependencies: list[str],
    env: Mapping[str, str],
    python_version: str | None = None,
    cache: bool = True,
) -> Iterator[PythonEnv]:
    """A virtualenv for one Python task run (see the module docstring for the rules)."""
    base = _base_interpreter(ctx, python_version)
    if not cache:
        scratch = ctx.home / "venvs"
        scratch.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix="nocache-", dir=scratch))
        try:
            ctx.log("INFO", f"Creating a throw-away Python environment {path}")
            _build(ctx, base, path, workdir, env, [], dependencies)
            yield PythonEnv(path, list(before_commands), cached=False)
        finally:
            shutil.rmtree(path, ignore_errors=True)
        return

    pip_only = all(is_cacheable_pip_install(line) for line in before_commands)
    install_lines = list(before_commands) if pip_only else []
    kind = "pip" if pip_only else "mixed"
    key = _key(base, kind, list(before_commands), dependencies)
    root = ctx.home / "venvs"
    path = root / key
    lock_path = root / f"{key}.lock"
    description = {
        "python": base.version,
        "interpreter": base.executable,
        "beforeCommands": list(before_commands),
        "dependencies": dependencies,
        "kind": kind,
    }
    with contextlib.ExitStack() as stack:
        if not pip_only:
            # The remaining lines may change the venv while the script runs: keep it ours.
            stack.enter_context(_locked(ctx, lock_path, path))
        if not is_ready(path):
            with contextlib.ExitStack() as build_lock:
                if pip_only:
                    build_lock.enter_context(_locked(ctx, lock_path, path))
                if not is_ready(path):
                    ctx.log("INFO", f"Creating Python environment {path} (Python {base.version})")
                    _build(ctx, base, path, workdir, env, install_lines, dependencies)
                    _mark_ready(path, description)
        else:
            ctx.log("DEBUG", f"Using cached Python environment {path}")
        yield PythonEnv(path, [] if pip_only else list(before_commands))
