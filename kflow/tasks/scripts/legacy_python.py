"""``io.kestra.core.tasks.scripts.Python`` (removed in Kestra 0.10): see :mod:`legacy_base`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext
from kflow.tasks.scripts.legacy_base import LEGACY_PROPERTIES, LegacyScript
from kflow.tasks.scripts.venv import PYTHON_ENV, python_env

_PYTHON_DEFAULT = "./bin/python main.py"


class Python(LegacyScript):
    """``io.kestra.core.tasks.scripts.Python``: ``main.py`` (from ``inputFiles``) run in a
    virtualenv with ``requirements``; ``./bin/python`` and ``./bin/pip`` in the working
    directory are that virtualenv's (kflow caches it under its home, like the modern tasks)."""

    type: ClassVar[str] = "io.kestra.core.tasks.scripts.Python"
    deprecated = "use io.kestra.plugin.scripts.python.Script or Commands (kflow still runs it)"
    properties: ClassVar[Mapping[str, Prop]] = {
        **LEGACY_PROPERTIES,
        "commands": Prop(kind="list", default=[_PYTHON_DEFAULT], doc="commands, one a line"),
        "args": Prop(kind="list", doc="arguments appended to each command"),
        "requirements": Prop(kind="list", doc="pip requirements of the virtualenv"),
        "virtualEnv": Prop(kind="bool", default=True, doc="create a virtualenv"),
        "pythonPath": Prop(
            kind="string",
            default="python",
            ignored="kflow builds the virtualenv with its own Python (pythonVersion of the "
            "modern tasks)",
        ),
    }
    default_env: ClassVar[Mapping[str, str]] = PYTHON_ENV

    @property
    def helper_files(self) -> Mapping[str, str]:  # type: ignore[override]
        source = Path(__file__).with_name("_kestra_helper.py").read_text(encoding="utf-8")
        return {"kestra.py": source}

    @contextlib.contextmanager
    def prepared(self, ctx: RunContext, workdir: Path, env: dict[str, str]) -> Iterator[None]:
        if not self.flag(ctx, "virtualEnv"):
            yield
            return
        requirements = self.string_list(ctx, "requirements", {"workingDir": str(workdir)})
        with python_env(ctx, workdir, [], requirements, env) as venv:
            venv.apply(env)
            bin_dir = workdir / "bin"
            bin_dir.mkdir(exist_ok=True)
            for name in ("python", "pip"):
                wrapper = bin_dir / name
                wrapper.write_text(f'#!/bin/sh\nexec "{venv.bin_dir / name}" "$@"\n')
                wrapper.chmod(0o755)
            yield

    def script(self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any],
               inputs: Mapping[str, Any], env: dict[str, str]) -> list[str]:  # fmt: skip
        commands = self.string_list(ctx, "commands", extra) or [_PYTHON_DEFAULT]
        if commands == [_PYTHON_DEFAULT] and "main.py" not in inputs:
            raise TaskError(
                "Invalid input files structure, expecting inputFiles property to contain at "
                "least a main.py key with python code value."
            )
        args = self.string_list(ctx, "args", extra)
        suffix = " " + " ".join(args) if args else ""
        return [command + suffix for command in commands]
