"""Flow inputs and outputs typed as Kestra types them (kflow.flow.inputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kflow.errors import InputError, UndefinedVariableError
from kflow.flow.inputs import (
    INPUT_TYPES,
    check_input_ids,
    check_input_spec,
    check_output_spec,
    input_context,
    resolve_inputs,
    resolve_outputs,
)
from kflow.flow.model import MISSING, InputSpec, OutputSpec
from kflow.secrets import ENCRYPTED_TYPE, decrypt


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KFLOW_ENCRYPTION_KEY", raising=False)


def spec(
    id_: str, type_: str, *, required: Any = True, defaults: Any = MISSING, **props: Any
) -> InputSpec:
    """An InputSpec as the flow loader builds it (``props`` holds every key written)."""
    written: dict[str, Any] = {"id": id_, "type": type_, **props}
    if required is not True:
        written["required"] = required
    if defaults is not MISSING:
        written["defaults"] = defaults
    return InputSpec(id=id_, type=type_, required=bool(required), defaults=defaults, props=written)


def out(id_: str, type_: str, *, required: bool = True, **props: Any) -> OutputSpec:
    written = {"id": id_, "type": type_, "value": "{{ x }}", **props}
    return OutputSpec(id=id_, type=type_, value="{{ x }}", required=required, props=written)


def one(type_: str, value: Any, **props: Any) -> Any:
    """Resolve a single input ``x`` and return its stored value."""
    return resolve_inputs([spec("x", type_, **props)], {"x": value})["x"]


def problem(type_: str, value: Any, **props: Any) -> str:
    """Resolve a single bad input ``x`` and return its one problem line."""
    with pytest.raises(InputError) as info:
        resolve_inputs([spec("x", type_, **props)], {"x": value})
    assert len(info.value.problems) == 1
    assert info.value.message == info.value.problems[0]
    return info.value.problems[0]


def test_every_type_is_known() -> None:
    # Type.java (+ BOOL in 1.x)
    assert INPUT_TYPES == {
        "ARRAY", "BOOL", "BOOLEAN", "DATE", "DATETIME", "DURATION", "EMAIL", "ENUM", "FILE",
        "FLOAT", "INT", "JSON", "MULTISELECT", "SECRET", "SELECT", "STRING", "TIME", "URI",
        "YAML",
    }  # fmt: skip


# --- STRING / INT / FLOAT / BOOLEAN -------------------------------------------------------
# Follows core/src/test/java/io/kestra/core/runners/InputsTest.java (allValidInputs,
# inputValidatedStringBadValue, inputValidatedIntegerBadValue, inputValidatedFloatBadValue)
# and FlowInputOutput.parseType (1.x: value.toString() for non-strings).


def test_string_kept_and_non_strings_stringified_like_java() -> None:
    assert one("STRING", "myString") == "myString"
    assert one("STRING", "") == ""
    assert one("STRING", 42) == "42"
    assert one("STRING", True) == "true"
    assert one("STRING", 1.5) == "1.5"
    assert one("STRING", ["a", 1]) == "[a, 1]"


def test_string_validator_is_a_full_match() -> None:
    assert one("STRING", "A123", validator=r"A\d+") == "A123"
    assert problem("STRING", "foo", validator=r"A\d+") == (
        r"Invalid input for `x`, it must match the pattern `A\d+`, but received `foo`"
    )
    assert problem("STRING", "A123z", validator=r"A\d+").startswith("Invalid input for `x`, it")


def test_string_validator_java_syntax() -> None:
    assert one("STRING", "ab", validator=r"(?<first>a)\k<first>?b\z") == "ab"
    assert one("STRING", "abc", validator=r"\p{Lower}+") == "abc"
    assert problem("STRING", "é", validator=r"\w") == (
        r"Invalid input for `x`, it must match the pattern `\w`, but received `é`"
    )  # Java's \w is ASCII-only


def test_int_parses_32_bit_integers() -> None:
    assert one("INT", "42") == 42
    assert one("INT", "-2147483648") == -2147483648
    assert one("INT", "+7") == 7
    assert one("INT", 12) == 12


@pytest.mark.parametrize("raw", ["abc", "4.0", " 42", "2147483648", "1_000", ""])
def test_int_bad_numbers_keep_javas_message(raw: str) -> None:
    assert problem("INT", raw) == (
        f'Invalid input for `x`, For input string: "{raw}", but received `{raw}`'
    )


def test_int_typed_values_go_through_tostring() -> None:
    assert (
        problem("INT", 4.0) == 'Invalid input for `x`, For input string: "4.0", but received `4.0`'
    )
    assert problem("INT", True) == (
        'Invalid input for `x`, For input string: "true", but received `true`'
    )


def test_int_min_max() -> None:
    assert one("INT", "12", min=10, max=20) == 12
    assert problem("INT", "9", min=10, max=20) == (
        "Invalid input for `x`, it must be more than `10`, but received `9`"
    )
    assert problem("INT", "21", min=10, max=20) == (
        "Invalid input for `x`, it must be less than `20`, but received `21`"
    )


def test_float_is_32_bit_and_stored_as_java_prints_it() -> None:
    assert one("FLOAT", "42.42") == 42.42
    assert one("FLOAT", "0.1") == 0.1  # 0.1f prints 0.1, not 0.10000000149011612
    assert one("FLOAT", "3.14159265358979") == 3.1415927
    assert one("FLOAT", "16777217") == 16777216.0  # beyond float32 precision
    assert one("FLOAT", " 1.5f ") == 1.5  # Float.valueOf trims and takes a suffix
    assert one("FLOAT", 5) == 5.0
    assert one("FLOAT", 0.42) == 0.42


def test_float_bad_values() -> None:
    assert problem("FLOAT", "abc") == (
        'Invalid input for `x`, For input string: "abc", but received `abc`'
    )
    assert problem("FLOAT", "") == "Invalid input for `x`, empty String, but received ``"
    assert problem("FLOAT", "NaN") == (
        'Invalid input for `x`, For input string: "NaN" (only finite numbers are accepted), '
        "but received `NaN`"
    )


def test_float_min_max_printed_as_java_floats() -> None:
    assert one("FLOAT", "0.42", min=0.1, max=0.5) == 0.42
    assert problem("FLOAT", "0.01", min=0.1, max=0.5) == (
        "Invalid input for `x`, it must be more than `0.1`, but received `0.01`"
    )
    assert problem("FLOAT", "1.01", min=0.1, max=1) == (
        "Invalid input for `x`, it must be less than `1.0`, but received `1.01`"
    )


@pytest.mark.parametrize("type_", ["BOOLEAN", "BOOL"])
@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("TRUE", True), ("tRuE", True), ("false", False), ("yes", False),
     ("1", False), ("", False), (True, True), (False, False), (1, False)],
)  # fmt: skip
def test_boolean_never_fails(type_: str, raw: Any, expected: bool) -> None:
    # Boolean.valueOf: "true" in any case is true, anything else false.
    assert one(type_, raw) is expected


# --- DATETIME / DATE / TIME / DURATION ----------------------------------------------------
# InputsTest.java (inputValidatedDate*/DateTime*/Time*/DurationBadValue) and the java.time
# parsers used by FlowInputOutput.parseType (Instant.parse, LocalDate.parse, LocalTime.parse,
# Duration.parse); JSON forms as Jackson writes them (ISO_INSTANT, ISO_LOCAL_TIME).


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2019-10-06T18:27:49Z", "2019-10-06T18:27:49Z"),
        ("2019-10-06T18:27:49.5Z", "2019-10-06T18:27:49.500Z"),
        ("2019-10-06T18:27:49.123456Z", "2019-10-06T18:27:49.123456Z"),
        ("2024-01-01T10:00:00+01:00", "2024-01-01T09:00:00Z"),
        ("2019-10-06t18:27:49z", "2019-10-06T18:27:49Z"),
        ("2024-01-01T24:00:00Z", "2024-01-02T00:00:00Z"),
    ],
)
def test_datetime_normalised_to_iso_instant(raw: str, stored: str) -> None:
    assert one("DATETIME", raw) == stored


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("2024-01-01", "Text '2024-01-01' could not be parsed at index 10"),
        ("2024-01-01T10:00:00", "Text '2024-01-01T10:00:00' could not be parsed at index 19"),
        ("2024-01-01T10:00Z", "Text '2024-01-01T10:00Z' could not be parsed at index 16"),
        ("2024-13-01T00:00:00Z", "Text '2024-13-01T00:00:00Z' could not be parsed at index 0"),
        ("2024-01-01T10:00:00Zx", "Text '2024-01-01T10:00:00Zx' could not be parsed, "
         "unparsed text found at index 20"),
    ],
)  # fmt: skip
def test_datetime_needs_an_offset_and_seconds(raw: str, error: str) -> None:
    assert problem("DATETIME", raw) == (
        f"Invalid input for `x`, Expected `DATETIME` but received `{raw}` with errors: "
        f"{error}"  # no second "but received" (issue 11)
    )


def test_datetime_after_before() -> None:
    props = {"after": "2023-01-01T00:00:00Z", "before": "2023-12-31T23:59:59Z"}
    assert one("DATETIME", "2023-01-01T00:00:10Z", **props) == "2023-01-01T00:00:10Z"
    assert problem("DATETIME", "2022-01-01T00:00:00Z", **props) == (
        "Invalid input for `x`, it must be after `2023-01-01T00:00:00Z`, "
        "but received `2022-01-01T00:00:00Z`"
    )
    assert problem("DATETIME", "2024-01-01T00:00:00Z", **props) == (
        "Invalid input for `x`, it must be before `2023-12-31T23:59:59Z`, "
        "but received `2024-01-01T00:00:00Z`"
    )


def test_date() -> None:
    assert one("DATE", "2019-10-06") == "2019-10-06"
    assert problem("DATE", "2024-02-30") == (
        "Invalid input for `x`, Expected `DATE` but received `2024-02-30` with errors: "
        "Text '2024-02-30' could not be parsed: Invalid date 'FEBRUARY 30'"
    )
    assert "Invalid value for MonthOfYear (valid values 1 - 12): 13" in problem(
        "DATE", "2024-13-01"
    )
    assert "could not be parsed at index 5" in problem("DATE", "2024-1-01")
    assert "is not a leap year" in problem("DATE", "2023-02-29")


def test_date_after_before() -> None:
    props = {"after": "2023-01-01", "before": "2023-12-31"}
    assert one("DATE", "2023-01-02", **props) == "2023-01-02"
    assert problem("DATE", "2022-01-01", **props) == (
        "Invalid input for `x`, it must be after `2023-01-01`, but received `2022-01-01`"
    )
    assert problem("DATE", "2024-01-01", **props) == (
        "Invalid input for `x`, it must be before `2023-12-31`, but received `2024-01-01`"
    )


def test_time() -> None:
    assert one("TIME", "18:27:49") == "18:27:49"
    assert one("TIME", "10:15") == "10:15:00"  # Jackson's ISO_LOCAL_TIME always shows seconds
    assert one("TIME", "10:15:30.5") == "10:15:30.5"
    assert "Invalid value for HourOfDay (valid values 0 - 23): 25" in problem("TIME", "25:00")
    assert "unparsed text found at index 5" in problem("TIME", "10:15:3")


def test_time_after_before_use_localtime_tostring() -> None:
    props = {"after": "01:00:00", "before": "11:59:59"}
    assert one("TIME", "11:27:49", **props) == "11:27:49"
    assert problem("TIME", "00:00:01", **props) == (
        "Invalid input for `x`, it must be after `01:00`, but received `00:00:01`"
    )
    assert problem("TIME", "14:00:00", **props) == (
        "Invalid input for `x`, it must be before `11:59:59`, but received `14:00:00`"
    )


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("PT5M6S", "PT5M6S"), ("P2D", "PT48H"), ("pt1h", "PT1H"), ("PT1.5S", "PT1.5S"),
     ("PT-0.5S", "PT-0.5S"), ("-PT6H3M", "PT-6H-3M"), ("PT0S", "PT0S"), ("P1DT2H", "PT26H")],
)  # fmt: skip
def test_duration_stored_as_java_duration_text(raw: str, stored: str) -> None:
    assert one("DURATION", raw) == stored


@pytest.mark.parametrize("raw", ["P1W", "P1M", "P1Y", "PT", "5m", "PT5"])
def test_duration_has_no_weeks_months_years(raw: str) -> None:
    assert problem("DURATION", raw) == (
        f"Invalid input for `x`, Expected `DURATION` but received `{raw}` with errors: "
        "Text cannot be parsed to a Duration"
    )


def test_duration_min_max_capital_it() -> None:
    props = {"min": "PT10S", "max": "PT20S"}
    assert one("DURATION", "PT15S", **props) == "PT15S"
    assert problem("DURATION", "PT1S", **props) == (
        "Invalid input for `x`, It must be more than `PT10S`, but received `PT1S`"
    )
    assert problem("DURATION", "PT30S", **props) == (
        "Invalid input for `x`, It must be less than `PT20S`, but received `PT30S`"
    )


# --- EMAIL / URI / ENUM / SELECT / MULTISELECT --------------------------------------------
# EmailInput.java, FlowInputOutput.URI_PATTERN, InputsTest.java (inputFailed, inputEnumFailed),
# EnumInput/SelectInput/MultiselectInput.validate, SelectInputTest.java, MultiselectInputTest.java.


def test_email() -> None:
    assert one("EMAIL", "a.b@example.com") == "a.b@example.com"
    assert one("EMAIL", "") == ""  # the pattern allows the empty string
    assert problem("EMAIL", "not-an-email") == (
        "Invalid input for `x`, The input must be a valid email, but received `not-an-email`"
    )


def test_uri() -> None:
    assert one("URI", "https://www.google.com") == "https://www.google.com"
    assert problem("URI", "http:/bla") == (
        "Invalid input for `x`, Expected `URI` but received `http:/bla`"
    )
    # The host needs a dot: Kestra's pattern refuses localhost.
    assert "Expected `URI`" in problem("URI", "http://localhost:8080")


def test_enum_checked_only_when_required() -> None:
    values = ["ENUM_VALUE", "OTHER_ONE"]
    assert one("ENUM", "ENUM_VALUE", values=values) == "ENUM_VALUE"
    assert problem("ENUM", "INVALID", values=values) == (
        "Invalid input for `x`, it must match the values `[ENUM_VALUE, OTHER_ONE]`, "
        "but received `INVALID`"
    )
    optional = spec("x", "ENUM", required=False, values=values)
    assert resolve_inputs([optional], {"x": "INVALID"}) == {"x": "INVALID"}


def test_select_values_custom_and_optional() -> None:
    assert one("SELECT", "a", values=["a", "b"]) == "a"
    assert problem("SELECT", "c", values=["a", "b"]) == (
        "Invalid input for `x`, it must match the values `[a, b]`, but received `c`"
    )
    assert one("SELECT", "c", values=["a", "b"], allowCustomValue=True) == "c"
    assert resolve_inputs([spec("x", "SELECT", required=False, values=["a"])], {"x": "z"}) == {
        "x": "z"
    }
    assert one("SELECT", 1, values=[1, 2]) == "1"  # values are texts (List<String>)


def test_select_expression_values() -> None:
    def render(value: Any) -> Any:
        return ["a", "b"] if value == "{{ ['a','b'] }}" else "a text"

    specs = [spec("x", "SELECT", expression="{{ ['a','b'] }}")]
    assert resolve_inputs(specs, {"x": "b"}, render=render) == {"x": "b"}
    with pytest.raises(InputError) as info:
        resolve_inputs(specs, {"x": "c"}, render=render)
    assert info.value.problems == [
        "Invalid input for `x`, it must match the values `[a, b]`, but received `c`"
    ]
    with pytest.raises(InputError) as info:
        resolve_inputs([spec("x", "SELECT", expression="{{ 'x' }}")], {"x": "c"}, render=render)
    assert info.value.problems == [
        "Invalid input for `x`, Invalid expression result. "
        "Expected a list of strings, but received String"
    ]


def test_multiselect() -> None:
    values = ["a", "b", "c"]
    assert one("MULTISELECT", ["a", "b"], values=values) == ["a", "b"]
    assert one("MULTISELECT", '["a", "c"]', values=values) == ["a", "c"]
    assert one("MULTISELECT", ["z"], values=values, allowCustomValue=True) == ["z"]
    assert one("MULTISELECT", ["a"], options=["a"]) == ["a"]  # deprecated `options`
    assert problem("MULTISELECT", '["a", "z"]', values=values) == (
        'Invalid input for `x`, it must match the values `[a, b, c]`, but received `["a", "z"]`'
    )
    assert problem("MULTISELECT", "a", values=values).startswith(
        "Invalid input for `x`, Expected `MULTISELECT` but received `a` with errors: Expecting"
    )


def test_multiselect_checked_even_when_optional() -> None:
    # Unlike ENUM/SELECT, MultiselectInput.validate does not look at `required`.
    optional = spec("x", "MULTISELECT", required=False, values=["a"])
    with pytest.raises(InputError):
        resolve_inputs([optional], {"x": ["b"]})


# --- ARRAY / JSON / YAML -------------------------------------------------------------------
# InputsTest.java (allValidInputs array/json/yaml, inputArrayFailed, inputEmptyJson) and
# FlowInputOutput.parseType 1.x (maps and lists accepted as is for JSON/YAML/ARRAY).


def test_array_items_parsed_with_item_type() -> None:
    assert one("ARRAY", "[1, 2, 3]", itemType="INT") == [1, 2, 3]
    assert one("ARRAY", ["1", 2], itemType="INT") == [1, 2]
    assert one("ARRAY", '["2024-01-01T00:00:00+01:00"]', itemType="DATETIME") == [
        "2023-12-31T23:00:00Z"
    ]
    assert one("ARRAY", '["PT1M"]', itemType="DURATION") == ["PT1M"]
    assert one("ARRAY", "[]", itemType="STRING") == []


def test_array_bad_item_message() -> None:
    assert problem("ARRAY", '["s1", "s2"]', itemType="INT") == (
        "Invalid input for `x`, Unable to parse array element as `INT` on `s1`, "
        'but received `["s1", "s2"]`'
    )


def test_array_needs_a_json_array() -> None:
    assert problem("ARRAY", '{"a": 1}', itemType="INT") == (
        'Invalid input for `x`, Expected `ARRAY` but received `{"a": 1}` with errors: '
        "a JSON array is expected, not a JSON object"
    )
    assert "Expected `ARRAY`" in problem("ARRAY", "1,2", itemType="INT")


def test_json() -> None:
    assert one("JSON", '{"a": "b"}') == {"a": "b"}
    assert one("JSON", "{}") == {}
    assert one("JSON", "[1, 2.5, null]") == [1, 2.5, None]
    assert one("JSON", '"text"') == "text"
    assert one("JSON", {"a": [1]}) == {"a": [1]}
    assert one("JSON", [1]) == [1]
    assert one("JSON", 42) == 42
    assert problem("JSON", "{bad") == (
        "Invalid input for `x`, Expected `JSON` but received `{bad` with errors: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )
    assert "Non-standard token 'NaN'" in problem("JSON", "NaN")


def test_yaml() -> None:
    text = "some: property\nalist:\n- of\n- values"
    assert one("YAML", text) == {"some": "property", "alist": ["of", "values"]}
    # Jackson's YAML: dates stay texts, only true/false are booleans.
    assert one("YAML", "d: 2024-01-01\ny: yes\nt: true") == {
        "d": "2024-01-01",
        "y": "yes",
        "t": True,
    }
    assert one("YAML", {"k": 1}) == {"k": 1}
    assert problem("YAML", "a: [").startswith(
        "Invalid input for `x`, Expected `YAML` but received `a: [` with errors: while parsing"
    )


# --- SECRET --------------------------------------------------------------------------------
# InputsTest.java (allValidInputs "secret inputs are encrypted", inputFlow "secret inputs are
# decrypted to be used as task properties"), SecretInput.java, EncryptedString.java.


def test_secret_is_never_stored_in_clear() -> None:
    stored = resolve_inputs([spec("pwd", "SECRET")], {"pwd": "s3cr3t"})
    assert stored["pwd"]["type"] == ENCRYPTED_TYPE
    assert "s3cr3t" not in json.dumps(stored)
    assert decrypt(stored["pwd"]) == "s3cr3t"
    assert input_context(stored) == {"pwd": "s3cr3t"}


def test_secret_validator_applies_to_the_plaintext_and_hides_it() -> None:
    assert input_context({"x": one("SECRET", "abc123", validator="[a-z]+[0-9]+")}) == {
        "x": "abc123"
    }
    message = problem("SECRET", "hunter2!", validator="[a-z]+[0-9]+")
    assert message == (
        "Invalid input for `x`, it must match the pattern `[a-z]+[0-9]+`, but received `******`"
    )
    assert "hunter2" not in message


def test_input_context_keeps_other_values_and_nesting() -> None:
    stored = resolve_inputs(
        [spec("db.password", "SECRET"), spec("db.port", "INT")],
        {"db.password": "pw", "db.port": "5432"},
    )
    assert stored["db"]["port"] == 5432
    assert input_context(stored) == {"db": {"password": "pw", "port": 5432}}


# --- FILE ----------------------------------------------------------------------------------
# InputsTest.java (allValidInputs file), FileInput.java, FlowInputOutput.parseType FILE,
# reference §5.3: a kestra:// URI is kept, a local path is uploaded under its base name.


class FakeStorage:
    def __init__(self) -> None:
        self.stored: list[tuple[str, Path]] = []

    def __call__(self, input_id: str, path: Path) -> str:
        self.stored.append((input_id, path))
        return f"kestra:///ns/flow/executions/e1/inputs/{input_id}/{path.name}"


def test_file_local_path_uploaded(tmp_path: Path) -> None:
    local = tmp_path / "data.csv"
    local.write_text("a,b\n")
    store = FakeStorage()
    result = resolve_inputs([spec("f", "FILE")], {"f": local}, store_file=store)
    assert result == {"f": "kestra:///ns/flow/executions/e1/inputs/f/data.csv"}
    assert store.stored == [("f", local)]
    result = resolve_inputs([spec("f", "FILE")], {"f": str(local)}, store_file=store)
    assert result["f"].endswith("/inputs/f/data.csv")


def test_file_kestra_uri_kept_without_upload() -> None:
    store = FakeStorage()
    uri = "kestra:///other/flow/executions/e0/tasks/t/1/out.ion"
    assert resolve_inputs([spec("f", "FILE")], {"f": uri}, store_file=store) == {"f": uri}
    assert store.stored == []


def test_file_missing_or_directory(tmp_path: Path) -> None:
    store = FakeStorage()
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError) as info:
        resolve_inputs([spec("f", "FILE")], {"f": missing}, store_file=store)
    assert info.value.problems == [
        f"Invalid input for `f`, Expected `FILE` but received `{missing}` with errors: "
        f"{missing} (No such file or directory)"
    ]
    with pytest.raises(InputError) as info:
        resolve_inputs([spec("f", "FILE")], {"f": tmp_path}, store_file=store)
    assert f"{tmp_path} (Is a directory)" in info.value.problems[0]
    assert store.stored == []


def test_no_file_stored_when_another_input_is_invalid(tmp_path: Path) -> None:
    local = tmp_path / "data.csv"
    local.write_text("x")
    store = FakeStorage()
    specs = [spec("f", "FILE"), spec("n", "INT")]
    with pytest.raises(InputError):
        resolve_inputs(specs, {"f": local, "n": "abc"}, store_file=store)
    assert store.stored == []


def test_file_without_storage_is_a_problem(tmp_path: Path) -> None:
    local = tmp_path / "data.csv"
    local.write_text("x")
    with pytest.raises(InputError) as info:
        resolve_inputs([spec("f", "FILE")], {"f": local})
    assert "no store_file given" in info.value.problems[0]


# --- required / optional / defaults / dependsOn / nesting -----------------------------------
# InputsTest.java (missingRequired, nonRequiredNoDefaultNoValueIsNull, instantDefaults, the
# `empty` input: required with defaults ''), FlowInputOutput.resolveInputs/resolveInputValue
# (1.x: defaults rendered, dependsOn), MapUtils.flattenToNestedMap.


def test_missing_required_input() -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs([spec("name", "STRING")], {})
    assert info.value.problems == [
        "Invalid input for `name`, missing required input, but received `null`"
    ]
    assert info.value.hint is not None and "-i" in info.value.hint
    assert info.value.exit_code == 2


def test_explicit_null_is_missing() -> None:
    with pytest.raises(InputError):
        resolve_inputs([spec("name", "STRING")], {"name": None})


def test_optional_input_without_value_is_present_as_null() -> None:
    assert resolve_inputs([spec("bool", "BOOLEAN", required=False)], {}) == {"bool": None}


def test_defaults_are_typed_like_provided_values() -> None:
    specs = [
        spec("instantDefaults", "DATETIME", defaults="2013-08-09T14:19:00Z"),
        spec("empty", "STRING", defaults=""),
        spec("n", "INT", defaults=5),
        spec("y", "YAML", defaults={"property": "something"}),
    ]
    assert resolve_inputs(specs, {}) == {
        "empty": "",
        "instantDefaults": "2013-08-09T14:19:00Z",
        "n": 5,
        "y": {"property": "something"},
    }
    assert resolve_inputs(specs, {"n": "7"})["n"] == 7  # a given value wins


def test_defaults_are_rendered() -> None:
    def render(value: Any) -> Any:
        return value.replace("{{ vars.n }}", "21")

    specs = [
        spec("n", "INT", defaults="{{ vars.n }}"),
        spec("s", "JSON", defaults=["{{ vars.n }}"]),
    ]
    assert resolve_inputs(specs, {}, render=render) == {"n": 21, "s": ["21"]}


def test_defaults_render_error() -> None:
    def render(value: Any) -> Any:
        raise UndefinedVariableError("Missing variable: 'nope'")

    with pytest.raises(InputError) as info:
        resolve_inputs([spec("n", "INT", defaults="{{ nope }}")], {}, render=render)
    assert info.value.problems == [
        "Invalid input for `n`, unable to render `defaults`: Missing variable: 'nope', "
        "but received `{{ nope }}`"
    ]


def _condition_render(value: Any, inputs: dict[str, Any]) -> Any:
    """A stand-in renderer for ``{{ inputs.kind == 'x' }}`` conditions."""
    if value.startswith("{{ inputs."):
        name, expected = value[len("{{ inputs.") : -len(" }}")].split(" == ")
        current: Any = inputs
        for part in name.split("."):
            current = current[part]
        return current == expected.strip("'")
    return value


def test_depends_on_condition_enables_or_omits_the_input() -> None:
    def render(value: Any, inputs: dict[str, Any]) -> Any:
        return _condition_render(value, inputs)

    specs = [
        spec(
            "region",
            "STRING",
            dependsOn={"inputs": ["cloud"], "condition": "{{ inputs.cloud == 'aws' }}"},
        ),
        spec("cloud", "SELECT", values=["aws", "gcp"]),
    ]
    assert resolve_inputs(specs, {"cloud": "aws", "region": "eu"}, render=render) == {
        "cloud": "aws",
        "region": "eu",
    }
    # Disabled: omitted entirely, its own rules (required) do not apply.
    assert resolve_inputs(specs, {"cloud": "gcp"}, render=render) == {"cloud": "gcp"}


def test_depends_on_disabled_dependency_disables_dependents() -> None:
    def render(value: Any, inputs: dict[str, Any]) -> Any:
        return _condition_render(value, inputs)

    specs = [
        spec("a", "STRING"),
        spec("b", "STRING", dependsOn={"inputs": ["a"], "condition": "{{ inputs.a == 'yes' }}"}),
        spec("c", "STRING", dependsOn={"inputs": ["b"]}),
    ]
    assert resolve_inputs(specs, {"a": "no", "c": "kept?"}, render=render) == {"a": "no"}


def test_depends_on_condition_sees_decrypted_secrets_and_typed_values() -> None:
    seen: list[dict[str, Any]] = []

    def render(value: Any, *, inputs: dict[str, Any]) -> Any:
        seen.append(inputs)
        return True

    specs = [
        spec("pw", "SECRET"),
        spec("n", "INT"),
        spec("x", "STRING", dependsOn={"inputs": ["pw", "n", "unknown"], "condition": "{{ c }}"}),
    ]
    resolve_inputs(specs, {"pw": "p", "n": "3", "x": "v"}, render=render)
    assert seen == [{"n": 3, "pw": "p"}]


def test_depends_on_condition_render_error_disables_like_kestra() -> None:
    def render(value: Any) -> Any:
        raise UndefinedVariableError("Missing variable: 'inputs'")

    specs = [spec("x", "STRING", dependsOn={"condition": "{{ inputs.nope }}"})]
    assert resolve_inputs(specs, {}, render=render) == {}


def test_dotted_ids_become_sorted_nested_maps() -> None:
    specs = [
        spec("nested.string", "STRING", required=False),
        spec("nested.more.int", "INT", required=False),
        spec("nested.bool", "BOOLEAN", required=False),
        spec("b", "INT"),
        spec("a", "INT"),
    ]
    provided = {"nested.string": "a string", "nested.more.int": "123", "nested.bool": "true"}
    result = resolve_inputs(specs, {**provided, "a": "1", "b": "2"})
    assert result == {
        "a": 1,
        "b": 2,
        "nested": {"bool": True, "more": {"int": 123}, "string": "a string"},
    }
    assert list(result) == ["a", "b", "nested"]


def test_undeclared_inputs_are_ignored() -> None:
    assert resolve_inputs([spec("a", "INT")], {"a": "1", "zzz": "ignored"}) == {"a": 1}


def test_all_problems_collected_in_declaration_order() -> None:
    specs = [
        spec("age", "INT", min=18),
        spec("name", "STRING"),
        spec("when", "DATE"),
        spec("ok", "STRING"),
    ]
    with pytest.raises(InputError) as info:
        resolve_inputs(specs, {"age": "9", "when": "soon", "ok": "fine"})
    assert info.value.problems == [
        "Invalid input for `age`, it must be more than `18`, but received `9`",
        "Invalid input for `name`, missing required input, but received `null`",
        "Invalid input for `when`, Expected `DATE` but received `soon` with errors: "
        "Text 'soon' could not be parsed at index 0",
    ]
    assert info.value.message.startswith("3 invalid inputs: Invalid input for `age`")


def test_stored_map_is_json_serialisable() -> None:
    specs = [
        spec("d", "DURATION"),
        spec("t", "TIME"),
        spec("i", "DATETIME"),
        spec("s", "SECRET"),
        spec("a", "ARRAY", itemType="DATE"),
    ]
    stored = resolve_inputs(
        specs,
        {"d": "PT1M", "t": "10:00", "i": "2024-01-01T00:00:00Z", "s": "x", "a": ["2024-01-01"]},
    )
    assert json.loads(json.dumps(stored))["a"] == ["2024-01-01"]


# --- flow outputs ---------------------------------------------------------------------------
# FlowInputOutput.typedOutputs (snapshot + 1.x optional outputs), Data.toConstraintViolation
# ("Invalid output for ..."), reference §2.7.


def test_outputs_are_typed() -> None:
    specs = [
        out("n", "INT"),
        out("j", "JSON"),
        out("b", "BOOLEAN"),
        out("s", "STRING"),
        out("d", "DATETIME"),
        out("a", "ARRAY"),
        out("f", "FILE"),
    ]
    rendered = {
        "n": "42",
        "j": '{"k": [1, 2]}',
        "b": "TRUE",
        "s": 7,
        "d": "2024-01-01T01:00:00+01:00",
        "a": '["x", 1]',
        "f": "kestra:///ns/f/executions/e/tasks/t/1/out.txt",
    }
    assert resolve_outputs(specs, rendered) == {
        "n": 42,
        "j": {"k": [1, 2]},
        "b": True,
        "s": "7",
        "d": "2024-01-01T00:00:00Z",
        "a": ["x", 1],
        "f": "kestra:///ns/f/executions/e/tasks/t/1/out.txt",
    }


def test_secret_output_encrypted() -> None:
    result = resolve_outputs([out("token", "SECRET")], {"token": "abc"})
    assert result["token"]["type"] == ENCRYPTED_TYPE
    assert decrypt(result["token"]) == "abc"
    assert input_context(result) == {"token": "abc"}


def test_output_failures_collected_with_output_wording() -> None:
    specs = [out("n", "INT"), out("j", "JSON"), out("ok", "STRING"), out("gone", "STRING")]
    with pytest.raises(InputError) as info:
        resolve_outputs(specs, {"n": "forty-two", "j": "{", "ok": "fine"})
    assert info.value.problems == [
        'Invalid output for `n`, For input string: "forty-two", but received `forty-two`',
        "Invalid output for `j`, Expected `JSON` but received `{` with errors: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "Invalid output for `gone`, missing required output, but received `null`",
    ]


def test_optional_output_null_and_no_min_max_on_outputs() -> None:
    assert resolve_outputs([out("o", "INT", required=False)], {}) == {"o": None}
    # Output has no validation rules: only the type parse runs.
    assert resolve_outputs([out("x", "ENUM")], {"x": "anything"}) == {"x": "anything"}


def test_file_output_must_be_a_kestra_uri(tmp_path: Path) -> None:
    local = tmp_path / "f.txt"
    local.write_text("x")
    with pytest.raises(InputError) as info:
        resolve_outputs([out("f", "FILE")], {"f": str(local)})
    assert "only a kestra:/// URI is accepted here" in info.value.problems[0]


# --- declaration checks ---------------------------------------------------------------------
# FlowValidator.java (duplicates, dependsOn graph), ArrayInputValidator.java,
# FileInputValidator.java, Input.java/Output.java (@Pattern id, known properties).


def test_check_input_spec_accepts_valid_declarations() -> None:
    assert check_input_spec(spec("s", "STRING", validator=r"A\d+", description="d")) == []
    assert check_input_spec(spec("i", "INT", min=1, max=5, defaults=3)) == []
    assert check_input_spec(spec("d", "DURATION", min="PT1S", defaults="PT5M")) == []
    assert check_input_spec(spec("t", "DATETIME", after="2023-01-01T00:00:00Z")) == []
    assert check_input_spec(spec("a", "ARRAY", itemType="INT", defaults=[1, 2])) == []
    assert check_input_spec(spec("m", "MULTISELECT", options=["a"], allowCustomValue=True)) == []
    assert check_input_spec(spec("s", "SELECT", expression="{{ [1] }}")) == []
    assert check_input_spec(spec("n", "INT", defaults="{{ vars.n }}")) == []


def test_check_input_spec_unknown_type_suggests() -> None:
    assert check_input_spec(spec("x", "STRIN")) == [
        "input 'x': unknown type 'STRIN' (did you mean 'STRING'?)"
    ]
    assert check_input_spec(spec("x", "string")) == [
        "input 'x': unknown type 'string' (did you mean 'STRING'?)"
    ]


def test_check_input_spec_type_rules() -> None:
    assert check_input_spec(spec("a", "ARRAY")) == [
        "input 'a': 'itemType' is required for inputs of type ARRAY (e.g. itemType: STRING)"
    ]
    assert check_input_spec(spec("a", "ARRAY", itemType="ARRAY")) == [
        "input 'a': `itemType` cannot be `ARRAY`"
    ]
    assert check_input_spec(spec("a", "ARRAY", itemType="INTT")) == [
        "input 'a': itemType: unknown type 'INTT' (did you mean 'INT'?)"
    ]
    assert check_input_spec(spec("f", "FILE", defaults="/tmp/x")) == [
        "input 'f': no `defaults` can be set for inputs of type 'FILE'"
    ]
    assert check_input_spec(spec("e", "ENUM")) == [
        "input 'e': 'values' is required for inputs of type ENUM"
    ]
    assert check_input_spec(spec("s", "SELECT")) == [
        "input 's': 'values' (or 'expression') is required for inputs of type SELECT"
    ]
    assert check_input_spec(spec("m", "MULTISELECT", values=["a"], options=["a"])) == [
        "input 'm': you can't define both `values` and `options`"
    ]


def test_check_input_spec_properties_and_their_types() -> None:
    assert check_input_spec(spec("i", "INT", mn=1)) == [
        "input 'i': unknown property 'mn' for type INT (did you mean 'min'?)"
    ]
    assert check_input_spec(spec("s", "STRING", min=1)) == [
        "input 's': unknown property 'min' for type STRING"
    ]
    assert check_input_spec(spec("i", "INT", min="ten", max=1.5)) == [
        "input 'i': `min` must be a 32-bit integer, not `ten`",
        "input 'i': `max` must be an integer",
    ]
    assert check_input_spec(spec("d", "DURATION", max="1 hour")) == [
        "input 'd': `max` is not a duration like PT5M: Text cannot be parsed to a Duration"
    ]
    assert check_input_spec(spec("t", "DATE", after="01/02/2023")) == [
        "input 't': invalid `after`: Text '01/02/2023' could not be parsed at index 0"
    ]
    problems = check_input_spec(spec("s", "STRING", validator="a(b"))
    assert len(problems) == 1 and problems[0].startswith("input 's': invalid 'validator' regex")
    assert check_input_spec(spec("b", "BOOLEAN", required="no")) == [
        "input 'b': 'required' must be true or false"
    ]


def test_check_input_spec_bad_static_defaults() -> None:
    assert check_input_spec(spec("i", "INT", defaults="abc")) == [
        "input 'i': invalid `defaults` for type INT: For input string: \"abc\""
    ]
    assert check_input_spec(spec("d", "DATETIME", defaults="2024-01-01")) == [
        "input 'd': invalid `defaults` for type DATETIME: "
        "Text '2024-01-01' could not be parsed at index 10"
    ]


def test_check_input_ids() -> None:
    specs = [
        spec("a", "STRING"),
        spec("a", "INT"),
        spec("a.b", "STRING"),
        spec("bad id", "STRING"),
        spec("x.", "STRING"),
    ]
    assert check_input_ids(specs) == [
        "Duplicate input with name [a]",
        "input 'a.b' conflicts with input 'a': 'a' cannot be both a value and the parent of 'a.b'",
        "input 'bad id': the id must match ^[a-zA-Z0-9][.a-zA-Z0-9_-]*",
        "input 'x.': a dotted id cannot have an empty part",
    ]
    assert check_input_ids([spec("a.b", "STRING"), spec("a.c", "INT")]) == []


def test_check_input_ids_depends_on_graph() -> None:
    specs = [
        spec("a", "STRING", dependsOn={"inputs": ["b"]}),
        spec("b", "STRING", dependsOn={"inputs": ["a"]}),
        spec("c", "STRING", dependsOn={"inputs": ["nope"]}),
    ]
    assert check_input_ids(specs) == [
        "Cycle dependency detected for input with id 'a': [a, b]",
        "Cycle dependency detected for input with id 'b': [b, a]",
        "Input with id 'c' depends on a non-existent input 'nope'.",
    ]


def test_check_output_spec() -> None:
    assert check_output_spec(out("o", "STRING", description="d", displayName="O")) == []
    assert check_output_spec(out("o", "STRNG", vale=1)) == [
        "flow output 'o': unknown type 'STRNG' (did you mean 'STRING'?)",
        "flow output 'o': unknown property 'vale' (did you mean 'value'?)",
    ]
    assert check_output_spec(out("-o", "INT")) == [
        "flow output '-o': the id must match ^[a-zA-Z0-9][.a-zA-Z0-9_-]*"
    ]
