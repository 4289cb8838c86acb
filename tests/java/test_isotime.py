"""java.time's ISO values for typed inputs (kflow.java.isotime): strict parsing, Java's
messages, ``toString`` and Jackson's form."""

from __future__ import annotations

import re

import pytest

from kflow.java.isotime import (
    DateTimeParseError,
    parse_instant,
    parse_local_date,
    parse_local_time,
)


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("2024-01-31T10:00:00Z", "2024-01-31T10:00:00Z"),
        ("2024-01-31T10:00:00.5+01:00", "2024-01-31T09:00:00.500Z"),
        ("+12024-01-31T10:00:00Z", "+12024-01-31T10:00:00Z"),
        ("2024-01-31T24:00:00Z", "2024-02-01T00:00:00Z"),
    ],
)
def test_instant(text: str, printed: str) -> None:
    assert str(parse_instant(text)) == printed


def test_local_date_and_time() -> None:
    assert str(parse_local_date("2024-02-29")) == "2024-02-29"
    assert str(parse_local_time("10:15")) == "10:15"
    assert parse_local_time("10:15").json() == "10:15:00"
    assert str(parse_local_time("10:15:30.100")) == "10:15:30.100"


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_local_date, "2023-02-29", "Invalid date 'February 29' as '2023' is not a leap year"),
        (parse_local_date, "2024-1-01", "could not be parsed at index 5"),
        (parse_local_time, "25:00", "Invalid value for HourOfDay (valid values 0 - 23): 25"),
        (parse_instant, "2024-01-31T10:00Z", "could not be parsed at index 16"),
        (parse_instant, "2024-01-31T10:00:00", "could not be parsed at index 19"),
    ],
)
def test_java_messages(parse, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DateTimeParseError, match=re.escape(message)):
        parse(text)


def test_calendar_helpers_shared_with_java_time() -> None:
    from kflow.java.isotime import invalid_date, is_leap, iso_local_date, iso_year, month_length

    assert [is_leap(y) for y in (1900, 2000, 2023, 2024)] == [False, True, False, True]
    assert [month_length(2024, m) for m in (1, 2, 4)] == [31, 29, 30]
    assert month_length(2023, 2) == 28 and month_length(9999, 12) == 31
    assert [iso_year(y) for y in (24, -50, 2024, 12024)] == ["0024", "-0050", "2024", "+12024"]
    assert iso_local_date(24, 3, 9) == "0024-03-09"
    assert invalid_date(2023, 2, 29) == "Invalid date 'February 29' as '2023' is not a leap year"
    assert invalid_date(2023, 4, 31) == "Invalid date 'APRIL 31'"
    assert invalid_date(2024, 2, 29) is None
