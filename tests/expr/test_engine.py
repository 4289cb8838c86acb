"""The Pebble engine: the oracle-derived case table, then the public API one function at a time.

``cases_engine.yaml`` holds templates with the exact string Kestra's real engine printed (or
the error it raised); the header of that file says how they were produced.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

import kflow.expr
from kflow.errors import ExpressionError, ExpressionSyntaxError, UndefinedVariableError
from kflow.expr import check_syntax, evaluate, render, render_typed, render_value
from kflow.expr import env as expr_env
from kflow.expr.values import HashMap, Long

CASES_FILE = Path(__file__).with_name("cases_engine.yaml")
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))


def test_case_table_is_well_formed() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 220
    for case in CASES:
        assert case.get("source"), case["id"]
        assert ("expect" in case) != ("error" in case), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case(case: dict[str, Any]) -> None:
    context = case.get("context") or {}
    if "error" in case:
        with pytest.raises(ExpressionError) as info:
            render(case["template"], context)
        if case["error"] is not True:
            assert case["error"] in str(info.value)
        assert info.value.template == case["template"]
        if "position" in case:
            assert info.value.position == case["position"]
    else:
        assert render(case["template"], context) == case["expect"]


# -- render ---------------------------------------------------------------------------------


def test_render_without_brace_never_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any) -> Any:
        raise AssertionError("compiled")

    monkeypatch.setattr(expr_env, "_compile", boom)
    text = "no braces %} }} here"
    assert render(text, {}) is text
    assert render_typed(text, {}) is text
    check_syntax(text)


def test_render_caches_compiled_templates() -> None:
    template = "{{ outputs.cache_probe['value'] }}"  # a subscript: not a plain path (paths.py)
    render(template, {"outputs": {"cache_probe": {"value": 1}}})
    before = expr_env._compile.cache_info()
    assert render(template, {"outputs": {"cache_probe": {"value": 2}}}) == "2"
    after = expr_env._compile.cache_info()
    assert after.hits == before.hits + 1
    assert after.misses == before.misses


def test_render_does_not_change_the_context() -> None:
    context = {"xs": [1, 2], "y": 1, "m": {"a": 1}, "outputs": {"t": 1}}
    template = "{% set outputs = 5 %}{% set m = 1 %}{{ xs + 3 }}{{ xs - y }}{{ outputs }}"
    assert render(template, context) == "[1,2,3][2]5"
    assert context == {"xs": [1, 2], "y": 1, "m": {"a": 1}, "outputs": {"t": 1}}


def test_render_is_not_recursive() -> None:
    assert render("{{ a }}", {"a": "{{ b }}", "b": "x"}) == "{{ b }}"


def test_render_threads_share_compiled_templates() -> None:
    template = "{% for i in items %}{{ i * n }},{% endfor %}"
    results: dict[int, str] = {}

    def work(n: int) -> None:
        for _ in range(50):
            results[n] = render(template, {"items": [1, 2, 3], "n": n})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: f"{n},{2 * n},{3 * n}," for n in range(8)}


def test_jinja2_builtins_are_gone() -> None:
    with pytest.raises(ExpressionError, match=r"Filter \[escape\] does not exist"):
        render("{{ 'a' | escape }}", {})
    with pytest.raises(ExpressionError, match=r"Function or Macro \[lipsum\] does not exist"):
        render("{{ lipsum() }}", {})
    with pytest.raises(ExpressionError, match=r"Test \[sameas\] does not exist"):
        render("{{ 1 is sameas(1) }}", {})
    env = expr_env.get_environment()
    assert "lipsum" not in env.globals and "dictsort" not in env.filters
    assert "divisibleby" not in env.tests


def test_engine_is_jinja2() -> None:
    from jinja2 import Environment

    from kflow.expr.lexer import PebbleLexer

    env = expr_env.get_environment()
    assert isinstance(env, Environment)
    assert isinstance(env.lexer, PebbleLexer)
    assert env.autoescape is False and env.keep_trailing_newline is True


# -- errors ---------------------------------------------------------------------------------


def test_undefined_error_names_path_and_position() -> None:
    template = "Value: {{ outputs.nope.value }}"
    with pytest.raises(UndefinedVariableError) as info:
        render(template, {"outputs": {"t": {"value": 1}}})
    err = info.value
    # Kestra's wording first, then why (kflow's addition: tests/expr/test_undefined_hints.py)
    assert str(err).startswith(
        "Unable to find `outputs.nope` used in the expression "
        "`Value: {{ outputs.nope.value }}` at line 1: no task 'nope' has outputs here"
    )
    assert err.template == template
    assert template[err.position : err.position + 4] == "nope"
    assert err.exit_code == 2
    assert err.hint and "before this one" in err.hint


def test_undefined_error_outside_outputs_keeps_kestra_message() -> None:
    with pytest.raises(UndefinedVariableError) as info:
        render("{{ vars.x }}", {"vars": {}})
    assert str(info.value) == (
        "Unable to find `vars.x` used in the expression `{{ vars.x }}` at line 1"
    )
    assert info.value.hint and "default" in info.value.hint


def test_error_position_on_later_line() -> None:
    template = "a\nb {{ 1 + }}\n"
    with pytest.raises(ExpressionSyntaxError) as info:
        render(template, {})
    assert info.value.position == template.index("}}")
    assert "(a\nb {{ 1 + }}\n:2)" in str(info.value)


def test_runtime_error_points_at_operator() -> None:
    template = "{{ 1 / x }}"
    with pytest.raises(ExpressionError, match="Could not perform division") as info:
        render(template, {"x": 0})
    assert info.value.position == template.index("/")


def test_missing_variable_in_if_names_it() -> None:
    # Pebble says "Wrong operand(s) type in conditional expression"; kflow names the variable
    with pytest.raises(UndefinedVariableError, match="`inputs.flag`"):
        render("{% if inputs.flag %}x{% endif %}", {"inputs": {}})


def test_errors_are_expression_errors() -> None:
    assert issubclass(ExpressionSyntaxError, ExpressionError)
    assert issubclass(UndefinedVariableError, ExpressionError)


# -- render_value ---------------------------------------------------------------------------


def test_render_value_nested() -> None:
    context = {"name": "x", "n": 3}
    value = {
        "{{ name }}-key": ["{{ n }}", {"deep": "{{ name | upper }}"}, 7, None, True],
        "plain": 1.5,
        "untouched": "no braces",
    }
    assert render_value(value, context) == {
        "x-key": ["3", {"deep": "X"}, 7, None, True],
        "plain": 1.5,
        "untouched": "no braces",
    }


def test_render_value_first_key_wins() -> None:
    # Kestra renders maps with putIfAbsent: two keys rendering alike keep the first value
    assert render_value({"{{ a }}": 1, "x": 2}, {"a": "x"}) == {"x": 1}


def test_render_value_scalars_unchanged() -> None:
    for value in (None, 1, 2.5, True):
        assert render_value(value, {}) is value


# -- render_typed ---------------------------------------------------------------------------


def test_render_typed_native_values() -> None:
    context = {"outputs": {"t": {"rows": [1, 2], "m": {"a": None}}}, "flag": True}
    assert render_typed("{{ outputs.t.rows }}", context) == [1, 2]
    assert render_typed("  {{ outputs.t.m }}\n", context) == {"a": None}
    assert render_typed("{{ flag }}", context) is True
    assert render_typed("{{ 1 + 1 }}", context) == 2
    assert isinstance(render_typed("{{ 1 + 1 }}", context), Long)
    assert render_typed("{{ {'b': 1, 'a': 2} }}", context) == HashMap({"a": 2, "b": 1})
    assert render_typed("{{ missing ?? null }}", context) is None


def test_render_typed_falls_back_to_string() -> None:
    assert render_typed("n={{ 1 }}", {}) == "n=1"
    assert render_typed("{{ 1 }}{{ 2 }}", {}) == "12"
    assert render_typed("{% if true %}{{ [1] }}{% endif %}", {}) == "[1]"
    assert render_typed("plain", {}) == "plain"


# -- evaluate -------------------------------------------------------------------------------


def test_evaluate_native_values() -> None:
    context = {"outputs": {"check": {"code": 200}}, "items": [1, 2]}
    assert evaluate("outputs.check.code == 200", context) is True
    assert evaluate("items", context) == [1, 2]
    assert evaluate("7 / 2", context) == 3
    assert evaluate("'a' ~ 'b' | upper", context) == "AB"
    assert evaluate("missing ?? 'x'", context) == "x"
    assert evaluate("null", context) is None


def test_evaluate_errors() -> None:
    with pytest.raises(UndefinedVariableError) as info:
        evaluate("outputs.nope == 1", {"outputs": {}})
    assert info.value.position == len("outputs.")
    with pytest.raises(ExpressionSyntaxError) as syntax:
        evaluate("1 +", {})
    assert syntax.value.template == "1 +"
    with pytest.raises(ExpressionSyntaxError):
        evaluate("{{ 1 }}", {})
    with pytest.raises(ExpressionSyntaxError):
        evaluate("", {})


# -- check_syntax ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "{{ missing.variable | nofilter }}",
        "{% for e in m %}{{ e.key }}{% endfor %}",
        "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1) }}",
        "{{ x ?? y ??? z }} {# comment #}",
        "{% raw %}{{ not pebble }}{% endraw %}",
    ],
)
def test_check_syntax_accepts(template: str) -> None:
    check_syntax(template)


@pytest.mark.parametrize(
    ("template", "bad"),
    [
        ("{{ 1 in [1] }}", "in"),
        ("x {{ a.0 }}", "0"),
        ("{{ 2 ** 2 }}", "*"),
        ("{% foo %}", "foo"),
        ("{{ $ }}", "$"),
        ("{{ x if y else z }}", "if"),
    ],
)
def test_check_syntax_rejects_with_position(template: str, bad: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        check_syntax(template)
    err = info.value
    assert err.template == template
    assert err.position is not None
    assert template[err.position :].startswith(bad)


# -- context, services, functions -----------------------------------------------------------


class _Services:
    namespace = "company.team"


def test_services_key_reachable_by_functions_only() -> None:
    env = expr_env.get_environment()
    seen: dict[str, Any] = {}

    def probe(context: Any) -> str:
        seen["services"] = context["_kflow"]
        seen["keys"] = sorted(context)
        return "ok"

    probe.needs_context = True  # type: ignore[attr-defined]
    services = _Services()
    env.k_functions["kflowTestProbe"] = probe
    try:
        context = {"_kflow": services, "a": 1}
        assert render("{% set b = 2 %}{{ kflowTestProbe() }}", context) == "ok"
    finally:
        del env.k_functions["kflowTestProbe"]
    assert seen["services"] is services
    assert seen["keys"] == ["a", "b"]
    with pytest.raises(UndefinedVariableError):
        render("{{ _kflow }}", context)
    assert render("[{{ _context.get('_kflow') }}]", context) == "[]"


def test_print_context_hides_services() -> None:
    env = expr_env.get_environment()
    assert "printContext" in env.k_functions
    out = render("{{ printContext() }}", {"_kflow": _Services(), "a": 1})
    assert "_kflow" not in out and '"a":1' in out


def test_render_function_uses_current_variables() -> None:
    context = {"tpl": "{{ greeting }}, {{ who }}", "greeting": "Hi"}
    assert render("{% set who = 'Ann' %}{{ render(tpl) }}", context) == "Hi, Ann"
    assert render("{{ renderOnce(toRender=tpl) ?? '' }}", {**context, "who": "Bo"}) == "Hi, Bo"


def test_public_api_is_pinned() -> None:
    assert sorted(kflow.expr.__all__) == [
        "check_syntax",
        "evaluate",
        "render",
        "render_typed",
        "render_value",
    ]


def test_import_does_not_load_jq() -> None:
    code = "import sys, kflow.expr; kflow.expr.render('{{ 1 }}', {}); print('jq' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"


# -- values ---------------------------------------------------------------------------------


def test_value_printing() -> None:
    from kflow.expr.values import Entry, Float, java_to_string, to_json, to_string

    data = {"a": 1, "b": None, "c": [1, None, {"d": None}], "e": 1e7, "f": 'é"', "g": True}
    assert to_json(data) == '{"a":1,"c":[1,null,{}],"e":1.0E7,"f":"é\\"","g":true}'
    assert java_to_string(data) == '{a=1, b=null, c=[1, null, {d=null}], e=1.0E7, f=é", g=true}'
    assert (
        to_string(None) == "" and to_string(False) == "false" and to_string(data) == to_json(data)
    )
    assert to_string(Float("12.3")) == "12.3" and to_string(Float(0.1) * 3) != "0.3"
    assert to_string(Entry("k", [1, 2])) == "k=[1, 2]"
    assert to_json([float("nan")]) == '["NaN"]'


def test_java_types() -> None:
    from kflow.expr.values import Char, HashMap, Long, SafeString, hash_map, java_class_name

    assert java_class_name(1) == "java.lang.Integer"
    assert java_class_name(3_000_000_000) == "java.lang.Long"
    assert java_class_name(Long(1)) == "java.lang.Long"
    assert java_class_name(1.5) == "java.lang.Double"
    assert java_class_name(Char("a")) == "java.lang.Character"
    assert java_class_name(SafeString("a")).endswith("SafeString")
    assert java_class_name(hash_map([("a", 1)])) == "java.util.HashMap"
    # java.util.HashMap bucket order, as Pebble's map literals print
    assert list(hash_map([("b", 1), ("a", 2)])) == ["a", "b"]
    assert isinstance(hash_map([]), HashMap)


@pytest.mark.parametrize(
    ("value", "where", "expected"),
    [
        (True, "if", True),
        (0, "if", False),
        (0.0, "and", False),
        (float("nan"), "or", True),
        ("", "not", False),
        ("false", "if", True),
        (None, "ternary", False),
    ],
)
def test_truthy(value: Any, where: str, expected: bool) -> None:
    from kflow.expr.values import truthy

    assert truthy(value, where) is expected


@pytest.mark.parametrize(
    ("value", "where", "message"),
    [
        (None, "if", "null value given to if statement"),
        (None, "and", "null value used in and operator"),
        (None, "not", "null value given to not()"),
        ([1], "if", "Unsupported value type ArrayList"),
        ({"a": 1}, "ternary", "cannot be cast to class java.lang.Boolean"),
    ],
)
def test_truthy_errors(value: Any, where: str, message: str) -> None:
    from kflow.expr.values import truthy

    with pytest.raises(ExpressionError, match=message):
        truthy(value, where)
