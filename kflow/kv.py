"""The namespace KV store: Kestra's ``io.kestra.plugin.core.kv`` tasks and ``kv()``.

Entries live in the execution store (:class:`~kflow.store.base.ExecutionStore`: a table of
the home's SQLite file, or of the shared PostgreSQL database, so a team shares its keys),
per organisation and namespace. The store keeps rows; this module gives them Kestra's
meaning (``KVStore``, ``InternalKVStore``):

* keys match ``[a-zA-Z0-9][a-zA-Z0-9._-]*``, refused with Kestra's messages;
* a value keeps its type (``kvType``: STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION,
  JSON, as ``KVType.from`` names it): it is stored as the JSON text of its plain form and
  read back as that type (a DATETIME as an ``Instant``, a DURATION as a ``Duration``). As in
  Kestra, a string that reads as an ISO duration (``PT5M``, ``P1D``) comes back a Duration;
* an entry with a TTL expires at ``now + ttl``. An expired entry is not listed and
  ``overwrite: false`` writes over it; reading it deletes it and raises
  :class:`~kflow.errors.KVError` ``The requested value has expired`` (Kestra's
  ``ResourceExpiredException``), after which the key is simply absent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kflow.errors import KVError
from kflow.records import now
from kflow.store.base import KVRow
from kflow.taskoutputs import fixed_instant

if TYPE_CHECKING:
    from kflow.java.duration import Duration
    from kflow.store.base import ExecutionStore

__all__ = [
    "EXPIRED",
    "KV_TYPES",
    "NamespaceKV",
    "convert",
    "decode",
    "encode",
    "get_inherited",
    "is_expired",
    "kv_type_of",
    "parse_ttl",
    "plain",
    "validate_key",
    "validate_namespace",
]

KV_TYPES = ("STRING", "NUMBER", "BOOLEAN", "DATETIME", "DATE", "DURATION", "JSON")
EXPIRED = "The requested value has expired"

_KEY_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*")
_NAMESPACE_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
# InternalKVStore.DURATION_PATTERN: a stored string of this shape is read as a Duration
_DURATION_RE = re.compile(r"P(?=[^T]|T.)(?:\d*D)?(?:T(?=.)(?:\d*H)?(?:\d*M)?(?:\d*S)?)?")


def validate_key(key: Any) -> str:
    """``key`` when Kestra accepts it (``KVStore.validateKey``); KVError otherwise."""
    if key is None or key == "":
        raise KVError("Key cannot be null or empty")
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise KVError(
            "Key must start with an alphanumeric character (uppercase or lowercase) and can "
            "contain alphanumeric characters (uppercase or lowercase), dots (.), underscores "
            "(_), and hyphens (-) only."
        )
    return key


def validate_namespace(namespace: Any) -> str:
    """``namespace`` when it is a flow namespace (``company.team``); KVError otherwise."""
    if not isinstance(namespace, str) or not _NAMESPACE_RE.fullmatch(namespace):
        raise KVError(
            f"Invalid namespace '{namespace}'",
            hint="a namespace is lower-case letters, digits, '.', '_' and '-', e.g. company.team",
        )
    return namespace


def kv_type_of(value: Any) -> str:
    """The ``kvType`` of a value, as ``KVType.from`` names it (null: STRING)."""
    from kflow.java.duration import Duration
    from kflow.java.isotime import Instant, LocalDate, LocalDateTime, OffsetDateTime

    if value is None or isinstance(value, str):
        return "STRING"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float | Decimal):
        return "NUMBER"
    if isinstance(value, Instant | LocalDateTime | OffsetDateTime | datetime):
        return "DATETIME"
    if isinstance(value, LocalDate | date):
        return "DATE"
    if isinstance(value, Duration | timedelta):
        return "DURATION"
    return "JSON"


def plain(value: Any) -> Any:
    """``value`` as JSON values, the way Jackson writes a task output: Java time values
    as their ISO text, numbers and maps as plain ones."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        from kflow.jsonvalues import to_json_value

        return to_json_value(value)
    to_text = getattr(value, "json", None)
    if callable(to_text):  # kflow.java's Instant, LocalDate, Duration...
        return to_text()
    if isinstance(value, datetime):
        return fixed_instant(value) if value.tzinfo is not None else value.isoformat()
    from kflow.jsonvalues import to_json_value

    return to_json_value(value)


def convert(value: Any, kv_type: str) -> Any:
    """Set's ``kvType``: a rendered string turned into the type (other values are kept,
    as in Kestra). DATE, like DATETIME, wants an instant (``Instant.parse``)."""
    kv_type = str(kv_type).upper()
    if kv_type not in KV_TYPES:
        raise KVError(f"Unknown kvType '{kv_type}'", hint=f"use one of {', '.join(KV_TYPES)}")
    if not isinstance(value, str) or kv_type == "STRING":
        return value
    if kv_type == "BOOLEAN":
        return value.lower() == "true"  # Boolean.parseBoolean
    if kv_type in ("DATETIME", "DATE"):
        from kflow.java.isotime import DateTimeParseError, parse_instant

        try:
            return parse_instant(value)
        except DateTimeParseError as exc:
            raise KVError(str(exc)) from None
    if kv_type == "DURATION":
        from kflow.java.duration import parse
        from kflow.java.isotime import DateTimeParseError

        try:
            return parse(value)
        except DateTimeParseError as exc:
            raise KVError(str(exc)) from None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise KVError(f"Cannot read '{value[:80]}' as {kv_type}: {exc}") from None
    if kv_type == "NUMBER" and (isinstance(parsed, bool) or not isinstance(parsed, int | float)):
        raise KVError(f"Cannot read '{value[:80]}' as NUMBER: not a number")
    return parsed


def parse_ttl(value: Any) -> Duration | None:
    """A ``ttl`` property (``PT1H``, or a number of seconds as Jackson reads it); None
    when absent. A negative one is refused."""
    from kflow.java.duration import Duration, parse
    from kflow.java.isotime import DateTimeParseError

    if value is None or value == "":
        return None
    if isinstance(value, Duration):
        ttl = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ttl = Duration(round(value * 1_000_000_000))
    else:
        try:
            ttl = parse(str(value).strip())
        except DateTimeParseError:
            raise KVError(
                f"ttl '{value}' is not a duration", hint="write it like PT1H, PT30M or P7D"
            ) from None
    if ttl.nanos < 0:
        raise KVError("ttl cannot be negative")
    return ttl


def encode(value: Any) -> tuple[str, str]:
    """``(kvType, JSON text)`` of a value to store."""
    try:
        text = json.dumps(plain(value), allow_nan=False)
    except ValueError as exc:
        raise KVError(f"cannot store this value in the KV store: {exc}") from None
    return kv_type_of(value), text


def decode(kv_type: str, text: str) -> Any:
    """The stored value back with its type."""
    value = json.loads(text)
    if not isinstance(value, str):
        return value
    from kflow.java.isotime import DateTimeParseError

    try:
        if kv_type == "DATETIME":
            from kflow.java.isotime import parse_instant

            return parse_instant(value)
        if kv_type == "DATE":
            from kflow.java.isotime import parse_local_date

            return parse_local_date(value)
        if kv_type == "DURATION" or _DURATION_RE.fullmatch(value):
            from kflow.java.duration import parse

            return parse(value)
    except DateTimeParseError:
        pass  # stored by something else (a local date-time): the text as it is
    return value


def is_expired(row: KVRow, moment: str | None = None) -> bool:
    """True once the entry's expiration date has passed (``moment``: now)."""
    return row.expires_at is not None and row.expires_at <= (moment or fixed_instant(now()))


class NamespaceKV:
    """The KV store of one namespace (Kestra's ``runContext.namespaceKv(ns)``)."""

    def __init__(self, store: ExecutionStore, namespace: str) -> None:
        self.store = store
        self.namespace = validate_namespace(namespace)

    def get(self, key: str) -> Any:
        """The typed value; KeyError when absent, KVError when it expired (the entry is
        deleted then, as Kestra does)."""
        row = self.store.kv_get(self.namespace, validate_key(key))
        if row is None:
            raise KeyError(key)
        if is_expired(row):
            from kflow.errors import StoreError

            try:
                self.store.kv_delete(self.namespace, key)
            except StoreError:
                pass  # a read-only home: expired all the same
            raise KVError(EXPIRED)
        return decode(row.type, row.value)

    def put(
        self,
        key: str,
        value: Any,
        *,
        ttl: Duration | None = None,
        overwrite: bool = True,
        description: str | None = None,
    ) -> None:
        """Store the value; KVError when the key exists (and has not expired) and
        ``overwrite`` is False."""
        validate_key(key)
        kv_type, text = encode(value)
        moment = now()
        expires = None
        if ttl is not None:
            try:
                expires = fixed_instant(moment + timedelta(microseconds=ttl.nanos // 1000))
            except OverflowError:
                raise KVError(
                    f"ttl {ttl} is too long", hint="give a TTL under 9999 years"
                ) from None
        stamp = fixed_instant(moment)
        row = KVRow(self.namespace, key, kv_type, text, description, stamp, stamp, expires)
        if not self.store.kv_set(row, overwrite=overwrite, now=stamp):
            raise KVError(
                f"Cannot set value for key '{key}'. Key already exists and `overwrite` is set "
                "to `false`."
            )

    def delete(self, key: str) -> bool:
        """Remove the key; False when there was none."""
        return self.store.kv_delete(self.namespace, validate_key(key))

    def entries(self, *, include_expired: bool = False) -> list[KVRow]:
        """The namespace's entries, by key (expired ones only when asked)."""
        rows = self.store.kv_list(self.namespace)
        if include_expired:
            return rows
        moment = fixed_instant(now())
        return [r for r in rows if not is_expired(r, moment)]

    def keys(self, prefix: str | None = None) -> list[str]:
        """The keys that have not expired, starting with ``prefix`` when given."""
        return [r.key for r in self.entries() if prefix is None or r.key.startswith(prefix)]

    def purge(self, keys: list[str]) -> int:
        """Remove these keys; how many there were."""
        return self.store.kv_purge(self.namespace, keys)


def get_inherited(store: ExecutionStore, namespace: str, key: str) -> Any:
    """The value in ``namespace`` or, when absent there, in its nearest parent namespace
    that has it (``company.team`` → ``company``), as Kestra's ``kv()`` and Get search;
    KeyError when none has it. An expired entry stops the search (KVError)."""
    parts = namespace.split(".")
    for i in range(len(parts), 0, -1):
        try:
            return NamespaceKV(store, ".".join(parts[:i])).get(key)
        except KeyError:
            continue
    raise KeyError(key)
