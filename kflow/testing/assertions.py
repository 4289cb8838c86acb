"""Assertion operators, compared as Kestra compares them (``Assertion.java``).

A test suite comes from YAML, so Kestra reads every scalar as the text of an expression and
renders it to a string: ``value: "{{ outputs.http.code }}"`` with ``equalTo: 200`` compares
``"200"`` with ``"200"``. The numeric operators parse both sides as doubles; ``in``/``notIn``
compare the rendered value with each item's text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kflow.errors import KflowError


@dataclass(frozen=True)
class AssertionResult:
    """One operator of one assertion: Kestra's ``AssertionResult``."""

    operator: str
    expected: Any
    actual: Any
    is_success: bool
    error_message: str | None = None
    description: str | None = None
    task_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Kestra's JSON shape of an assertion result."""
        return {
            "operator": self.operator,
            "expected": self.expected,
            "actual": self.actual,
            "isSuccess": self.is_success,
            "taskId": self.task_id,
            "description": self.description,
            "errorMessage": self.error_message,
        }


class AssertionRunError(KflowError):
    """An assertion that could not be evaluated: the test case ends in ERROR, not FAILED."""

    def __init__(self, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.details = details


def as_text(value: Any) -> str | None:
    """The text Kestra reads from a YAML scalar (JSON text for a list or a mapping)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def render(value: Any, context: Mapping[str, Any]) -> str | None:
    """Render an assertion's ``value`` (or an operand) to the string Kestra compares."""
    from kflow import expr

    text = as_text(value)
    if text is None or "{" not in text:
        return text
    typed = expr.render_typed(text, context)
    if typed is None:
        return None
    if isinstance(typed, str):
        return typed
    return expr.render(text, context)


def _double(text: Any, side: str) -> float:
    try:
        return float(str(text))
    except ValueError:
        raise AssertionRunError(
            "Could not parse value as a Double", f"error was: {side} '{text}' is not a number"
        ) from None


_WORDS = {
    "endsWith": "end with",
    "startsWith": "start with",
    "equalTo": "equal",
    "contains": "contain",
    "greaterThan": "be greater than",
    "greaterThanOrEqualTo": "be greater than or equal to",
    "lessThan": "be less than",
    "lessThanOrEqualTo": "be less than or equal to",
    "in": "contain",
}


def check(operator: str, source: Any, actual: str | None, expected: Any) -> AssertionResult:
    """Apply one operator: ``actual`` is the rendered value, ``expected`` the rendered
    operand (a list of strings for in/notIn, a bool for isNull/isNotNull), ``source`` the
    value as written (for the message). Raises AssertionRunError when it cannot compare."""
    src = as_text(source)
    shown = "null" if actual is None else actual
    ok: bool
    if operator == "isNull":
        ok = (actual is None) == bool(expected)
        message = f"expected '{src}' to be null but was '{shown}'"
        return AssertionResult(operator, operator, actual, ok, None if ok else message)
    if operator == "isNotNull":
        ok = (actual is not None) == bool(expected)
        message = f"expected '{src}' to be not null but was '{shown}'"
        return AssertionResult(operator, operator, actual, ok, None if ok else message)
    if operator in ("in", "notIn"):
        items = [as_text(e) for e in expected]
        found = actual in items
        ok = found if operator == "in" else not found
        listed = "[" + ", ".join("null" if i is None else i for i in items) + "]"
        if operator == "in":
            message = f"expected '{src}' to contain '{listed}' but was '{shown}'"
        else:
            message = f"expected '{src}' to not contain '{listed}' but was '{shown}'"
        return AssertionResult(operator, items, actual, ok, None if ok else message)
    exp = as_text(expected)
    if operator == "notEqualTo":
        ok = exp != actual
        message = f"expected '{src}' to not equal '{exp}'"
        return AssertionResult(operator, exp, actual, ok, None if ok else message)
    if operator == "equalTo":
        ok = exp == actual
    elif operator in ("startsWith", "endsWith", "contains"):
        if actual is None or exp is None:
            raise AssertionRunError(f"Could not evaluate assertion: {operator} on a null value",
                                    f"error was: '{src}' is null")  # fmt: skip
        if operator == "startsWith":
            ok = actual.startswith(exp)
        elif operator == "endsWith":
            ok = actual.endswith(exp)
        else:
            ok = exp in actual
    elif operator in ("greaterThan", "greaterThanOrEqualTo", "lessThan", "lessThanOrEqualTo"):
        a, e = _double(actual, "value"), _double(exp, operator)
        ok = {
            "greaterThan": a > e,
            "greaterThanOrEqualTo": a >= e,
            "lessThan": a < e,
            "lessThanOrEqualTo": a <= e,
        }[operator]
    else:
        raise AssertionRunError(f"unknown operator '{operator}'")
    message = f"expected '{src}' to {_WORDS[operator]} '{exp}' but was '{shown}'"
    return AssertionResult(operator, exp, actual, ok, None if ok else message)
