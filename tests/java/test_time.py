"""java.time in kflow.java.time: DateTimeFormatter patterns, zones, parsing, arithmetic."""

from __future__ import annotations

from datetime import date as Date

import pytest

from kflow.errors import ExpressionError
from kflow.java import time as java_time


def _d(text: str, zone: str | None = None) -> java_time.JavaDateTime:
    return java_time.parse_date(text, java_time.zone_of(zone))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", "2013-09-08T06:09:02.123456Z"),
        ("SSS|SSSSSSSSS|n", "123|123456789|123456789"),
        ("YYYY-ww e", "2013-37 1"),
        ("EEE EEEE MMM MMMM", "Sun Sunday Sep September"),
        ("h a K k", "6 AM 6 6"),
        ("D DDD g", "251 251 56543"),
        ("Q QQQ QQQQ", "3 Q3 3rd quarter"),
        ("'it''s' [yyyy]", "it's 2013"),
        ("X x Z ZZZZZ O", "Z +00 +0000 Z GMT"),
    ],
)
def test_format_pattern(pattern: str, expected: str) -> None:
    d = _d("2013-09-08T06:09:02.123456789Z")
    assert java_time.format_pattern(d, pattern) == expected


def test_offsets_and_zone_names() -> None:
    d = _d("2013-09-08T06:09:02Z").with_zone(java_time.zone_of("Europe/Paris"))
    assert java_time.format_pattern(d, "XXX xx VV z zzzz OOOO") == (
        "+02:00 +0200 Europe/Paris CEST Central European Summer Time GMT+02:00"
    )
    d = d.with_zone(java_time.zone_of("+05:30"))
    assert java_time.format_pattern(d, "X XX XXX O") == "+0530 +0530 +05:30 GMT+5:30"


@pytest.mark.parametrize(
    ("day", "week_year", "week"),
    [
        (Date(2020, 12, 31), 2021, 1),  # the week holding 1 January is week 1 (US rules)
        (Date(2024, 12, 30), 2025, 1),
        (Date(2021, 1, 3), 2021, 2),
        (Date(2021, 1, 1), 2021, 1),
    ],
)
def test_week_based_year_english_rules(day: Date, week_year: int, week: int) -> None:
    assert java_time.week_based(day, 7, 1) == (week_year, week)


def test_week_based_year_iso_rules() -> None:
    assert java_time.week_based(Date(2021, 1, 1), 1, 4) == (2020, 53)
    gb = java_time.locale_of("en_GB")
    assert java_time.format_pattern(_d("2013-09-08T06:09:02Z"), "YYYY-ww e", gb) == "2013-36 7"


@pytest.mark.parametrize(
    ("name", "java_id", "is_offset"),
    [
        (None, "UTC", False),
        ("Z", "Z", True),
        ("+2", "+02:00", True),
        ("+00:00", "Z", True),
        ("GMT+2", "GMT+02:00", False),
        ("UTC+0", "UTC", False),
        ("Europe/Paris", "Europe/Paris", False),
        ("CET", "CET", False),
    ],
)
def test_zone_ids(name: str | None, java_id: str, is_offset: bool) -> None:
    zone = java_time.zone_of(name)
    assert (zone.id, zone.is_offset) == (java_id, is_offset)


@pytest.mark.parametrize("name", ["EST", "europe/paris", "Nowhere/City", "../etc", "+25:00"])
def test_bad_zone_ids(name: str) -> None:
    with pytest.raises(ExpressionError):
        java_time.zone_of(name)


def test_named_formats() -> None:
    d = _d("2013-09-08T16:19:12.1Z").with_zone(java_time.zone_of(None))
    paris = d.with_zone(java_time.zone_of("Europe/Paris"))
    assert java_time.format_date(d) == "2013-09-08T16:19:12.100000Z"
    assert java_time.format_date(d, "iso_date_time") == "2013-09-08T16:19:12.1Z[UTC]"
    assert java_time.format_date(paris, "iso_zoned_date_time") == (
        "2013-09-08T18:19:12.1+02:00[Europe/Paris]"
    )
    assert java_time.format_date(paris, "rfc_1123_date_time") == "Sun, 8 Sep 2013 18:19:12 +0200"
    assert java_time.format_date(d, "iso_instant") == "2013-09-08T16:19:12.100Z"
    assert java_time.format_date(paris, "long") == "September 8, 2013 at 6:19:12 PM CEST"
    with pytest.raises(ExpressionError, match="US English only"):
        java_time.format_date(d, "full", java_time.locale_of("de"))


def test_parse_chain_zoned_local_date() -> None:
    paris = java_time.zone_of("Europe/Paris")
    zoned = java_time.parse_date("2013-09-08T17:19:12+02:00", paris)
    assert zoned.zone.id == "+02:00" and zoned.epoch_second == 1378653552
    local = java_time.parse_date("2013-09-08T17:19:12", paris)
    assert local.zone.id == "Europe/Paris" and local.epoch_second == 1378653552
    day = java_time.parse_date("2013-09-08", paris)
    assert java_time.format_date(day) == "2013-09-08T00:00:00.000000+02:00"
    nanos = java_time.parse_date("2013-09-08T17:19:12.123456789Z", paris)
    assert nanos.nano == 123456789


def test_parse_existing_format() -> None:
    utc = java_time.zone_of(None)
    assert java_time.parse_date("July 24, 2001", utc, "MMMM dd, yyyy").dt.date() == Date(
        2001, 7, 24
    )
    assert java_time.parse_date("2001-02-30 01:02:03", utc, "yyyy-MM-dd HH:mm:ss").dt.day == 28
    with pytest.raises(ExpressionError, match="Unable to obtain LocalDate"):
        java_time.parse_date("2001-07", utc, "yyyy-MM")
    with pytest.raises(ExpressionError, match="could not be parsed"):
        java_time.parse_date("2001-02-30", utc)


def test_plus_units() -> None:
    d = _d("2024-01-31", "Europe/Paris")
    assert (
        java_time.format_date(java_time.plus(d, 1, "MONTHS"), "iso_sec")
        == "2024-02-29T00:00:00+01:00"
    )
    spring = _d("2024-03-30T12:00:00", "Europe/Paris")
    assert java_time.format_date(java_time.plus(spring, 1, "DAYS"), "iso_sec") == (
        "2024-03-31T12:00:00+02:00"
    )
    assert java_time.format_date(java_time.plus(spring, 24, "HOURS"), "iso_sec") == (
        "2024-03-31T13:00:00+02:00"
    )
    with pytest.raises(ExpressionError, match="No enum constant"):
        java_time.plus(d, 1, "days")


def test_iso_constants_print_with_isotime() -> None:
    """The ISO constants print dates, instants and offsets with kflow.java.isotime's code
    (one implementation for typed inputs and date filters)."""
    from kflow.java.isotime import Instant, LocalDate, offset_id

    d = _d("0024-03-09T06:09:02.123456789+05:30:15")
    assert java_time.format_date(d, "iso_local_date") == str(LocalDate(24, 3, 9))
    utc = d.with_zone(java_time.zone_of("UTC"))
    instant = Instant(utc.epoch_second * 10**9 + utc.nano)
    assert (
        java_time.format_date(d, "iso_instant") == str(instant) == "0024-03-09T00:38:47.123456789Z"
    )
    assert java_time.format_pattern(d, "ZZZZZ|OOOO") == f"{offset_id(19815)}|GMT{offset_id(19815)}"


def test_month_arithmetic_reaches_december_9999() -> None:
    # rendered by Pebble 3.2.2 + Kestra 58c1ca2: 9999-12-15|9999-12-30 (kflow used to fail
    # computing the length of December 9999 from 1 January 10000)
    for text, months, expected in (
        ("9999-12-15", 0, "9999-12-15"),
        ("9999-11-30", 1, "9999-12-30"),
    ):
        d = java_time.plus(_d(text + "T00:00:00Z"), months, "MONTHS")
        assert java_time.format_pattern(d, "yyyy-MM-dd") == expected


@pytest.mark.parametrize(
    ("text", "existing", "message"),
    [
        ("abc", None, "Text 'abc' could not be parsed at index 0"),
        ("2024-01-01T25:00:00Z", None, "could not be parsed, unparsed text found at index 10"),
        ("2023-02-29", None, "Invalid date 'February 29' as '2023' is not a leap year"),
        ("2023-02-29", "iso_local_date", "Invalid date 'February 29' as '2023' is not a leap year"),
        ("2023-04-31", None, "could not be parsed: Invalid date 'APRIL 31'"),
        ("a" * 70, None, "Text '" + "a" * 64 + "...' could not be parsed at index 0"),
    ],
)
def test_iso_parse_errors_are_java_s(text: str, existing: str | None, message: str) -> None:
    """Kestra tries ``LocalDate.parse`` last and shows its error; the wording comes from
    kflow.java.isotime (Java's strict ISO parser). Rendered by Pebble 3.2.2 + Kestra 58c1ca2."""
    with pytest.raises(ExpressionError) as info:
        java_time.parse_date(text, java_time.zone_of(None), existing)
    assert message in info.value.message
