"""Templates of text and ``{{ a.b }}`` paths are built without the lexer and parser
(kflow.expr.env._path_template); the tree must be exactly the parser's."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import nodes

from kflow.expr import paths as paths_module
from kflow.expr.env import _path_template, get_environment
from kflow.expr.parser import PebbleParser


def _dump(node: Any) -> Any:
    """Everything the renderer and the checks read: class, fields, lineno, pos, path."""
    fields = tuple(
        (f, _dump(v) if isinstance(v, nodes.Node) else [_dump(x) for x in v]
         if isinstance(v, list) else v)
        for f, v in node.iter_fields()
    )  # fmt: skip
    extra = tuple((a, getattr(node, a, None)) for a in ("pos", "path", "macros", "blocks", "dynamic"))
    return (type(node).__name__, node.lineno, fields, extra, node.environment is get_environment())


def _parsed(text: str) -> Any:
    return PebbleParser(get_environment(), text).parse()


COMMON = [
    "{{ outputs.t41.value }}+1",
    "{{ inputs.name }}",
    "hello {{ inputs.name }}!\n",
    "a\n{{ inputs.x }} b {{y.z}}\n",
    "{{outputs.first.values.data}} and {{ taskrun.value }}",
    "{{ outputs.each_task.uri }}",
]


def test_common_templates_take_the_fast_path_and_equal_the_parser() -> None:
    for text in COMMON:
        fast = _path_template(text)
        assert fast is not None, text
        assert _dump(fast) == _dump(_parsed(text)), text


def test_anything_else_goes_to_the_parser() -> None:
    for text in ["{{ a | upper }}", "{{ a.b() }}", "{% if a %}x{% endif %}", "{{ a['b'] }}",
                 "{{ true }}", "{{ x.is }}", "{ a }", "{{ a }} }", "{{- a }}", "{{ a\n}}",
                 "{{ a.1 }}", "{{ a-b }}", "{# c #}{{ a }}", "x\r\n{{ a }}", "{{{ a }}}",
                 "{{ not.x }}", "{{ a }}{{ b"]:  # fmt: skip
        assert _path_template(text) is None, text


names = st.sampled_from(["a", "outputs", "t41", "value", "_x", "inputs", "not", "null",
                         "isx", "true", "TRUE", "notes", "in", "and1", "é"])  # fmt: skip
blocks = st.builds(
    lambda ws1, parts, ws2: "{{" + ws1 + ".".join(parts) + ws2 + "}}",
    st.sampled_from(["", " ", "  ", "\t", "\n"]),
    st.lists(names, min_size=1, max_size=4),
    st.sampled_from(["", " ", "  ", "\n", "-"]),
)
text = st.text(alphabet="ab \n+-.{}\"'%#|", max_size=8)


plain_text = st.text(alphabet="ab \n+-.\"'%#|:é", max_size=8)


@settings(max_examples=1200, deadline=None)
@given(st.lists(st.one_of(blocks, text, plain_text), min_size=1, max_size=6))
def test_the_fast_tree_is_the_parsers_tree(pieces: list[str]) -> None:
    template = "".join(pieces)
    fast = _path_template(template)
    if fast is None:
        return
    assert _dump(fast) == _dump(_parsed(template)), template


def _refs(template: str) -> list[tuple[Any, ...]]:
    from kflow.expr import env as env_module

    env_module.references.cache_clear()
    env_module._parsed.cache_clear()
    return [(r.kind, r.name, r.position, r.path) for r in env_module.references(template)]


def _refs_both_ways(template: str, monkeypatch: Any) -> tuple[list[Any], list[Any]]:
    from kflow.expr import env as env_module

    fast = _refs(template)
    with monkeypatch.context() as m:
        m.setattr(env_module, "_path_template", lambda text: None)
        slow = _refs(template)
    env_module.references.cache_clear()
    env_module._parsed.cache_clear()
    return fast, slow


def test_references_of_path_templates_are_the_general_walks(monkeypatch: Any) -> None:
    for template in [*COMMON, "{{ outputs }} {{ outputs.t }} {{ inputs }} {{ inputs.a.b }}",
                     "{{ outputs.a.b.c }}{{ inputs.x }}{{ taskrun.value }}{{ outputs.z.y }}"]:
        fast, slow = _refs_both_ways(template, monkeypatch)
        assert fast == slow, template
        assert _path_template(template) is not None
        light = paths_module.references(template)
        assert light is not None
        assert [(r.kind, r.name, r.position, r.path) for r in light] == slow, template


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(blocks, plain_text), min_size=1, max_size=6))
def test_references_agree_on_generated_templates(pieces: list[str]) -> None:
    import pytest

    template = "".join(pieces)
    with pytest.MonkeyPatch.context() as monkeypatch:
        try:
            fast, slow = _refs_both_ways(template, monkeypatch)
        except Exception as exc:  # a template that does not parse fails both ways alike
            from kflow.errors import ExpressionError

            assert isinstance(exc, ExpressionError)
            return
    assert fast == slow, template
    light = paths_module.references(template)
    if light is not None:  # what `kflow run` computes without Jinja2: the same references
        assert [(r.kind, r.name, r.position, r.path) for r in light] == slow, template


# --- rendering without Jinja2 (kflow.expr.paths) ---------------------------------------------

CONTEXT: dict[str, Any] = {
    "a": {"a": "x", "value": 1.5, "t41": [1, 2], "outputs": None, "_x": {"value": True}},
    "outputs": {"t41": {"value": "0+1"}, "value": {"a": 10**20}, "inputs": {}},
    "inputs": {"name": "Ada", "é": "e", "value": ["a", {"b": 2}]},
    "value": 3,
    "t41": {"isx": {"notes": "n"}, "value": None},
    "in": "word",
}


def _full(kind: str, template: str) -> Any:
    """What the full route (Jinja2 environment) gives: the value, or the error's text."""
    from kflow.errors import ExpressionError
    from kflow.expr import env as env_module

    try:
        if kind == "typed":
            return ("ok", env_module.render_typed(template, CONTEXT))
        return ("ok", env_module.render(template, CONTEXT))
    except ExpressionError as exc:
        return ("error", str(exc))


def _public(kind: str, template: str) -> Any:
    from kflow import expr
    from kflow.errors import ExpressionError

    try:
        if kind == "typed":
            return ("ok", expr.render_typed(template, CONTEXT))
        return ("ok", expr.render(template, CONTEXT))
    except ExpressionError as exc:
        return ("error", str(exc))


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(["template", "typed"]),
       st.lists(st.one_of(blocks, plain_text, text), min_size=1, max_size=5))  # fmt: skip
def test_rendering_without_jinja2_equals_the_full_route(kind: str, pieces: list[str]) -> None:
    """Same string, same native value, same error message (errors go the full route)."""
    template = "".join(pieces)
    full = _full(kind, template)
    public = _public(kind, template)
    assert public == full, template
    if full[0] == "ok":
        assert type(public[1]) is type(full[1]), template


def test_common_templates_render_without_jinja2() -> None:
    from kflow.expr import paths

    assert paths.render("{{ outputs.t41.value }}+1", CONTEXT) == "0+1+1"
    assert paths.render("{{ a.value }} {{ outputs.value.a }}", CONTEXT) == "1.5 100000000000000000000"
    assert paths.render_typed("{{ inputs.value }}", CONTEXT) == ["a", {"b": 2}]
    assert paths.render_typed("{{ a.t41 }}!", CONTEXT) == "[1,2]!"
    # not for this module: a lone path with spaces around (typed), a missing key (the error
    # message is the full route's), `raw` in the output, anything beyond paths
    for template in [" {{ a.a }} ", "{{ a.nope }}", "{{ in }}{{ a.a }}raw", "{{ a | upper }}"]:
        assert (paths.render_typed(template, CONTEXT) is paths.NOT_HERE
                or paths.render(template, CONTEXT) is paths.NOT_HERE), template  # fmt: skip
    assert paths.render("{{ a.nope }}", CONTEXT) is paths.NOT_HERE
    assert paths.render_typed(" {{ a.a }} ", CONTEXT) is paths.NOT_HERE


def test_a_run_of_path_templates_never_imports_jinja2(tmp_path: Any) -> None:
    import subprocess
    import sys

    flow = tmp_path / "chain.yml"
    flow.write_text(
        "id: chain\nnamespace: t\ninputs:\n  - id: who\n    type: STRING\n    defaults: Ada\n"
        "tasks:\n  - id: t0\n    type: io.kestra.plugin.core.debug.Return\n    format: '0'\n"
        "  - id: t1\n    type: io.kestra.plugin.core.debug.Return\n"
        "    format: \"{{ outputs.t0.value }}+1 {{ inputs.who }}\"\n"
    )  # fmt: skip
    code = (
        "import sys\nfrom kflow import api\nfrom kflow.flow.validate import check_expressions\n"
        f"flow = api.load_flow({str(flow)!r}, check_templates=True)\n"
        "assert check_expressions(flow) == []\n"  # what `kflow run` checks first
        "ex = api.run_flow(flow)\n"
        "t1 = [tr for tr in ex.task_runs if tr.task_id == 't1'][0]\n"
        "print(ex.state.current, t1.outputs['value'], 'jinja2' in sys.modules)\n"
    )
    env = {"KFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["SUCCESS", "0+1", "Ada", "False"]
