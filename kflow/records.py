"""Execution and TaskRun records, serialised in the shape of Kestra's execution API.

They live outside ``kflow.engine`` because the store, the CLI and tasks read them without
running anything: none of them should import the executor to know what a run looks like.
``kflow.engine.execution`` re-exports these names for plugins written against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kflow.states import State


def now() -> datetime:
    return datetime.now(UTC)


def iso_instant(moment: datetime) -> str:
    """Java ``Instant.toString``: ``2024-12-20T10:11:12.123456Z`` (fraction 0, 3 or 6 digits)."""
    moment = moment.astimezone(UTC)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micros = moment.microsecond
    if micros == 0:
        frac = ""
    elif micros % 1000 == 0:
        frac = f".{micros // 1000:03d}"
    else:
        frac = f".{micros:06d}"
    return f"{base}{frac}Z"


def iso_duration(seconds: float) -> str:
    """Java ``Duration.toString`` for a non-negative number of seconds (``PT1.2S``)."""
    total_micros = round(seconds * 1_000_000)
    hours, rem = divmod(total_micros, 3_600_000_000)
    minutes, rem = divmod(rem, 60_000_000)
    secs, micros = divmod(rem, 1_000_000)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs or micros or out == "PT":
        out += str(secs)
        if micros:
            out += "." + f"{micros:06d}".rstrip("0")
        out += "S"
    return out


@dataclass
class StateHistory:
    """Current state plus its timestamped history (Kestra's State object)."""

    current: State = State.CREATED
    histories: list[tuple[State, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.histories:
            self.histories.append((self.current, now()))

    def set(self, state: State) -> None:
        self.current = state
        self.histories.append((state, now()))

    @property
    def start(self) -> datetime:
        return self.histories[0][1]

    @property
    def end(self) -> datetime | None:
        return self.histories[-1][1] if self.current.terminal else None

    def to_dict(self) -> dict[str, Any]:
        start = self.histories[0][1]
        last = self.histories[-1][1]
        out: dict[str, Any] = {
            "current": self.current.value,
            "histories": [{"state": s.value, "date": iso_instant(d)} for s, d in self.histories],
            "duration": iso_duration((last - start).total_seconds()),
            "startDate": iso_instant(start),
        }
        if self.current.terminal:
            out["endDate"] = iso_instant(last)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StateHistory:
        hist = [
            (State(h["state"]), datetime.fromisoformat(h["date"].replace("Z", "+00:00")))
            for h in data.get("histories", [])
        ]
        return cls(current=State(data["current"]), histories=hist)


@dataclass
class TaskRun:
    """One run of one task (one iteration of it inside a loop)."""

    id: str
    execution_id: str
    namespace: str
    flow_id: str
    task_id: str
    task_type: str = ""
    parent_taskrun_id: str | None = None
    value: str | None = None
    iteration: int | None = None
    state: StateHistory = field(default_factory=StateHistory)
    attempts: list[StateHistory] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    error: str | None = None
    metrics: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    # how many child runs a flowable planned (for progress bars; not serialised)
    planned: int | None = field(default=None, compare=False)
    # the task's own retry policy, inherited by the children of a flowable (not serialised)
    retry_policy: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "executionId": self.execution_id,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "taskId": self.task_id,
        }
        if self.parent_taskrun_id is not None:
            out["parentTaskRunId"] = self.parent_taskrun_id
        if self.value is not None:
            out["value"] = self.value
        if self.iteration is not None:
            out["iteration"] = self.iteration
        if self.attempts:
            out["attempts"] = [{"state": a.to_dict()} for a in self.attempts]
        out["outputs"] = self.outputs
        out["state"] = self.state.to_dict()
        if self.error is not None:
            out["error"] = self.error
        if self.metrics:
            out["metrics"] = self.metrics
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], seq: int = 0) -> TaskRun:
        return cls(
            id=data["id"],
            execution_id=data["executionId"],
            namespace=data["namespace"],
            flow_id=data["flowId"],
            task_id=data["taskId"],
            parent_taskrun_id=data.get("parentTaskRunId"),
            value=data.get("value"),
            iteration=data.get("iteration"),
            state=StateHistory.from_dict(data["state"]),
            attempts=[StateHistory.from_dict(a["state"]) for a in data.get("attempts", [])],
            outputs=data.get("outputs"),
            error=data.get("error"),
            metrics=data.get("metrics", []),
            seq=seq,
        )


@dataclass
class Execution:
    """One run of a flow."""

    id: str
    namespace: str
    flow_id: str
    flow_revision: int = 1
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    labels: list[dict[str, str]] = field(default_factory=list)
    state: StateHistory = field(default_factory=StateHistory)
    task_runs: list[TaskRun] = field(default_factory=list)
    parent_id: str | None = None
    trigger: dict[str, Any] | None = None
    error: str | None = None
    flow_path: str | None = None
    # a Subflow task's legacy `outputs`, rendered in this (child) execution; not stored
    subflow_outputs: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    subflow_outputs_error: str | None = field(default=None, compare=False, repr=False)

    def to_dict(self, with_taskruns: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "namespace": self.namespace,
            "flowId": self.flow_id,
            "flowRevision": self.flow_revision,
        }
        if with_taskruns:
            out["taskRunList"] = [tr.to_dict() for tr in self.task_runs]
        out["inputs"] = self.inputs
        out["outputs"] = self.outputs
        out["labels"] = self.labels
        out["state"] = self.state.to_dict()
        out["originalId"] = self.id
        if self.trigger is not None:
            out["trigger"] = self.trigger
        if self.error is not None:
            out["error"] = self.error
        out["deleted"] = False
        out["metadata"] = {
            "attemptNumber": 1,
            "originalCreatedDate": iso_instant(self.state.start),
        }
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Execution:
        return cls(
            id=data["id"],
            namespace=data["namespace"],
            flow_id=data["flowId"],
            flow_revision=data.get("flowRevision", 1),
            inputs=data.get("inputs") or {},
            outputs=data.get("outputs") or {},
            labels=data.get("labels") or [],
            state=StateHistory.from_dict(data["state"]),
            task_runs=[
                TaskRun.from_dict(t, i) for i, t in enumerate(data.get("taskRunList") or [])
            ],
            parent_id=((data.get("trigger") or {}).get("variables") or {}).get("executionId"),
            trigger=data.get("trigger"),
            error=data.get("error"),
        )
