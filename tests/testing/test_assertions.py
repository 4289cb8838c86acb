"""Every operator, passing and failing, compared as Kestra compares rendered strings."""

from __future__ import annotations

import pytest

from kflow.testing.assertions import AssertionRunError, as_text, check, render
from kflow.testing.runner import evaluate
from kflow.testing.suite import Assertion

SRC = "{{ outputs.t.value }}"


@pytest.mark.parametrize(
    ("operator", "actual", "expected"),
    [
        ("equalTo", "200", 200),  # YAML 200 is the text "200", as in Kestra
        ("equalTo", "true", True),
        ("notEqualTo", "a", "b"),
        ("startsWith", "Hello World", "Hello"),
        ("endsWith", "Hello World", "World"),
        ("contains", "Hello World", "lo Wo"),
        ("greaterThan", "10", 9.5),
        ("greaterThanOrEqualTo", "10", "10"),
        ("lessThan", "2.5", 3),
        ("lessThanOrEqualTo", "3", 3),
        ("in", "201", [200, 201]),
        ("notIn", "404", [200, 201]),
        ("isNull", None, True),
        ("isNull", "x", False),
        ("isNotNull", "x", True),
        ("isNotNull", None, False),
    ],
)
def test_passing(operator, actual, expected):
    result = check(operator, SRC, actual, expected)
    assert result.is_success is True
    assert result.error_message is None
    assert result.operator == operator


@pytest.mark.parametrize(
    ("operator", "actual", "expected", "shown", "message"),
    [
        ("equalTo", "actualValue1", "expectedValue2", "expectedValue2",
         "expected '{{ outputs.t.value }}' to equal 'expectedValue2' but was 'actualValue1'"),
        ("notEqualTo", "a", "a", "a", "expected '{{ outputs.t.value }}' to not equal 'a'"),
        ("startsWith", "Hello", "World", "World",
         "expected '{{ outputs.t.value }}' to start with 'World' but was 'Hello'"),
        ("endsWith", "Hello", "World", "World",
         "expected '{{ outputs.t.value }}' to end with 'World' but was 'Hello'"),
        ("contains", "Hello", "xyz", "xyz",
         "expected '{{ outputs.t.value }}' to contain 'xyz' but was 'Hello'"),
        ("greaterThan", "1", 2, "2",
         "expected '{{ outputs.t.value }}' to be greater than '2' but was '1'"),
        ("greaterThanOrEqualTo", "1", 2, "2",
         "expected '{{ outputs.t.value }}' to be greater than or equal to '2' but was '1'"),
        ("lessThan", "3", 2, "2",
         "expected '{{ outputs.t.value }}' to be less than '2' but was '3'"),
        ("lessThanOrEqualTo", "3", 2, "2",
         "expected '{{ outputs.t.value }}' to be less than or equal to '2' but was '3'"),
        ("in", "404", ["a", "b"], ["a", "b"],
         "expected '{{ outputs.t.value }}' to contain '[a, b]' but was '404'"),
        ("notIn", "a", ["a", "b"], ["a", "b"],
         "expected '{{ outputs.t.value }}' to not contain '[a, b]' but was 'a'"),
        ("isNull", "x", True, "isNull", "expected '{{ outputs.t.value }}' to be null but was 'x'"),
        ("isNotNull", None, True, "isNotNull",
         "expected '{{ outputs.t.value }}' to be not null but was 'null'"),
    ],
)  # fmt: skip
def test_failing(operator, actual, expected, shown, message):
    result = check(operator, SRC, actual, expected)
    assert result.is_success is False
    assert result.expected == shown
    assert result.actual == actual
    assert result.error_message == message


def test_numbers_that_do_not_parse_are_an_error():
    with pytest.raises(AssertionRunError) as info:
        check("greaterThan", SRC, "abc", 1)
    assert info.value.message == "Could not parse value as a Double"


def test_as_text():
    assert [as_text(v) for v in (None, True, False, 200, 1.5, "s", [1, "a"], {"k": 1})] == [
        None, "true", "false", "200", "1.5", "s", '[1,"a"]', '{"k":1}',
    ]  # fmt: skip


def test_render_gives_strings_and_null():
    ctx = {"outputs": {"t": {"value": 200, "list": [1, 2], "none": None}}}
    assert render("{{ outputs.t.value }}", ctx) == "200"
    assert render("{{ outputs.t.list }}", ctx) == "[1,2]"
    assert render("{{ outputs.t.none }}", ctx) is None
    assert render(42, ctx) == "42"


def test_evaluate_renders_operands_and_custom_message():
    ctx = {"outputs": {"t": {"value": "Hello"}}, "inputs": {"who": "Hello"}}
    a = Assertion(value=SRC, checks=(("equalTo", "{{ inputs.who }}"), ("contains", "z")),
                  error_message="custom {{ inputs.who }}", description="d", task_id="t")  # fmt: skip
    ok, bad = evaluate(a, ctx)
    assert (ok.operator, ok.expected, ok.actual, ok.is_success) == (
        "equalTo",
        "Hello",
        "Hello",
        True,
    )
    assert (bad.is_success, bad.error_message) == (False, "custom Hello")
    assert (bad.description, bad.task_id) == ("d", "t")
