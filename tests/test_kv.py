"""kflow.kv: Kestra's key rules, kvType conversions, typed round trips and TTL, on the
SQLite store of the test's kflow home."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kflow import kv
from kflow.api import open_home
from kflow.errors import KVError
from kflow.java.duration import Duration
from kflow.java.isotime import Instant, LocalDate, parse_instant, parse_local_date
from kflow.kv import NamespaceKV, convert, decode, encode, get_inherited, plain

KEY_MESSAGE = (
    "Key must start with an alphanumeric character (uppercase or lowercase) and can contain "
    "alphanumeric characters (uppercase or lowercase), dots (.), underscores (_), and hyphens "
    "(-) only."
)


@pytest.fixture
def home():
    with open_home() as h:
        yield h


@pytest.mark.parametrize("key", ["a", "A1", "my-key_2.v", "0abc"])
def test_valid_keys(key):
    assert kv.validate_key(key) == key


@pytest.mark.parametrize("key", ["-a", ".a", "a b", "a/b", "é", "_x"])
def test_invalid_keys_get_kestras_message(key):
    with pytest.raises(KVError) as exc:
        kv.validate_key(key)
    assert exc.value.message == KEY_MESSAGE
    assert exc.value.exit_code == 2


def test_empty_key():
    with pytest.raises(KVError, match="^Key cannot be null or empty$"):
        kv.validate_key("")


@pytest.mark.parametrize(
    ("text", "kv_type", "expected"),
    [
        ("123.45", "NUMBER", 123.45),
        ("1", "NUMBER", 1),
        ("true", "BOOLEAN", True),
        ("TRUE", "BOOLEAN", True),
        ("yes", "BOOLEAN", False),
        ("2023-05-02T01:02:03Z", "DATETIME", parse_instant("2023-05-02T01:02:03Z")),
        ("2023-05-02T01:02:03Z", "DATE", parse_instant("2023-05-02T01:02:03Z")),
        ("P1DT5S", "DURATION", Duration(86405 * 10**9)),
        ('[{"some":"value"},{"another":"value"}]', "JSON", [{"some": "value"}, {"another": "value"}]),
        ("plain", "STRING", "plain"),
    ],
)
def test_kv_type_conversions_as_in_kestras_set_test(text, kv_type, expected):
    assert convert(text, kv_type) == expected


def test_kv_type_only_converts_text():
    assert convert(5, "STRING") == 5  # Kestra converts a rendered String only
    assert convert({"a": 1}, "NUMBER") == {"a": 1}


@pytest.mark.parametrize(
    ("text", "kv_type", "message"),
    [
        ("abc", "NUMBER", "Cannot read 'abc' as NUMBER"),
        ('"5"', "NUMBER", "Cannot read '\"5\"' as NUMBER: not a number"),
        ("2021-09-01", "DATE", "Text '2021-09-01' could not be parsed at index 10"),
        ("5 minutes", "DURATION", "Text cannot be parsed to a Duration"),
        ("{x", "JSON", "Cannot read '{x' as JSON"),
        ("x", "TEXT", "Unknown kvType 'TEXT'"),
    ],
)
def test_bad_conversions(text, kv_type, message):
    with pytest.raises(KVError) as exc:
        convert(text, kv_type)
    assert exc.value.message.startswith(message), exc.value.message


@pytest.mark.parametrize(
    ("value", "kv_type", "stored"),
    [
        ("hello", "STRING", '"hello"'),
        (None, "STRING", "null"),
        (1, "NUMBER", "1"),
        (1.5, "NUMBER", "1.5"),
        (True, "BOOLEAN", "true"),
        (parse_instant("2021-09-01T01:02:03Z"), "DATETIME", '"2021-09-01T01:02:03Z"'),
        (parse_local_date("2021-09-01"), "DATE", '"2021-09-01"'),
        (Duration(5 * 10**9), "DURATION", '"PT5S"'),
        ({"hello": "world"}, "JSON", '{"hello": "world"}'),
        (["hello", "world"], "JSON", '["hello", "world"]'),
    ],
)
def test_encode_names_the_type_as_kestras_kvtype_from(value, kv_type, stored):
    assert encode(value) == (kv_type, stored)
    assert decode(kv_type, stored) == value


def test_a_string_that_reads_as_a_duration_comes_back_a_duration():
    # InternalKVStore.getValue: a stored String matching its DURATION_PATTERN
    assert decode("STRING", '"P1D"') == Duration(86400 * 10**9)
    assert decode("STRING", '"PT5M"') == Duration(300 * 10**9)
    assert decode("STRING", '"PT1.5S"') == "PT1.5S"  # the pattern takes no fraction
    assert decode("STRING", '"Paris"') == "Paris"


def test_plain_is_what_a_task_output_holds():
    value = {"at": parse_instant("2021-09-01T01:02:03Z"), "d": Duration(5 * 10**9), "n": [1]}
    assert plain(value) == {"at": "2021-09-01T01:02:03Z", "d": "PT5S", "n": [1]}


def test_typed_round_trip_through_the_store(home):
    store = NamespaceKV(home.store, "company.team")
    values = {
        "s": "text",
        "n": 42,
        "f": 2.5,
        "b": False,
        "dt": parse_instant("2024-01-31T10:00:00.123Z"),
        "d": parse_local_date("2024-01-31"),
        "dur": Duration(90 * 10**9),
        "j": {"a": [1, {"b": None}]},
    }
    for key, value in values.items():
        store.put(key, value)
    got = {key: store.get(key) for key in values}
    assert got == values
    assert isinstance(got["dt"], Instant) and isinstance(got["d"], LocalDate)
    assert [(r.key, r.type) for r in store.entries()] == [
        ("b", "BOOLEAN"), ("d", "DATE"), ("dt", "DATETIME"), ("dur", "DURATION"),
        ("f", "NUMBER"), ("j", "JSON"), ("n", "NUMBER"), ("s", "STRING"),
    ]  # fmt: skip


def test_overwrite_false(home):
    store = NamespaceKV(home.store, "company")
    store.put("k", "one")
    with pytest.raises(KVError) as exc:
        store.put("k", "two", overwrite=False)
    assert exc.value.message == (
        "Cannot set value for key 'k'. Key already exists and `overwrite` is set to `false`."
    )
    assert store.get("k") == "one"
    store.put("k", "three")
    assert store.get("k") == "three"


def test_ttl_sets_the_expiration_date(home, monkeypatch):
    from datetime import UTC, datetime

    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    monkeypatch.setattr(kv, "now", lambda: moment)
    store = NamespaceKV(home.store, "company")
    store.put("k", "v", ttl=kv.parse_ttl("PT1H"), description="for an hour")
    row = home.store.kv_get("company", "k")
    assert row.expires_at == "2025-01-02T04:04:05.000000Z"
    assert row.created_at == row.updated_at == "2025-01-02T03:04:05.000000Z"
    assert row.description == "for an hour"
    monkeypatch.setattr(kv, "now", lambda: moment + timedelta(minutes=59))
    assert store.get("k") == "v"
    assert store.keys() == ["k"]


def test_an_expired_key_is_not_listed_and_reading_it_deletes_it(home, monkeypatch):
    from datetime import UTC, datetime

    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    monkeypatch.setattr(kv, "now", lambda: moment)
    store = NamespaceKV(home.store, "company")
    store.put("short", 1, ttl=kv.parse_ttl("PT1M"))
    store.put("forever", 2)
    monkeypatch.setattr(kv, "now", lambda: moment + timedelta(minutes=1))
    assert store.keys() == ["forever"]
    assert [r.key for r in store.entries(include_expired=True)] == ["forever", "short"]
    store.put("short", 3, overwrite=False)  # an expired key does not block overwrite: false
    assert store.get("short") == 3
    store.put("short", 4, ttl=kv.parse_ttl("PT0S"))
    with pytest.raises(KVError, match="^The requested value has expired$"):
        store.get("short")
    with pytest.raises(KeyError):
        store.get("short")  # deleted by the read that found it expired


@pytest.mark.parametrize(
    ("ttl", "message"),
    [("-PT1S", "ttl cannot be negative"), ("1 hour", "ttl '1 hour' is not a duration")],
)
def test_bad_ttl(ttl, message):
    with pytest.raises(KVError, match=f"^{message}$"):
        kv.parse_ttl(ttl)


def test_ttl_as_seconds():
    assert kv.parse_ttl(90) == Duration(90 * 10**9)
    assert kv.parse_ttl(None) is None


def test_inheritance_searches_parent_namespaces(home):
    NamespaceKV(home.store, "company").put("k", "from company")
    NamespaceKV(home.store, "company.team").put("own", "mine")
    assert get_inherited(home.store, "company.team.sub", "k") == "from company"
    assert get_inherited(home.store, "company.team", "own") == "mine"
    NamespaceKV(home.store, "company.team").put("k", "nearer")
    assert get_inherited(home.store, "company.team.sub", "k") == "nearer"
    with pytest.raises(KeyError):
        get_inherited(home.store, "other", "k")


def test_namespaces_are_checked(home):
    with pytest.raises(KVError, match="^Invalid namespace 'Bad NS'$"):
        NamespaceKV(home.store, "Bad NS")
