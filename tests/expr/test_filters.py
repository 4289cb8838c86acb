"""Kestra filters, functions and tests: the case table through the engine, plus direct tests.

``cases_filters.yaml`` holds templates with the exact string Kestra prints (most of them
rendered by the pebble-oracle); they run through :func:`kflow.expr.render`. The direct tests
below call the Python functions without the template engine (Java's own behaviour:
``tests/java``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from kflow.errors import ExpressionError, KflowError, StorageError
from kflow.expr import filters as F
from kflow.expr import functions as Fn
from kflow.expr.services import KflowServices
from kflow.expr.values import BigInteger, Float, HashMap, Long, to_string
from kflow.java import time as java_time

CASES_FILE = Path(__file__).with_name("cases_filters.yaml")
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]


class FakeServices:
    """An in-memory :class:`KflowServices` built from a case's ``services`` mapping."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.namespace: str = spec.get("namespace", "company.team")
        self.files: dict[str, str] = dict(spec.get("files", {}))
        self.secrets: dict[str, str] = dict(spec.get("secrets", {}))
        self.store: dict[str, dict[str, Any]] = dict(spec.get("kv", {}))
        self.logs: list[dict[str, Any]] = list(spec.get("logs", []))

    def read_file(self, uri: str) -> bytes:
        if uri not in self.files:
            raise StorageError(f"File not found: {uri}")
        return self.files[uri].encode("utf-8")

    def file_size(self, uri: str) -> int:
        return len(self.read_file(uri))

    def file_exists(self, uri: str) -> bool:
        return uri in self.files

    def secret(self, key: str) -> str:
        if key not in self.secrets:
            raise KflowError(f"Cannot find secret for key '{key}'.")
        return self.secrets[key]

    def kv(self, key: str, namespace: str) -> Any:
        return self.store.get(namespace, {})[key]

    def error_logs(self) -> list[dict[str, Any]]:
        return self.logs


def _renderer() -> Callable[..., str] | None:
    try:
        module = importlib.import_module("kflow.expr")
    except ImportError:
        return None
    return getattr(module, "render", None)


# ---------------------------------------------------------------------------------------------
# the case table, through the template engine


def test_case_table_is_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 120
    for case in CASES:
        assert case["template"] and case["source"]
        assert ("expect" in case) != ("error" in case), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    render = _renderer()
    assert render is not None, "kflow.expr.render must exist"
    context: dict[str, Any] = dict(case.get("context") or {})
    if "services" in case:
        context["_kflow"] = FakeServices(case["services"])
    if "error" in case:
        with pytest.raises(ExpressionError) as info:
            render(case["template"], context)
        if case["error"] is not True:
            assert case["error"] in str(info.value)
    else:
        assert render(case["template"], context) == case["expect"]


# ---------------------------------------------------------------------------------------------
# registries


def test_registries_hold_kestra_names() -> None:
    for name in (
        "abbreviate",
        "date",
        "dateAdd",
        "jq",
        "numberFormat",
        "replace",
        "split",
        "timestampMicro",
        "toIon",
        "yaml",
        "regexExtract",
        "distinct",
        "string",
    ):
        assert name in F.FILTERS
    assert set(F.TESTS) == {"null", "empty", "even", "odd", "iterable", "map", "json"}
    for name in (
        "range",
        "now",
        "fromJson",
        "json",
        "yaml",
        "read",
        "kv",
        "secret",
        "currentEachOutput",
        "printContext",
        "fetchContext",
        "nanoId",
        "ksuid",
    ):
        assert name in Fn.FUNCTIONS
    for name in ("default", "defined", "render", "renderOnce", "block"):
        assert name not in F.FILTERS and name not in Fn.FUNCTIONS and name not in F.TESTS


def test_context_functions_are_flagged() -> None:
    flagged = {n for n, f in Fn.FUNCTIONS.items() if getattr(f, "needs_context", False)}
    assert flagged == {
        "currentEachOutput",
        "printContext",
        "fetchContext",
        "read",
        "fileURI",
        "fileSize",
        "fileExists",
        "isFileEmpty",
        "secret",
        "kv",
        "errorLogs",
    }


def test_bad_arguments_become_expression_errors() -> None:
    with pytest.raises(ExpressionError, match="'abs' filter"):
        F.FILTERS["abs"](1, 2)
    with pytest.raises(ExpressionError, match="'date' filter"):
        F.FILTERS["date"]("2024-01-01", zone="UTC")
    with pytest.raises(ExpressionError, match="'uuid' function"):
        Fn.FUNCTIONS["uuid"](1)


def test_jq_is_imported_lazily() -> None:
    import subprocess
    import sys

    code = "import sys, kflow.expr.filters, kflow.expr.functions; print('jq' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# filters, called directly


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: F.abbreviate("abcdef", Long(6)), "abc..."),
        (lambda: F.capitalize("  hello WORLD"), "  Hello WORLD"),
        (lambda: F.title("foo-bar baz"), "Foo-bar Baz"),
        (lambda: F.trim("\x01 a \x00"), "a"),
        (lambda: F.length("😀"), 2),
        (lambda: F.join([1, None, [2, 3]], ","), "1,null,[2, 3]"),
        (lambda: F.split("a.b.c", "."), []),
        (lambda: F.split("a,b,,", ",", Long(-1)), ["a", "b", "", ""]),
        (lambda: F.urlencode("a b~"), "a+b%7E"),
        (lambda: F.urldecode("a+b%C3%A9"), "a bé"),
        (lambda: F.replace("a1b2", {"(\\d)": "<$1>"}, True), "a<1>b<2>"),
        (lambda: F.number_format(1234567.891, "#,##0.00"), "1,234,567.89"),
        (lambda: F.number_format(Decimal("2.5"), "0"), "2"),
        (lambda: F.number_format(Long(-5), "0.0;(0.0)"), "(5.0)"),
        (lambda: F.slugify("Café au lait"), "cafe-au-lait"),
        (lambda: F.substring_after_last("a.b.c", "."), "c"),
        (lambda: F.keys({"b": 1, "a": 2}), ["b", "a"]),
        (lambda: F.flatten([1, [2, [3]]]), [1, 2, [3]]),
        (lambda: F.chunk([1, 2, 3], Long(2)), [[1, 2], [3]]),
        (lambda: F.indent("a\nb", Long(2), "-"), "a\n--b"),
        (lambda: F.nindent("a", Long(1)), "\n a"),
        (lambda: F.escape_char("it's", "shell"), "it'\\''s"),
        (lambda: F.string([1, "a"]), "[1, a]"),
        (lambda: F.regex_extract("k=v", "(\\w)=(\\w)", Long(2)), "v"),
        (lambda: F.distinct([1, 1, "a", None, None]), [1, "a", None]),
        (lambda: F.jq_('{"data": [1, 2, 3]}', ".data"), [[1, 2, 3]]),
        (lambda: F.jq_({"a": {"b": "x"}}, ".a.b"), ["x"]),
        (lambda: F.to_ion({"a": [1, 1.5, "x"], "b c": None}), '{a:[1,1.5e0,"x"]}'),
        (lambda: F.yaml_({"a": [1, {"b": "x y"}]}), "a:\n - 1\n -\n  b: x y\n"),
        (lambda: F.yaml_("two\nlines"), "|-\n  two\n  lines\n"),
        (lambda: F.yaml_(["yes", "-", " x"]), " - \"yes\"\n - '-'\n - ' x'\n"),
    ],
)
def test_filter_direct(call: Callable[[], Any], expected: Any) -> None:
    assert call() == expected


def test_filters_return_new_lists() -> None:
    items = [3, 1, 2]
    assert F.sort(items) == [1, 2, 3] and F.rsort(items) == [3, 2, 1]
    assert F.reverse(items) == [2, 1, 3]
    assert items == [3, 1, 2]


def test_merge_builds_a_java_hashmap() -> None:
    merged = F.merge({"b": 1, "a": 2}, {"c": 3})
    assert isinstance(merged, HashMap) and list(merged) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("text", "value", "java_class"),
    [
        ("12.3", 12.3, "java.lang.Float"),
        ("1.1234567891", 1.1234567891, "java.lang.Double"),
        ("2147483648", 2147483648, "java.lang.Long"),
        ("9223372036854775808", 9223372036854775808, "java.math.BigInteger"),
        ("010", 8, "java.lang.Integer"),
        ("0x1F", 31, "java.lang.Integer"),
        ("1E400", Decimal("1E400"), "java.math.BigDecimal"),
    ],
)
def test_number_picks_java_types(text: str, value: Any, java_class: str) -> None:
    result = F.number(text)
    assert result == pytest.approx(value) if isinstance(value, float) else result == value
    assert F.class_name(result) == java_class


def test_number_explicit_types() -> None:
    assert isinstance(F.number("12", "LONG"), Long)
    assert isinstance(F.number("12", "FLOAT"), Float)
    assert isinstance(F.number("12", "BIGINTEGER"), BigInteger)
    assert F.number("12.50", "BIGDECIMAL") == Decimal("12.50")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.abbreviate("abc", 4), "cannot be cast to class java.lang.Long"),
        (lambda: F.chunk([1], 1), "cannot be cast to class java.lang.Long"),
        (lambda: F.first({"a": 1}), "java.util.Collection"),
        (lambda: F.sort([Long(1), 1.5]), "cannot be cast to class"),
        (lambda: F.slice_([1, 2], Long(3)), "fromIndex(3) > toIndex(2)"),
        (lambda: F.base64decode("a b"), "correctly Base64 encoded"),
        (lambda: F.urldecode("%zz"), "Illegal hex characters"),
        (lambda: F.number("abc"), "abc is not a valid number."),
        (lambda: F.escape_char("x", "triple"), "either 'single', 'double', or 'shell'"),
        (lambda: F.jq_("not json", ".a"), "Unable to parse jq value 'not json'"),
        (lambda: F.regex_replace("x", "(", "y"), "Invalid regular expression"),
        (lambda: F.is_even(2.0), "java.lang.Long"),
        (lambda: F.is_json(None), 'argument "content" is null'),
    ],
)
def test_filter_errors(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        call()
    assert message in str(info.value)


def test_json_test_follows_jackson() -> None:
    assert [F.is_json(s) for s in ("{}", "", "1 2", "abc", "1abc", "NaN", "[1]]")] == [
        True,
        True,
        True,
        False,
        False,
        False,
        True,
    ]


# ---------------------------------------------------------------------------------------------
# Java values into dates (the java.time translator itself: tests/java/test_time.py)


def test_to_date_integer_is_not_a_long() -> None:
    utc = java_time.zone_of(None)
    assert F.to_date(Long(0), utc).epoch_second == 0
    with pytest.raises(ExpressionError, match="java.lang.Integer"):
        F.to_date(0, utc)


def test_timestamps() -> None:
    value = "2013-09-08T16:19:12.123456+01:00"
    assert F.timestamp(value) == 1378653552 and isinstance(F.timestamp(value), Long)
    assert F.timestamp_milli(value) == 1378653552123
    assert F.timestamp_micro(value) == "1378653552123456"
    assert F.timestamp_nano(value) == "1378653552123456000"


# ---------------------------------------------------------------------------------------------
# functions, called directly


def test_range_and_min_max() -> None:
    assert Fn.range_(Long(1), Long(3)) == [1, 2, 3]
    assert all(isinstance(x, Long) for x in Fn.range_(Long(1), Long(3)))
    assert Fn.range_("a", "c") == ["a", "b", "c"]
    assert Fn.max_(1, 5.5, None, 3) == 5.5 and Fn.min_(None, 2, 1) == 1


def test_now_and_ids() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", Fn.now())
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", Fn.uuid()
    )
    assert re.fullmatch(r"[0-9A-Za-z]{1,22}", Fn.id_())
    assert len(Fn.ksuid()) == 27 and len(Fn.nano_id()) == 21
    assert Fn.nano_id(Long(4), "xy") in {
        a + b + c + d for a in "xy" for b in "xy" for c in "xy" for d in "xy"
    }
    assert 5 <= Fn.random_int(Long(5), Long(7)) < 7


def test_from_json_and_yaml_types() -> None:
    assert Fn.from_json('{"a": 1, "b": 1.5, "c": 12345678901}') == {
        "a": 1,
        "b": 1.5,
        "c": 12345678901,
    }
    assert isinstance(Fn.from_json("123456789012345678901234567890"), BigInteger)
    with pytest.raises(ExpressionError, match="Invalid json"):
        Fn.from_json("NaN")
    assert Fn.parse_yaml("a: 2024-01-01\nb: 1e3\n1: x\nc: 1:30") == {
        "a": "2024-01-01",
        "b": 1000.0,
        "1": "x",
        "c": "1:30",
    }


def test_current_each_output() -> None:
    context = {
        "parents": [{"taskrun": {"value": "inner"}}, {"taskrun": {"value": "outer"}}],
        "taskrun": {"value": "1"},
    }
    outputs = {"outer": {"inner": {"1": {"value": "ok"}}}}
    assert Fn.current_each_output(context, outputs) == {"value": "ok"}


def test_print_context_hides_services() -> None:
    printed = Fn.print_context({"b": 1, "a": 2, "_kflow": object()})
    assert isinstance(printed, HashMap) and to_string(printed) == '{"a":2,"b":1}'


def test_service_functions() -> None:
    services = FakeServices(
        {
            "namespace": "company.team",
            "files": {"kestra:///company/team/_files/a.txt": "hi"},
            "kv": {"company": {"k": "v"}},
            "secrets": {"S": "x"},
        }
    )
    assert isinstance(services, KflowServices)
    context = {"flow": {"namespace": "company.team"}, "_kflow": services}
    assert Fn.read(context, "a.txt") == "hi"
    assert Fn.file_uri(context, "/a.txt") == "kestra:///company/team/_files/a.txt"
    assert Fn.file_size(context, "a.txt") == 2 and Fn.file_exists(context, "b.txt") is False
    assert Fn.kv(context, "k") == "v"
    assert Fn.kv(context, "missing", errorOnMissing=False) is None
    assert Fn.secret(context, "S") == "x"
    with pytest.raises(ExpressionError, match="read\\(\\): File not found"):
        Fn.read(context, "kestra:///company/team/_files/none.txt")
    with pytest.raises(ExpressionError, match=r"kv\(\) needs an execution: use --exec"):
        Fn.kv({"flow": {"namespace": "n"}}, "k")
