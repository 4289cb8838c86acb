"""Property: no template, context, input value or command line makes kflow end in an
internal error (exit 3). Whatever Hypothesis generates, the outcome is a result or a
``KflowError`` (a clear message and exit 1 or 2), never another exception.

Runs in-process (Typer's ``CliRunner`` and direct API calls), derandomized and without an
example database so that CI sees the same examples on every run."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kflow import expr
from kflow.cli import app
from kflow.errors import KflowError
from kflow.flow.inputs import resolve_inputs
from kflow.flow.model import InputSpec

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# pieces of Pebble that reach the lexer, parser, compiler and runtime in many ways
TOKENS = [
    "{{", "}}", "{%", "%}", "{#", "#}", "(", ")", "[", "]", "{", "}", ",", ":", ".", "?",
    " ", "'", '"', "x", "y", "m", "1", "0", "-1", "2.5", "9" * 30, "9" * 5000, "'a'", "'('",
    "'['", "'[a-z&&[^b]]'", "~", "+", "-", "*", "/", "%", "==", "<", "..", "??", "???",
    "and", "or", "not", "is", "defined", "null", "true", "|", "upper", "default('d')",
    "length", "split(',')", "matches('[')", "split('(')", "replace('a', 'b')", "json",
    "toJson", "yaml('a: 1')", "range(1, 3)", "for", "in", "endfor", "if", "endif", "else",
    "set", "=", "macro", "endmacro", "raw", "endraw", "#{", "now()", "1e999",
]  # fmt: skip

soup = st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """Templates that go deep: parentheses, operator chains, loops, ifs and filters."""
    depth = draw(st.integers(min_value=1, max_value=400))
    kind = draw(st.sampled_from(["paren", "tilde", "plus", "for", "if", "filter", "not",
                                 "coalesce", "attr", "right"]))  # fmt: skip
    if kind == "paren":
        return "{{ " + "(" * depth + "x" + ")" * depth + " }}"
    if kind == "tilde":
        return "{{ " + " ~ ".join(["x"] * depth) + " }}"
    if kind == "plus":
        return "{{ " + " + ".join(["1"] * depth) + " }}"
    if kind == "for":
        return "{% for i in [1] %}" * depth + "a" + "{% endfor %}" * depth
    if kind == "if":
        return "{% if true %}" * depth + "a" + "{% endif %}" * depth
    if kind == "filter":
        return "{{ x" + " | upper" * depth + " }}"
    if kind == "not":
        return "{{ " + "not " * depth + "true }}"
    if kind == "coalesce":
        return "{{ " + " ?? ".join(["missing"] * depth) + " ?? 1 }}"
    if kind == "attr":
        return "{{ m" + ".a" * depth + " }}"
    return "{{ " + "(1 + " * depth + "1" + ")" * depth + " }}"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=20,
)
contexts = st.fixed_dictionaries({"x": json_values, "y": json_values, "m": json_values})


def _ok(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except KflowError as exc:
        assert exc.exit_code in (1, 2), exc


@SETTINGS
@given(template=st.one_of(soup, nested()), context=contexts)
def test_rendering_never_fails_outside_kflow_errors(template: str, context: dict[str, Any]) -> None:
    _ok(expr.render, template, context)
    _ok(expr.render_typed, template, context)
    _ok(expr.check_syntax, template)


@SETTINGS
@given(expression=soup)
def test_evaluate_never_fails_outside_kflow_errors(expression: str) -> None:
    _ok(expr.evaluate, expression, {"x": 1})


INPUT_TYPES = ["STRING", "INT", "FLOAT", "BOOLEAN", "DATETIME", "DATE", "TIME", "DURATION",
               "JSON", "YAML", "URI", "ARRAY", "SELECT", "EMAIL"]  # fmt: skip
input_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "9" * 5000,
            "-" + "9" * 5000,
            "1e999999999",
            "PT" + "9" * 5000 + "S",
            "[" * 5000 + "]" * 5000,
            "a: " + "9" * 5000,
            "&a [1]",
            "*a",
            "a: &a [1]\nb: [*a, *a]",
            "+2147483648",
            "0x1p99999",
            "0X1P1100",  # past a double: OverflowError in float.fromhex
        ]
    ),  # fmt: skip
    json_values.map(json.dumps),
)


@SETTINGS
@given(type_=st.sampled_from(INPUT_TYPES), value=input_texts)
def test_inputs_never_fail_outside_input_errors(type_: str, value: str) -> None:
    props: dict[str, Any] = {"id": "x", "type": type_}
    if type_ == "ARRAY":
        props["itemType"] = "INT"
    if type_ == "SELECT":
        props["values"] = ["a", "b"]
    spec = InputSpec(id="x", type=type_, required=True, props=props)
    _ok(resolve_inputs, [spec], {"x": value})


context_files = st.one_of(
    json_values.map(json.dumps),
    st.text(max_size=40),
    st.sampled_from(
        [
            "a: &a [1]\nb: [*a, *a]\n",
            "[" * 3000 + "]" * 3000,
            "a: " + "9" * 5000,
            '{"a": ' + "[" * 3000 + "]" * 3000 + "}",
            "- 1\n- 2\n",
            "~",
            "\x00",
        ]
    ),
)


@SETTINGS
@given(template=st.one_of(soup, nested()), context=context_files,
       suffix=st.sampled_from([".json", ".yaml"]), as_json=st.booleans())  # fmt: skip
def test_eval_command_never_exits_3(
    template: str, context: str, suffix: str, as_json: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"ctx{suffix}"
        path.write_text(context, encoding="utf-8")
        args = ["eval", template, "--context", str(path)] + (["--json"] if as_json else [])
        result = CliRunner().invoke(app, args)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        assert isinstance(exc, KflowError), repr(exc)
        assert exc.exit_code in (1, 2)
    else:
        assert result.exit_code in (0, 1, 2), result.output


# ---------------------------------------------------------------------------------------
# the cases named in the issue, through the real command line (run_app's exit codes)

INPUT_FLOW = """id: limits
namespace: test
inputs:
  - id: n
    type: INT
    required: false
  - id: j
    type: JSON
    required: false
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.n ?? 0 }}"
"""


def _kflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kflow", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("template", "code", "needle"),
    [
        ("{{ 'a'.split('(') }}", 1, "Could not call split: invalid regular expression `(`"),
        ("{{ 'a'.matches('[') }}", 1, "Could not call matches: invalid regular expression `[`"),
        ("{% for x in [1] %}" * 21 + "a" + "{% endfor %}" * 21, 2, "nested too deeply"),
        ("{{ " + " ~ ".join(["'a'"] * 200) + " }}", 0, ""),
        ("{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}", 0, ""),
        ("{{ 'b'.matches('[a-z&&[^aeiou]]') }}", 0, ""),
    ],
    ids=["split", "matches", "21-for", "200-tilde", "1000-parens", "intersection"],
)
def test_named_templates_through_the_cli(template: str, code: int, needle: str) -> None:
    proc = _kflow("eval", template)
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.returncode == code, proc.stderr
    assert needle in proc.stderr
    if code == 0:
        assert proc.stdout.strip() in ("a" * 200, "1", "true")


def test_deep_json_context_through_the_cli(tmp_path: Path) -> None:
    ctx = tmp_path / "deep.json"
    ctx.write_text('{"a": ' + "[" * 3000 + "]" * 3000 + ', "b": 1}', encoding="utf-8")
    proc = _kflow("eval", "{{ b }}", "--context", str(ctx))
    assert "internal error" not in proc.stderr
    assert (proc.returncode, proc.stdout.strip()) == (0, "1") or (
        proc.returncode == 2 and "nested too deeply" in proc.stderr
    ), proc.stderr


def test_alias_bomb_context_through_the_cli(tmp_path: Path) -> None:
    ctx = tmp_path / "bomb.yaml"
    ctx.write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        encoding="utf-8",
    )
    for args in (["eval", "{{ a }}", "--context", str(ctx)],):
        proc = _kflow(*args)
        assert proc.returncode == 2, proc.stderr
        assert "more than 50 aliases" in proc.stderr


@pytest.mark.parametrize(
    ("value", "needle"),
    [("n=" + "9" * 5000, "Invalid input for `n`"), ("j=" + "[" * 3000 + "]" * 3000, "")],
    ids=["int-5000-digits", "json-3000-deep"],
)
def test_named_inputs_through_the_cli(tmp_path: Path, value: str, needle: str) -> None:
    flow = tmp_path / "limits.yml"
    flow.write_text(INPUT_FLOW, encoding="utf-8")
    proc = _kflow("run", str(flow), "-i", value, "--json")
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    if needle:
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    else:
        assert proc.returncode in (0, 2), proc.stderr


def test_bad_regex_in_a_task_fails_the_task(tmp_path: Path) -> None:
    """Kestra fails the task (PebbleException "Could not call split"): so does kflow."""
    flow = tmp_path / "bad.yml"
    flow.write_text(
        "id: bad\nnamespace: test\ntasks:\n  - id: r\n"
        "    type: io.kestra.plugin.core.debug.Return\n"
        "    format: \"{{ 'a'.split('(') }}\"\n",
        encoding="utf-8",
    )
    proc = _kflow("run", str(flow), "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["state"]["current"] == "FAILED"
    assert "Could not call split" in json.dumps(doc)
