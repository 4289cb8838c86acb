"""``io.kestra.plugin.core.debug.Echo`` (deprecated): logs ``format`` at ``level``."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.core.log import LEVELS


class Echo(Task):
    """Kestra ``debug/Echo.java``: ``Log`` with ``message: format``, logged once."""

    type = "io.kestra.plugin.core.debug.Echo"
    aliases = ("io.kestra.core.tasks.debugs.Echo",)
    deprecated = "use io.kestra.plugin.core.log.Log (kflow still runs it)"
    outputs = {}
    properties = {
        "format": Prop(required=True, kind="string", doc="the message (rendered)"),
        "level": Prop(
            default="INFO",
            kind="string",
            allowed=LEVELS,
            refused=f"the level must be one of {', '.join(LEVELS)}",
        ),  # fmt: skip
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        level = str(self.prop("level") or "INFO").upper()
        if level not in LEVELS:
            raise TaskError(f"Invalid log level {level!r}: use one of {', '.join(LEVELS)}")
        from kflow.expr.values import to_string

        ctx.log(level, to_string(ctx.render(self.prop("format"))))
        return {}
