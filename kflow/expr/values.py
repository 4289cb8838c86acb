"""Java/Kestra value semantics for Python data: printing, JSON, truthiness, number types.

Pebble runs on the JVM, so how a value prints or compares depends on its Java type. kflow
keeps plain Python data in the render context and models the Java types like this:

=====================  ==========================  =====================================
Python value           Java type                   where it comes from
=====================  ==========================  =====================================
``None``               null
``bool``               ``java.lang.Boolean``
``int``                ``java.lang.Integer`` when  context values (JSON/YAML integers)
                       it fits in 32 bits, else
                       ``java.lang.Long``
:class:`Long`          ``java.lang.Long``          Pebble integer literals (``1``, ``1L``),
                                                   results of arithmetic, ``range``
:class:`BigInteger`    ``java.math.BigInteger``    ``number('BIGINTEGER')``
``float``              ``java.lang.Double``        context decimals, decimal literals
:class:`Float`         ``java.lang.Float``         ``number`` on ``"12.3"``
``decimal.Decimal``    ``java.math.BigDecimal``    ``number('BIGDECIMAL')``
``str``                ``java.lang.String``
:class:`Char`          ``java.lang.Character``     ``'a'..'c'``, ``'abc'.charAt(i)``,
                                                   ``first``/``last`` of a string
:class:`SafeString`    Pebble ``SafeString``       the result of a macro call
``dict``               ``java.util.LinkedHashMap`` context maps (insertion ordered)
:class:`HashMap`       ``java.util.HashMap``       map literals (Java hash order)
``list`` / ``tuple``   ``java.util.ArrayList``     context lists
:class:`TemplateList`  ``java.util.ArrayList``     list literals, ranges (``+`` appends
                                                   in place)
:class:`Entry`         ``Map.Entry``               ``for e in map``
=====================  ==========================  =====================================

Why it matters: literal integers are ``Long`` and context integers ``Integer`` in Kestra;
``className``, overflow, Java method overloads (``'abc'.substring(x)``) and a few filters
(``abbreviate``, ``chunk``, ``indent`` accept only a ``Long``) behave differently, and
``Integer op Integer`` wraps at 32 bits while ``Long`` wraps at 64 bits.

Doubles print as ``Double.toString`` does (:mod:`kflow.java.numbers`).

Everything here is pure (no Jinja2 import) so that filters can use it too.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Iterable, Mapping
from datetime import date, time
from decimal import Decimal
from typing import Any

from kflow.errors import ExpressionError
from kflow.java.numbers import double_to_string, float_to_string, to_f32
from kflow.java.strings import to_string as java_string

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


class Long(int):
    """A ``java.lang.Long`` (Pebble integer literal or arithmetic result)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Long({int(self)})"


class BigInteger(int):
    """A ``java.math.BigInteger``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"BigInteger({int(self)})"


class Float(float):
    """A ``java.lang.Float`` (32-bit): prints with ``Float.toString``."""

    __slots__ = ()
    java_float32 = True  # kflow.java.strings.to_string prints it with Float.toString

    def __new__(cls, value: Any) -> Float:
        # round to the nearest 32-bit float, as a Java cast would
        return super().__new__(cls, to_f32(float(value)))

    def __repr__(self) -> str:
        return f"Float({float_to_string(self)})"


class HashMap(dict):  # type: ignore[type-arg]
    """A ``java.util.HashMap`` (map literals, ``merge``): keys kept in Java hash order.

    Build it with :func:`hash_map` so the order matches what Java would iterate.
    """

    __slots__ = ()


class TemplateList(list):  # type: ignore[type-arg]
    """A ``java.util.ArrayList`` made by the template (list literal, ``range``, ``a..b``).

    Pebble's ``+``/``-`` on a list change it in place; kflow does that only for lists the
    template made, never for lists of the caller's context (which stay unchanged).
    """

    __slots__ = ()


class Char(str):
    """A ``java.lang.Character`` (``'abc' | first``, ``'a'..'c'``, ``'abc'.charAt(i)``).

    It prints like a one-letter string but is not a String for Java: ``'a' == ('abc' |
    first)`` is false, and it is neither true nor false in a condition.
    """

    __slots__ = ()


class SafeString(str):
    """What a macro call returns (Pebble's ``SafeString``): prints like its text, but it
    is not a ``java.lang.String``: it never equals a String, ``contains`` refuses it, and
    filters receive it converted to a plain string."""

    __slots__ = ()


class Entry:
    """A ``Map.Entry`` yielded by ``{% for e in map %}`` (``e.key``, ``e.value``)."""

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any) -> None:
        self.key = key
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and (self.key, self.value) == (other.key, other.value)

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:  # Map.Entry.toString
        return f"{java_string(self.key)}={java_string(self.value)}"

    def __repr__(self) -> str:
        return f"Entry({self.key!r}, {self.value!r})"


# ---------------------------------------------------------------------------------------------
# numbers


def is_java_string(v: Any) -> bool:
    """True for a ``java.lang.String`` (a ``str`` that is not a :class:`Char` or
    :class:`SafeString`)."""
    return v.__class__ is str or (isinstance(v, str) and not isinstance(v, Char | SafeString))


def is_number(v: Any) -> bool:
    """True for Java ``Number``s (bool is not a number in Java)."""
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def is_integral(v: Any) -> bool:
    """True for Integer/Long/BigInteger values."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_java_long(v: Any) -> bool:
    """True when ``v`` would be a ``java.lang.Long`` (a literal, or a large context int)."""
    if isinstance(v, Long):
        return True
    return type(v) is int and not INT_MIN <= v <= INT_MAX and LONG_MIN <= v <= LONG_MAX


def is_java_integer(v: Any) -> bool:
    """True when ``v`` would be a ``java.lang.Integer`` (a small context int)."""
    return type(v) is int and INT_MIN <= v <= INT_MAX


def wrap_long(n: int) -> Long:
    """Two's-complement wrap to 64 bits, as Java ``long`` arithmetic does."""
    n = (n + 2**63) % 2**64 - 2**63
    return Long(n)


def wrap_int(n: int) -> int:
    """Two's-complement wrap to 32 bits, as Java ``int`` arithmetic does."""
    return (n + 2**31) % 2**32 - 2**31


def java_class_name(v: Any) -> str | None:
    """The Java class name Kestra's ``className`` filter would print (None for null)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "java.lang.Boolean"
    if isinstance(v, SafeString):
        return "io.pebbletemplates.pebble.extension.escaper.SafeString"
    if isinstance(v, Char):
        return "java.lang.Character"
    if isinstance(v, str):
        return "java.lang.String"
    if isinstance(v, BigInteger):
        return "java.math.BigInteger"
    if isinstance(v, Long):
        return "java.lang.Long"
    if isinstance(v, int):
        if INT_MIN <= v <= INT_MAX:
            return "java.lang.Integer"
        if LONG_MIN <= v <= LONG_MAX:
            return "java.lang.Long"
        return "java.math.BigInteger"
    if isinstance(v, Float):
        return "java.lang.Float"
    if isinstance(v, float):
        return "java.lang.Double"
    if isinstance(v, Decimal):
        return "java.math.BigDecimal"
    if isinstance(v, HashMap):
        return "java.util.HashMap"
    if isinstance(v, Mapping):
        return "java.util.LinkedHashMap"
    if isinstance(v, list | tuple):
        return "java.util.ArrayList"
    if isinstance(v, Entry):
        return "java.util.LinkedHashMap$Entry"
    if isinstance(v, set | frozenset):
        return "java.util.HashSet"
    if isinstance(v, bytes | bytearray):
        return "[B"
    java_class = getattr(v, "java_class", None)  # kflow.java.isotime.OffsetDateTime
    if isinstance(java_class, str):
        return java_class
    if type(v).__module__ == "kflow.java.isotime":  # Instant, LocalDate, LocalDateTime...
        return "java.time." + type(v).__name__
    return type(v).__name__


def java_simple_name(v: Any) -> str:
    """``getClass().getSimpleName()`` (used in Pebble error messages)."""
    name = java_class_name(v) or "null"
    return name.rsplit(".", 1)[-1].replace("$", ".")


def java_float(f: float) -> str:
    """How Pebble prints a floating value: ``Float.toString`` for a :class:`Float`, else
    ``Double.toString`` (both in :mod:`kflow.java.numbers`)."""
    if isinstance(f, Float):
        return float_to_string(f)
    return double_to_string(f)


def _decimal_plain(d: Decimal) -> str:
    """``BigDecimal.toPlainString``."""
    return format(d, "f")


# ---------------------------------------------------------------------------------------------
# printing


def to_string(v: Any) -> str:
    """How ``{{ v }}`` prints (Kestra ``JsonWriter``): null → ``""``, maps/lists → JSON."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return java_float(v)
    if isinstance(v, Decimal):
        return _decimal_plain(v)
    if isinstance(v, Mapping | list | tuple | set | frozenset):
        return to_json(v)
    if isinstance(v, Entry):
        return java_to_string(v)
    if isinstance(v, date | time):
        return v.isoformat()
    return str(v)


def java_to_string(v: Any) -> str:
    """Java ``toString``/``String.valueOf`` as used by ``~`` and ``+``: ``[1, 2]``, ``{k=v}``
    (:func:`kflow.java.strings.to_string`; an :class:`Entry` prints ``key=value``)."""
    return java_string(v)


def _json_key(k: Any) -> str:
    if isinstance(k, str):
        return k
    if k is None:
        return "null"  # Jackson: a null key needs a key serializer; "null" is the closest
    return java_to_string(k)


def _json_parts(v: Any, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif isinstance(v, str):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif isinstance(v, int):
        out.append(str(int(v)))
    elif isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            # Jackson's default WRITE_NAN_AS_STRINGS
            out.append('"' + java_float(v) + '"')
        else:
            out.append(java_float(v))
    elif isinstance(v, Decimal):
        out.append(str(v).replace("e", "E"))
    elif isinstance(v, Mapping):
        out.append("{")
        first = True
        for k, x in v.items():
            if x is None:  # Jackson NON_NULL applies to map contents
                continue
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(_json_key(k), ensure_ascii=False))
            out.append(":")
            _json_parts(x, out)
        out.append("}")
    elif isinstance(v, Entry):
        _json_parts({v.key: v.value}, out)
    elif isinstance(v, bytes | bytearray):
        out.append('"' + base64.b64encode(bytes(v)).decode("ascii") + '"')  # Jackson: base64
    elif isinstance(v, date | time):
        # Kestra's mapper writes java.time values as ISO strings
        out.append(json.dumps(v.isoformat()))
    elif hasattr(v, "java_bean"):
        # objects Jackson serialises as beans (Pebble's loop variables)
        _json_parts(v.java_bean(), out)
    elif isinstance(v, Iterable):
        out.append("[")
        first = True
        for x in v:
            if not first:
                out.append(",")
            first = False
            _json_parts(x, out)
        out.append("]")
    else:
        # java.time values (kflow.java.isotime) know Jackson's form; others print toString
        text = v.json() if callable(getattr(v, "json", None)) else str(v)
        out.append(json.dumps(text, ensure_ascii=False))


def to_json(v: Any) -> str:
    """Kestra's Jackson mapper: compact JSON, Java floats, null map values dropped."""
    out: list[str] = []
    _json_parts(v, out)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# maps


def _java_hash(k: Any) -> int:
    """Java ``hashCode`` of a map key (32-bit signed)."""
    if k is None:
        return 0
    if isinstance(k, bool):
        return 1231 if k else 1237
    if isinstance(k, str):
        h = 0
        for unit in _utf16_units(k):
            h = (31 * h + unit) & 0xFFFFFFFF
        return wrap_int(h)
    if isinstance(k, int):
        if is_java_integer(k):
            return int(k)
        n = int(k) & 0xFFFFFFFFFFFFFFFF
        return wrap_int((n ^ (n >> 32)) & 0xFFFFFFFF)
    if isinstance(k, float):
        bits = struct.unpack(">q", struct.pack(">d", k))[0]
        if math.isnan(k):
            bits = 0x7FF8000000000000
        n = bits & 0xFFFFFFFFFFFFFFFF
        return wrap_int((n ^ (n >> 32)) & 0xFFFFFFFF)
    return hash(k) & 0xFFFFFFFF


def _utf16_units(s: str) -> list[int]:
    b = s.encode("utf-16-le")
    return [b[i] | (b[i + 1] << 8) for i in range(0, len(b), 2)]


def hash_map(pairs: Iterable[tuple[Any, Any]], size_hint: int | None = None) -> HashMap:
    """Build a :class:`HashMap` whose iteration order is ``java.util.HashMap``'s.

    Pebble creates map literals with ``new HashMap<>(ceil(n / 0.75))``; the order is the
    bucket order ``(h ^ h >>> 16) & (capacity - 1)``, insertion order inside a bucket.
    """
    items: dict[Any, Any] = {}
    for k, v in pairs:
        items[k] = v
    n = len(items) if size_hint is None else size_hint
    initial = max(1, math.ceil(n / 0.75))
    cap = 1
    while cap < initial:
        cap <<= 1
    # grow like HashMap.resize when the initial capacity is too small
    while len(items) > cap * 0.75:
        cap <<= 1

    def bucket(k: Any) -> int:
        h = _java_hash(k) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (cap - 1)

    order = sorted(enumerate(items), key=lambda p: (bucket(p[1]), p[0]))
    return HashMap((k, items[k]) for _, k in order)


# ---------------------------------------------------------------------------------------------
# truthiness


def _class_cast(v: Any) -> ExpressionError:
    cls = java_class_name(v)
    return ExpressionError(f"class {cls} cannot be cast to class java.lang.Boolean")


def truthy(v: Any, where: str = "if") -> bool:
    """Pebble's Boolean conversion of a condition.

    ``where`` is ``"if"`` (``if``/``elseif``), ``"and"``/``"or"``, ``"not"`` or
    ``"ternary"``. Booleans as is, numbers ``!= 0`` (as doubles, so NaN is true), strings
    non-empty. null is an error except in a ternary (false); maps and lists are errors.
    """
    if v is True or v is False:
        return v
    if is_java_string(v):
        return bool(v != "")
    if is_number(v):
        return float(v) != 0.0
    if v is None:
        if where == "ternary":
            return False
        if where in ("and", "or"):
            raise ExpressionError(
                "null value used in and operator and strict variables is set to true"
            )
        if where == "not":
            raise ExpressionError("null value given to not() and strict variables is set to true")
        raise ExpressionError(
            "null value given to if statement and strict variables is set to true"
        )
    if where in ("if", "not"):
        raise ExpressionError(
            f"Unsupported value type {java_simple_name(v)}. "
            'Expected Boolean, String, Number in "if" statement'
        )
    raise _class_cast(v)


__all__ = [
    "BigInteger",
    "Char",
    "Entry",
    "Float",
    "HashMap",
    "Long",
    "SafeString",
    "TemplateList",
    "hash_map",
    "is_integral",
    "is_java_integer",
    "is_java_long",
    "is_number",
    "java_class_name",
    "java_float",
    "java_simple_name",
    "is_java_string",
    "java_to_string",
    "to_json",
    "to_string",
    "truthy",
    "wrap_int",
    "wrap_long",
]
