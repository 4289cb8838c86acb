"""Java's Duration (kflow.java.duration): parse, toString, Java's long range, long waits."""

from __future__ import annotations

import threading

import pytest

from kflow.java.duration import (
    Duration,
    duration_problem,
    format_seconds,
    parse,
    parse_duration,
    wait_for,
)
from kflow.java.exceptions import DateTimeParseError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT10S", 10.0),
        ("P2DT3H4M", 2 * 86400 + 3 * 3600 + 4 * 60.0),
        ("PT-1.5S", -1.5),
        ("-PT1M", -60.0),
        ("PT9223372036854775807S", float(2**63 - 1)),  # Long.MAX_VALUE seconds: Java takes it
    ],
)
def test_durations_java_accepts(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "PT99999999999999999999S",
        "PT9223372036854775808S",
        "P106751991167301D",
        "PT2562047788015216H",
    ],
)
def test_durations_beyond_java_long_are_refused(text):
    assert parse_duration(text) is None
    assert duration_problem(text).startswith("is out of range")


def test_duration_problem_for_bad_syntax():
    assert duration_problem("5 minutes") == "is not an ISO-8601 duration"


def test_wait_for_accepts_any_duration():
    event = threading.Event()
    event.set()
    assert wait_for(event, 1e18) is True  # Event.wait(1e18) raises OverflowError
    assert wait_for(threading.Event(), 0.0) is False


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("PT0S", "PT0S"),
        ("PT90S", "PT1M30S"),
        ("P1D", "PT24H"),
        ("PT1.5S", "PT1.5S"),
        ("PT-0.5S", "PT-0.5S"),
        ("-PT1M0.25S", "PT-1M-0.25S"),
        ("PT0.000000001S", "PT0.000000001S"),
    ],
)
def test_to_string_as_java(text: str, printed: str) -> None:
    assert str(parse(text)) == printed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PT", "Text cannot be parsed to a Duration"),
        ("P1W", "Text cannot be parsed to a Duration"),
        ("PT99999999999999999999S", "Text cannot be parsed to a Duration: seconds"),
        ("P106751991167301D", "Text cannot be parsed to a Duration: days"),
        ("-PT-9223372036854775808S", "Text cannot be parsed to a Duration: overflow"),
    ],
)
def test_parse_errors_carry_java_messages(text: str, message: str) -> None:
    with pytest.raises(DateTimeParseError) as caught:
        parse(text)
    assert str(caught.value) == message


def test_exact_to_the_nanosecond() -> None:
    assert parse("PT0.123456789S") == Duration(123_456_789)
    assert parse_duration(" PT1S\n") == 1.0  # surrounding whitespace from YAML is ignored


@pytest.mark.parametrize(
    ("seconds", "printed"),
    [(0, "PT0S"), (1.2, "PT1.2S"), (3600.5, "PT1H0.5S"), (90, "PT1M30S"), (1e-7, "PT0S")],
)
def test_format_seconds_to_the_microsecond(seconds: float, printed: str) -> None:
    assert format_seconds(seconds) == printed
