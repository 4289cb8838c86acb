"""Templates of text and paths are rendered by walking their tree (kflow.expr.interpret);
every result and every error message must equal the compiled template's."""

from __future__ import annotations

import pytest

from kflow import expr
from kflow.errors import KflowError
from kflow.expr import env as env_module
from kflow.expr import interpret as interpret_module

CONTEXT = {
    "outputs": {
        "t41": {"value": "0+1"},
        "each": {"a": {"value": 1.5}, "1": {"value": None}},
        "list": {"value": [1, "x", {"k": True}]},
    },
    "inputs": {"name": "kflow", "n": 3, "f": 2.0, "m": {"b": [1, 2]}, "none": None},
    "taskrun": {"value": "v"},
}
_deep: dict = {"d": "bottom"}
for _ in range(19):
    _deep = {"d": _deep}
CONTEXT["deep"] = _deep

TEMPLATES = [
    "{{ outputs.t41.value }}+1",
    "a {{ inputs.name }} b {{ inputs.n }} c {{ inputs.f }}",
    "{{ outputs.each['a'].value }}",
    "{{ outputs.each[\"1\"].value }}",
    "{{ outputs.list.value }}",
    "{{ outputs.list.value[1] }}",
    "{{ outputs.list.value[2].k }}",
    "{{ inputs.m }}",
    "{{ inputs.m.b.size }}",
    "{{ inputs.none }}",
    "{{taskrun.value}}{{ taskrun.value }}",
    "{{ outputs.nope.value }}",
    "{{ outputs.t41.nope }}",
    "{{ missing }}",
    "{{ inputs.name.length }}",
    "{{ outputs.list.value[7] }}",
    "{{ inputs.m[0] }}",
    "{{ inputs.name['x'] }}",
    "line1\n{{ inputs.name }}\nline3 {{ outputs.nope }}",
    "{{ outputs.each[1.5] }}",
    "{{ outputs.each[true] }}",
    "{{ deep" + ".d" * 16 + " }}",  # the longest path the compiler leaves nested
    "{{ deep" + ".d" * 17 + " }}",  # laid out flat by the compiler: not walked
    "{{ deep" + ".d" * 19 + ".nope }}",
]


def _render_all(typed: bool) -> list[tuple[str, object]]:
    env_module.clear_cache()
    results: list[tuple[str, object]] = []
    for template in TEMPLATES:
        try:
            if typed:
                results.append(("ok", expr.render_typed(template, CONTEXT)))
            else:
                results.append(("ok", expr.render(template, CONTEXT)))
        except KflowError as exc:
            results.append((type(exc).__name__, (exc.message, getattr(exc, "hint", None))))
    return results


@pytest.mark.parametrize("typed", [False, True])
def test_walked_templates_render_like_compiled_ones(monkeypatch, typed):
    walked = _render_all(typed)
    monkeypatch.setattr(interpret_module, "interpret", lambda tree: None)
    compiled = _render_all(typed)
    env_module.clear_cache()
    assert walked == compiled


def test_only_text_and_paths_are_walked():
    walked = []
    real = interpret_module.interpret

    def spy(tree):
        root = real(tree)
        walked.append(root is not None)
        return root

    env_module.clear_cache()
    try:
        env_module.get_environment()
        interpret_module.interpret, saved = spy, real
        try:
            expr.render("{{ inputs['name'] }}!", CONTEXT)  # plain paths: kflow.expr.paths
            expr.render("{{ inputs.name | upper }}", CONTEXT)
            expr.render("{{ inputs.n + 1 }}", CONTEXT)
            expr.render("{% if true %}x{% endif %}", CONTEXT)
        finally:
            interpret_module.interpret = saved
    finally:
        env_module.clear_cache()
    assert walked == [True, False, False, False]


def test_a_template_checked_at_load_is_not_parsed_again_to_render(monkeypatch):
    """references() (the load-time checks) and the renderer share one parse tree."""
    from kflow.expr import parser as parser_module

    parses = []
    real = parser_module.PebbleParser.parse

    def counting(self):
        parses.append(1)
        return real(self)

    env_module.clear_cache()
    monkeypatch.setattr(parser_module.PebbleParser, "parse", counting)
    try:
        # (brackets: not a plain dotted path, which is built without the parser at all)
        template = "{{ outputs['t41'].value }}+1"
        env_module.references(template)
        assert expr.render(template, {"outputs": {"t41": {"value": "x"}}}) == "x+1"
        typed = "{{ inputs['name'] }}"
        assert expr.render_typed(typed, CONTEXT) == CONTEXT["inputs"]["name"]
        env_module.references(typed)
    finally:
        env_module.clear_cache()
    assert len(parses) == 2
