"""``io.kestra.plugin.core.log.Log``: one log line per message (a string or a list)."""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, Task

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


class Log(Task):
    type = "io.kestra.plugin.core.log.Log"
    aliases = ("io.kestra.core.tasks.log.Log",)
    outputs = {}
    properties = {
        "message": Prop(required=True, doc="a string or a list of strings to log"),
        "level": Prop(default="INFO", kind="string"),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        level = spec.props.get("level")
        if isinstance(level, str) and "{{" not in level and level.upper() not in LEVELS:
            return [f"level must be one of {', '.join(LEVELS)}, not {level!r}"]
        message = spec.props.get("message")
        if message is not None and not isinstance(message, (str, list)):
            return ["Invalid message type: 'message' must be a string or a list of strings"]
        return []

    def run(self, ctx: RunContext) -> dict[str, Any]:
        level = str(ctx.render(self.prop("level") or "INFO")).upper()
        if level not in LEVELS:
            raise TaskError(f"Invalid log level {level!r}: use one of {', '.join(LEVELS)}")
        message = self.prop("message")
        lines = message if isinstance(message, list) else [message]
        from kflow.expr.values import to_string

        for line in lines:
            ctx.log(level, to_string(ctx.render(line)))
        return {}
