"""Cron expressions of Kestra's Schedule trigger: parse them and find the ticks around a date.

Kestra reads ``cron`` with cron-utils' UNIX definition (``minute hour day-of-month month
day-of-week``), or with a leading seconds field when ``withSeconds: true``, and accepts the
macros ``@yearly``/``@annually``, ``@monthly``, ``@weekly``, ``@daily``/``@midnight`` and
``@hourly``. Fields take ``*``, ``?``, numbers, names (``JAN``, ``MON``), ranges ``a-b``,
steps ``*/n``, ``a/n``, ``a-b/n`` and comma lists; day-of-week 0 and 7 are Sunday. When both
day fields are restricted a day matching either one is a tick, as in cron.

Ticks are computed in the wall-clock time of the schedule's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Cron", "CronError", "parse_cron"]

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {n: i + 1 for i, n in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}  # fmt: skip
_DAYS = {n: i for i, n in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
# A schedule with no tick within this many steps (e.g. "0 0 30 2 *") has none at all.
_MAX_STEPS = 100_000


class CronError(ValueError):
    """An expression cron cannot read; the message says which part and why."""


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"empty value in the {name} field")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"invalid step {step_text!r} in the {name} field")
            step = int(step_text)
        if base in ("*", "?"):
            start, end = low, high
        else:
            first, dash, last = base.partition("-")
            start = _value(first, name, low, high, names)
            end = _value(last, name, low, high, names) if dash else (high if step_text else start)
            if end < start:
                raise CronError(f"invalid range {base!r} in the {name} field")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not text.isdigit():
        raise CronError(f"invalid value {text!r} in the {name} field")
    value = int(text)
    if not low <= value <= high:
        raise CronError(f"{name} value {value} is out of range {low}-{high}")
    return value


@dataclass(frozen=True)
class Cron:
    """A parsed expression; ``previous`` and ``next`` find ticks around a naive date-time."""

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool
    with_seconds: bool

    def _day_ok(self, dt: datetime) -> bool:
        dom = dt.day in self.days
        dow = (dt.isoweekday() % 7) in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return dow
        if self.any_weekday:
            return dom
        return dom or dow

    def _unit(self) -> timedelta:
        return timedelta(seconds=1) if self.with_seconds else timedelta(minutes=1)

    def _truncate(self, dt: datetime) -> datetime:
        return (
            dt.replace(microsecond=0) if self.with_seconds else dt.replace(second=0, microsecond=0)
        )

    def next(self, after: datetime) -> datetime:
        """The first tick strictly after ``after``."""
        dt = self._truncate(after) + self._unit()
        for _ in range(_MAX_STEPS):
            if dt.month not in self.months:
                year, month = (dt.year + 1, 1) if dt.month == 12 else (dt.year, dt.month + 1)
                dt = dt.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
            elif not self._day_ok(dt):
                dt = (dt + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif dt.hour not in self.hours:
                dt = (dt + timedelta(hours=1)).replace(minute=0, second=0)
            elif dt.minute not in self.minutes:
                dt = (dt + timedelta(minutes=1)).replace(second=0)
            elif self.with_seconds and dt.second not in self.seconds:
                dt += timedelta(seconds=1)
            else:
                return dt
        raise CronError("the expression has no tick")

    def previous(self, before: datetime) -> datetime:
        """The last tick strictly before ``before``."""
        return self.at_or_before(before - timedelta(microseconds=1))

    def at_or_before(self, moment: datetime) -> datetime:
        """The last tick at or before ``moment``."""
        dt = self._truncate(moment)
        unit = self._unit()
        for _ in range(_MAX_STEPS):
            if dt.month not in self.months:
                dt = dt.replace(day=1, hour=0, minute=0, second=0) - unit
            elif not self._day_ok(dt):
                dt = dt.replace(hour=0, minute=0, second=0) - unit
            elif dt.hour not in self.hours:
                dt = dt.replace(minute=0, second=0) - unit
            elif dt.minute not in self.minutes:
                dt = dt.replace(second=0) - unit
            elif self.with_seconds and dt.second not in self.seconds:
                dt -= unit
            else:
                return dt
        raise CronError("the expression has no tick")


def parse_cron(text: str, with_seconds: bool = False) -> Cron:
    """Parse ``text`` (raises :class:`CronError` saying what is wrong)."""
    expr = MACROS.get(text.strip().lower(), text.strip())
    fields = expr.split()
    expected = 6 if with_seconds and not text.strip().startswith("@") else 5
    if len(fields) != expected:
        raise CronError(
            f"expected {expected} fields"
            + (" (seconds first, as withSeconds is true)" if expected == 6 else "")
            + f", got {len(fields)}"
        )
    seconds = _field(fields.pop(0), "seconds", 0, 59, {}) if expected == 6 else frozenset({0})
    minute, hour, dom, month, dow = fields
    weekdays = {d % 7 for d in _field(dow, "day-of-week", 0, 7, _DAYS)}
    return Cron(
        seconds=seconds,
        minutes=_field(minute, "minute", 0, 59, {}),
        hours=_field(hour, "hour", 0, 23, {}),
        days=_field(dom, "day-of-month", 1, 31, {}),
        months=_field(month, "month", 1, 12, _MONTHS),
        weekdays=frozenset(weekdays),
        any_day=dom in ("*", "?"),
        any_weekday=dow in ("*", "?"),
        with_seconds=expected == 6,
    )
