"""Kestra's ``::{...}::`` script output protocol, and the log sink for script lines.

A script reports outputs, metrics and log lines by printing one JSON object between ``::``
markers on a line of its own (stdout or stderr). :class:`LineSink` receives every line the
process writes: protocol lines are parsed and never logged, other lines are logged (stdout
INFO, stderr ERROR), as Kestra's ``DefaultLogConsumer`` does.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Mapping
from typing import Any

from kflow.tasks.base import RunContext

_COMMAND = re.compile(r"::(\{.*\})::")
_LEVELS = {
    "TRACE": "TRACE",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARN",
    "WARNING": "WARN",
    "ERROR": "ERROR",
    "CRITICAL": "ERROR",
}
TAIL_LINES = 10


def parse_command(line: str) -> dict[str, Any] | None:
    """The JSON object of a protocol line, ``None`` for an ordinary line.

    Raises ``ValueError`` (``json.JSONDecodeError`` included) when the line has the
    protocol shape but does not hold a JSON object.
    """
    match = _COMMAND.fullmatch(line.strip("\r"))
    if match is None:
        return None
    payload = json.loads(match.group(1))
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")  # noqa: TRY004 - one error kind for callers
    return payload


def _as_text(value: Any) -> str:
    """How a value is encrypted: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class LineSink:
    """Collects what a script reports while it runs.

    ``vars`` is the shallow merge of every ``outputs`` (and encrypted ``encryptedOutputs``)
    object; ``stderr_count`` counts stderr lines (protocol lines included, as Kestra counts
    them for ``warningOnStdErr``); ``stderr_tail`` keeps the last logged stderr lines for
    the failure message.
    """

    def __init__(self, ctx: RunContext, stdout_level: str = "INFO", stderr_level: str = "ERROR"):
        self.ctx = ctx
        self.vars: dict[str, Any] = {}
        self.stderr_count = 0
        self.stderr_tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.stdout_level = stdout_level
        self.stderr_level = stderr_level

    def __call__(self, line: str, is_stderr: bool) -> None:
        """Handle one line (without its newline) written by the process."""
        if is_stderr:
            self.stderr_count += 1
        try:
            command = parse_command(line)
        except ValueError as exc:
            self.ctx.log("WARN", f"Invalid outputs '{exc}'")
            return
        if command is not None:
            self._apply(command)
            return
        if is_stderr:
            self.stderr_tail.append(line)
            self.ctx.log(self.stderr_level, line)
        else:
            self.ctx.log(self.stdout_level, line)

    def _apply(self, command: Mapping[str, Any]) -> None:
        outputs = command.get("outputs")
        if isinstance(outputs, dict):
            self.vars.update(outputs)
        elif outputs is not None:
            self.ctx.log("WARN", "Invalid outputs 'outputs is not a JSON object'")
        encrypted = command.get("encryptedOutputs")
        if isinstance(encrypted, dict):
            self._encrypted(encrypted)
        elif encrypted is not None:
            self.ctx.log("WARN", "Invalid outputs 'encryptedOutputs is not a JSON object'")
        for metric in _as_list(command.get("metrics")):
            self._metric(metric)
        for entry in _as_list(command.get("logs")):
            self._log(entry)

    def _encrypted(self, values: Mapping[str, Any]) -> None:
        from kflow.secrets import encrypt

        for key, value in values.items():
            plaintext = _as_text(value)
            # Register first, so no later line (not even the engine's) shows it in clear.
            if plaintext:
                self.ctx.add_secret(plaintext)
            self.vars[key] = encrypt(plaintext)

    def _metric(self, metric: Any) -> None:
        if not isinstance(metric, dict):
            self.ctx.log("WARN", f"Invalid metric {metric!r}: expected an object")
            return
        name, kind, value = metric.get("name"), metric.get("type"), metric.get("value")
        tags = metric.get("tags") or {}
        if (
            not isinstance(name, str)
            or kind not in ("counter", "timer")
            or isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not isinstance(tags, dict)
        ):
            self.ctx.log(
                "WARN",
                f"Invalid metric {json.dumps(metric)}: expected name, type counter|timer, "
                "a numeric value and optional tags",
            )
            return
        self.ctx.metric(name, kind, float(value), {str(k): str(v) for k, v in tags.items()})

    def _log(self, entry: Any) -> None:
        if not isinstance(entry, dict) or "message" not in entry:
            self.ctx.log("WARN", f"Invalid log {entry!r}: expected {{level, message}}")
            return
        level = _LEVELS.get(str(entry.get("level", "INFO")).upper(), "INFO")
        message = entry["message"]
        self.ctx.log(level, message if isinstance(message, str) else _as_text(message))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
