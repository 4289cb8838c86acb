"""Java regular expressions translated to Python's ``re`` (kflow.java.regex)."""

from __future__ import annotations

import re

import pytest

from kflow.java.regex import JavaRegexError, java_regex, java_replacement, java_split, split_on


def test_java_regex_translation() -> None:
    assert java_regex(r"\p{Alpha}+").fullmatch("abc")
    assert java_regex(r"(?<year>\d{4})").match("2024").group("year") == "2024"  # type: ignore[union-attr]
    assert java_regex(r"\Qa.b\E").fullmatch("a.b") and not java_regex(r"\Qa.b\E").match("axb")
    assert not java_regex(r"\d").match("٣")  # Java's \d is ASCII only


@pytest.mark.parametrize(
    ("text", "regex", "limit", "parts"),
    [
        ("a,b,,", ",", 0, ["a", "b"]),  # trailing empty strings dropped
        ("a,b,,", ",", -1, ["a", "b", "", ""]),
        ("a,b,c", ",", 2, ["a", "b,c"]),
        ("abc", "", 0, ["a", "b", "c"]),  # no leading empty string for a zero-width match
        ("abc", ";", 0, ["abc"]),
    ],
)
def test_split_as_java(text: str, regex: str, limit: int, parts: list[str]) -> None:
    assert java_split(text, regex, limit) == parts
    assert split_on(java_regex(regex), text, limit) == parts


def test_compound_classes() -> None:
    assert java_regex("[a-c[x-z]]+").fullmatch("abxz")
    assert java_regex("[a-z&&[^aeiou]]+").fullmatch("bcd")
    assert not java_regex("[a-z&&[^aeiou]]+").fullmatch("bad")


def test_bad_regex_and_replacement() -> None:
    with pytest.raises(re.error):  # callers turn it into their own message
        java_regex("(")
    with pytest.raises(JavaRegexError, match="No group with name"):
        java_replacement("${nope}")(re.match("a", "a"))  # type: ignore[arg-type]
