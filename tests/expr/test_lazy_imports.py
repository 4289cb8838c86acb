"""Building the filter and function tables stays cheap: what only some filters and
functions need is imported when one of them is called (``kflow eval '{{ 1 + 1 }}'`` pays
for none of it)."""

from __future__ import annotations

import subprocess
import sys

_HEAVY = ("kflow.java.time", "kflow.java.isotime", "kflow.ion", "kflow.flow.loader", "yaml")

_SCRIPT = """
import sys
from kflow.expr import filters, functions
assert "toIon" in filters.FILTERS and "date" in filters.FILTERS and "yaml" in functions.FUNCTIONS
print(" ".join(m for m in {heavy!r} if m in sys.modules))
filters.FILTERS["date"]("2024-01-02", "yyyy")
functions.FUNCTIONS["yaml"]("a: 1")
filters.FILTERS["toIon"]({{"a": 1}})
print(" ".join(m for m in {heavy!r} if m in sys.modules))
"""


def test_heavy_modules_load_on_first_call_only() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(heavy=_HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = result.stdout.split("\n")[:2]
    assert before == ""
    assert after.split() == list(_HEAVY)


def test_yaml_loader_class_still_importable_by_name() -> None:
    from kflow.expr.functions import _JacksonYamlLoader
    from kflow.flow.loader import BoundedSafeLoader

    assert issubclass(_JacksonYamlLoader, BoundedSafeLoader)
