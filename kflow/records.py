"""Execution and TaskRun records, serialised in the shape of Kestra's execution API.

They live outside ``kflow.engine`` because the store, the CLI and tasks read them without
running anything: none of them should import the executor to know what a run looks like.
``kflow.engine.execution`` re-exports these names for plugins written against it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableSequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from kflow.states import State

if TYPE_CHECKING:  # no Protocol class to build at import: only annotations name it
    from typing import Protocol

    class TaskRunSource(Protocol):
        """Where released task runs are read back from (the execution store)."""

        def get_taskruns(
            self, execution_id: str, *, limit: int | None = None, with_error: bool = False
        ) -> list[TaskRun]: ...


def now() -> datetime:
    return datetime.now(UTC)


def iso_instant(moment: datetime) -> str:
    """Java ``Instant.toString``: ``2024-12-20T10:11:12.123456Z`` (fraction 0, 3 or 6 digits)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat is C code; strftime cost about 3 us, for every date of every saved run
    base = moment.isoformat(timespec="seconds")[:19]
    micros = moment.microsecond
    if micros == 0:
        return base + "Z"
    if micros % 1000 == 0:
        return f"{base}.{micros // 1000:03d}Z"
    return f"{base}.{micros:06d}Z"


def iso_duration(seconds: float) -> str:
    """Java ``Duration.toString`` of a measured duration (``PT1.2S``): Kestra's printer,
    :func:`kflow.java.duration.format_seconds`, under the name the CLI and plugins use."""
    global _format_seconds
    if _format_seconds is None:
        # imported on first use: commands that only list executions never print one
        from kflow.java.duration import format_seconds

        _format_seconds = format_seconds
    return _format_seconds(seconds)


_format_seconds: Callable[[float], str] | None = None


@dataclass
class StateHistory:
    """Current state plus its timestamped history (Kestra's State object)."""

    current: State = State.CREATED
    histories: list[tuple[State, datetime]] = field(default_factory=list)
    # each history date as text, kept from one save of the run to the next: a run is saved
    # at every change and each save printed every date again (3 us each)
    _dates: list[tuple[datetime, str]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

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

    def _date_texts(self, histories: list[tuple[State, datetime]]) -> list[str]:
        """The ISO text of each history date, printed once per date."""
        cache = self._dates
        texts = []
        for i, (_, moment) in enumerate(histories):
            if i < len(cache) and cache[i][0] is moment:
                texts.append(cache[i][1])
                continue
            text = iso_instant(moment)
            del cache[i:]
            cache.append((moment, text))
            texts.append(text)
        return texts

    def to_dict(self) -> dict[str, Any]:
        # one snapshot of the history: the executor's RUNNING saver may read a run while
        # its own thread appends a state (the final save, made after, has them all)
        histories = list(self.histories)
        current = self.current
        start = histories[0][1]
        last = histories[-1][1]
        dates = self._date_texts(histories)
        out: dict[str, Any] = {
            "current": current.value,
            "histories": [
                {"state": s.value, "date": d} for (s, _), d in zip(histories, dates, strict=True)
            ],
            "duration": iso_duration((last - start).total_seconds()),
            "startDate": dates[0],
        }
        if current.terminal:
            out["endDate"] = dates[-1]
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
    # the iteration values that key its outputs (enclosing loops', then its own), for the
    # expression of its task-output record (not serialised; see kflow.taskoutputs)
    keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    # what its task type shows of it in record listings (Task.summary; not serialised)
    summary: dict[str, Any] | None = field(default=None, compare=False, repr=False)

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
            task_type=data.get("taskType") or "",
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


class TaskRunList(MutableSequence[TaskRun]):
    """An execution's task runs, in the order they were created; a list to its readers.

    A long loop must not keep every finished iteration in memory (a ForEach over a million
    values would hold gigabytes), so the executor may :meth:`release` finished runs once
    the store has them. Reading the whole list then reads the released runs back from the
    store (:meth:`bind`), merged with the runs still in memory; the result is kept until a
    run is added or released. Until something is released it is a plain list, with no
    store behind it. ``len()``, :meth:`head` and :meth:`with_error` never read every run:
    a summary of a million-run execution uses them.
    """

    __slots__ = ("_runs", "_released", "_snapshot", "_source", "_execution_id")

    def __init__(self, runs: Iterable[TaskRun] = ()) -> None:
        self._runs: list[TaskRun] = list(runs)
        self._released = 0
        self._snapshot: list[TaskRun] | None = None
        self._source: TaskRunSource | None = None
        self._execution_id = ""

    def bind(self, source: TaskRunSource, execution_id: str) -> None:
        """Where released runs are read back from: the store and the execution id."""
        self._source = source
        self._execution_id = execution_id

    # ----------------------------------------------------------------- the executor's side
    def in_memory(self) -> list[TaskRun]:
        """The runs not released (every unfinished run is among them), without the store."""
        return list(self._runs)

    @property
    def held(self) -> int:
        """How many runs are in memory."""
        return len(self._runs)

    @property
    def released(self) -> int:
        """How many finished runs were released from memory (0: the list is all in memory)."""
        return self._released

    def release(self, runs: Iterable[TaskRun]) -> None:
        """Forget these finished, stored runs; reading the list reads them back from the store."""
        if self._source is None:
            raise RuntimeError("a task-run list releases runs only when bound to a store")
        gone = {id(r) for r in runs}
        if not gone:
            return
        kept = [r for r in self._runs if id(r) not in gone]
        self._released += len(self._runs) - len(kept)
        self._runs = kept
        self._snapshot = None

    def _all(self) -> list[TaskRun]:
        if not self._released:
            return self._runs
        if self._snapshot is None:
            assert self._source is not None
            self._snapshot = self._merged(self._source.get_taskruns(self._execution_id))
        return self._snapshot

    def _merged(self, stored: list[TaskRun], complete: bool = True) -> list[TaskRun]:
        """Stored runs, each replaced by its live object when it is still in memory; with
        ``complete``, the live runs not stored yet are added (in creation order)."""
        live = {r.id: r for r in self._runs}
        merged = [live.pop(r.id, r) for r in stored]
        if live and complete:
            merged.extend(live.values())
            merged.sort(key=lambda r: r.seq)
        return merged

    def head(self, count: int) -> list[TaskRun]:
        """The first ``count`` runs, in creation order, reading no more than these."""
        if not self._released:
            return self._runs[:count]
        assert self._source is not None
        stored = self._source.get_taskruns(self._execution_id, limit=count)
        return self._merged(stored)[:count]

    def with_error(self) -> list[TaskRun]:
        """The runs that have an ``error``, in creation order, reading no others."""
        if not self._released:
            return [r for r in self._runs if r.error]
        assert self._source is not None
        stored = self._source.get_taskruns(self._execution_id, with_error=True)
        merged = self._merged(stored, complete=False)
        known = {r.id for r in merged}
        merged += [r for r in self._runs if r.error and r.id not in known]
        merged.sort(key=lambda r: r.seq)
        return [r for r in merged if r.error]

    # ----------------------------------------------------------------- a list to readers
    @overload
    def __getitem__(self, index: int) -> TaskRun: ...

    @overload
    def __getitem__(self, index: slice) -> list[TaskRun]: ...

    def __getitem__(self, index: int | slice) -> TaskRun | list[TaskRun]:
        return self._all()[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._writable()[index] = value

    def __delitem__(self, index: int | slice) -> None:
        del self._writable()[index]

    def insert(self, index: int, value: TaskRun) -> None:
        self._writable().insert(index, value)

    def append(self, value: TaskRun) -> None:
        self._runs.append(value)  # the executor's hot path: no snapshot to rebuild first
        self._snapshot = None

    def _writable(self) -> list[TaskRun]:
        if self._released:
            raise RuntimeError("runs released to the store cannot be changed in place")
        return self._runs

    def __len__(self) -> int:
        return len(self._runs) + self._released  # a released run is never held again

    def __iter__(self) -> Iterator[TaskRun]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TaskRunList | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as a list

    def __repr__(self) -> str:
        return f"TaskRunList({self._all()!r})"


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
    task_runs: TaskRunList = field(default_factory=TaskRunList)
    parent_id: str | None = None
    trigger: dict[str, Any] | None = None
    error: str | None = None
    flow_path: str | None = None
    # the execution's variables (``{{ vars }}``) once a SetVariables/UnsetVariables task
    # changed them; None: the flow's ``variables`` as written
    variables: dict[str, Any] | None = None
    # a Subflow task's legacy `outputs`, rendered in this (child) execution; not stored
    subflow_outputs: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    subflow_outputs_error: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.task_runs, TaskRunList):  # a list given by the caller
            self.task_runs = TaskRunList(self.task_runs)

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
        if self.variables is not None:
            out["variables"] = self.variables
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
            task_runs=TaskRunList(
                TaskRun.from_dict(t, i) for i, t in enumerate(data.get("taskRunList") or [])
            ),
            parent_id=((data.get("trigger") or {}).get("variables") or {}).get("executionId"),
            trigger=data.get("trigger"),
            error=data.get("error"),
            variables=data.get("variables"),
        )
