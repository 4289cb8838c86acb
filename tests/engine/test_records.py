"""Records print dates and durations as Java does, through kflow.java's one printer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kflow.java.duration import format_seconds
from kflow.records import StateHistory, iso_duration, iso_instant
from kflow.states import State


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (0.0000004, "PT0S"),
        (0.000001, "PT0.000001S"),
        (0.5, "PT0.5S"),
        (1.2, "PT1.2S"),
        (60, "PT1M"),
        (61.5, "PT1M1.5S"),
        (3600, "PT1H"),
        (3600.5, "PT1H0.5S"),
        (90061.25, "PT25H1M1.25S"),
    ],
)
def test_durations_print_as_java(seconds, text):
    assert iso_duration(seconds) == text


def test_durations_are_kestras_printer():
    """The records' printer is kflow.java's: the same text for any measured duration."""
    rng = random.Random(12)
    values = [rng.random() * 10 ** rng.randint(-7, 8) for _ in range(20_000)]
    assert [iso_duration(v) for v in values] == [format_seconds(v) for v in values]


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2024, 12, 20, 10, 11, 12, tzinfo=UTC), "2024-12-20T10:11:12Z"),
        (datetime(2024, 12, 20, 10, 11, 12, 123000, tzinfo=UTC), "2024-12-20T10:11:12.123Z"),
        (datetime(2024, 12, 20, 10, 11, 12, 123456, tzinfo=UTC), "2024-12-20T10:11:12.123456Z"),
        (
            datetime(2024, 12, 20, 12, 11, 12, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-12-20T10:11:12.000005Z",
        ),
    ],
)
def test_instants_print_as_java(moment, text):
    assert iso_instant(moment) == text


def test_state_dates_follow_changes():
    history = StateHistory()
    first = history.to_dict()
    history.set(State.RUNNING)
    history.set(State.SUCCESS)
    doc = history.to_dict()
    assert [h["state"] for h in doc["histories"]] == ["CREATED", "RUNNING", "SUCCESS"]
    assert doc["startDate"] == first["startDate"] == doc["histories"][0]["date"]
    assert doc["endDate"] == iso_instant(history.histories[-1][1])
    # histories replaced wholesale: dates printed again, not taken from before
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    history.histories = [(State.CREATED, moment), (State.FAILED, moment + timedelta(seconds=2))]
    history.current = State.FAILED
    doc = history.to_dict()
    assert [h["date"] for h in doc["histories"]] == ["2024-01-02T03:04:05Z", "2024-01-02T03:04:07Z"]
    assert doc["duration"] == "PT2S"
