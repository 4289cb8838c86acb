"""Shared code of the Avro, Parquet and Excel conversions (``io.kestra.plugin.serdes``).

Kestra converts Ion rows to Avro records with one converter (``AvroConverter``), used by
both ``IonToAvro`` and ``IonToParquet`` (Parquet is written through ``parquet-avro``), and
turns Avro records back into Ion with one deserializer, used by ``AvroToIon`` and
``ParquetToIon``. This module holds kflow's version of both, plus the optional-package
import, the property readers every one of the six tasks shares, and the Java view of an Ion
value the converter needs: Kestra's rules depend on the Java class ion-java hands over
(``Integer`` vs ``Long``, ``Instant`` vs ``LocalDate``), which :func:`java_kind` recovers
from the Python value :func:`kflow.ion.read_rows` yields.

Avro schemas are handled as the plain JSON structures of the Avro specification (named
types resolved by name); the heavy libraries (fastavro, pyarrow, openpyxl) are imported by
the tasks inside ``run``.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType
from typing import Any

from kflow.errors import KflowError, TaskError
from kflow.ion import AnnotatedStr, IonError, read_rows
from kflow.java.numbers import parse_double, parse_float32, parse_int, to_f32
from kflow.java.strings import to_string
from kflow.tasks.base import RunContext, Task
from kflow.tasks.storage.common import check_uri, temp_file

__all__ = [
    "BAD_LINES",
    "AvroConverter",
    "RowError",
    "AvroReaderView",
    "java_hash_order",
    "java_string",
    "bad_lines_mode",
    "ion_rows",
    "load_avro_schema",
    "output_file",
    "infer_schema",
    "require",
    "source_uri",
]

BAD_LINES = ("ERROR", "WARN", "SKIP")

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


# --------------------------------------------------------------------------- tasks


def require(module: str, extra: str) -> ModuleType:
    """Import an optional package, or fail with the ``pip install`` line that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pip = f"pip install 'kflow[{extra}]'"
        raise TaskError(
            f"this task needs the optional package '{module}', which is not installed: {pip}",
            hint=pip,
        ) from None


def source_uri(task: Task, ctx: RunContext, name: str = "from") -> str:
    """The rendered ``from`` property as a checked kestra:/// URI of this execution."""
    return check_uri(ctx, task.rendered(ctx, name), name)


def output_file(ctx: RunContext, extension: str) -> Path:
    """A new file in the task's working directory (``createTempFile`` naming)."""
    return temp_file(ctx, extension)


def enum_value(task: Task, ctx: RunContext, name: str, allowed: tuple[str, ...]) -> str:
    """An enum property (rendered), one of ``allowed``."""
    value = task.rendered(ctx, name)
    text = str(value).strip() if value is not None else ""
    if text not in allowed:
        raise TaskError(
            f"`{name}` must be one of {', '.join(allowed)}, got {value!r}",
            hint=f"set {name}: {allowed[0]}",
        )
    return text


def bad_lines_mode(task: Task, ctx: RunContext) -> str:
    """``onBadLines``: ERROR (fail), WARN (log and skip) or SKIP."""
    return enum_value(task, ctx, "onBadLines", BAD_LINES)


def int_prop(task: Task, ctx: RunContext, name: str, minimum: int = 0) -> int:
    """An integer property (literal or expression)."""
    value = task.prop(name)
    if isinstance(value, str):
        value = ctx.render_typed(value)
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise TaskError(f"`{name}` must be an integer, got {value!r}") from None
    if isinstance(number, bool) or number < minimum:
        raise TaskError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return number


def ion_rows(ctx: RunContext, uri: str) -> Iterator[Any]:
    """The rows of a stored Ion file, streamed; bad Ion becomes a TaskError naming the file."""
    with ctx.open_file(uri) as fh:
        try:
            yield from read_rows(fh)
        except IonError as exc:
            raise TaskError(f"{uri} is not a valid Ion file: {exc}") from None


# --------------------------------------------------------------------------- Java view


def java_kind(value: Any) -> str:
    """The Java class ion-java gives for a value :func:`read_rows` yields (Kestra's rules
    depend on it): Integer/Long/BigInteger by size, Instant for a timestamp, LocalDate for
    a day, the annotated time types by their annotation."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return "Integer"
        return "Long" if LONG_MIN <= value <= LONG_MAX else "BigInteger"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, Decimal):
        return "BigDecimal"
    if isinstance(value, AnnotatedStr) and value.annotation in _ANNOTATED:
        return value.annotation
    if isinstance(value, str):
        return "String"
    if isinstance(value, datetime):
        return "Instant" if value.tzinfo is not None else "LocalDateTime"
    if isinstance(value, date):
        return "LocalDate"
    if isinstance(value, time):
        return "OffsetTime" if value.tzinfo is not None else "LocalTime"
    if isinstance(value, bytes | bytearray):
        return "byte[]"
    if isinstance(value, Mapping):
        return "Map"
    if isinstance(value, list | tuple):
        return "List"
    return type(value).__name__


_ANNOTATED = ("LocalTime", "LocalDateTime", "OffsetTime", "OffsetDateTime", "ZonedDateTime")
_LOCAL_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?")
_OFFSET = re.compile(r"Z|[+-]\d{2}:\d{2}(?::\d{2})?")


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    parts = [int(p) for p in text[1:].split(":")]
    seconds = parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)
    return timezone(sign * timedelta(seconds=seconds)) if seconds else UTC


def _local_time(text: str) -> tuple[time, str]:
    m = _LOCAL_TIME.match(text)
    if not m:
        raise ValueError(f"not a time: {text!r}")
    hour, minute, second, fraction = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return time(int(hour), int(minute), int(second or 0), micro), text[m.end() :]


def java_value(value: Any) -> Any:
    """An annotated Ion string (``LocalTime::"10:00:00"``) as the Python time value it
    stands for, as Kestra's Ion reader turns it into a Java time object; others unchanged."""
    if not isinstance(value, AnnotatedStr) or value.annotation not in _ANNOTATED:
        return value
    kind, text = value.annotation, str(value)
    try:
        if kind in ("LocalTime", "OffsetTime"):
            local, rest = _local_time(text)
            if kind == "OffsetTime" and _OFFSET.fullmatch(rest):
                return local.replace(tzinfo=_offset(rest))
            if rest:
                raise ValueError(text)
            return local
        day, _, clock = text.partition("T")
        year, month, dom = (int(p) for p in day.split("-"))
        local, rest = _local_time(clock)
        moment = datetime.combine(date(year, month, dom), local)
        if kind == "LocalDateTime":
            if rest:
                raise ValueError(text)
            return moment
        offset = _OFFSET.match(rest)
        if not offset:
            raise ValueError(text)
        return moment.replace(tzinfo=_offset(offset.group()))
    except ValueError:
        return str(value)


def java_time_text(value: time) -> str:
    """``LocalTime.toString`` (``OffsetTime`` with its offset): ``10:00``, ``10:00:01``,
    ``10:00:01.500``."""
    text = f"{value.hour:02d}:{value.minute:02d}"
    if value.second or value.microsecond:
        text += f":{value.second:02d}"
        if value.microsecond:
            micros = f"{value.microsecond:06d}"
            text += "." + (micros[:3] if micros.endswith("000") else micros)
    if value.tzinfo is not None:
        from kflow.ion import format_offset

        text += format_offset(value.utcoffset())
    return text


def java_string(value: Any) -> str:
    """``String.valueOf`` of a value as Kestra's Ion reader gives it: java.time values
    print with their ``toString`` (an Instant as ``2024-01-02T03:04:05.678Z``)."""
    value = java_value(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            from kflow.ion import to_jsonable

            return str(to_jsonable(value))  # Instant.toString
        return f"{value.date().isoformat()}T{java_time_text(value.time())}"
    if isinstance(value, time):
        return java_time_text(value)
    return to_string(value)


# --------------------------------------------------------------------------- dates


def _java_parse(text: str, pattern: str) -> Any:
    """Parse with a ``DateTimeFormatter`` pattern (kflow's Java date layer)."""
    from kflow.java import time as jtime

    try:
        return jtime._parse_pattern(text, pattern, jtime.ENGLISH)
    except KflowError as exc:
        raise ValueError(exc.message) from None
    except Exception as exc:  # kflow.java.time's own parse failure
        raise ValueError(f"Text '{text}' could not be parsed with '{pattern}' {exc}") from None


def check_pattern(pattern: str, name: str) -> None:
    """Refuse a date pattern kflow's Java date layer cannot read, naming the property."""
    from kflow.java import time as jtime

    try:
        jtime._pattern_regex(pattern, jtime.ENGLISH)
    except KflowError as exc:
        raise TaskError(f"`{name}`: invalid date pattern {pattern!r}: {exc.message}") from None


def parse_local_date(text: str, pattern: str) -> date:
    """``LocalDate.parse(text, ofPattern(pattern))``."""
    from kflow.java import time as jtime

    parsed = _java_parse(text, pattern)
    try:
        day = jtime._resolve_date(parsed, True)
    except Exception as exc:
        raise ValueError(f"Text '{text}' could not be parsed: {exc}") from None
    if day is None:
        raise ValueError(f"Text '{text}' could not be parsed: Unable to obtain LocalDate")
    return day


def _clock(text: str, parsed: Any) -> tuple[time, int]:
    from kflow.java import time as jtime

    try:
        resolved = jtime._resolve_time(parsed)
    except Exception as exc:
        raise ValueError(f"Text '{text}' could not be parsed: {exc}") from None
    if resolved is None:
        raise ValueError(f"Text '{text}' could not be parsed: Unable to obtain LocalTime")
    hour, minute, second, nano, extra = resolved
    return time(hour, minute, second, nano // 1000), extra


def parse_local_time(text: str, pattern: str) -> time:
    """``LocalTime.parse(text, ofPattern(pattern))`` (an offset in the text is dropped)."""
    return _clock(text, _java_parse(text, pattern))[0]


def parse_instant(text: str, pattern: str, zone: Any) -> datetime:
    """``ZonedDateTime.parse`` then ``LocalDateTime.parse(...).atZone(zone)``: an aware
    datetime in UTC."""
    from kflow.java import time as jtime

    parsed = _java_parse(text, pattern)
    day = parse_local_date(text, pattern)
    clock, extra = _clock(text, parsed)
    local = datetime.combine(day, clock) + timedelta(days=extra)
    if parsed.offset is not None:
        return local.replace(tzinfo=timezone(timedelta(seconds=parsed.offset))).astimezone(UTC)
    target = parsed.zone if parsed.zone is not None else zone
    return jtime.resolve_local(local, target).astimezone(UTC)


# --------------------------------------------------------------------------- Avro schema


def load_avro_schema(text: Any) -> Any:
    """A JSON Avro schema (text) checked and parsed; TaskError when it is not valid."""
    from fastavro.schema import SchemaParseException, parse_schema

    if not isinstance(text, str):
        text = json.dumps(text)
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise TaskError(
            f"Invalid Avro schema: not JSON ({exc})", hint="give `schema` as JSON Avro schema text"
        ) from None
    try:
        parse_schema(raw)
    except (SchemaParseException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TaskError(f"Invalid Avro schema: {exc}") from None
    if not isinstance(raw, dict) or raw.get("type") != "record":
        raise TaskError(
            "Invalid Avro schema: the top-level type must be a record",
            hint='wrap the fields in {"type": "record", "name": "...", "fields": [...]}',
        )
    return raw


def named_types(
    schema: Any, namespace: str = "", out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every named type of a schema by full and short name (records, enums, fixed)."""
    out = {} if out is None else out
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, namespace, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed") and "name" in schema:
            name = schema["name"]
            ns = schema.get("namespace", namespace) if "." not in name else name.rsplit(".", 1)[0]
            full = name if "." in name else (f"{ns}.{name}" if ns else name)
            out[full] = schema
            out.setdefault(full.rsplit(".", 1)[-1], schema)
            namespace = ns
        if kind in ("record", "error"):
            for f in schema.get("fields", []):
                named_types(f.get("type"), namespace, out)
        elif kind == "array":
            named_types(schema.get("items"), namespace, out)
        elif kind == "map":
            named_types(schema.get("values"), namespace, out)
        elif isinstance(kind, dict | list):
            named_types(kind, namespace, out)
    return out


def schema_type(schema: Any, names: Mapping[str, Any]) -> Any:
    """A schema with name references and ``{"type": {...}}`` wrappers resolved."""
    while True:
        if isinstance(schema, str) and schema in names:
            schema = names[schema]
        elif isinstance(schema, dict) and isinstance(schema.get("type"), dict | list):
            if "logicalType" in schema:
                return schema
            schema = schema["type"]
        elif (
            isinstance(schema, dict)
            and isinstance(schema.get("type"), str)
            and schema["type"] in names
            and schema["type"] not in _PRIMITIVES
        ):
            schema = names[schema["type"]]
        else:
            return schema


_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def type_name(schema: Any) -> str:
    """The Avro type of a resolved schema (``int``, ``record``, ``union``...)."""
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, dict):
        return str(schema.get("type"))
    return str(schema)


def logical_type(schema: Any) -> str | None:
    return schema.get("logicalType") if isinstance(schema, dict) else None


# --------------------------------------------------------------------------- Ion → Avro


class Conversion(Task):
    """What every Avro, Parquet and Excel conversion shares: its run summary is the number
    of records it converted (its ``size`` output)."""

    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        size = outputs.get("size")
        return {"records": size} if isinstance(size, int) else {}


class CellError(ValueError):
    """One value that does not fit its schema type (Kestra's ``IllegalCellConversion``)."""


class RowError(ValueError):
    """A row that cannot be converted: which field, why (Kestra's ``IllegalRowConvertion``)."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.field_name = field_name


def _contains(values: tuple[str, ...], text: str) -> bool:
    low = text.lower()
    return any(v.lower() == low for v in values)


_LONG_RE = re.compile(r"[+-]?[0-9]+")


def _parse_long(text: str) -> int:
    if _LONG_RE.fullmatch(text):
        number = int(text)
        if LONG_MIN <= number <= LONG_MAX:
            return number
    raise CellError(f'For input string: "{text}"')


def _wrap_long(value: int) -> int:
    """``BigInteger.longValue()``: the low 64 bits, signed."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass
class AvroConverter:
    """Kestra's ``AvroConverter``: Ion values to Avro datum values, by its rules.

    The result is what fastavro writes (and what the Parquet writer turns into Arrow):
    ``date``, ``time``, aware ``datetime`` for timestamps, naive for local timestamps,
    ``Decimal`` at the schema's scale, ``bytes``, enum symbols as ``str``.
    """

    schema: Mapping[str, Any]
    true_values: tuple[str, ...] = ("t", "true", "enabled", "1", "on", "yes")
    false_values: tuple[str, ...] = ("f", "false", "disabled", "0", "off", "no", "")
    null_values: tuple[str, ...] = (
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "1.#IND", "1.#QNAN",
        "NA", "n/a", "nan", "null",
    )  # fmt: skip
    date_format: str = "yyyy-MM-dd[XXX]"
    time_format: str = "HH:mm[:ss][.SSSSSS][XXX]"
    datetime_format: str = "yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]"
    decimal_separator: str = "."
    strict_schema: bool = False
    infer_all_fields: bool = False
    zone: Any = None
    on_bad_lines: str = "ERROR"
    warn: Callable[[str], None] = print
    names: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.names = named_types(self.schema)
        if self.zone is None:
            from kflow.java.time import zone_of

            self.zone = zone_of("UTC")

    # ------------------------------------------------------------------ rows
    def row(self, value: Any) -> dict[str, Any]:
        """One Ion row (struct, list, or ``colN`` struct) as a record (``convertToAvro``)."""
        fields = self.schema.get("fields", [])
        if isinstance(value, list):
            if len(fields) == 1:
                first = schema_type(fields[0]["type"], self.names)
                if type_name(first) == "array":
                    return self.from_map(self.schema, {fields[0]["name"]: value})
            return self.from_array(self.schema, value)
        if isinstance(value, Mapping):
            keys = list(value)
            if keys and all(re.fullmatch(r"col\d+", k) for k in keys):
                if self.strict_schema and len(keys) > len(fields):
                    raise RowError(self._too_many(len(fields), len(keys)))
                return self.from_array(
                    self.schema, [value.get(f"col{i}") for i in range(len(fields))]
                )
            return self.from_map(self.schema, value)
        raise RowError(f"Unable to convert row of type: {java_kind(value)}")

    @staticmethod
    def _too_many(expected: int, got: int) -> str:
        return f"Data contains more fields than schema: expected {expected}, got {got}"

    def from_array(self, schema: Mapping[str, Any], data: list[Any]) -> dict[str, Any]:
        fields = schema.get("fields", [])
        if self.strict_schema and len(fields) < len(data):
            message = self._too_many(len(fields), len(data))
            if self.on_bad_lines == "ERROR":
                raise RowError(message)
            if self.on_bad_lines == "WARN":
                self.warn(message)
        mapped = {f["name"]: (data[i] if i < len(data) else None) for i, f in enumerate(fields)}
        return self.from_map(schema, mapped)

    def from_map(
        self, schema: Mapping[str, Any], data: Mapping[str, Any], parent: str | None = None
    ) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for f in schema.get("fields", []):
            name = f["name"]
            path = f"{parent}.{name}" if parent else name
            value = data.get(name)
            if value is None:
                for alias in f.get("aliases") or ():
                    if data.get(alias) is not None:
                        value = data[alias]
                        break
            try:
                record[name] = self.convert(f["type"], value, path)
            except CellError as exc:
                if self.on_bad_lines == "ERROR":
                    raise RowError(str(exc), path) from None
                if self.on_bad_lines == "WARN":
                    self.warn(f"field '{path}': {exc}")
                record[name] = None
        if self.strict_schema and len(schema.get("fields", [])) < len(data):
            message = self._too_many(len(schema.get("fields", [])), len(data))
            if self.on_bad_lines == "ERROR":
                raise RowError(message)
            if self.on_bad_lines == "WARN":
                self.warn(message)
        return record

    # ------------------------------------------------------------------ values
    def convert(self, schema: Any, data: Any, path: str) -> Any:
        """One value for one schema (``AvroConverter.convert``); CellError when it does not fit."""
        if type(schema) is str and not self.infer_all_fields:
            # the common cases, without the general walk (rows are many)
            kind = type(data)
            if (
                (kind is str and schema == "string")
                or (kind is float and schema == "double")
                or (kind is bool and schema == "boolean")
                or (kind is int and schema == "long" and LONG_MIN <= data <= LONG_MAX)
                or (kind is int and schema == "int" and INT_MIN <= data <= INT_MAX)
            ):
                return data
        schema = schema_type(schema, self.names)
        data = java_value(data)
        try:
            return self._convert(schema, data, path)
        except CellError as exc:
            if isinstance(schema, list):
                raise
            raise CellError(
                f"cannot convert {java_kind(data)} value {_short(data)} to {_describe(schema)}: {exc}"
            ) from None
        except RowError as exc:
            raise CellError(str(exc)) from None
        except (ValueError, TypeError, ArithmeticError, OverflowError) as exc:
            raise CellError(
                f"cannot convert {java_kind(data)} value {_short(data)} to {_describe(schema)}: {exc}"
            ) from None

    def _convert(self, schema: Any, data: Any, path: str) -> Any:
        if self.infer_all_fields and isinstance(data, str):
            if _contains(self.null_values, data):
                return None
            if _contains(self.true_values, data):
                return True
            if _contains(self.false_values, data):
                return False
        logical = logical_type(schema)
        kind = type_name(schema)
        if logical == "decimal":
            return self.logical_decimal(schema, data)
        if logical == "uuid":
            return self.logical_uuid(data)
        if logical == "date":
            return self.logical_date(data)
        if logical in ("time-millis", "time-micros"):
            return self.logical_time(data, logical)
        if logical in ("timestamp-millis", "timestamp-micros"):
            return self.logical_timestamp(data, logical)
        if logical in ("local-timestamp-millis", "local-timestamp-micros"):
            instant = self.logical_timestamp(data, logical.removeprefix("local-"))
            return instant.astimezone(self.zone.tz).replace(tzinfo=None)
        if kind in ("record", "error"):
            if not isinstance(data, Mapping):
                raise CellError(f"a {java_kind(data)} is not a record")
            return self.from_map(schema, data, path)
        if kind == "array":
            if not isinstance(data, list | tuple):
                raise CellError(f"a {java_kind(data)} is not a list")
            items = schema.get("items")
            return [self.convert(items, v, f"{path}[{i}]") for i, v in enumerate(data)]
        if kind == "map":
            if not isinstance(data, Mapping):
                raise CellError(f"a {java_kind(data)} is not a map")
            values = schema.get("values")
            converted = {
                to_string(k): self.convert(values, v, f"{path}[{k}]") for k, v in data.items()
            }
            return java_hash_order(converted)  # Kestra collects it into a HashMap
        if kind == "union":
            for branch in schema:
                try:
                    return self.convert(branch, data, path)
                except CellError:
                    continue
            raise CellError(
                f"cannot convert {java_kind(data)} value {_short(data)} to any type of "
                f"the union {_describe(schema)}"
            )
        if kind == "fixed":
            value = self.primitive_bytes(data)
            if len(value) != schema["size"]:
                raise CellError(
                    f"Invalid length for fixed size, found {len(value)}, expexted {schema['size']}"
                )
            return value
        if kind == "enum":
            text = to_string(data)
            if text not in schema["symbols"]:
                symbols = ", ".join(schema["symbols"])
                raise CellError(f"Invalid enum value, found {text}, expected [{symbols}]")
            return text
        return self.primitive(kind, data)

    def primitive(self, kind: str, data: Any) -> Any:
        java = java_kind(data)
        if kind == "null":
            if data is None or (isinstance(data, str) and _contains(self.null_values, data)):
                return None
            raise CellError(f"Unknown type for null values, found {java}")
        if data is None and kind != "string":
            raise CellError(f"null is not a {kind}")
        if kind == "int":
            if java == "String":
                return parse_int(data)
            if java != "Integer":
                raise CellError(f"a {java} cannot be cast to an Integer")
            return data
        if kind == "long":
            if java == "String":
                return _parse_long(data)
            if java in ("Integer", "Long"):
                return data
            if java == "BigInteger":
                return _wrap_long(data)
            raise CellError(f"a {java} cannot be cast to a Long")
        if kind in ("float", "double"):
            if java == "String":
                text = self._decimal_text(data)
                return parse_float32(text) if kind == "float" else parse_double(text)
            if java == "Integer" or java == "Double" or (kind == "double" and java == "Float"):
                return to_f32(float(data)) if kind == "float" else float(data)
            raise CellError(f"a {java} cannot be cast to a {kind.capitalize()}")
        if kind == "boolean":
            if java == "String" and _contains(self.true_values, data):
                return True
            if java == "String" and _contains(self.false_values, data):
                return False
            if java == "Integer" and data in (0, 1):
                return data == 1
            if java == "Boolean":
                return data
            raise CellError(f"a {java} cannot be cast to a Boolean")
        if kind == "string":
            return self.primitive_string(data)
        if kind == "bytes":
            return self.primitive_bytes(data)
        raise CellError(f'Invalid schema "{kind}"')

    def _decimal_text(self, text: str) -> str:
        if self.decimal_separator == ".":
            return text
        return text.replace(self.decimal_separator, ".", 1)

    @staticmethod
    def primitive_string(data: Any) -> str:
        """``String.valueOf``: anything becomes text (null as ``null``, as Kestra does)."""
        return java_string(data)

    def primitive_bytes(self, data: Any) -> bytes:
        # Kestra takes the bytes of String.valueOf (a blob would print as "[B@…"): kflow
        # keeps a blob's own bytes instead.
        if isinstance(data, bytes | bytearray):
            return bytes(data)
        return self.primitive_string(data).encode("utf-8")

    def logical_decimal(self, schema: Mapping[str, Any], data: Any) -> Decimal:
        scale = int(schema.get("scale", 0))
        precision = int(schema["precision"])
        java = java_kind(data)
        if java == "String":
            try:
                value = Decimal(self._decimal_text(data))
            except InvalidOperation:
                raise CellError(f"Character array is not a valid decimal: {data!r}") from None
        elif java in ("Integer", "Long"):
            # Kestra multiplies by 10^(precision - scale) and reads the result as the
            # unscaled value (AvroConverter.logicalDecimal): 12 with (5, 2) is 120.00.
            unscaled = int(float(data) * 10.0 ** (precision - scale))
            value = Decimal(unscaled).scaleb(-scale)
        elif java == "Double":
            value = Context(prec=precision).create_decimal_from_float(data)
        elif java == "BigDecimal":
            value = data
        else:
            raise CellError(f"a {java} cannot be cast to a BigDecimal")
        value = value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
        if len(value.as_tuple().digits) > precision and value != 0:
            # Java's writer would store it; Avro and Parquet readers could not read it back
            raise CellError(f"{value} has more digits than the precision {precision}")
        return value

    @staticmethod
    def logical_uuid(data: Any) -> Any:
        import uuid

        if isinstance(data, uuid.UUID):
            return data
        if not isinstance(data, str):
            raise CellError(f"a {java_kind(data)} cannot be cast to a UUID")
        return uuid.UUID(data)

    def logical_date(self, data: Any) -> date:
        java = java_kind(data)
        if java == "String":
            return parse_local_date(data, self.date_format)
        if java == "Instant":
            return data.astimezone(self.zone.tz).date()  # type: ignore[no-any-return]
        if java in ("LocalDateTime", "OffsetDateTime", "ZonedDateTime"):
            return data.date()  # type: ignore[no-any-return]
        if java == "LocalDate":
            return data  # type: ignore[no-any-return]
        raise CellError(f"a {java} cannot be cast to a LocalDate")

    def logical_time(self, data: Any, logical: str) -> time:
        java = java_kind(data)
        if java == "String":
            value = parse_local_time(data, self.time_format)
        elif java == "OffsetTime":
            value = data.replace(tzinfo=None)
        elif java == "LocalTime":
            value = data
        else:
            raise CellError(f"a {java} cannot be cast to a LocalTime")
        if logical == "time-millis":
            value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        return value

    def logical_timestamp(self, data: Any, logical: str) -> datetime:
        java = java_kind(data)
        micros = logical == "timestamp-micros"
        if java == "String":
            try:
                number = _parse_long(data)
            except CellError:
                return parse_instant(data, self.datetime_format, self.zone)
            return _epoch(number, micros)
        if java == "Long":
            return _epoch(data, micros)
        if java == "LocalDateTime":
            from kflow.java.time import resolve_local

            return resolve_local(data, self.zone).astimezone(UTC)
        if java in ("Instant", "OffsetDateTime", "ZonedDateTime"):
            return data.astimezone(UTC)  # type: ignore[no-any-return]
        raise CellError(f"a {java} cannot be cast to an Instant")


def _epoch(number: int, micros: bool) -> datetime:
    unit = timedelta(microseconds=number) if micros else timedelta(milliseconds=number)
    return datetime(1970, 1, 1, tzinfo=UTC) + unit


def _short(value: Any) -> str:
    text = repr(str(value)) if isinstance(value, str) else to_string(value)
    return text if len(text) <= 80 else text[:80] + "…"


def _describe(schema: Any) -> str:
    if isinstance(schema, list):
        return "[" + ", ".join(_describe(s) for s in schema) + "]"
    if isinstance(schema, dict):
        logical = schema.get("logicalType")
        kind = schema.get("type")
        name = schema.get("name")
        if logical:
            return f"{kind} ({logical})"
        return f"{kind} {name}" if name and kind in ("record", "enum", "fixed") else str(kind)
    return str(schema)


def row_error(number: int, exc: RowError) -> TaskError:
    """A row that does not fit the schema, as the task's error (row number, field, why)."""
    where = f"row {number}" + (f", field '{exc.field_name}'" if exc.field_name else "")
    return TaskError(
        f"{where}: {exc}",
        hint="fix the data or the schema, or set onBadLines: WARN or SKIP to skip such rows",
    )


def converter(task: Task, ctx: RunContext, schema: Mapping[str, Any], mode: str) -> AvroConverter:
    """An :class:`AvroConverter` configured from the task's properties (AbstractAvroConverter)."""
    from kflow.java.time import zone_of

    def strings(name: str) -> tuple[str, ...]:
        return tuple(task.string_list(ctx, name))

    def pattern(name: str) -> str:
        text = str(task.rendered(ctx, name))
        check_pattern(text, name)
        return text

    separator = str(task.rendered(ctx, "decimalSeparator"))
    if len(separator) != 1:
        raise TaskError(f"`decimalSeparator` must be one character, got {separator!r}")
    zone_name = task.rendered(ctx, "timeZoneId")
    try:
        zone = zone_of(str(zone_name) if zone_name is not None else None)
    except KflowError as exc:
        raise TaskError(f"`timeZoneId`: {exc.message}") from None
    return AvroConverter(
        schema,
        true_values=strings("trueValues"),
        false_values=strings("falseValues"),
        null_values=strings("nullValues"),
        date_format=pattern("dateFormat"),
        time_format=pattern("timeFormat"),
        datetime_format=pattern("datetimeFormat"),
        decimal_separator=separator,
        strict_schema=task.flag(ctx, "strictSchema"),
        infer_all_fields=task.flag(ctx, "inferAllFields"),
        zone=zone,
        on_bad_lines=mode,
        warn=lambda message: ctx.log("WARN", message),
    )


def records(ctx: RunContext, uri: str, conv: AvroConverter) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) for every row of an Ion file, by the converter's rules.

    A value that does not fit its field fails the task (ERROR) or becomes null (WARN logs
    it, SKIP); a row that cannot be a record at all (a scalar, too many positional
    values with ``strictSchema``) fails the task whatever ``onBadLines`` says, as in Kestra.
    """
    for number, row in enumerate(ion_rows(ctx, uri), start=1):
        if row is None:
            continue
        try:
            record = conv.row(row)
        except RowError as exc:
            raise row_error(number, exc) from None
        yield number, record


# --------------------------------------------------------------------------- Avro → Ion


def _utf8_hash(key: str) -> int:
    """Avro ``Utf8.hashCode``: 31-polynomial over the UTF-8 bytes (Java's signed bytes)."""
    h = 0
    for byte in key.encode("utf-8"):
        h = (h * 31 + (byte - 256 if byte > 127 else byte)) & 0xFFFFFFFF
    return h


def java_hash_order(items: Mapping[str, Any]) -> dict[str, Any]:
    """A map in the iteration order of the ``java.util.HashMap`` Kestra's deserializer
    collects an Avro map into (``Collectors.toMap``: default capacity, grown at 3/4 full,
    buckets of the keys' ``Utf8`` hash, insertion order inside a bucket)."""
    if len(items) < 2:
        return dict(items)
    capacity = 16
    while len(items) > capacity * 0.75:
        capacity <<= 1

    def bucket(key: str) -> int:
        h = _utf8_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    order = sorted(enumerate(items), key=lambda pair: (bucket(pair[1]), pair[0]))
    return {key: items[key] for _, key in order}


def _has_map(schema: Any, names: Mapping[str, Any], seen: set[str]) -> bool:
    if isinstance(schema, str):
        if schema in names and schema not in seen:
            seen.add(schema)
            return _has_map(names[schema], names, seen)
        return False
    if isinstance(schema, list):
        return any(_has_map(branch, names, seen) for branch in schema)
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "map":
            return True
        if kind in ("record", "error"):
            name = schema.get("name")
            if isinstance(name, str):
                seen.add(name)
            return any(_has_map(f.get("type"), names, seen) for f in schema.get("fields", []))
        if kind == "array":
            return _has_map(schema.get("items"), names, seen)
        return _has_map(kind, names, seen) if isinstance(kind, dict | list | str) else False
    return False


class AvroReaderView:
    """Turns records decoded by fastavro (or pyarrow) into the values Kestra's
    ``AvroDeserializer`` hands to Ion: maps in Java's ``HashMap`` order, the rest as is
    (fastavro already gives dates, times, timestamps, decimals, uuids, bytes)."""

    def __init__(self, schema: Any) -> None:
        self.names = named_types(schema)
        self.schema = schema
        self.walk = _has_map(schema, self.names, set())

    def record(self, value: Any) -> Any:
        return self.value(self.schema, value) if self.walk else value

    def value(self, schema: Any, value: Any) -> Any:
        schema = schema_type(schema, self.names)
        if value is None:
            return None
        if isinstance(schema, list):
            return self.value(self._branch(schema, value), value)
        kind = type_name(schema)
        if kind == "map" and isinstance(value, Mapping):
            values = schema.get("values")
            return java_hash_order({str(k): self.value(values, v) for k, v in value.items()})
        if kind in ("record", "error") and isinstance(value, Mapping):
            types = {f["name"]: f["type"] for f in schema.get("fields", [])}
            return {k: self.value(types.get(k, "null"), v) for k, v in value.items()}
        if kind == "array" and isinstance(value, list):
            return [self.value(schema.get("items"), v) for v in value]
        return value

    def _branch(self, union: list[Any], value: Any) -> Any:
        """The union branch a decoded value came from (a record's fields, else a map)."""
        branches = [schema_type(b, self.names) for b in union]
        if isinstance(value, Mapping):
            keys = set(value)
            for b in branches:
                if type_name(b) in ("record", "error"):
                    if {f["name"] for f in b.get("fields", [])} == keys:
                        return b
            for b in branches:
                if type_name(b) == "map":
                    return b
        if isinstance(value, list):
            for b in branches:
                if type_name(b) == "array":
                    return b
        return "null"


# --------------------------------------------------------------------------- common properties


def avro_properties() -> dict[str, Any]:
    """The properties Kestra's ``AbstractAvroConverter`` declares (IonToAvro, IonToParquet)."""
    from kflow.tasks.base import Prop

    return {
        "from": Prop(required=True, kind="string", doc="The kestra:/// Ion file to convert"),
        "schema": Prop(kind="any", doc="The Avro schema (JSON text) of the records"),
        "numberOfRowsToScan": Prop(default=100, kind="int", doc="Rows scanned to infer a schema"),
        "trueValues": Prop(
            default=["t", "true", "enabled", "1", "on", "yes"], kind="list",
            doc="Texts read as true",
        ),
        "falseValues": Prop(
            default=["f", "false", "disabled", "0", "off", "no", ""], kind="list",
            doc="Texts read as false",
        ),
        "nullValues": Prop(
            default=list(AvroConverter.null_values), kind="list", doc="Texts read as null"
        ),
        "dateFormat": Prop(default="yyyy-MM-dd[XXX]", kind="string", doc="Pattern of dates"),
        "timeFormat": Prop(
            default="HH:mm[:ss][.SSSSSS][XXX]", kind="string", doc="Pattern of times"
        ),
        "datetimeFormat": Prop(
            default="yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]", kind="string",
            doc="Pattern of date-times",
        ),
        "decimalSeparator": Prop(default=".", kind="string", doc="The decimal point of texts"),
        "strictSchema": Prop(
            default=False, kind="bool", doc="Fail on a row with more fields than the schema"
        ),
        "inferAllFields": Prop(
            default=False, kind="bool",
            doc="Read null/true/false texts everywhere (and scan all rows to infer)",
        ),
        "timeZoneId": Prop(default="UTC", kind="string", doc="Zone of texts without offset"),
        "onBadLines": Prop(
            default="ERROR", kind="string", allowed=BAD_LINES,
            doc="ERROR fails, WARN logs and skips, SKIP skips a bad row",
        ),
    }  # fmt: skip


def task_schema(task: Task, ctx: RunContext, uri: str) -> dict[str, Any]:
    """The ``schema`` property parsed, or a schema inferred from the file's first rows."""
    text = task.rendered(ctx, "schema")
    if text is None or (isinstance(text, str) and not text.strip()):
        rows = (
            None
            if task.flag(ctx, "inferAllFields")
            else int_prop(task, ctx, "numberOfRowsToScan", minimum=1)
        )
        return infer_schema(ion_rows(ctx, uri), rows)
    schema: dict[str, Any] = load_avro_schema(text)
    return schema


# --------------------------------------------------------------------------- inference

_NAMESPACE = "io.kestra.plugin.serdes.avro"


def _canon(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True)


def _nullable(name: str, avro_type: Any) -> dict[str, Any]:
    return {"name": name, "type": ["null", avro_type], "default": None}


class _Inferrer:
    """Kestra's ``InferAvroSchema``: a schema from the first rows of an Ion file, field
    types merged over the rows (nullable unions; records merged field by field)."""

    def __init__(self) -> None:
        self.known: dict[str, dict[str, Any]] = {}

    def field(self, path: str, name: str, node: Any) -> dict[str, Any]:
        node = java_value(node)
        kind = java_kind(node)
        inferred: dict[str, Any]
        if kind == "Map":
            fields = [self.field(f"{path}_{name}_{k}", str(k), v) for k, v in node.items()]
            record = {"type": "record", "name": name, "namespace": _NAMESPACE, "fields": fields}
            if name == "root":
                inferred = {"name": name, "type": record}
            else:
                inferred = {"name": name, "type": [record, "null"]}
        elif kind == "List":
            if node:
                item: dict[str, Any] = {}
                for value in node:  # deep search: every item, merged by path
                    item = self.field(f"{path}_{name}_items", f"{name}_items", value)
                array = {"type": "array", "items": item["type"]}
                if name == "root":
                    value_field = {"name": "value", "type": array, "doc": ""}
                    record = {
                        "type": "record", "name": name, "namespace": _NAMESPACE,
                        "fields": [value_field],
                    }  # fmt: skip
                    inferred = {"name": name, "type": record}
                else:
                    inferred = {"name": name, "type": [array, "null"]}
            else:
                inferred = {"name": name, "type": [{"type": "array", "items": "string"}, "null"]}
        elif kind == "byte[]":
            inferred = _nullable(name, "bytes")
        elif kind in ("String", "BigDecimal"):
            inferred = _nullable(name, "string")
        elif kind == "Integer":
            inferred = _nullable(name, "int")
        elif kind == "Double":
            inferred = _nullable(name, "double")
        elif kind == "Boolean":
            inferred = _nullable(name, "boolean")
        elif kind in ("Instant", "LocalDateTime", "OffsetDateTime", "ZonedDateTime"):
            inferred = _nullable(name, {"type": "long", "logicalType": "local-timestamp-millis"})
        elif kind == "LocalDate":
            inferred = _nullable(name, {"type": "int", "logicalType": "date"})
        elif kind in ("LocalTime", "OffsetTime"):
            inferred = _nullable(name, {"type": "int", "logicalType": "time-millis"})
        elif kind == "null":
            inferred = {"name": name, "type": "null"}
        else:
            raise RowError(
                f"cannot infer an Avro type for the {kind} value {_short(node)} of field '{name}'",
                name,
            )
        known = self.known.get(path)
        merged = merge_fields(inferred, known) if known is not None else inferred
        self.known[path] = merged
        return merged


def _union_types(schema: Any) -> list[Any]:
    return list(schema) if isinstance(schema, list) else [schema]


def _dedupe(types: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for t in types:
        key = _canon(t)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def _kind(schema: Any) -> str:
    return type_name(schema)


def merge_fields(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``InferAvroSchema.mergeTypes``: the most precise type holding both fields' values."""
    ta, tb = a["type"], b["type"]
    if isinstance(ta, list) or isinstance(tb, list):
        types = _dedupe(_union_types(ta) + _union_types(tb))
        records = [t for t in types if _kind(t) == "record"]
        arrays = [t for t in types if _kind(t) == "array"]
        if len(records) > 1:
            types = [t for t in types if _kind(t) != "record"]
            merged = _merge_records(
                {"name": "tmp", "type": records[0]}, {"name": "tmp2", "type": records[1]}
            )
            types.append(merged["type"])
        elif len(arrays) > 1:
            types = [t for t in types if _kind(t) != "array"]
            merged = merge_fields(
                {"name": "tmp", "type": arrays[0]}, {"name": "tmp2", "type": arrays[1]}
            )
            types.append(merged["type"])
        return {**a, "type": _dedupe(types)}
    if _kind(ta) == "record" or _kind(tb) == "record":
        if _kind(ta) == "record" and _kind(tb) == "record":
            return _merge_records(a, b)
        raise RowError(
            f"cannot infer a type for field '{a['name']}': a record in one row and a "
            f"{_kind(tb if _kind(ta) == 'record' else ta)} in another"
        )
    if _kind(ta) == _kind(tb):
        return a
    return {**a, "type": [ta, tb]}


def _merge_records(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    fields_a = {f["name"]: f for f in a["type"]["fields"]}
    fields_b = {f["name"]: f for f in b["type"]["fields"]}
    merged = []
    for name in dict.fromkeys([*fields_a, *fields_b]):
        fa, fb = fields_a.get(name), fields_b.get(name)
        if fa is not None and fb is not None:
            merged.append(merge_fields(fa, fb))
        elif fa is not None:
            merged.append(fa)
        elif fb is not None:
            merged.append(fb)
    return {**a, "type": {**a["type"], "fields": merged}}


def infer_schema(rows: Iterator[Any], limit: int | None) -> dict[str, Any]:
    """An Avro record schema inferred from the first ``limit`` rows (all when None)."""
    inferrer = _Inferrer()
    result: dict[str, Any] | None = None
    for number, row in enumerate(rows, start=1):
        if limit is not None and number > limit:
            break
        if row is None:
            continue
        try:
            inferred = inferrer.field(".", "root", row)
            result = inferred if result is None else merge_fields(result, inferred)
        except RowError as exc:
            raise TaskError(
                f"cannot infer the Avro schema at row {number}: {exc}",
                hint="give the `schema` property",
            ) from None
    if result is None:
        raise TaskError(
            "Cannot infer Avro schema from ION input: the file appears to be empty "
            "or contains no valid records.",
            hint="give the `schema` property",
        )
    schema = result["type"]
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise TaskError(
            "cannot infer an Avro schema: the rows are not structs or lists",
            hint="give the `schema` property",
        )
    parsed: dict[str, Any] = load_avro_schema(json.dumps(schema))
    return parsed
