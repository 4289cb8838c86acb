"""One error tree for kflow: every failure a user can cause is a ``KflowError``.

::

    KflowError                      exit 1 unless a subclass says otherwise
     ├── UsageError                 exit 2  bad command-line use (-i without '=', unknown id)
     │    └── NotFoundError         exit 2  unknown execution, flow or file
     ├── FlowError                  exit 2  a flow file that cannot be loaded
     │    ├── FlowSyntaxError               not YAML, not a mapping
     │    └── FlowValidationError           wrong ids, unknown type/property, duplicates
     ├── InputError                 exit 2  inputs refused before any task runs
     ├── ExpressionError            exit 1  a template that fails while rendering (bad data)
     │    ├── ExpressionSyntaxError exit 2  the template does not parse
     │    └── UndefinedVariableError exit 2 strict lookup of a missing variable or key
     ├── StorageError               exit 2  bad or hostile kestra:/// URI, missing file
     ├── StoreError                 exit 2  an execution store kflow cannot open or write
 ├── KVError                    exit 2  a KV key, value or TTL refused, or a key expired
     ├── TaskError                  exit 1  a task failed while running (may carry outputs)
     │    └── TaskTimeoutError              a task ran over its ``timeout``
     └── PluginError                exit 2  a task type that cannot be loaded

Kill signals (KeyboardInterrupt) stay outside the tree. Messages say what went wrong;
``path``/``line``/``column`` say where; ``hint`` says how to fix it.
"""

from __future__ import annotations

from typing import Any


def location(path: str | None, line: int | None, column: int | None) -> str | None:
    """``file:line:col`` (as much of it as is known), or None without a file: how errors
    and warnings (:mod:`kflow.notices`) name a place in a flow."""
    if path is None:
        return None
    loc = path
    if line is not None:
        loc += f":{line}"
        if column is not None:
            loc += f":{column}"
    return loc


class KflowError(Exception):
    """Base of every error kflow reports to a user."""

    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint

    @property
    def location(self) -> str | None:
        """``file:line:col`` (as much of it as is known), or None."""
        return location(self.path, self.line, self.column)

    def __str__(self) -> str:
        loc = self.location
        return f"{loc}: {self.message}" if loc else self.message


class UsageError(KflowError):
    """The command line was used wrongly."""

    exit_code = 2


class NotFoundError(UsageError):
    """An execution, flow or file that does not exist."""


class FlowError(KflowError):
    """A flow file that cannot be loaded or is not a valid Kestra flow."""

    exit_code = 2


class FlowSyntaxError(FlowError):
    """Not YAML, or YAML that is not a flow mapping."""


class FlowValidationError(FlowError):
    """A flow that parses but breaks Kestra's rules. ``problems`` holds every finding."""

    def __init__(self, message: str, *, problems: list[KflowError] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems: list[KflowError] = problems or []


class InputError(KflowError):
    """Inputs refused before the execution is created. ``problems`` is one line per input."""

    exit_code = 2

    def __init__(self, message: str, *, problems: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems: list[str] = problems or [message]


class ExpressionError(KflowError):
    """A Pebble template that cannot be rendered.

    ``template`` is the source text and ``position`` the 0-based offset of the bad part
    in it (when known), so the CLI can draw a marker under it.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        template: str | None = None,
        position: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.template = template
        self.position = position


class ExpressionSyntaxError(ExpressionError):
    """The template does not parse."""

    exit_code = 2


class UndefinedVariableError(ExpressionError):
    """Strict mode: a variable, key or index that does not exist."""

    exit_code = 2


class StorageError(KflowError):
    """A ``kestra:///`` URI that is malformed, hostile or points to no file."""

    exit_code = 2


class StoreError(KflowError):
    """The execution store cannot be used: damaged, written by a newer kflow, read-only
    when a run needs to write, or on a disk that stayed full."""

    exit_code = 2


class KVError(KflowError):
    """The namespace KV store refused a key, namespace, value or TTL, or found the key
    expired (Kestra's ``KVStoreException``, ``ResourceExpiredException``)."""

    exit_code = 2


class TaskError(KflowError):
    """A task failed while running. ``outputs`` keeps what it produced before failing."""

    exit_code = 1

    def __init__(self, message: str, *, outputs: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.outputs = outputs


class TaskTimeoutError(TaskError):
    """A task ran longer than its ``timeout``."""


class PluginError(KflowError):
    """A task type whose plugin cannot be imported or is malformed."""

    exit_code = 2


__all__ = [
    "ExpressionError",
    "ExpressionSyntaxError",
    "FlowError",
    "FlowSyntaxError",
    "FlowValidationError",
    "InputError",
    "KVError",
    "KflowError",
    "NotFoundError",
    "PluginError",
    "StorageError",
    "StoreError",
    "TaskError",
    "TaskTimeoutError",
    "UndefinedVariableError",
    "UsageError",
]
