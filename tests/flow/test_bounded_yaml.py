"""Every YAML reader of kflow is bounded (at most 50 aliases, as SnakeYAML in Kestra): flows,
``--inputs``/``--context`` files, YAML-typed inputs and the ``yaml()`` function. Inputs
past Python's own limits (deep JSON, 5,000-digit numbers, 1e999999999) are refused with a
clear message instead of an internal error or minutes of work."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kflow import expr
from kflow.cli.run import read_mapping_file
from kflow.errors import ExpressionError, FlowSyntaxError, InputError, UsageError
from kflow.flow.inputs import resolve_inputs
from kflow.flow.loader import MAX_ALIASES, BoundedSafeLoader, parse_yaml
from kflow.flow.model import InputSpec

KFLOW = Path(__file__).resolve().parents[2] / "kflow"

# nine levels of nine aliases: 9**9 strings (~390 million) once expanded
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _input(type_: str, value: Any) -> Any:
    spec = InputSpec(id="x", type=type_, required=True, props={"id": "x", "type": type_})
    return resolve_inputs([spec], {"x": value})["x"]


def _problem(type_: str, value: Any) -> str:
    with pytest.raises(InputError) as info:
        _input(type_, value)
    assert info.value.exit_code == 2
    return info.value.problems[0]


def test_flow_alias_bomb_is_refused() -> None:
    with pytest.raises(FlowSyntaxError) as info:
        parse_yaml("id: x\nnamespace: a\n" + BOMB, "flow.yml")
    assert f"more than {MAX_ALIASES} aliases" in info.value.message
    assert info.value.line == 9


@pytest.mark.parametrize("what", ["inputs", "context"])
def test_mapping_file_alias_bomb_is_refused(tmp_path: Path, what: str) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        read_mapping_file(path, what)
    assert f"{what} file is not valid YAML: more than {MAX_ALIASES} aliases" in info.value.message
    assert info.value.line == 7
    assert info.value.hint is not None and "expand" in info.value.hint


def test_mapping_file_few_aliases_still_work(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {a: 1}\nx: *b\ny: *b\nwhen: 2024-01-01\nflag: yes\n", "utf-8")
    data = read_mapping_file(path, "context")
    # read as Kestra's Jackson does: dates and `yes` stay strings
    assert data == {"base": {"a": 1}, "x": {"a": 1}, "y": {"a": 1}, "when": "2024-01-01",
                    "flag": "yes"}  # fmt: skip


def test_yaml_input_alias_bomb_is_refused() -> None:
    assert f"more than {MAX_ALIASES} aliases" in _problem("YAML", BOMB)


def test_yaml_function_alias_bomb_is_refused() -> None:
    with pytest.raises(ExpressionError) as info:
        expr.render("{{ yaml(doc) }}", {"doc": BOMB})
    assert f"Invalid yaml: more than {MAX_ALIASES} aliases" in info.value.message


def test_no_yaml_reader_bypasses_the_bounded_loader() -> None:
    """Only flow/yamlio.py calls PyYAML's loaders; every other reader goes through it."""
    offenders = []
    for path in KFLOW.rglob("*.py"):
        if path.name == "yamlio.py" and path.parent.name == "flow":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\byaml\.(safe_load|load|full_load|unsafe_load|load_all)\(", text) or (
            re.search(r"\(\s*(_?yaml)\.SafeLoader\s*\)", text)
        ):
            offenders.append(path.name)
    assert offenders == []
    from kflow.expr.functions import _JacksonYamlLoader

    assert issubclass(_JacksonYamlLoader, BoundedSafeLoader)


def test_deep_json_context_is_a_usage_error_or_works(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(UsageError) as info:
        read_mapping_file(path, "context")
    assert "nested too deeply" in info.value.message


def test_huge_number_in_json_context_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"a": ' + "9" * 5000 + "}", encoding="utf-8")
    with pytest.raises(UsageError) as info:
        read_mapping_file(path, "context")
    assert "4300 digits" in info.value.message


def test_deep_json_input_is_refused() -> None:
    assert "nested too deeply" in _problem("JSON", "[" * 100_000 + "]" * 100_000)


def test_int_input_of_5000_digits_is_refused_like_kestra() -> None:
    big = "9" * 5000
    assert f'For input string: "{big}"' in _problem("INT", big)
    assert _input("INT", "0" * 5000 + "12") == 12  # Integer.valueOf reads leading zeros


@pytest.mark.parametrize("value", ["1e999999999", "-1e999999999", "1e39"])
def test_float_input_out_of_range_is_refused_quickly(value: str) -> None:
    assert "only finite numbers are accepted" in _problem("FLOAT", value)


def test_float_input_far_below_range_is_zero() -> None:
    assert _input("FLOAT", "1e-999999999") == 0.0


@pytest.mark.parametrize("value", ["PT" + "9" * 5000 + "S", "P" + "9" * 5000 + "D"])
def test_duration_input_of_5000_digits_is_refused(value: str) -> None:
    assert "cannot be parsed to a Duration" in _problem("DURATION", value)


def test_yaml_input_with_5000_digit_number_is_refused() -> None:
    assert "a number is too long" in _problem("YAML", "a: " + "9" * 5000)
