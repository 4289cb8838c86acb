"""Task-output records: one per task run, the document's "task output" resource.

The record is the one stored copy of a task run's outputs. It carries the fields of the
"List all task outputs" API (snake_case, as that document names them), is created with
the task run and follows its state:

=====================================  ============
Kestra state of the task run           ``status``
=====================================  ============
CREATED, QUEUED                        queued
RUNNING, RETRYING, PAUSED, RESTARTED   running
SUCCESS, WARNING, SKIPPED              completed  (the state is kept in ``tags["state"]``)
FAILED, KILLED                         failed
(soft delete, ``kflow outputs --delete``)  deleted
(its files purged, ``kflow purge``)    stale
=====================================  ============

A deleted or stale record keeps its ``output`` (kept for audit); listings leave deleted
records out unless asked. This module is plain data: the stores (``kflow.store``) keep
records, the CLI and ``kflow serve`` show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STATUSES = ("queued", "running", "completed", "failed", "deleted", "stale")

_STATUS_OF_STATE = {
    "CREATED": "queued",
    "QUEUED": "queued",
    "RUNNING": "running",
    "RETRYING": "running",
    "PAUSED": "running",
    "RESTARTED": "running",
    "SUCCESS": "completed",
    "WARNING": "completed",
    "SKIPPED": "completed",
    "FAILED": "failed",
    "KILLED": "failed",
    "KILLING": "running",
    "CANCELLED": "failed",
    "RETRIED": "failed",
}

DEFAULT_ORG = "local"
SYSTEM = "system"  # updated_by for changes made by the engine

# records ids: a UUID derived from the task run id, so the same run always has the same
# record id (a re-save, a migration, two stores) without a lookup
_RECORD_NS = "5d1f4f2e-3b1c-4b7e-9a55-6b6b0c1f0a11"  # uuid is imported only when used


def fixed_instant(moment: datetime) -> str:
    """A record's date: UTC, always six fraction digits, so that dates compare as text
    (Kestra's ``Instant`` form drops zero fractions: ``...:05Z`` sorts after ``...:05.1Z``)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def fixed_text(text: str) -> str:
    """:func:`fixed_instant` of an ISO instant written as Kestra writes it (``Z``)."""
    if not text.endswith("Z") or len(text) < 20:
        return text
    base, _, fraction = text[:-1].partition(".")
    return f"{base}.{(fraction + '000000')[:6]}Z"


def status_of(state: str) -> str:
    """The record status of a Kestra state (an unknown state counts as running)."""
    return _STATUS_OF_STATE.get(state, "running")


def record_id(taskrun_id: str) -> str:
    """The stable UUID of the record of a task run: the UUID its id encodes (a task run id
    is a UUID in base62; as it grows with time, so does the records' index), else one
    derived from the id (ids from elsewhere: a name-based UUID, always the same)."""
    from kflow.ids import as_uuid

    found = as_uuid(taskrun_id)
    if found is not None:
        return found
    import uuid

    return str(uuid.uuid5(uuid.UUID(_RECORD_NS), taskrun_id))


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# words Pebble reads as operators or literals: never written as `.name`
_RESERVED = frozenset(
    {"not", "or", "and", "is", "contains", "equals", "true", "false", "none", "null", "in"}
)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _step(name: str) -> str:
    """``.name`` when Pebble reads it as a name, else ``['name']``."""
    if _NAME.match(name) and name.lower() not in _RESERVED:
        return f".{name}"
    return f"[{_quote(name)}]"


def expression(task_id: str, values: tuple[str, ...] = (), key: str | None = None) -> str:
    """The expression that reaches a task run's outputs in its execution, as
    ``kflow eval --exec`` accepts it: ``outputs.t``, ``outputs.inner['alpha']``,
    ``outputs.t['a']['1']`` (one subscript per enclosing loop value), then ``.key`` for
    one output."""
    out = "outputs" + _step(task_id)
    for v in values:
        out += f"[{_quote(v)}]"
    if key is not None:
        out += _step(key)
    return out


def with_key(base: str, key: str) -> str:
    """The expression of one output of a record: ``outputs.inner['alpha']`` and
    ``value`` give ``outputs.inner['alpha'].value``."""
    return base + _step(key)


@dataclass
class OutputRecord:
    """One task-output record (see the module docstring)."""

    id: str
    flow_execution_id: str
    organization_id: str
    namespace: str
    flow_id: str
    task_name: str
    taskrun_id: str
    task_type: str
    status: str
    created_at: str
    updated_at: str
    updated_by: str = SYSTEM
    iteration_value: str | None = None
    iteration_index: int | None = None
    parent_taskrun_id: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    expression: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The API's snake_case document."""
        return {
            "id": self.id,
            "flow_execution_id": self.flow_execution_id,
            "organization_id": self.organization_id,
            "namespace": self.namespace,
            "flow_id": self.flow_id,
            "task_name": self.task_name,
            "task_run_id": self.taskrun_id,
            "task_type": self.task_type,
            "iteration_value": self.iteration_value,
            "iteration_index": self.iteration_index,
            "parent_task_run_id": self.parent_taskrun_id,
            "status": self.status,
            "summary": self.summary,
            "output": self.output,
            "tags": self.tags,
            "expression": self.expression,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
        }


@dataclass
class RecordQuery:
    """Filters of a record listing, newest first. ``after`` is a record id (keyset
    pagination: the page starts after that record); dates are ISO instants; ``tags``
    must all match (the task type is the tag ``type``)."""

    flow_execution_id: str | None = None
    namespace: str | None = None
    flow_id: str | None = None
    task_name: str | None = None
    status: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    created_after: str | None = None
    created_before: str | None = None
    after: str | None = None
    limit: int | None = 50
    include_deleted: bool = False


@dataclass
class RecordPage:
    """A page of records and whether more follow (``next_after``: the id to pass as
    ``after`` for the next page)."""

    records: list[OutputRecord]
    has_more: bool

    @property
    def next_after(self) -> str | None:
        return self.records[-1].id if self.has_more and self.records else None
