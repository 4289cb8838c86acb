"""Former home of the execution records, kept so ``kflow.engine.execution`` imports work.

The records now live in :mod:`kflow.records` (the store and the CLI read them without the
engine).
"""

from kflow.records import Execution, StateHistory, TaskRun, iso_duration, iso_instant, now

__all__ = ["Execution", "StateHistory", "TaskRun", "iso_duration", "iso_instant", "now"]
