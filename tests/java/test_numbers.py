"""Java's number printing and parsing (kflow.java.numbers)."""

from __future__ import annotations

import pytest

from kflow.java.numbers import (
    NumberFormatError,
    double_to_string,
    float_to_string,
    parse_float,
    parse_int,
    to_f32,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (-2.5, "-2.5"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (12345678.9, "1.23456789E7"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e23, "1.0E23"),
        (5e-324, "4.9E-324"),
        (-0.0, "-0.0"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (float("nan"), "NaN"),
    ],
)
def test_double_to_string(value: float, text: str) -> None:
    assert double_to_string(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (1.1, "1.1"), (16777216.0, "1.6777216E7"), (1e-5, "1.0E-5"), (0.0, "0.0")],
)
def test_float_to_string(value: float, text: str) -> None:
    assert float_to_string(value) == text


def test_to_f32_rounds_and_overflows_to_infinity() -> None:
    assert to_f32(0.1) == 0.10000000149011612
    assert to_f32(1e300) == float("inf")


@pytest.mark.parametrize(
    ("text", "value"), [("42", 42), ("-0", 0), ("+7", 7), ("2147483647", 2**31 - 1)]
)
def test_parse_int(text: str, value: int) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["2147483648", " 1", "1_000", "1.0", ""])
def test_parse_int_refuses_as_java(text: str) -> None:
    with pytest.raises(NumberFormatError, match=f'For input string: "{text}"'):
        parse_int(text)


@pytest.mark.parametrize(
    ("text", "value"), [("0.1", 0.1), (" 1.5f ", 1.5), ("0x1p-2", 0.25), ("1e-50", 0.0)]
)
def test_parse_float(text: str, value: float) -> None:
    assert parse_float(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty String"), ("abc", 'For input string: "abc"'), ("NaN", "only finite")],
)
def test_parse_float_refuses(text: str, message: str) -> None:
    with pytest.raises(NumberFormatError, match=message):
        parse_float(text)
