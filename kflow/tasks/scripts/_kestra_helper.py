"""kflow's stand-in for the ``kestra`` Python package, put in every script virtualenv.

Kestra's Python images ship ``from kestra import Kestra``; kflow installs this module as
``kestra.py`` so such scripts work without the package index. A real ``pip install kestra``
installs a package directory, which Python prefers over this module.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

_LEVELS = {"WARNING": "WARN", "CRITICAL": "ERROR"}


class Kestra:
    """Print Kestra's ``::{...}::`` lines: outputs, metrics and logs."""

    _logger: logging.Logger | None = None

    @staticmethod
    def _send(payload: Mapping[str, Any]) -> None:
        print("::" + json.dumps(payload, default=str) + "::", flush=True)

    @staticmethod
    def _convert_booleans(obj: Any) -> Any:
        # Kestra's kestra.py sends booleans as the strings "True"/"False"; scripts written
        # for Kestra compare against those, so kflow does the same.
        if isinstance(obj, bool):
            return str(obj)
        if isinstance(obj, dict):
            return {k: Kestra._convert_booleans(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [Kestra._convert_booleans(v) for v in obj]
        return obj

    @staticmethod
    def outputs(values: Mapping[str, Any]) -> None:
        """Add ``values`` to the task's ``vars`` output (booleans as "True"/"False")."""
        Kestra._send({"outputs": Kestra._convert_booleans(dict(values))})

    @staticmethod
    def _metric(name: str, kind: str, value: float, tags: Mapping[str, Any] | None) -> None:
        metric = {"name": name, "type": kind, "value": value, "tags": dict(tags or {})}
        Kestra._send({"metrics": [metric]})

    @staticmethod
    def counter(name: str, value: float, tags: Mapping[str, Any] | None = None) -> None:
        """Record a counter metric."""
        Kestra._metric(name, "counter", value, tags)

    @staticmethod
    def timer(
        name: str, duration: float | Callable[[], Any], tags: Mapping[str, Any] | None = None
    ) -> None:
        """Record a timer metric in seconds; a callable is run and timed."""
        if callable(duration):
            start = time.perf_counter()
            duration()
            duration = time.perf_counter() - start
        Kestra._metric(name, "timer", duration, tags)

    @staticmethod
    def logger() -> logging.Logger:
        """A logger whose records become task logs at their level."""
        if Kestra._logger is None:
            logger = logging.getLogger("kestra")
            logger.setLevel(logging.DEBUG)
            logger.propagate = False
            logger.addHandler(_ProtocolHandler())
            Kestra._logger = logger
        return Kestra._logger


class _ProtocolHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        level = _LEVELS.get(record.levelname, record.levelname)
        Kestra._send({"logs": [{"level": level, "message": self.format(record)}]})
