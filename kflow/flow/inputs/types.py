"""Kestra's input types: parsing and validating one value of each type.

:func:`parse_value` turns a raw value (CLI text, YAML default, rendered expression) into a
small internal value (an ``Instant``, a ``Duration``...) exactly as Kestra's
``FlowInputOutput.parseType`` and the ``io.kestra.core.models.flows.input.*`` classes do;
``_validate`` applies the declared rules (``min``, ``validator``, ``values``);
:func:`typed_value` does both and words a failure as Kestra does; :func:`stored_value` turns
the result into what an execution keeps. Java's own text (``toString`` of a value,
``Integer.valueOf``, ``java.time`` messages) comes from :mod:`kflow.java`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from kflow.java.duration import NANOS, Duration
from kflow.java.duration import parse as parse_duration
from kflow.java.exceptions import DateTimeParseError
from kflow.java.isotime import (
    Instant,
    LocalDate,
    LocalTime,
    parse_instant,
    parse_local_date,
    parse_local_time,
)
from kflow.java.numbers import (
    INT_MAX,
    INT_MIN,
    NumberFormatError,
    float_to_string,
    parse_float,
    parse_int,
)
from kflow.java.regex import java_regex
from kflow.java.strings import to_string
from kflow.secrets import MASK, encrypt

INPUT_TYPES: frozenset[str] = frozenset(
    {
        "ARRAY", "BOOL", "BOOLEAN", "DATE", "DATETIME", "DURATION", "EMAIL", "ENUM", "FILE",
        "FLOAT", "INT", "JSON", "MULTISELECT", "SECRET", "SELECT", "STRING", "TIME", "URI",
        "YAML",
    }
)  # fmt: skip


# FlowInputOutput.URI_PATTERN and EmailInput.EMAIL_PATTERN, verbatim.
_URI_RE = re.compile(
    r"^[a-z]+:\/\/(?:www\.)?[-a-zA-Z0-9@:%._\+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"(?:[-a-zA-Z0-9()@:%_\+.~#?&\/=]*)$",
    re.ASCII,
)


_EMAIL_RE = re.compile(r"^$|^[a-zA-Z0-9_!#$%&’*+/=?`{|}~^.-]+@[a-zA-Z0-9.-]+$")


class ArgError(Exception):
    """A Java ``IllegalArgumentException``: Kestra keeps its message as the reason."""


class ParseError(Exception):
    """Any other parse failure: Kestra wraps it as ``Expected `T` but received `v` ...``."""


class _Violation(Exception):
    """A validation rule (min, pattern, values) refused the parsed value."""


def java_str(value: Any) -> str:
    """Java ``toString`` of a value as Jackson would have built it (used in messages)."""
    return to_string(value)


def java_type_name(value: Any) -> str:
    """The simple Java class name Jackson would have built for ``value`` (in messages)."""
    if value is None:
        return "<null>"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer" if INT_MIN <= value <= INT_MAX else "Long"
    return {str: "String", float: "Double", dict: "LinkedHashMap"}.get(
        type(value), type(value).__name__
    )


def _parse_java_int(text: str) -> int:
    """``Integer.valueOf``; Kestra keeps a ``NumberFormatException``'s message as the reason."""
    try:
        return parse_int(text)
    except NumberFormatError as exc:
        raise ArgError(str(exc)) from None


def _parse_java_float(text: str) -> float:
    """``Float.valueOf``, as the float Kestra prints."""
    try:
        return parse_float(text)
    except NumberFormatError as exc:
        raise ArgError(str(exc)) from None


def _matches(pattern: str, value: str) -> bool:
    """``Pattern.matches``: the whole string must match."""
    return java_regex(pattern).fullmatch(value) is not None


@dataclass(frozen=True)
class _Secret:
    plaintext: str

    def __repr__(self) -> str:
        return "_Secret(******)"


@dataclass(frozen=True)
class PendingFile:
    """A local file to upload once every input is known to be valid."""

    path: Path


def _jsonable(value: Any) -> Any:
    """A plain JSON tree (str keys, lists) from whatever YAML/JSON/a caller gave."""
    if isinstance(value, Mapping):
        return {
            java_str(k) if not isinstance(k, str) else k: _jsonable(v) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Path):
        return str(value)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise ParseError(str(exc).split(";")[0]) from None
    except RecursionError:
        raise ParseError("JSON nested too deeply (more levels than kflow can read)") from None


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _parse_list(value: Any, item_type: str | None, store: bool) -> list[Any]:
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        parsed = _parse_json(value)
        if not isinstance(parsed, list):
            raise ParseError(f"a JSON array is expected, not a JSON {_json_kind(parsed)}")
        items = parsed
    else:
        raise ParseError("a list or a JSON array is expected")
    if item_type is None or item_type not in INPUT_TYPES:
        return [_jsonable(v) for v in items]
    out = []
    for item in items:
        try:
            out.append(parse_value(item_type, item, {}, store))
        except (ArgError, ParseError, DateTimeParseError) as exc:
            raise ArgError(
                f"Unable to parse array element as `{item_type}` on `{java_str(item)}`"
            ) from exc
    return out


def _parse_file(value: Any, store: bool) -> Any:
    text = java_str(value)
    if not isinstance(value, Path):
        scheme = urlparse(text).scheme.lower() if "://" in text else ""
        if scheme == "kestra":
            return text
        if scheme == "file":
            text = unquote(urlparse(text).path)
        elif scheme:
            raise ParseError(
                f"kflow cannot read `{scheme}://` files; give a local path or a kestra:/// URI"
            )
    if not store:
        raise ParseError("only a kestra:/// URI is accepted here, not a local path")
    path = Path(text)
    if not path.exists():
        raise ParseError(f"{text} (No such file or directory)")  # Java's FileNotFoundException
    if path.is_dir():
        raise ParseError(f"{text} (Is a directory)")
    return PendingFile(path)


def parse_value(type_: str, value: Any, props: Mapping[str, Any], store: bool = True) -> Any:
    """Kestra's ``parseType`` (1.x leniency: ``toString()`` of a non-string value)."""
    if type_ in ("STRING", "ENUM", "SELECT", "EMAIL"):
        return java_str(value)
    if type_ == "SECRET":
        return _Secret(java_str(value))
    if type_ == "INT":
        if isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX:
            return value
        return _parse_java_int(java_str(value))
    if type_ == "FLOAT":
        return _parse_java_float(java_str(value))
    if type_ in ("BOOLEAN", "BOOL"):
        return value if isinstance(value, bool) else java_str(value).lower() == "true"
    if type_ == "DATETIME":
        return parse_instant(java_str(value))
    if type_ == "DATE":
        return parse_local_date(java_str(value))
    if type_ == "TIME":
        return parse_local_time(java_str(value))
    if type_ == "DURATION":
        return parse_duration(java_str(value))
    if type_ == "FILE":
        return _parse_file(value, store)
    if type_ in ("JSON", "YAML"):
        if isinstance(value, (Mapping, list, tuple)):
            return _jsonable(value)
        text = java_str(value)
        if type_ == "JSON":
            return _parse_json(text)
        import yaml  # only for a YAML input

        from kflow.flow.yamlio import YamlDataLoader, load_bounded

        try:
            return _jsonable(load_bounded(text, YamlDataLoader))
        except yaml.YAMLError as exc:
            raise ParseError(" ".join(str(exc).split())) from None
    if type_ == "URI":
        text = java_str(value)
        if not _URI_RE.fullmatch(text):
            raise ArgError(f"Expected `URI` but received `{text}`")
        return text
    if type_ in ("ARRAY", "MULTISELECT"):
        item_type = props.get("itemType", "STRING" if type_ == "MULTISELECT" else None)
        return _parse_list(value, item_type if isinstance(item_type, str) else None, store)
    raise ArgError(f"unknown type `{type_}`")


def declared_value(type_: str, key: str, value: Any) -> Any:
    """Parse a ``min``/``max``/``after``/``before`` as Jackson would bind it; raises ValueError."""
    if type_ == "INT":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"`{key}` must be an integer")
        try:
            return _parse_java_int(str(value))
        except ArgError:
            raise ValueError(f"`{key}` must be a 32-bit integer, not `{value}`") from None
    if type_ == "FLOAT":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"`{key}` must be a number")
        try:
            return _parse_java_float(java_str(value))
        except ArgError:
            raise ValueError(f"`{key}` must be a number, not `{value}`") from None
    if type_ == "DURATION":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return Duration(round(Fraction(value) * NANOS))  # Jackson reads numbers as seconds
        try:
            return parse_duration(str(value))
        except DateTimeParseError as exc:
            raise ValueError(f"`{key}` is not a duration like PT5M: {exc}") from None
    parser: dict[str, Callable[[str], Any]] = {
        "DATE": parse_local_date, "TIME": parse_local_time, "DATETIME": parse_instant,
    }  # fmt: skip
    if isinstance(value, (int, float, bool, list, dict)) or value is None:
        raise ValueError(f"`{key}` must be a quoted {type_} text, not `{java_str(value)}`")
    try:
        return parser[type_](java_str(value))
    except DateTimeParseError as exc:
        raise ValueError(f"invalid `{key}`: {exc}") from None


def _validate(spec_type: str, props: Mapping[str, Any], value: Any, required: bool) -> None:
    """The ``validate`` method of each ``*Input`` class; raises :class:`_Violation`."""
    if spec_type in ("INT", "FLOAT", "DURATION"):
        bounds = [("min", "more than"), ("max", "less than")]
        verb = "It must be" if spec_type == "DURATION" else "it must be"
        for key, word in bounds:
            limit = _safe_declared(spec_type, key, props)
            if limit is None:
                continue
            if (key == "min" and value < limit) or (key == "max" and value > limit):
                shown = float_to_string(limit) if spec_type == "FLOAT" else str(limit)
                raise _Violation(f"{verb} {word} `{shown}`")
    elif spec_type in ("DATE", "TIME", "DATETIME"):
        after = _safe_declared(spec_type, "after", props)
        before = _safe_declared(spec_type, "before", props)
        if after is not None and value < after:
            raise _Violation(f"it must be after `{after}`")
        if before is not None and value > before:
            raise _Violation(f"it must be before `{before}`")
    elif spec_type in ("STRING", "SECRET"):
        pattern = props.get("validator")
        text = value.plaintext if isinstance(value, _Secret) else value
        if isinstance(pattern, str) and not _matches(pattern, text):
            raise _Violation(f"it must match the pattern `{pattern}`")
    elif spec_type == "EMAIL":
        if not _EMAIL_RE.fullmatch(value):
            raise _Violation("The input must be a valid email")
    elif spec_type in ("ENUM", "SELECT"):
        values = _choice_values(props)
        allow_custom = spec_type == "SELECT" and props.get("allowCustomValue") is True
        if values is not None and value not in values and required and not allow_custom:
            raise _Violation(f"it must match the values `{java_str(values)}`")
    elif spec_type == "MULTISELECT":
        values = _choice_values(props)
        if values is not None and props.get("allowCustomValue") is not True:
            for item in value:
                # Kestra compares the parsed item with the texts; comparing texts keeps a
                # MULTISELECT with itemType INT usable.
                if java_str(stored_value(item, plain=True)) not in values:
                    raise _Violation(f"it must match the values `{java_str(values)}`")


def _safe_declared(type_: str, key: str, props: Mapping[str, Any]) -> Any:
    if key not in props or props[key] is None:
        return None
    try:
        return declared_value(type_, key, props[key])
    except ValueError:
        return None  # reported when the flow was loaded


def _choice_values(props: Mapping[str, Any]) -> list[str] | None:
    values = props.get("values", props.get("options"))
    if not isinstance(values, list):
        return None
    return [java_str(v) for v in values]


def stored_value(value: Any, *, plain: bool = False) -> Any:
    """Internal typed value → what the execution stores (or, ``plain``, what expressions see)."""
    if isinstance(value, (Instant, LocalDate, LocalTime, Duration)):
        return value.json()
    if isinstance(value, _Secret):
        return value.plaintext if plain else encrypt(value.plaintext)
    if isinstance(value, PendingFile):
        return str(value.path) if plain else value
    if isinstance(value, list):
        return [stored_value(v, plain=plain) for v in value]
    return value


def _shown(spec_type: str, raw: Any) -> str:
    return MASK if spec_type == "SECRET" and raw is not None else java_str(raw)


def problem_text(kind: str, id_: str, reason: str, spec_type: str, raw: Any) -> str:
    """Kestra's wording; a reason that already says what was received (``Expected `T` but
    received `v` with errors: ...``) does not get a second ``but received``."""
    shown = _shown(spec_type, raw)
    if f"but received `{shown}`" in reason:
        return f"Invalid {kind} for `{id_}`, {reason}"
    return f"Invalid {kind} for `{id_}`, {reason}, but received `{shown}`"


_EXPECTED: Mapping[str, str] = {
    "INT": "an integer is expected (a whole number from -2147483648 to 2147483647, e.g. 42)",
    "FLOAT": "a number is expected (e.g. 3.14)",
    "DATETIME": "an ISO-8601 date-time with seconds and an offset is expected "
    "(e.g. 2024-01-31T10:00:00Z)",
    "DATE": "an ISO-8601 date is expected (e.g. 2024-01-31)",
    "TIME": "an ISO-8601 time is expected (e.g. 10:30:00)",
    "DURATION": "an ISO-8601 duration is expected (e.g. PT30S, PT5M, PT1H or P1D)",
    "JSON": 'a JSON value is expected (e.g. {"key": "value"}, [1, 2] or "text")',
    "YAML": "a YAML value is expected (e.g. key: value)",
    "URI": "a URI such as https://example.com/path is expected (Kestra's pattern needs a "
    "host with a dot: localhost is refused)",
}


def _json_items(text: str, item_type: Any) -> str:
    """``x, y`` → ``["x", "y"]`` (numbers stay numbers for a numeric ``itemType``): the JSON
    array to write instead of a comma-separated list."""
    items: list[Any] = [part.strip() for part in text.split(",")] if text.strip() else []
    if item_type in ("INT", "FLOAT"):
        numbers: list[Any] = []
        for item in items:
            try:
                numbers.append(int(item) if item_type == "INT" else float(item))
            except ValueError:
                return json.dumps(items, ensure_ascii=False)
        return json.dumps(numbers)
    return json.dumps(items, ensure_ascii=False)


def fix_hint(id_: str, type_: str, raw: Any, props: Mapping[str, Any]) -> str | None:
    """How to write a value of ``type_`` that failed to parse, or None when it parses (a
    validation rule refused it: Kestra's message already says which)."""
    try:
        parse_value(type_, raw, props, store=True)
    except (ArgError, ParseError, DateTimeParseError):
        pass
    else:
        return None
    if type_ in ("ARRAY", "MULTISELECT"):
        text = java_str(raw)
        if isinstance(raw, str) and not text.lstrip().startswith("["):
            return (f"{type_} input `{id_}` takes a JSON array: write "
                    f"{_json_items(text, props.get('itemType'))}")  # fmt: skip
        item = props.get("itemType")
        return f"{type_} input `{id_}` takes a JSON array" + (
            f" of {item} values" if isinstance(item, str) else ""
        )
    expected = _EXPECTED.get(type_)
    return f"{type_} input `{id_}`: {expected}" if expected else None


def read_as_false(raw: Any) -> bool:
    """A BOOLEAN value written as text that is neither ``true`` nor ``false`` (any case):
    Kestra's ``Boolean.parseBoolean`` reads it as false (``yes``, ``1``, `` true``)."""
    return isinstance(raw, str) and raw.lower() not in ("true", "false")


def typed_value(
    kind: str,
    id_: str,
    type_: str,
    props: Mapping[str, Any],
    raw: Any,
    required: bool,
    *,
    validate: bool,
    store: bool,
) -> tuple[Any, str | None]:
    """Parse then validate one value; returns (value, problem) in Kestra's wording."""
    if type_ not in INPUT_TYPES:
        return None, f"Invalid {kind} for `{id_}`, unknown type `{type_}`"
    try:
        value = parse_value(type_, raw, props, store)
        if validate:
            _validate(type_, props, value, required)
    except (ArgError, _Violation) as exc:
        return None, problem_text(kind, id_, str(exc), type_, raw)
    except (ParseError, DateTimeParseError) as exc:
        reason = f"Expected `{type_}` but received `{_shown(type_, raw)}` with errors: {exc}"
        return None, problem_text(kind, id_, reason, type_, raw)
    return value, None
