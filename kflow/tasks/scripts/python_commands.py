"""``io.kestra.plugin.scripts.python.Commands``: shell commands run in a Python virtualenv."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.tasks.base import Prop, RunContext
from kflow.tasks.scripts.files import StorageLocalizer
from kflow.tasks.scripts.python_base import PYTHON_PROPERTIES, PythonTask


class PythonCommands(PythonTask):
    """Run ``commands`` (``python main.py``...) with the task's virtualenv first on PATH."""

    type: ClassVar[str] = "io.kestra.plugin.scripts.python.Commands"
    properties: ClassVar[Mapping[str, Prop]] = {
        **PYTHON_PROPERTIES,
        "commands": Prop(required=True, kind="list", doc="Shell commands, joined with newlines"),
    }

    def main_commands(
        self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any], localize: StorageLocalizer
    ) -> list[str]:
        return self.string_list(ctx, "commands", extra)
