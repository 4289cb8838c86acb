"""Kestra's task-run and execution states and the rule that derives a final state."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class State(StrEnum):
    """A state name exactly as Kestra writes it."""

    CREATED = "CREATED"
    RUNNING = "RUNNING"
    RETRYING = "RETRYING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    KILLED = "KILLED"
    SKIPPED = "SKIPPED"
    # waiting for a resume (Pause); the execution too. Not terminal, and no process runs it.
    PAUSED = "PAUSED"
    # a Pause whose pauseDuration elapsed with behavior CANCEL, and its execution
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset(
    {State.SUCCESS, State.WARNING, State.FAILED, State.KILLED, State.SKIPPED, State.CANCELLED}
)


def guess_final_state(states: Iterable[State]) -> State:
    """Kestra's priority rule: KILLED, else FAILED, else WARNING, else SUCCESS.

    SKIPPED runs count as success (``Execution.guessFinalState``).
    """
    seen = set(states)
    for candidate in (State.KILLED, State.FAILED, State.WARNING):
        if candidate in seen:
            return candidate
    return State.SUCCESS


def apply_allowances(state: State, allow_failure: bool, allow_warning: bool) -> State:
    """``allowFailure`` turns FAILED into WARNING; ``allowWarning`` turns WARNING into SUCCESS."""
    if allow_failure and state is State.FAILED:
        state = State.WARNING
    if allow_warning and state is State.WARNING:
        state = State.SUCCESS
    return state
