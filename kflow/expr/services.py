"""What expression functions need from a running execution: files, secrets, KV, logs.

``read()``, ``fileSize()``, ``fileExists()``, ``isFileEmpty()``, ``secret()``, ``kv()`` and
``errorLogs()`` cannot be answered from the render context alone. The runner puts an object
implementing :class:`KflowServices` under ``context["_kflow"]``; the functions in
:mod:`kflow.expr.functions` only translate Kestra's arguments and errors, and the service
decides what is allowed (for instance that a ``kestra:///`` URI belongs to the current
execution, its parent, or a namespace the flow may read).

Without ``_kflow`` (``kflow render`` outside an execution) those functions raise an
:class:`~kflow.errors.ExpressionError` that says so, via :func:`services_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from kflow.errors import ExpressionError

SERVICES_KEY = "_kflow"
"""The context key under which the runner stores its :class:`KflowServices`."""


@runtime_checkable
class KflowServices(Protocol):
    """The execution services expression functions call.

    Contract:

    * ``namespace`` is the flow's namespace (``company.team``); ``fileURI()`` and relative
      paths given to ``read()`` resolve against it.
    * ``read_file(uri)`` returns the bytes of a ``kestra:///…`` URI. It raises
      :class:`~kflow.errors.StorageError` (or another ``KflowError``) when the file is
      missing or may not be read from this execution.
    * ``file_size(uri)`` is the size in bytes; ``file_exists(uri)`` never raises for a
      missing file (it returns ``False``) but may raise for a forbidden URI.
    * ``secret(key)`` returns the secret's value or raises ``KflowError`` when it is unknown.
    * ``kv(key, namespace)`` returns the stored value, and raises ``KeyError`` when the key
      is absent (``kv()`` turns that into ``null`` or Kestra's error).
    * ``error_logs()`` lists the execution's ERROR log entries as plain dicts
      (``taskId``, ``message``, ``timestamp``, …), oldest first.
    """

    namespace: str

    def read_file(self, uri: str) -> bytes: ...

    def file_size(self, uri: str) -> int: ...

    def file_exists(self, uri: str) -> bool: ...

    def secret(self, key: str) -> str: ...

    def kv(self, key: str, namespace: str) -> Any: ...

    def error_logs(self) -> list[dict[str, Any]]: ...


def services_of(context: Mapping[str, Any], function: str) -> KflowServices:
    """The execution services in ``context``, or an error naming ``function``."""
    services = context.get(SERVICES_KEY)
    if services is None:
        raise ExpressionError(
            f"{function}() needs an execution: use --exec",
            hint="functions that read files, secrets, KV or logs only work inside a run",
        )
    return services  # type: ignore[no-any-return]


__all__ = ["SERVICES_KEY", "KflowServices", "services_of"]
