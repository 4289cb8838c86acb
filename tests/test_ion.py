"""kflow.ion writes what ion-java writes for Kestra's rows and reads Ion text back."""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from kflow import ion
from kflow.ion import AnnotatedStr, IonError

PARIS_WINTER = timezone(timedelta(hours=1))


# --------------------------------------------------------------------------- writing


def test_kestra_row_written_compactly_in_key_order():
    row = {
        "id": 1,
        "name": "john",
        "tags": ["a", "b"],
        "price": 1.5,
        "amount": Decimal("12.50"),
        "ok": True,
        "none": None,
        "at": datetime(2024, 1, 1, 10, 0, tzinfo=UTC),
        "day": date(2024, 1, 1),
        "t": AnnotatedStr("10:00:00", "LocalTime"),
        "nested": {"x": [1, {"y": None}]},
    }
    assert ion.dumps_line(row) == (
        '{id:1,name:"john",tags:["a","b"],price:1.5e0,amount:12.50,ok:true,none:null,'
        'at:2024-01-01T10:00:00.000Z,day:2024-01-01T,t:LocalTime::"10:00:00",'
        "nested:{x:[1,{y:null}]}}"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5e0"),
        (2.0, "2e0"),
        (11.0, "11e0"),
        (-3.25, "-3.25e0"),
        (0.001, "0.001e0"),
        (1234567.0, "1234567e0"),
        (12345678.0, "1.2345678E7"),
        (1e10, "1.0E10"),
        (1.5e-5, "1.5E-5"),
        (5e-324, "4.9E-324"),  # Double.toString (kflow.java.numbers): two digits at least
        (0.1 + 0.2, "0.30000000000000004e0"),
        (1.100000023841858, "1.100000023841858e0"),
        (0.0, "0e0"),
        (-0.0, "-0e0"),
        (math.inf, "+inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
    ],
)
def test_floats_as_ion_java_prints_them(value, text):
    assert ion.dumps(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("5", "5."),
        ("12.50", "12.50"),
        ("-1.5", "-1.5"),
        ("0.05", "0.05"),
        ("0.00", "0.00"),
        ("0.000001", "0.000001"),
        ("0.0000001", "1d-7"),
        ("5E-9", "5d-9"),
        ("1.2E+4", "12d3"),
        ("123456789012345678901234567890.123", "123456789012345678901234567890.123"),
    ],
)
def test_decimals_as_ion_java_prints_them(value, text):
    assert ion.dumps(Decimal(value)) == text


def test_string_escapes_match_ion_java():
    text = 'a"b\\c\n\t\r\x00\x07\x1f\x7f\x85 é€😀'
    assert ion.dumps(text) == '"a\\"b\\\\c\\n\\t\\r\\0\\a\\x1f\\x7f\\x85 é€😀"'


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("plain_1", "plain_1"),
        ("$dollar", "$dollar"),
        ("my field", "'my field'"),
        ("null", "'null'"),
        ("true", "'true'"),
        ("nan", "'nan'"),
        ("$12", "'$12'"),
        ("", "''"),
        ("1st", "'1st'"),
        ("é", "'é'"),
        ("it's", "'it\\'s'"),
    ],
)
def test_field_names_quoted_only_when_needed(name, text):
    assert ion.dumps({name: 1}) == "{" + text + ":1}"


def test_time_values_as_kestra_writes_java_time_types():
    assert ion.dumps(datetime(2024, 1, 1, 11, 0, 0, 123456, tzinfo=PARIS_WINTER)) == (
        "2024-01-01T10:00:00.123Z"  # an Instant: UTC, milliseconds
    )
    assert ion.dumps(date(24, 3, 9)) == "0024-03-09T"
    assert ion.dumps(datetime(2024, 1, 1, 10, 0, 0, 500000)) == (
        'LocalDateTime::"2024-01-01T10:00:00.5"'
    )
    assert ion.dumps(time(10, 0)) == 'LocalTime::"10:00:00"'
    assert ion.dumps(time(10, 0, 0, 1000)) == 'LocalTime::"10:00:00.001"'
    assert ion.dumps(time(10, 0, tzinfo=PARIS_WINTER)) == 'OffsetTime::"10:00:00+01:00"'
    assert ion.dumps(AnnotatedStr("x", "a", "b c")) == "a::'b c'::\"x\""


def test_other_values():
    assert ion.dumps(b"ab\x00") == "{{YWIA}}"
    assert ion.dumps((1, 2)) == "[1,2]"
    assert ion.dumps(False) == "false"
    assert ion.dumps(-12) == "-12"
    assert ion.dumps(10**30) == "1000000000000000000000000000000"
    with pytest.raises(IonError, match="cannot write a set"):
        ion.dumps({1, 2})
    with pytest.raises(IonError, match="decimals cannot hold"):
        ion.dumps(Decimal("NaN"))


def test_write_rows_text_and_binary_skip_null_rows():
    rows = [{"a": 1}, None, {"a": "x\ny"}]
    text = io.StringIO()
    assert ion.write_rows(rows, text) == 2
    assert text.getvalue() == '{a:1}\n{a:"x\\ny"}\n'
    binary = io.BytesIO()
    assert ion.write_rows(iter(rows), binary) == 2
    assert binary.getvalue() == text.getvalue().encode()


def test_both_kestra_styles_come_from_the_one_writer():
    """FileSerde (storage files) and the Jackson mapper (the toIon filter) share one walk;
    the style picks what they print differently."""
    from kflow.expr import filters

    value = {"a": None, "f": 2.0, "big": 1e7, "d": Decimal("5E-9"), "s": "\x00\x85", "$1": [1]}
    assert (
        ion.dumps(value)
        == ion.dumps(value, ion.FILESERDE)
        == ("{a:null,f:2e0,big:1.0E7,d:5d-9,s:\"\\0\\x85\",'$1':[1]}")
    )
    assert ion.dumps(value, ion.MAPPER) == '{f:2.0e0,big:1.0e7,d:0.000000005,s:"\\x00\x85",$1:[1]}'
    # the toIon filter is the mapper style with the Pebble layer's Java views plugged in
    assert filters.to_ion(value) == ion.dumps(value, ion.MAPPER)
    assert filters.to_ion({1: {2, 3}, "t": date(2024, 1, 2)}) == "{'1':[2,3],t:\"2024-01-02\"}"
    with pytest.raises(IonError, match="cannot write a set"):
        ion.dumps({1: {2, 3}})


# --------------------------------------------------------------------------- reading

KESTRA_LINES = (
    '{id:1,name:"john",price:1.5e0,amount:12.50,count:5.,day:2024-01-01T,'
    'at:2024-01-01T10:00:00.000Z,t:LocalTime::"10:00:00",'
    'z:ZonedDateTime::"2024-01-01T10:00:00+01:00[Europe/Paris]",tags:["a","b"],n:null,'
    "'my field':true,blob:{{YWI=}}}\n"
    '{id:2,name:"\\xe9\\u20ac\\U0001F600",price:-0e0,amount:5d-9,n:nan}\n'
)


def test_reads_what_kestra_writes():
    first, second = ion.read_rows(io.StringIO(KESTRA_LINES))
    assert first == {
        "id": 1,
        "name": "john",
        "price": 1.5,
        "amount": Decimal("12.50"),
        "count": Decimal("5"),
        "day": date(2024, 1, 1),
        "at": datetime(2024, 1, 1, 10, 0, tzinfo=UTC),
        "t": "10:00:00",
        "z": "2024-01-01T10:00:00+01:00[Europe/Paris]",
        "tags": ["a", "b"],
        "n": None,
        "my field": True,
        "blob": b"ab",
    }
    assert list(first) == list(ion.loads(ion.dumps(first)))  # key order kept
    assert isinstance(first["t"], AnnotatedStr) and first["t"].annotation == "LocalTime"
    assert first["z"].annotations == ("ZonedDateTime",)
    assert second["name"] == "é€😀"
    assert math.copysign(1, second["price"]) == -1
    assert math.isnan(second["n"])


def test_kestra_lines_round_trip_byte_for_byte():
    lines = [
        '{brand:"Apple",avg_price:11e0}',
        '{a:1,b:"2",c:1.100000023841858e0,d:12.50,e:2024-01-01T,'
        'f:ZonedDateTime::"2024-01-01T10:00:00+01:00[Europe/Paris]",'
        'g:OffsetDateTime::"2024-01-01T08:00:00Z",h:LocalTime::"10:00:00.5",i:[1,2],'
        "j:{x:1,y:[2024-01-02T]},l:{a:1},o:{{YWI=}},p:0.05,q:1.0E10,'r s':null}",
    ]
    for line in lines:
        assert ion.dumps_line(ion.loads(line)) == line


def test_reads_binary_files_and_iterables():
    data = KESTRA_LINES.encode("utf-8")
    assert list(ion.read_rows(io.BytesIO(data))) == list(ion.read_rows(io.StringIO(KESTRA_LINES)))
    assert list(ion.read_rows(["{a:1}\n", b"{a:2}"])) == [{"a": 1}, {"a": 2}]


def test_reads_hand_written_ion():
    text = """$ion_1_0
    $ion_symbol_table::{symbols:["x"]}
    // a comment
    {
      a: 0x1F, b: -0b101, c: 1_000, /* inline */ d: null.int, e: 'quoted sym',
      f: '''long ''' '''string''', g: (+ 1 2), h: {{ "clob" }}, i: ann::1,
      j: 2024-01-01T10:00+01:00, k: 2024-01-01T10:00:00.123456789-00:00, l: 2024T,
      m: 2024-02T, n: 2024-03-04, o: +inf, p: -inf, q: 1.5E2, r: 1.5d2, s: 'a'::"b",
      "t u": [1, 2,], v: sym, w: {},
    }
    plain_symbol
    "top"
    """
    rows = list(ion.read_rows(io.StringIO(text)))
    assert rows == [
        {
            "a": 31,
            "b": -5,
            "c": 1000,
            "d": None,
            "e": "quoted sym",
            "f": "long string",
            "g": ["+", 1, 2],
            "h": b"clob",
            "i": 1,
            "j": datetime(2024, 1, 1, 9, 0, tzinfo=UTC),
            "k": datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC),
            "l": date(2024, 1, 1),
            "m": date(2024, 2, 1),
            "n": date(2024, 3, 4),
            "o": math.inf,
            "p": -math.inf,
            "q": 150.0,
            "r": Decimal("150"),
            "s": "b",
            "t u": [1, 2],
            "v": "sym",
            "w": {},
        },
        "plain_symbol",
        "top",
    ]
    assert rows[0]["j"].utcoffset() == timedelta(hours=1)
    assert rows[0]["s"].annotations == ("a",)


def test_limit_stops_reading():
    consumed = []

    def lines():
        for n in range(1_000_000):
            consumed.append(n)
            yield f"{{n:{n}}}\n"

    assert list(ion.read_rows(lines(), limit=3)) == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert len(consumed) == 3
    assert list(ion.read_rows(io.StringIO("{a:1}\n"), limit=0)) == []
    assert list(ion.read_rows(io.StringIO(""))) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{a:1}\n{a:}\n", "line 2, column 4"),
        ("{a:1}\n{a:1\n", "ends inside a struct"),
        ('{a:"x\ny"}\n', "a newline inside a double-quoted string"),
        ("{a:1 b:2}", "expected ',' or '}'"),
        ("[1 2]", "expected ',' or ']'"),
        ("{a:12-13}", "'12-13' is not a number or timestamp"),
        ("{a:2024-13-01T}", "not a number or timestamp"),
        ('"\\q"', "unknown escape"),
        ("{{!!}}", "not base64"),
        ("}", "unexpected character"),
    ],
)
def test_errors_say_where(text, message):
    with pytest.raises(IonError, match=message.replace("(", r"\(").replace("[", r"\[")):
        list(ion.read_rows(io.StringIO(text)))


def test_ion_error_is_a_value_error_for_format_sniffing():
    with pytest.raises(ValueError):
        ion.loads("{")
    with pytest.raises(IonError, match="expected one Ion value, found 2"):
        ion.loads("1 2")
    with pytest.raises(IonError, match="not UTF-8"):
        list(ion.read_rows(io.BytesIO(b'"\xff"\n')))


def test_to_jsonable_prints_like_kestra_json():
    row = ion.loads(
        "{a:12.50,b:5.,c:1d3,d:2024-01-01T,e:2024-01-01T10:00:00.000Z,"
        'f:2024-01-01T10:00:00.500+01:00,g:LocalTime::"10:00:00",h:{{YWI=}},i:nan,j:+inf,'
        "k:[1.5e0,null],l:{m:-inf}}"
    )
    assert ion.to_jsonable(row) == {
        "a": 12.5,
        "b": 5,
        "c": 1000,
        "d": "2024-01-01",
        "e": "2024-01-01T10:00:00Z",
        "f": "2024-01-01T09:00:00.500Z",
        "g": "10:00:00",
        "h": "YWI=",
        "i": "NaN",
        "j": "Infinity",
        "k": [1.5, None],
        "l": {"m": "-Infinity"},
    }
    assert type(ion.to_jsonable(row)["g"]) is str
    assert ion.to_jsonable(time(10, 0, 0, 250000, tzinfo=PARIS_WINTER)) == "10:00:00.25+01:00"
    assert ion.to_jsonable(datetime(2024, 1, 1, 10, 0)) == "2024-01-01T10:00:00"


def test_annotated_str_behaves_like_str():
    value = AnnotatedStr("10:00:00", "LocalTime")
    assert value == "10:00:00" and value.upper() == "10:00:00"
    assert repr(value) == "AnnotatedStr('10:00:00', 'LocalTime')"
    assert AnnotatedStr("x").annotation == ""
    import copy
    import json

    assert json.dumps({"t": value}) == '{"t": "10:00:00"}'
    assert copy.deepcopy(value).annotations == ("LocalTime",)


def test_needs_escape_matches_the_writer():
    # The serdes writers format whole blocks of strings at once when NEEDS_ESCAPE finds
    # nothing: it must flag exactly the strings that dumps() does not write as is.
    for ch in map(chr, range(0x00, 0x250)):
        text = f"a{ch}b"
        plain = ion.dumps(text) == f'"{text}"'
        assert (ion.NEEDS_ESCAPE.search(text) is None) == plain, repr(ch)
