"""What the Python script tasks share: a cached virtualenv and Python's environment variables."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from kflow.tasks.base import Prop, RunContext
from kflow.tasks.scripts.base import SCRIPT_PROPERTIES, ScriptTask
from kflow.tasks.scripts.venv import PYTHON_ENV, python_env

PYTHON_PROPERTIES: dict[str, Prop] = {
    **SCRIPT_PROPERTIES,
    "dependencies": Prop(kind="list", doc="Packages to install in the task's virtualenv"),
    "pythonVersion": Prop(kind="string", doc="Python version (used when installed locally)"),
    "packageManager": Prop(kind="string", default="UV", doc="UV | PIP; kflow installs with pip"),
    "dependencyCacheEnabled": Prop(kind="bool", default=True, doc="Reuse the virtualenv"),
}


class PythonTask(ScriptTask):
    """A script task whose commands run in a kflow-managed virtualenv (see ``venv.py``)."""

    properties: ClassVar[Mapping[str, Prop]] = PYTHON_PROPERTIES
    default_env: ClassVar[Mapping[str, str]] = PYTHON_ENV

    @contextlib.contextmanager
    def prepared(
        self, ctx: RunContext, workdir: Path, before: list[str], env: dict[str, str]
    ) -> Iterator[list[str]]:
        dependencies = self.string_list(ctx, "dependencies", {"workingDir": str(workdir)})
        version = self.rendered(ctx, "pythonVersion")
        with python_env(
            ctx,
            workdir,
            before,
            dependencies,
            env,
            python_version=str(version) if version is not None else None,
            cache=self.flag(ctx, "dependencyCacheEnabled"),
        ) as venv:
            venv.apply(env)
            yield venv.run_before
