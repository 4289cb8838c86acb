"""Kestra's filters and tests, as plain Python functions under their Kestra names.

Each filter mirrors its Pebble 3.2.2 / Kestra class (``P:extension/core/*Filter.java``,
``K:runners/pebble/filters/*.java``), including the Java type rules users hit in Kestra:
``abbreviate``, ``chunk``, ``indent`` and the ``dateAdd`` amount accept only a ``Long`` (a
literal), ``trim``/``capitalize`` only a String, and so on. Errors carry Kestra's wording.

Contract with the template engine (:mod:`kflow.expr.env`):

* ``FILTERS[name](value, *args, **kwargs)``: positional arguments in Kestra's order, named
  ones under Kestra's argument names (``date(format='yyyy', timeZone='UTC')``).
* ``TESTS[name](value, *args) -> bool``.
* ``default``, ``defined``, ``render``… need undefined handling and live in the engine.

Values follow :mod:`kflow.expr.values` (``Long`` for literals, ``HashMap`` for map
literals…). Unlike Pebble, ``sort``, ``rsort`` and ``reverse`` return a new list instead of
changing the input in place, so rendering never alters execution data.
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import inspect
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from kflow.errors import ExpressionError
from kflow.expr.values import (
    BigInteger,
    Entry,
    Float,
    Long,
    hash_map,
    is_integral,
    is_java_long,
    is_number,
    java_float,
    java_to_string,
    to_json,
)
from kflow.expr.values import java_class_name as _java_class_name
from kflow.java.exceptions import IllegalArgumentError
from kflow.java.numbers import NumberFormatError, decimal_format, parse_double, parse_float32
from kflow.java.regex import JavaRegexError
from kflow.java.regex import java_regex as _java_regex
from kflow.java.regex import java_replacement as _java_replacement_fn
from kflow.java.regex import split_on as _split_on

if TYPE_CHECKING:
    from kflow.java import time as java_time

# Kept light on purpose: the environment imports this module to build its filter table on
# every render, so what only some filters need (java.time and its zone data for the date
# filters, hashlib, the Ion writer) is imported inside those filters, on their first call.

FILTERS: dict[str, Callable[..., Any]] = {}
"""Kestra filter name → ``f(value, *args, **kwargs)``."""

TESTS: dict[str, Callable[..., bool]] = {}
"""Kestra test name → ``t(value, *args) -> bool``."""


_F = TypeVar("_F", bound=Callable[..., Any])


def _register(
    table: dict[str, Any], kind: str, name: str, needs_context: bool = False
) -> Callable[[_F], _F]:
    """Register ``fn`` under ``name``; bad argument lists become ``ExpressionError``s.

    The table holds a wrapper that checks the call against the signature first, so a
    wrong call reads like Pebble's error instead of a Python ``TypeError``; the module keeps
    the plain function for direct use.
    """

    def deco(fn: _F) -> _F:
        sig: inspect.Signature | None = None

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal sig
            if sig is None:  # on the first call: building the tables stays cheap
                sig = inspect.signature(fn)
            try:
                sig.bind(*args, **kwargs)
            except TypeError as e:
                raise ExpressionError(f"Invalid arguments for the '{name}' {kind}: {e}") from None
            return fn(*args, **kwargs)

        if needs_context:
            wrapper.needs_context = True  # type: ignore[attr-defined]
        table[name] = wrapper
        return fn

    return deco


def _filter(name: str) -> Callable[[_F], _F]:
    return _register(FILTERS, "filter", name)


def _test(name: str) -> Callable[[_F], _F]:
    return _register(TESTS, "test", name)


# ---------------------------------------------------------------------------------------------
# Java helpers


def _cast_error(value: Any, target: str) -> ExpressionError:
    """Java's ``ClassCastException`` text, which is what Kestra shows for a wrong type."""
    return ExpressionError(f"class {java_class_name(value)} cannot be cast to class {target}")


def _as_str(value: Any) -> str:
    """``(String) value``."""
    if isinstance(value, str):
        return value
    raise _cast_error(value, "java.lang.String")


def _as_long(value: Any, what: str = "") -> int:
    """``(Long) value``: only a Pebble literal (or a big number) is a Long in Kestra."""
    if value is None:
        raise ExpressionError(f"{what or 'argument'} is null")
    if is_java_long(value):
        return int(value)
    raise _cast_error(value, "java.lang.Long")


def _to_string(value: Any) -> str:
    """``value.toString()`` (``[1, 2]``, ``{a=b}``); null is Java's NullPointerException."""
    if value is None:
        raise ExpressionError('Cannot invoke "Object.toString()" because the value is null')
    return java_to_string(value)


def _java_ws(c: str) -> bool:
    """``Character.isWhitespace``: no-break spaces are not whitespace in Java."""
    if c in "\u00a0\u2007\u202f":
        return False
    return c in " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f" or unicodedata.category(c) in ("Zs", "Zl", "Zp")


def _title_char(c: str) -> str:
    """``Character.toTitleCase`` (one char in, one char out)."""
    t = c.title()
    return t if len(t) == 1 else c


def _u16(s: str) -> bool:
    """True when ``s`` has characters outside the BMP (Java counts them as 2 chars)."""
    return any(ord(c) > 0xFFFF for c in s)


def _u16_len(s: str) -> int:
    """``String.length()``: UTF-16 code units."""
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF) if _u16(s) else len(s)


def _u16_slice(s: str, start: int, end: int) -> str:
    """``String.substring(start, end)`` on UTF-16 indexes."""
    if not _u16(s):
        return s[start:end]
    units = s.encode("utf-16-le")
    return units[2 * start : 2 * end].decode("utf-16-le", errors="surrogatepass")


def _java_trim(s: str) -> str:
    """``String.trim``: strips every char ≤ U+0020."""
    i, j = 0, len(s)
    while i < j and s[i] <= " ":
        i += 1
    while j > i and s[j - 1] <= " ":
        j -= 1
    return s[i:j]


class CollectionView(list):  # type: ignore[type-arg]
    """What ``Map.keySet()``/``Map.values()`` return: a Collection that is not a List.

    It prints, iterates and counts like a list, but the filters that need a
    ``java.util.List`` (``sort``, ``reverse``, ``slice``, ``chunk``…) refuse it as Kestra does.
    """

    __slots__ = ("java_class",)

    def __init__(self, items: Iterable[Any], java_class: str) -> None:
        super().__init__(items)
        self.java_class = java_class


def java_class_name(value: Any) -> str | None:
    """:func:`kflow.expr.values.java_class_name`, knowing the key-set and values views."""
    if isinstance(value, CollectionView):
        return value.java_class
    return _java_class_name(value)


def _is_list(value: Any) -> bool:
    """A ``java.util.List`` (a key set or a values view is not one)."""
    return isinstance(value, list | tuple) and not isinstance(value, CollectionView)


# ---------------------------------------------------------------------------------------------
# Java regular expressions


@functools.lru_cache(maxsize=512)
def java_regex(pattern: str) -> re.Pattern[str]:
    """A ``java.util.regex`` pattern compiled by :mod:`kflow.java.regex`, with Kestra's
    error for an invalid one."""
    try:
        return _java_regex(pattern)
    except re.error as e:
        raise ExpressionError(f"Invalid regular expression '{pattern}': {e}") from None


def _java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    expand = _java_replacement_fn(replacement)

    def checked(m: re.Match[str]) -> str:
        try:
            return expand(m)
        except JavaRegexError as e:
            raise ExpressionError(str(e)) from None

    return checked


# ---------------------------------------------------------------------------------------------
# Pebble core filters


@_filter("abbreviate")
def abbreviate(value: Any, length: Any = None) -> Any:
    """Shorten to ``length`` chars ending in ``...`` (Pebble ``AbbreviateFilter``)."""
    if value is None:
        return None
    text = _as_str(value)
    max_width = _as_long(length, "length")
    if max_width < 0:
        raise ExpressionError("Invalid argument to abbreviate filter; must be greater than zero")
    size = _u16_len(text)
    if size < max_width or size <= 3:
        return text
    if max_width <= 3:
        return _u16_slice(text, 0, max_width)
    return _u16_slice(text, 0, max_width - 3) + "..."


@_filter("abs")
def abs_(value: Any) -> Any:
    """Absolute value keeping the Java number type."""
    if value is None:
        raise ExpressionError('Can not pass null value to "abs" filter.')
    if not is_number(value):
        raise ExpressionError("The 'abs' filter does require as input a number.")
    result = abs(value)
    if isinstance(value, Long | BigInteger | Float):
        return type(value)(result)
    return result


@_filter("base64encode")
def base64encode(value: Any) -> Any:
    """Base64 of ``toString()`` in UTF-8."""
    if value is None:
        return None
    return base64.b64encode(_to_string(value).encode("utf-8")).decode("ascii")


_B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")


@_filter("base64decode")
def base64decode(value: Any) -> Any:
    """Decode Base64 (Java's strict decoder: no whitespace, padding optional)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ExpressionError("This filter applies to String")
    data = value.rstrip("=")
    if not _B64_RE.match(value) or len(data) % 4 == 1 or len(value) - len(data) > 2:
        raise ExpressionError(
            "Please provide a correctly Base64 encoded string containing an UTF-8 string"
        )
    raw = base64.b64decode(data + "=" * (-len(data) % 4))
    return raw.decode("utf-8", errors="replace")


@_filter("capitalize")
def capitalize(value: Any) -> Any:
    """Title-case the first non-blank char; the rest is left as is (not ``str.capitalize``)."""
    if value is None:
        return None
    text = _as_str(value)
    for i, c in enumerate(text):
        if not _java_ws(c):
            return text[:i] + _title_char(c) + text[i + 1 :]
    return text


@_filter("title")
def title(value: Any) -> Any:
    """Title-case the char after each whitespace; other chars untouched (``foo-bar``)."""
    if value is None:
        return None
    text = _as_str(value)
    out: list[str] = []
    upper_next = True
    for c in text:
        if _java_ws(c):
            upper_next = True
        elif upper_next:
            c = _title_char(c)
            upper_next = False
        out.append(c)
    return "".join(out)


@_filter("first")
def first(value: Any) -> Any:
    """First char of a String, first item of a List (null when empty)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise ExpressionError("String index out of range: 0")
        return value[0]
    if isinstance(value, list | tuple | set | frozenset):
        return next(iter(value), None)
    raise _cast_error(value, "java.util.Collection")  # a Map is not a Collection


@_filter("last")
def last(value: Any) -> Any:
    """Last char of a String, last item of a List (null when empty)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value:
            raise ExpressionError("String index out of range: -1")
        return value[-1]
    if isinstance(value, list | tuple):
        return value[-1] if value else None
    if isinstance(value, set | frozenset):
        result = None
        for item in value:
            result = item
        return result
    raise _cast_error(value, "java.util.Collection")


@_filter("join")
def join(value: Any, separator: Any = None) -> Any:
    """Join items with Java ``String.valueOf`` (``null``, ``[1, 2]``, ``{a=b}``)."""
    if value is None:
        return None
    if separator is not None and not isinstance(separator, str):
        raise _cast_error(separator, "java.lang.String")
    if not isinstance(value, list | tuple | set | frozenset):
        raise ExpressionError(
            "The 'join' filter expects that the input is either a collection or an array."
        )
    return (separator or "").join(java_to_string(x) for x in value)


@_filter("length")
def length(value: Any) -> int:
    """Size of a String (UTF-16 units), collection or map; 0 for anything else."""
    if value is None:
        return 0
    if isinstance(value, str):
        return _u16_len(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return len(value)
    return 0


@_filter("lower")
def lower(value: Any) -> Any:
    """``toString().toLowerCase()``."""
    return None if value is None else _to_string(value).lower()


@_filter("upper")
def upper(value: Any) -> Any:
    """``toString().toUpperCase()``."""
    return None if value is None else _to_string(value).upper()


def _table_size_for(n: int) -> int:
    cap = 1
    while cap < n:
        cap <<= 1
    return cap


@_filter("merge")
def merge(value: Any, items: Any = None) -> Any:
    """Merge lists (concatenate) or maps (a new ``HashMap``); the left side picks the type."""
    if value is None:
        if items is None:
            raise ExpressionError("The two arguments to be merged are null")
        return items
    if items is None:
        return value
    if isinstance(value, Mapping):
        if isinstance(items, Mapping):
            pairs = [*value.items(), *items.items()]
        elif _is_list(items):
            pairs = [*value.items(), *((x, x) for x in items)]
        else:
            raise ExpressionError(
                "Currently, only Maps and Lists can be merged with a Map. Arg2: "
                f"{java_class_name(items)}"
            )
        cap = _table_size_for(len(value) + len(items) + 16)
        return hash_map(pairs, size_hint=cap * 3 // 4)
    if _is_list(value):
        if isinstance(items, Mapping):
            return [*value, *(Entry(k, v) for k, v in items.items())]
        if _is_list(items):
            return [*value, *items]
        raise ExpressionError(
            "Currently, only Maps and Lists can be merged with a List. Arg2: "
            f"{java_class_name(items)}"
        )
    raise ExpressionError("The object being filtered is not a Map/List/Array")


@_filter("replace")
def replace(value: Any, replace_pairs: Any = None, regexp: Any = False) -> Any:
    """Kestra's ``replace``: each map pair in order, literal or Java ``replaceAll``.

    Works on Strings, and recursively on Maps (result is a ``HashMap``) and Lists, where
    every non-container leaf becomes a String.
    """
    if value is None:
        return None
    if replace_pairs is None:
        raise ExpressionError("The argument 'replace_pairs' is required.")
    if not isinstance(replace_pairs, Mapping):
        raise _cast_error(replace_pairs, "java.util.Map")
    if not isinstance(regexp, bool):
        raise _cast_error(regexp, "java.lang.Boolean")
    pairs = [(_to_string(k), _to_string(v)) for k, v in replace_pairs.items()]

    def on_string(text: str) -> str:
        for old, new in pairs:
            if regexp:
                text = java_regex(old).sub(_java_replacement(new), text)
            else:
                text = text.replace(old, new)
        return text

    return _map_leaves(value, on_string)


def _map_leaves(value: Any, on_string: Callable[[str], str]) -> Any:
    """Apply ``on_string`` to every leaf (as ``toString()``), maps becoming ``HashMap``s."""
    if isinstance(value, Mapping):
        return hash_map(((k, _map_leaves(v, on_string)) for k, v in value.items()), 12)
    if _is_list(value):
        return [_map_leaves(x, on_string) for x in value]
    return on_string(_to_string(value))


def _java_sort_key(items: list[Any]) -> Callable[[Any], Any]:
    """Validate ``Collections.sort`` natural order: one Comparable class, no nulls."""
    classes: set[str] = set()
    for item in items:
        if item is None:
            raise ExpressionError(
                'Cannot invoke "java.lang.Comparable.compareTo(Object)" because an element is null'
            )
        if isinstance(item, Mapping | list | tuple | set | Entry):
            raise _cast_error(item, "java.lang.Comparable")
        classes.add(java_class_name(item) or "")
    if len(classes) > 1:
        a, b = sorted(classes)[:2]
        raise ExpressionError(f"class {a} cannot be cast to class {b}")
    if classes == {"java.lang.String"}:
        return lambda s: s.encode("utf-16-be")  # Java compares UTF-16 code units
    return lambda x: x


@_filter("sort")
def sort(value: Any) -> Any:
    """Natural Java order (case-sensitive: ``C`` < ``a``); mixed types are an error."""
    if value is None:
        return None
    if not _is_list(value):
        raise ExpressionError("Unsupported input type for sort filter")
    items = list(value)
    return sorted(items, key=_java_sort_key(items))


@_filter("rsort")
def rsort(value: Any) -> Any:
    """Reverse natural order."""
    if value is None:
        return None
    if not _is_list(value):
        raise _cast_error(value, "java.util.List")
    items = list(value)
    return sorted(items, key=_java_sort_key(items), reverse=True)


@_filter("reverse")
def reverse(value: Any) -> Any:
    """Reverse a List (a String is an error in Pebble)."""
    if value is None:
        return None
    if not _is_list(value):
        raise _cast_error(value, "java.util.List")
    return list(reversed(value))


@_filter("slice")
def slice_(value: Any, fromIndex: Any = None, toIndex: Any = None) -> Any:  # noqa: N803
    """Sub-list or substring ``[fromIndex, toIndex)`` with Pebble's bounds errors."""
    if value is None:
        return None
    if fromIndex is None:
        fromIndex = 0
    elif not is_number(fromIndex):
        raise ExpressionError(
            f"Argument fromIndex must be a number. Actual type: {java_class_name(fromIndex)}"
        )
    start = int(fromIndex)
    if start < 0:
        raise ExpressionError("fromIndex must be greater than 0")
    if toIndex is not None and not is_number(toIndex):
        raise ExpressionError(
            f"Argument toIndex must be a number. Actual type: {java_class_name(toIndex)}"
        )
    if _is_list(value):
        size = len(value)
    elif isinstance(value, str):
        size = _u16_len(value)
    else:
        raise ExpressionError(
            "Slice filter can only be applied to String, List and array inputs. "
            f"Actual type was: {java_class_name(value)}"
        )
    if toIndex is not None:
        end = int(toIndex)
        if end > size:
            raise ExpressionError(f"toIndex must be smaller than input size: {size}")
        if start >= end:
            raise ExpressionError("toIndex must be greater than fromIndex")
    else:
        end = size
    if start > end:
        raise ExpressionError(f"fromIndex({start}) > toIndex({end})")
    if isinstance(value, str):
        return _u16_slice(value, start, end)
    return list(value[start:end])


def java_split(text: str, regex: str, limit: int = 0) -> list[str]:
    """``String.split(regex, limit)``, with Kestra's message for a bad regex."""
    return _split_on(java_regex(regex), text, limit)


@_filter("split")
def split(value: Any, delimiter: Any = None, limit: Any = None) -> Any:
    """Java ``String.split``: the delimiter is a regex (``split('.')`` gives ``[]``)."""
    if value is None:
        return None
    if delimiter is None:
        raise ExpressionError("missing delimiter parameter in split filter")
    text = _as_str(value)
    if limit is not None and not is_number(limit):
        raise _cast_error(limit, "java.lang.Number")
    return java_split(text, _as_str(delimiter), int(limit) if limit is not None else 0)


@_filter("trim")
def trim(value: Any) -> Any:
    """Java ``String.trim`` (every char ≤ U+0020)."""
    return None if value is None else _java_trim(_as_str(value))


_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*_")


@_filter("urlencode")
def urlencode(value: Any) -> Any:
    """``URLEncoder.encode(s, UTF-8)``: space → ``+``, keeps ``.-*_``, encodes ``~``."""
    if value is None:
        return None
    out: list[str] = []
    for c in _as_str(value):
        if c in _URL_SAFE:
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", errors="surrogatepass"))
    return "".join(out)


@_filter("urldecode")
def urldecode(value: Any) -> Any:
    """``URLDecoder.decode(s, UTF-8)``: ``+`` → space, ``%XX`` bytes as UTF-8."""
    if value is None:
        return None
    text = _as_str(value)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "+":
            out.append(" ")
            i += 1
        elif c == "%":
            raw = bytearray()
            while i < n and text[i] == "%":
                if i + 2 >= n:
                    raise ExpressionError("URLDecoder: Incomplete trailing escape (%) pattern")
                pair = text[i + 1 : i + 3]
                try:
                    raw.append(int(pair, 16))
                except ValueError:
                    raise ExpressionError(
                        "URLDecoder: Illegal hex characters in escape (%) pattern - "
                        f'Error at index 0 in: "{pair}"'
                    ) from None
                i += 3
            out.append(raw.decode("utf-8", errors="replace"))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _hash(value: Any, algorithm: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ExpressionError("Need a string to hash")
    import hashlib

    return hashlib.new(algorithm, value.encode("utf-8")).hexdigest()


@_filter("sha256")
def sha256(value: Any) -> Any:
    """Hex SHA-256 of a String (UTF-8)."""
    return _hash(value, "sha256")


@_filter("md5")
def md5(value: Any) -> Any:
    """Hex MD5 of a String (UTF-8)."""
    return _hash(value, "md5")


@_filter("sha1")
def sha1(value: Any) -> Any:
    """Hex SHA-1 of a String (UTF-8)."""
    return _hash(value, "sha1")


@_filter("sha512")
def sha512(value: Any) -> Any:
    """Hex SHA-512 of a String (UTF-8)."""
    return _hash(value, "sha512")


# ---------------------------------------------------------------------------------------------
# numberFormat (java.text.DecimalFormat: kflow.java.numbers)


@_filter("numberFormat")
def number_format(value: Any, format: Any = None) -> Any:  # noqa: A002
    """``java.text.DecimalFormat`` in English: ``#,##0.00``, ``0.#%``, ``0.##E0``…"""
    if value is None:
        return None
    if not is_number(value):
        raise ExpressionError("The input for the 'NumberFormat' filter has to be a number.")
    try:
        pattern = decimal_format(_as_str(format) if format is not None else "#,##0.###")
    except IllegalArgumentError as exc:
        raise ExpressionError(str(exc)) from None
    return pattern.format(value)


# ---------------------------------------------------------------------------------------------
# Kestra filters


@_filter("chunk")
def chunk(value: Any, size: Any = None) -> Any:
    """Split a List into sub-lists of ``size`` (Guava ``Lists.partition``)."""
    if value is None:
        return None
    if size is None:
        raise ExpressionError("'chunk' filter expects an argument 'size'.")
    if not _is_list(value):
        raise ExpressionError(
            f"'chunk' filter can only be applied to List. Actual type was: {java_class_name(value)}"
        )
    n = _as_long(size, "size")
    if n <= 0:
        raise ExpressionError("IllegalArgumentException: chunk size must be greater than 0")
    items = list(value)
    return [items[i : i + n] for i in range(0, len(items), n)]


@_filter("className")
def class_name(value: Any) -> Any:
    """The Java class Kestra would see (``java.lang.Long`` for a literal integer)."""
    return java_class_name(value)


def to_date(
    value: Any,
    zone: java_time.Zone,
    existing_format: str | None = None,
    locale: java_time.Locale | None = None,
) -> java_time.JavaDateTime:
    """``AbstractDate.convert``: a Java ``Long`` is epoch seconds, a String is parsed.

    Kestra casts anything else to String and fails: an ``Integer`` (a whole number from the
    context, not a literal) fails there too, so kflow refuses it the same way. ``locale``
    defaults to English.
    """
    from kflow.java import time as java_time

    if isinstance(value, java_time.JavaDateTime):
        return value
    from kflow.java import isotime

    if isinstance(value, isotime.Instant):  # fromIon() values
        seconds, nano = divmod(value.nanos, 1_000_000_000)
        return java_time.from_epoch_second(seconds, zone, nano)
    if isinstance(value, isotime.LocalDate):
        value = _dt.date(value.year, value.month, value.day)
    elif isinstance(value, isotime.LocalDateTime | isotime.OffsetDateTime):
        value = value.json()
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            return java_time.from_local(value, value.microsecond * 1000, zone)
        return java_time.JavaDateTime(
            value,
            value.microsecond * 1000,
            java_time.offset_zone(
                int(value.utcoffset().total_seconds())  # type: ignore[union-attr]
            ),
        ).with_zone(zone)
    if isinstance(value, _dt.date):
        return java_time.from_local(_dt.datetime(value.year, value.month, value.day, 12), 0, zone)
    if is_java_long(value):
        return java_time.from_epoch_second(int(value), zone)
    if not isinstance(value, str):
        raise ExpressionError(
            f"class {_java_class_name(value)} cannot be cast to class java.lang.String"
        )
    return java_time.parse_date(value, zone, existing_format, locale or java_time.ENGLISH)


def _date_args(
    timeZone: Any,
    existingFormat: Any,
    locale: Any,  # noqa: N803
) -> tuple[java_time.Zone, str | None, java_time.Locale]:
    from kflow.java import time as java_time

    if existingFormat is not None and not isinstance(existingFormat, str):
        raise _cast_error(existingFormat, "java.lang.String")
    return java_time.zone_of(timeZone), existingFormat, java_time.locale_of(locale)


@_filter("date")
def date(
    value: Any,
    format: Any = "iso",  # noqa: A002
    timeZone: Any = None,  # noqa: N803
    existingFormat: Any = None,  # noqa: N803
    locale: Any = None,
) -> Any:
    """Format a date (ISO string, epoch-second Long) with a Java pattern or named format."""
    from kflow.java import time as java_time

    if value is None:
        return None
    zone, existing, loc = _date_args(timeZone, existingFormat, locale)
    d = to_date(value, zone, existing, loc)
    return java_time.format_date(d.with_zone(zone), "iso" if format is None else format, loc)


@_filter("dateAdd")
def date_add(
    value: Any,
    amount: Any = None,
    unit: Any = None,
    format: Any = "iso",  # noqa: A002
    timeZone: Any = None,  # noqa: N803
    existingFormat: Any = None,  # noqa: N803
    locale: Any = None,
) -> Any:
    """Add ``amount`` ``ChronoUnit``s (``DAYS``, ``MONTHS``…) then format like ``date``."""
    from kflow.java import time as java_time

    if value is None:
        return None
    n = _as_long(amount, "amount")
    if unit is None:
        raise ExpressionError("Name is null")
    zone, existing, loc = _date_args(timeZone, existingFormat, locale)
    d = java_time.plus(to_date(value, zone, existing, loc), n, _as_str(unit))
    return java_time.format_date(d.with_zone(zone), "iso" if format is None else format, loc)


def _timestamp(value: Any, timeZone: Any, existingFormat: Any) -> java_time.JavaDateTime:  # noqa: N803
    zone, existing, _ = _date_args(timeZone, existingFormat, None)
    return to_date(value, zone, existing)


@_filter("timestamp")
def timestamp(value: Any, timeZone: Any = None, existingFormat: Any = None) -> Any:  # noqa: N803
    """Epoch seconds (a Long)."""
    if value is None:
        return None
    return Long(_timestamp(value, timeZone, existingFormat).epoch_second)


@_filter("timestampMilli")
def timestamp_milli(value: Any, timeZone: Any = None, existingFormat: Any = None) -> Any:  # noqa: N803
    """Epoch milliseconds (a Long)."""
    if value is None:
        return None
    d = _timestamp(value, timeZone, existingFormat)
    return Long(d.epoch_second * 1000 + d.nano // 10**6)


@_filter("timestampMicro")
def timestamp_micro(value: Any, timeZone: Any = None, existingFormat: Any = None) -> Any:  # noqa: N803
    """Epoch microseconds as a String (Kestra ≥ 1.0; 0.x returned a nano-sized number)."""
    if value is None:
        return None
    d = _timestamp(value, timeZone, existingFormat)
    return str(d.epoch_second * 10**6 + d.nano // 1000)


@_filter("timestampNano")
def timestamp_nano(value: Any, timeZone: Any = None, existingFormat: Any = None) -> Any:  # noqa: N803
    """Epoch nanoseconds as a String."""
    if value is None:
        return None
    d = _timestamp(value, timeZone, existingFormat)
    return str(d.epoch_second * 10**9 + d.nano)


@_filter("endsWith")
def ends_with(_input: Any, value: Any = None) -> bool:
    """``toString().endsWith(value)`` (Kestra names the argument ``value``)."""
    return _to_string(_input).endswith(_to_string(value))


@_filter("startsWith")
def starts_with(_input: Any, value: Any = None) -> bool:
    """``toString().startsWith(value)``."""
    return _to_string(_input).startswith(_to_string(value))


_ESCAPES = {"single": ("'", "\\'"), "double": ('"', '\\"'), "shell": ("'", "'\\''")}


@_filter("escapeChar")
def escape_char(value: Any, type: Any = None) -> Any:  # noqa: A002
    """Escape quotes for ``single``/``double``-quoted strings or a ``shell`` word."""
    if value is None:
        return None
    if type is None:
        raise ExpressionError("The 'escapeChar' filter expects an argument 'type'.")
    rule = _ESCAPES.get(_as_str(type).lower())
    if rule is None:
        raise ExpressionError(
            "The 'escapeChar' filter expects the value of 'type' to be either 'single', "
            "'double', or 'shell'."
        )
    old, new = rule
    return _map_leaves(value, lambda s: s.replace(old, new))


@_filter("flatten")
def flatten(value: Any) -> Any:
    """Flatten one level of nested lists."""
    if value is None:
        return None
    if not _is_list(value):
        raise ExpressionError("The 'flatten' filter can only be applied to lists.")
    out: list[Any] = []
    for item in value:
        if _is_list(item):
            out.extend(item)
        else:
            out.append(item)
    return out


def _line_separator(text: str) -> str:
    for sep in ("\r\n", "\n\r", "\n", "\r"):
        if sep in text:
            return sep
    return "\n"


def _indent(value: Any, amount: Any, prefix: Any, kind: str) -> Any:
    if value is None:
        return None
    text = _to_string(value)
    if not text:
        return text
    if amount is None:
        raise ExpressionError(f"The '{kind}' filter expects an integer as argument 'amount'.")
    n = _as_long(amount, "amount")
    if n < 0:
        raise ExpressionError(
            f"The '{kind}' filter expects a positive integer >=0 as argument 'amount'."
        )
    pad = (" " if prefix is None else _as_str(prefix)) * n
    sep = _line_separator(text)
    if kind == "nindent":
        text = sep + text
    return text.replace(sep, sep + pad)


@_filter("indent")
def indent(value: Any, amount: Any = None, prefix: Any = None) -> Any:
    """Indent every line but the first by ``amount`` × ``prefix`` (default a space)."""
    return _indent(value, amount, prefix, "indent")


@_filter("nindent")
def nindent(value: Any, amount: Any = None, prefix: Any = None) -> Any:
    """A line break, then every line indented (Helm's ``nindent``)."""
    return _indent(value, amount, prefix, "nindent")


@functools.lru_cache(maxsize=256)
def _jq_program(expression: str) -> Any:
    import jq  # type: ignore[import-not-found]  # lazy: only flows using jq need libjq

    return jq.compile(expression)


@_filter("jq")
def jq_(value: Any, expression: Any = None) -> Any:
    """Run a jq program; the result is ALWAYS a list of outputs (use ``| first``).

    String input is parsed as JSON first; maps and lists are used as they are.
    Kestra uses jackson-jq (jq 1.6 built-ins); kflow uses libjq 1.7 through the ``jq``
    package, so a computed ``3.0`` comes back as ``3``.
    """
    if value is None:
        return None
    if expression is None:
        raise ExpressionError("The 'jq' filter expects an argument 'expression'.")
    program = _as_str(expression)

    def fail(detail: str) -> ExpressionError:
        return ExpressionError(
            f"Unable to parse jq value '{java_to_string(value)}' with type "
            f"'{java_class_name(value)}': {detail}"
        )

    if isinstance(value, str):
        try:
            parsed = read_json(value)
        except ExpressionError as e:
            raise fail(e.message) from None
        text = to_json(parsed)
    else:
        text = to_json(value)
    try:
        compiled = _jq_program(program)
        results = compiled.input_text(text).all()
    except ValueError as e:
        raise fail(f"Failed to resolve JQ expression '{program}': {e}") from None
    return list(results)


@_filter("json")
def json_(value: Any) -> str:
    """Deprecated alias of ``toJson``."""
    return to_json_filter(value)


@_filter("toJson")
def to_json_filter(value: Any) -> str:
    """Compact JSON as Kestra's Jackson mapper writes it; null → ``"null"``."""
    return "null" if value is None else to_json(value)


def _view_class(value: Mapping[Any, Any], kind: str) -> str:
    if java_class_name(value) == "java.util.HashMap":
        return f"java.util.HashMap${kind}"
    return f"java.util.LinkedHashMap$Linked{kind}"


@_filter("keys")
def keys(value: Any) -> Any:
    """Map keys, or the indexes of a List."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return CollectionView(value.keys(), _view_class(value, "KeySet"))
    if _is_list(value):
        return list(range(len(value)))
    raise ExpressionError(
        "'keys' filter can only be applied to List, Map, Array. Actual type was: "
        f"{java_class_name(value)}"
    )


@_filter("values")
def values(value: Any) -> Any:
    """Map values."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return CollectionView(value.values(), _view_class(value, "Values"))
    raise ExpressionError(
        f"'values' filter can only be applied to Map. Actual type was: {java_class_name(value)}"
    )


_INT_RE = re.compile(r"[+-]?(\d+)\Z")
_HEX_RE = re.compile(r"([+-]?)(?:0[xX]|#)([0-9a-fA-F]+)\Z")
_DECIMAL_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")


def _java_radix_int(text: str) -> int:
    """The digits of ``Integer.decode``: ``0x``/``#`` hex, a leading ``0`` means octal."""
    m = _HEX_RE.match(text)
    if m:
        return int(m.group(2), 16) * (-1 if m.group(1) == "-" else 1)
    m = re.fullmatch(r"([+-]?)0(\d+)", text)
    if m:
        bad = next((c for c in m.group(2) if c in "89"), None)
        if bad is not None:
            raise ExpressionError(f'For input string: "{m.group(2)}" under radix 8')
        return int(m.group(2), 8) * (-1 if m.group(1) == "-" else 1)
    if _INT_RE.match(text):
        return int(text)
    raise ExpressionError(f'For input string: "{text}"')


def _java_decode(text: str, bits: int) -> int:
    """``Integer.decode`` / ``Long.decode``: decimal, ``0x``/``#`` hex, ``0`` octal."""
    number = _java_radix_int(text)
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise ExpressionError(f'For input string: "{text}"')
    return number


def _java_number(parse: Callable[[str], float], text: str) -> float:
    """``Double.valueOf``/``Float.valueOf`` (:mod:`kflow.java.numbers`) with Pebble's error."""
    try:
        return parse(text)
    except NumberFormatError as exc:
        raise ExpressionError(str(exc)) from None


def _create_number(text: str) -> Any:
    """commons-lang3 ``NumberUtils.createNumber``: the smallest fitting Java type."""
    if not text.strip():
        raise ExpressionError("A blank string is not a valid number")
    if text != text.strip():
        raise ExpressionError(f'For input string: "{text}"')
    hex_m = _HEX_RE.match(text)
    if hex_m:
        digits = hex_m.group(2).lstrip("0")
        number = int(hex_m.group(2), 16) * (-1 if hex_m.group(1) == "-" else 1)
        if len(digits) > 16 or (len(digits) == 16 and digits[0] > "7"):
            return BigInteger(number)
        if len(digits) > 8 or (len(digits) == 8 and digits[0] > "7"):
            return Long(number)
        return number
    last_char = text[-1]
    body = text
    if last_char in "lL":
        body = text[:-1]
        if _INT_RE.match(body) or _HEX_RE.match(body):
            try:
                return Long(_java_decode(body, 64))
            except ExpressionError:
                return BigInteger(int(body))
        raise ExpressionError(f"{text} is not a valid number.")
    if last_char in "fFdD":
        body = text[:-1]
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", body):
        raise ExpressionError(f"{text} is not a valid number.")
    if last_char in "fF":
        return Float(float(body))
    if last_char in "dD":
        return float(body)
    if "." not in body and "e" not in body.lower():
        try:
            return _java_decode(body, 32)
        except ExpressionError:
            pass
        try:
            return Long(_java_decode(body, 64))
        except ExpressionError:
            return BigInteger(_java_radix_int(body))
    mantissa, _, exponent = body.lower().partition("e")
    all_zeros = not mantissa.strip("+-0.") and not exponent.strip("+-0")
    f32 = Float(float(body))
    f64 = float(body)
    if not math.isinf(f32) and not (f32 == 0.0 and not all_zeros):
        if java_float(f32) == java_float(f64):
            return f32
    if not math.isinf(f64) and not (f64 == 0.0 and not all_zeros):
        if Decimal(body) == Decimal(repr(f64)):
            return f64
    return Decimal(body)


@_filter("number")
def number(value: Any, type: Any = None) -> Any:  # noqa: A002
    """Parse a String into a Java number; ``type`` forces INT, LONG, FLOAT, DOUBLE…"""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ExpressionError(
            "'number' filter can only be applied to String. Actual type was: "
            f"{java_class_name(value)}"
        )
    kind = "" if type is None else type
    if kind == "INT":
        return _java_decode(value, 32)
    if kind == "LONG":
        return Long(_java_decode(value, 64))
    if kind == "FLOAT":
        return Float(_java_number(parse_float32, value))
    if kind == "DOUBLE":
        return _java_number(parse_double, value)
    if kind == "BIGDECIMAL":
        if not _DECIMAL_RE.match(value):
            raise ExpressionError(f"{value} is not a valid BigDecimal.")
        return Decimal(value)
    if kind == "BIGINTEGER":
        return BigInteger(_java_radix_int(value))
    return _create_number(value)


@_filter("slugify")
def slugify(value: Any) -> Any:
    """Kestra ``Slugify.of``: ``Café au lait`` → ``cafe-au-lait``."""
    if value is None:
        return None
    return slug(_to_string(value))


def slug(text: str) -> str:
    """Kestra's slug rule (also used for storage paths)."""
    text = re.sub(r"[ \t\n\x0b\f\r]", "-", text)
    text = unicodedata.normalize("NFD", text)
    text = re.sub(r"[^A-Za-z0-9_-]", "", text)
    text = text.replace("_", "-")
    while "--" in text:
        text = text.replace("--", "-")
    text = text.removeprefix("-").removesuffix("-")
    return text.lower()


def _substring_arg(value: Any, separator: Any, name: str, missing: bool) -> tuple[str, Any]:
    if missing:
        raise ExpressionError(f"The '{name}' filter expects an argument 'separator'.")
    if separator is not None and not isinstance(separator, str):
        raise _cast_error(separator, "java.lang.String")
    return _to_string(value), separator


_MISSING = object()


@_filter("substringBefore")
def substring_before(value: Any, separator: Any = _MISSING) -> Any:
    """Text before the first ``separator`` (the whole text when absent)."""
    if value is None:
        return None
    text, sep = _substring_arg(value, separator, "substringBefore", separator is _MISSING)
    if not text or sep is None:
        return text
    if sep == "":
        return ""
    pos = text.find(sep)
    return text if pos < 0 else text[:pos]


@_filter("substringBeforeLast")
def substring_before_last(value: Any, separator: Any = _MISSING) -> Any:
    """Text before the last ``separator`` (the whole text when absent)."""
    if value is None:
        return None
    text, sep = _substring_arg(value, separator, "substringBeforeLast", separator is _MISSING)
    if not text or not sep:
        return text
    pos = text.rfind(sep)
    return text if pos < 0 else text[:pos]


@_filter("substringAfter")
def substring_after(value: Any, separator: Any = _MISSING) -> Any:
    """Text after the first ``separator`` (empty when absent)."""
    if value is None:
        return None
    text, sep = _substring_arg(value, separator, "substringAfter", separator is _MISSING)
    if not text:
        return text
    if sep is None:
        return ""
    pos = text.find(sep)
    return "" if pos < 0 else text[pos + len(sep) :]


@_filter("substringAfterLast")
def substring_after_last(value: Any, separator: Any = _MISSING) -> Any:
    """Text after the last ``separator`` (empty when absent)."""
    if value is None:
        return None
    text, sep = _substring_arg(value, separator, "substringAfterLast", separator is _MISSING)
    if not text:
        return text
    if not sep:
        return ""
    pos = text.rfind(sep)
    if pos < 0 or pos == len(text) - len(sep):
        return ""
    return text[pos + len(sep) :]


@_filter("distinct")
def distinct(value: Any) -> Any:
    """Drop repeated items, keeping the first (null input gives the text ``null``)."""
    if value is None:
        return "null"
    if not _is_list(value):
        raise ExpressionError(f"Input must be a list, but received : {java_class_name(value)}")
    out: list[Any] = []
    for item in value:
        if not any(_java_equals(item, seen) for seen in out):
            out.append(item)
    return out


def _java_equals(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b) and java_class_name(a) == java_class_name(b)


@_filter("string")
def string(value: Any) -> Any:
    """A String as is, anything else through Java ``toString()`` (``[1, 2]``, ``{a=b}``)."""
    if value is None or isinstance(value, str):
        return value
    return java_to_string(value)


@_filter("regexMatch")
def regex_match(value: Any, regex: Any = None) -> bool:
    """True when the Java regex is found anywhere in ``toString()``."""
    if value is None:
        return False
    if regex is None:
        raise ExpressionError("The argument 'regex' is required.")
    return java_regex(_to_string(regex)).search(_to_string(value)) is not None


@_filter("regexReplace")
def regex_replace(value: Any, regex: Any = None, replacement: Any = None) -> Any:
    """Java ``replaceAll`` (``$1`` group references)."""
    if value is None:
        return None
    if regex is None:
        raise ExpressionError("The argument 'regex' is required.")
    if replacement is None:
        raise ExpressionError("The argument 'replacement' is required.")
    pattern = java_regex(_to_string(regex))
    return pattern.sub(_java_replacement(_to_string(replacement)), _to_string(value))


@_filter("regexExtract")
def regex_extract(value: Any, regex: Any = None, group: Any = None) -> Any:
    """The first match (or its ``group``); null when nothing matches."""
    if value is None:
        return None
    if regex is None:
        raise ExpressionError("The argument 'regex' is required.")
    index = 0 if group is None else group
    if not is_number(index):
        raise _cast_error(index, "java.lang.Number")
    m = java_regex(_to_string(regex)).search(_to_string(value))
    if m is None:
        return None
    if not 0 <= int(index) <= m.re.groups:
        raise ExpressionError(f"No group {int(index)}")
    return m.group(int(index))


# ---------------------------------------------------------------------------------------------
# JSON reading shared with the functions


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


def _jackson_int(text: str) -> Any:
    number = int(text)
    if -(2**63) <= number < 2**63:
        return number
    return BigInteger(number)


_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_jackson_int)


def read_json(text: str) -> Any:
    """Jackson ``readValue``: the first JSON value of ``text`` (trailing text ignored).

    Integers are Integer/Long/BigInteger by size, decimals Double; ``NaN`` is refused.
    """
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        raise ExpressionError("No content to map due to end-of-input")
    try:
        result, end = _JSON_DECODER.raw_decode(stripped)
    except ValueError as e:
        raise ExpressionError(str(e)) from None
    rest = stripped[end:]
    if isinstance(result, int | float) and not isinstance(result, bool):
        # Jackson needs a separator after a root-level number
        if rest and rest[0] not in " \t\r\n":
            raise ExpressionError(f"Unexpected character '{rest[0]}' after a number")
    return result


# ---------------------------------------------------------------------------------------------
# YAML writing (Jackson YAMLGenerator with Kestra's settings)


_YAML_RESERVED = {
    "false",
    "False",
    "FALSE",
    "n",
    "N",
    "no",
    "No",
    "NO",
    "null",
    "Null",
    "NULL",
    "off",
    "Off",
    "OFF",
    "on",
    "On",
    "ON",
    "true",
    "True",
    "TRUE",
    "y",
    "Y",
    "yes",
    "Yes",
    "YES",
}


def _yaml_reserved(text: str) -> bool:
    if not text:
        return True
    if text[0] == "~":
        return True
    return text[0] in "fFnNoOtTyY" and text in _YAML_RESERVED


def _yaml_value_needs_quotes(text: str) -> bool:
    """Jackson ``StringQuotingChecker.needToQuoteValue`` (MINIMIZE_QUOTES)."""
    if _yaml_reserved(text):
        return True
    for i, c in enumerate(text):
        if c in "[]{},":
            return True
        if c == "#" and (i == 0 or text[i - 1] in " \t"):
            return True
        if c == ":" and (i == len(text) - 1 or text[i + 1] in " \t"):
            return True
    return False


def _yaml_name_needs_quotes(text: str) -> bool:
    """Jackson ``needToQuoteName``: reserved words and number-like names."""
    return _yaml_reserved(text) or text[:1] in set("0123456789-+.")


def _yaml_printable(c: str) -> bool:
    o = ord(c)
    return 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


def _yaml_analysis(text: str) -> tuple[bool, bool, bool]:
    """SnakeYAML ``analyzeScalar``: (plain allowed, single quotes allowed, block allowed)."""
    special = any(not _yaml_printable(c) and c != "\n" for c in text)
    plain = single = block = True
    if not text:
        return False, True, False
    if text.startswith(("---", "...")):
        plain = False
    first = text[0]
    follows_space = len(text) == 1 or text[1] in " \t\n"
    if first in "#,[]{}&*!|>'\"%@`" or (first in "?:-" and follows_space):
        plain = False
    for i, c in enumerate(text[1:], start=1):
        nxt_space = i + 1 >= len(text) or text[i + 1] in " \t\n"
        if c == ":" and nxt_space:
            plain = False
        if c == "#" and text[i - 1] in " \t":
            plain = False
    if text[0] in " \n" or text[-1] in " \n":
        plain = False
    if text[-1] == " ":
        block = False
    if "\n" in text:
        plain = False
        if " \n" in text:
            single = block = False
        if "\n " in text:
            single = False
    if special:
        plain = single = block = False
    return plain, single, block


def _yaml_double(text: str) -> str:
    escapes = {
        "\0": "\\0",
        "\x07": "\\a",
        "\b": "\\b",
        "\t": "\\t",
        "\n": "\\n",
        "\x0b": "\\v",
        "\f": "\\f",
        "\r": "\\r",
        "\x1b": "\\e",
        '"': '\\"',
        "\\": "\\\\",
        "\x85": "\\N",
        "\u2028": "\\L",
        "\u2029": "\\P",
    }
    out: list[str] = []
    for c in text:
        if c in escapes:
            out.append(escapes[c])
        elif _yaml_printable(c) or c == "\xa0":
            out.append(c)
        elif ord(c) < 0x100:
            out.append(f"\\x{ord(c):02X}")
        else:
            out.append(f"\\u{ord(c):04X}")
    return '"' + "".join(out) + '"'


def _yaml_single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _yaml_block(text: str, indent: int) -> list[str]:
    """A literal block scalar: the header, then its lines at ``indent``."""
    if text.endswith("\n\n") or text == "\n":
        chomp = "+"
    elif text.endswith("\n"):
        chomp = ""
    else:
        chomp = "-"
    header = "|" + ("2" if text[0] in " \n" else "") + chomp
    lines = text.split("\n")
    if chomp in ("", "+"):
        lines = lines[:-1]
    return [header] + [(" " * indent + line) if line else "" for line in lines]


def _yaml_string(text: str, indent: int, key: bool = False) -> list[str]:
    """Lines of a String scalar: one line, or a block header plus content lines."""
    plain_ok, single_ok, block_ok = _yaml_analysis(text)
    if key:
        if _yaml_name_needs_quotes(text) or "\n" in text:
            return [_yaml_double(text)]
        if plain_ok:
            return [text]
        return [_yaml_single(text) if single_ok else _yaml_double(text)]
    if "\n" in text:
        if block_ok:
            return _yaml_block(text, indent)
        return [_yaml_double(text)]
    if _yaml_value_needs_quotes(text):
        return [_yaml_double(text)]
    if plain_ok:
        return [text]
    return [_yaml_single(text) if single_ok else _yaml_double(text)]


def _yaml_scalar(value: Any, indent: int) -> list[str]:
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, float):
        return [java_float(value)]
    if isinstance(value, int | Decimal):
        return [java_to_string(value)]
    if isinstance(value, Mapping):
        return ["{}"]
    if isinstance(value, list | tuple | set | frozenset):
        return ["[]"]
    if isinstance(value, Entry):
        return _yaml_scalar({value.key: value.value}, indent)
    return _yaml_string(java_to_string(value) if not isinstance(value, str) else value, indent)


def _yaml_is_block(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value)
    return isinstance(value, list | tuple | set | frozenset) and bool(value)


def _yaml_map(value: Mapping[Any, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for k, v in value.items():
        key = _yaml_string(java_to_string(k), indent, key=True)[0]
        if key == '""':
            # SnakeYAML writes an empty key as an explicit (complex) key
            out.append(f'{pad}? ""')
            key = ""
        if isinstance(v, Mapping) and v:
            out.append(f"{pad}{key}:")
            _yaml_map(v, indent + 2, out)
        elif _yaml_is_block(v):
            out.append(f"{pad}{key}:")
            _yaml_seq(v, indent, out)
        else:
            lines = _yaml_scalar(v, indent + 2)
            out.append(f"{pad}{key}: {lines[0]}")
            out.extend(lines[1:])


def _yaml_seq(value: Iterable[Any], indent: int, out: list[str]) -> None:
    dash = " " * (indent + 1) + "-"
    for item in value:
        if isinstance(item, Entry):
            item = {item.key: item.value}
        if isinstance(item, Mapping) and item:
            out.append(dash)
            _yaml_map(item, indent + 2, out)
        elif _yaml_is_block(item):
            out.append(dash)
            _yaml_seq(item, indent + 2, out)
        else:
            lines = _yaml_scalar(item, indent + 2)
            out.append(f"{dash} {lines[0]}")
            out.extend(lines[1:])


def to_yaml(value: Any) -> str:
    """YAML as Kestra's ``yaml`` filter writes it (Jackson, minimal quotes, `` - `` lists)."""
    out: list[str] = []
    if isinstance(value, Mapping) and value:
        _yaml_map(value, 0, out)
    elif _yaml_is_block(value):
        _yaml_seq(value, 0, out)
    elif value == "":
        out.append('--- ""')  # SnakeYAML marks a document that is only an empty scalar
    else:
        out.extend(_yaml_scalar(value, 2))
    return "\n".join(out) + "\n"


@_filter("yaml")
def yaml_(value: Any) -> str:
    """Serialize to YAML; null → ``"null"``."""
    return "null" if value is None else to_yaml(value)


# ---------------------------------------------------------------------------------------------
# Ion text (toIon)


def _jackson_value(value: Any) -> Any:
    """What Kestra's Jackson mapper serialises for a Pebble value with no Ion type: a
    ``Map.Entry`` is a one-field map, anything else its ``toString``."""
    if isinstance(value, Entry):
        return {value.key: value.value}
    return java_to_string(value)


@functools.cache
def _ion_style() -> Any:
    from kflow import ion  # the writer and its imports load on the first toIon only

    return ion.IonStyle(mapper=True, java_string=java_to_string, java_value=_jackson_value)


def to_ion(value: Any) -> str:
    """Compact Ion text like Kestra's Jackson Ion mapper (``{a:1,b:"x"}``, ``1.5e0``): the
    mapper style of :func:`kflow.ion.dumps`, with Pebble's Java views of its values."""
    from kflow import ion

    return ion.dumps(value, _ion_style())


@_filter("toIon")
def to_ion_filter(value: Any) -> str:
    """Serialize to Amazon Ion text; null → ``"null"``."""
    return to_ion(value)


# ---------------------------------------------------------------------------------------------
# tests


@_test("null")
def is_null(value: Any) -> bool:
    """``value == null``."""
    return value is None


@_test("empty")
def is_empty(value: Any) -> bool:
    """null, a blank String, an empty collection or map."""
    if value is None:
        return True
    if isinstance(value, str):
        return _java_trim(value) == ""
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return len(value) == 0
    return False


def _parity(value: Any, test: str) -> int:
    if value is None:
        raise ExpressionError(f'Can not pass null value to "{test}" test.')
    if not is_integral(value):
        raise _cast_error(value, "java.lang.Long")
    return int(value) % 2


@_test("even")
def is_even(value: Any) -> bool:
    """Integer/Long only (a Double is an error in Pebble)."""
    return _parity(value, "even") == 0


@_test("odd")
def is_odd(value: Any) -> bool:
    """Integer/Long only."""
    return _parity(value, "odd") == 1


@_test("iterable")
def is_iterable(value: Any) -> bool:
    """A Java ``Iterable`` (List, Set); Strings and Maps are not."""
    return isinstance(value, list | tuple | set | frozenset)


@_test("map")
def is_map(value: Any) -> bool:
    """A Java ``Map``."""
    return isinstance(value, Mapping) and not isinstance(value, Entry)


@_test("json")
def is_json(value: Any) -> bool:
    """True when Jackson's ``readTree`` accepts the start of the String (``''`` too)."""
    if value is None:
        raise ExpressionError('argument "content" is null')
    text = _as_str(value)
    if not text.strip(" \t\r\n"):
        return True
    try:
        read_json(text)
    except ExpressionError:
        return False
    return True


__all__ = [
    "FILTERS",
    "TESTS",
    "CollectionView",
    "java_class_name",
    "java_regex",
    "java_split",
    "read_json",
    "slug",
    "to_ion",
    "to_yaml",
]
