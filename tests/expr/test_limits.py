"""Templates past Python's own limits never end in an internal error: long operator chains
render (as in Kestra), deeper nesting is one clear ExpressionSyntaxError (exit 2), and a bad
regex given to a Java string method is a rendering error (exit 1), as Pebble's
"Could not call …". Expected values rendered by Pebble 3.2.2 + Kestra 58c1ca2 (the oracle)."""

from __future__ import annotations

from typing import Any

import pytest

from kflow import expr
from kflow.errors import ExpressionError, ExpressionSyntaxError
from kflow.expr import compiler, env


def _render(template: str, context: dict[str, Any] | None = None) -> str:
    return expr.render(template, context or {})


def test_tilde_chain_of_200_operands_renders() -> None:
    template = "{{ " + " ~ ".join(["x"] * 200) + " }}"
    assert _render(template, {"x": "a"}) == "a" * 200


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ " + " + ".join(["1"] * 300) + " }}", "300"),
        ("{{ x" + " | upper | lower" * 150 + " }}", "a"),
        ("{{ " + " and ".join(["true"] * 300) + " }}", "true"),
        ("{{ m" + ".a" * 300 + " }}", "end"),
        (
            "{{ 'a' ~ " + " ~ ".join(f"(x ~ {i})" for i in range(250)) + " }}",
            "a" + "".join(f"a{i}" for i in range(250)),
        ),
    ],
    ids=["plus", "filters", "and", "attributes", "mixed"],
)
def test_long_chains_render(template: str, expected: str) -> None:
    m: Any = "end"
    for _ in range(300):
        m = {"a": m}
    assert _render(template, {"x": "a", "m": m}) == expected


@pytest.fixture
def cli_recursion_limit() -> Any:
    """The recursion limit every kflow command runs with (what users get), whatever an
    earlier test in this process left."""
    import sys

    from kflow.engine.executor import RECURSION_LIMIT

    before = sys.getrecursionlimit()
    sys.setrecursionlimit(RECURSION_LIMIT)
    yield
    sys.setrecursionlimit(before)


def test_three_thousand_nots_render(cli_recursion_limit: None) -> None:
    assert _render("{{ " + "not " * 3000 + "true }}") == "true"
    assert _render("{{ " + "not " * 2999 + "true }}") == "false"


def test_thousand_nested_parentheses_render() -> None:
    # Pebble reads them (oracle: 1)
    assert _render("{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}") == "1"
    assert _render("{{ " + "(" * 500 + "1 + 2) * 3" + ")" * 499 + " }}") == "9"


@pytest.mark.parametrize(
    "template",
    [
        "{% for x in [1] %}" * 21 + "a" + "{% endfor %}" * 21,
        "{% if true %}" * 120 + "a" + "{% endif %}" * 120,
        "{{ " + "(1 + " * 300 + "1" + ")" * 300 + " }}",
        "{{ " + " ?? ".join(["y"] * 300) + " ?? 1 }}",
    ],
    ids=["21-for", "120-if", "right-nested-plus", "coalesce-chain"],
)
def test_too_deep_is_a_clear_syntax_error(template: str, cli_recursion_limit: None) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        _render(template)
    assert "nested too deeply" in info.value.message
    assert info.value.exit_code == 2
    assert info.value.hint and "{% set %}" in info.value.hint


@pytest.mark.parametrize(
    ("template", "method"),
    [
        ("{{ 'a'.split('(') }}", "split"),
        ("{{ 'a'.matches('[') }}", "matches"),
        ("{{ 'a'.split('*+') }}", "split"),
    ],
)
def test_bad_regex_in_java_method_is_a_render_error(template: str, method: str) -> None:
    # Kestra: PebbleException "Could not call split"
    with pytest.raises(ExpressionError) as info:
        _render(template)
    assert not isinstance(info.value, ExpressionSyntaxError)
    assert info.value.exit_code == 1
    assert info.value.message.startswith(f"Could not call {method}: invalid regular expression")


# (pattern, subject, Kestra's result): rendered by Pebble 3.2.2 + Kestra 58c1ca2 on Java 17
JAVA_CLASSES = [
    ("[a-z&&[^aeiou]]", "a", False),
    ("[a-z&&[^aeiou]]", "b", True),
    ("[^a-c&&[b]]", "a", True),
    ("[^a-c&&[b]]", "b", False),
    ("[^a-c&&[b]]", "z", True),
    ("[a-c[x-z]]", "x", True),
    ("[a-c[x-z]]", "d", False),
    ("[^a[b]]", "b", False),
    ("[^a[b]]", "c", True),
    ("[a-z&&def]", "d", True),
    ("[a-z&&def]", "z", False),
    ("[\\w&&[^\\d]]", "1", False),
    ("[\\w&&[^\\d]]", "_", True),
    ("[a-z&&[^aeiou]&&[^xyz]]", "b", True),
    ("[a-z&&[^aeiou]&&[^xyz]]", "x", False),
    ("[[a-c][e-g]&&[b-f]]", "a", False),
    ("[[a-c][e-g]&&[b-f]]", "e", True),
    ("[[a-c][e-g]&&[b-f]]", "g", False),
    ("[&&a]", "a", True),
    ("[a&&]", "b", False),
    ("[\\p{Lower}&&[^a]]", "b", True),
    ("[\\p{Lower}&&[^a]]", "A", False),
]


@pytest.mark.parametrize(("pattern", "subject", "expected"), JAVA_CLASSES)
def test_java_class_intersection_and_union(pattern: str, subject: str, expected: bool) -> None:
    """Python's re reads "&&" and nested "[" literally; kflow translates them."""
    got = _render("{{ s.matches(p) }}", {"s": subject, "p": pattern})
    assert got == str(expected).lower()


def test_class_intersection_in_filters() -> None:
    assert _render("{{ 'bead' | replace({'[a-z&&[^aeiou]]': '_'}, regexp=true) }}") == "_ea_"


def test_ampersands_outside_a_class_stay_literal() -> None:
    assert _render("{{ 'a&&b'.matches('a&&b') }}") == "true"


CHAIN_CASES = [
    ("{{ a ~ b ~ c ~ d }}", {"a": 1, "b": None, "c": "x", "d": [1]}),
    ("{{ (missing == 1) ?? 'x' }}", {}),
    ("{{ (missing + 1 + 2) ?? 'x' }}", {}),
    ("{{ missing.a.b | default('d') }}", {}),
    ("{{ x.a.b.c }}", {"x": {"a": {"b": None}}}),
    ("{{ 1 + 2 * 3 - 4 / 2 ~ 'z' }}", {}),
    ("{{ true and false or not true }}", {}),
    ("{{ [1, 2][0] + 1 }}", {}),
    ("{{ 'abc' | upper | lower | length }}", {}),
    ("{{ 'a' ~ missing }}", {}),
    ("{{ 1 / 0 ~ missing }}", {}),
]


@pytest.mark.parametrize(("template", "context"), CHAIN_CASES)
def test_flat_chains_mean_the_same(
    template: str, context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Laying a chain out flat (as every long chain is) changes no value and no error."""

    def outcome() -> tuple[str, str]:
        env.clear_cache()
        try:
            return "ok", _render(template, context)
        except ExpressionError as e:
            return type(e).__name__, e.message

    nested = outcome()
    monkeypatch.setattr(compiler, "CHAIN_LIMIT", 0)
    flat = outcome()
    env.clear_cache()
    assert flat == nested
