"""``io.kestra.plugin.scripts.shell.Commands``: a list of shell commands."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.tasks.base import Prop, RunContext
from kflow.tasks.scripts.base import SCRIPT_PROPERTIES, ScriptTask
from kflow.tasks.scripts.files import StorageLocalizer


class ShellCommands(ScriptTask):
    """Run ``commands`` (joined with newlines) with ``/bin/sh -c``."""

    type: ClassVar[str] = "io.kestra.plugin.scripts.shell.Commands"
    properties: ClassVar[Mapping[str, Prop]] = {
        **SCRIPT_PROPERTIES,
        "commands": Prop(required=True, kind="list", doc="Shell commands, joined with newlines"),
    }

    def main_commands(
        self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any], localize: StorageLocalizer
    ) -> list[str]:
        return self.string_list(ctx, "commands", extra)
