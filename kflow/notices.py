"""Warnings about a flow: things kflow accepts but that do not act locally.

A flow that Kestra accepts keeps loading and running under kflow, even when some of its
keys have no local meaning (``triggers``, ``concurrency``, ``workerGroup``...). Refusing
such a flow would make kflow useless on real flows; ignoring the keys silently would let a
user believe they act. A :class:`Notice` is the middle way: the engine collects them on
the loaded :class:`~kflow.flow.model.Flow` (``flow.warnings``) and never prints; the CLI
shows them on stderr (``warning: flow.yml:12:3: ...``) and lists them under ``"warnings"``
in ``kflow run --json``. A notice never changes an exit code.

Anything that *would* change a result (an HTTP proxy, TLS options...) is not a notice but
an error (:class:`~kflow.errors.FlowValidationError`): see ``kflow/flow/validate.py``.

Later features add notices the same way: build a ``Notice`` with a stable ``code`` and the
``path``/``line``/``column`` of what it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Notice:
    """One warning: what (``message``), where (``path``:``line``:``column``), how to act
    (``hint``), and a stable ``code`` scripts may filter on (``ignored-key``...)."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    code: str = "warning"

    @property
    def location(self) -> str | None:
        """``file:line:col`` (as much of it as is known), or None."""
        from kflow.errors import location

        return location(self.path, self.line, self.column)

    def __str__(self) -> str:
        loc = self.location
        return f"{loc}: {self.message}" if loc else self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``kflow run --json`` (every key always present)."""
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
        }


__all__ = ["Notice"]
