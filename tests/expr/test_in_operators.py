"""``isIn`` / ``notIn``: Kestra's newer membership operators (InExpression/NotInExpression,
kestra-io/kestra core/runners/pebble/expression; tests InExpressionTest): ``toString()`` of the
left value against each list element, or each map key and value; null → false."""

from __future__ import annotations

import pytest

from kflow import expr

CTX = {"state": "SUCCESS", "map": {"key": "value"}, "xs": [1, 2], "nothing": None}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ state isIn ['SUCCESS', 'WARNING'] }}", "true"),  # InExpressionTest.inList
        ("{{ state isIn ['FAILED', 'KILLED'] }}", "false"),
        ("{{ 'key' isIn map }}", "true"),  # InExpressionTest.inMap
        ("{{ 'value' isIn map }}", "true"),
        ("{{ '1' isIn xs }}", "true"),  # compared as text
        ("{{ nothing isIn xs }}", "false"),
        ("{{ 1 isIn nothing }}", "false"),
        ("{{ 'S' isIn state }}", "false"),  # a string is not a collection
        ("{{ 3 notIn xs }}", "true"),
        ("{{ 2 notIn xs }}", "false"),
        ("{% if state notIn ['FAILED'] %}ok{% endif %}", "ok"),
        ("{{ 1 + 1 isIn xs }}", "true"),
    ],
)
def test_in_operators(template, expected):
    assert expr.render_value(template, CTX) == expected
