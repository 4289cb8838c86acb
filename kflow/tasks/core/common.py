"""What Count, PurgeExecutions and PurgeLogs share: date-time arguments and "every
execution" as a listing limit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kflow.errors import TaskError

# list_executions takes a limit; these tasks look at every execution of the home
ALL = 10**9


def iso_date_time(text: Any, what: str) -> datetime:
    """``text`` as an aware date-time (ISO-8601; UTC when it names no offset), or a
    TaskError naming ``what``."""
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise TaskError(f"{what} {text!r} is not an ISO date-time: {exc}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)
