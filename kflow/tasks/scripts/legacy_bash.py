"""``io.kestra.core.tasks.scripts.Bash`` (removed in Kestra 0.10): see :mod:`legacy_base`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.tasks.base import Prop, RunContext
from kflow.tasks.scripts.legacy_base import LEGACY_PROPERTIES, LegacyScript


class Bash(LegacyScript):
    """``io.kestra.core.tasks.scripts.Bash``: ``commands`` run by ``/bin/sh -c``."""

    type: ClassVar[str] = "io.kestra.core.tasks.scripts.Bash"
    deprecated = "use io.kestra.plugin.scripts.shell.Commands (kflow still runs it)"
    properties: ClassVar[Mapping[str, Prop]] = {
        **LEGACY_PROPERTIES,
        "commands": Prop(required=True, kind="list", doc="shell commands, one a line"),
    }

    def script(self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any],
               inputs: Mapping[str, Any], env: dict[str, str]) -> list[str]:  # fmt: skip
        return self.string_list(ctx, "commands", extra)
