"""``io.kestra.plugin.scripts.shell.Script``: an inline shell script."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.tasks.base import Prop, RunContext, as_text
from kflow.tasks.scripts.base import SCRIPT_PROPERTIES, ScriptTask
from kflow.tasks.scripts.files import StorageLocalizer


class ShellScript(ScriptTask):
    """Run ``script``, passed inline to the interpreter (not written to a file), as Kestra does."""

    type: ClassVar[str] = "io.kestra.plugin.scripts.shell.Script"
    properties: ClassVar[Mapping[str, Prop]] = {
        **SCRIPT_PROPERTIES,
        "script": Prop(required=True, kind="string", doc="The shell script"),
    }

    def main_commands(
        self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any], localize: StorageLocalizer
    ) -> list[str]:
        script = self.rendered(ctx, "script", **extra)
        return [] if script is None else [as_text(script)]
