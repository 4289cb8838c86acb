"""Java's String.valueOf, written once and used by Pebble, input messages and the Ion mapper."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kflow.expr.values import Entry, Float, java_to_string
from kflow.flow.inputs.types import java_str
from kflow.java.strings import to_string


def test_values_print_as_java_does() -> None:
    value = {"a": [1, 2.0, None, True], "b": {"c": Decimal("1E+3")}, "d": date(2024, 1, 2)}
    assert to_string(value) == "{a=[1, 2.0, null, true], b={c=1E+3}, d=2024-01-02}"
    assert to_string(1e10) == "1.0E10"
    assert to_string(Float(0.1)) == "0.1"  # Float.toString, not the double's 0.10000000149011612
    assert to_string([Entry("k", 1.5)]) == "[k=1.5]"


def test_every_caller_uses_the_one_function() -> None:
    value = {"x": [Float(1.5), 1e-5, Entry(1, None)]}
    assert java_to_string(value) == java_str(value) == to_string(value) == "{x=[1.5, 1.0E-5, 1=null]}"
