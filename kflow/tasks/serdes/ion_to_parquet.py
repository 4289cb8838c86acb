"""``io.kestra.plugin.serdes.parquet.IonToParquet``: Ion rows to a Parquet file.

Kestra writes Parquet through ``parquet-avro``: rows are converted to Avro records by the
same rules as IonToAvro (an Avro ``schema``, inferred when absent), then written with the
Avro schema's Parquet mapping. kflow converts the same way and writes with pyarrow, one row
group at a time (``rowGroupSize`` bytes of data, as parquet-mr buffers it), so memory stays
bounded. The Avro schema is stored in the file's metadata (``parquet.avro.schema``), as
parquet-avro does, so Kestra reads the file back with the same types.

Avro → Parquet column types: ``int``/``long``/``float``/``double``/``boolean`` as such,
``string``/``enum``/``uuid`` as UTF-8 text, ``bytes`` as binary, ``fixed`` as fixed-size
binary, ``date``, ``time-millis``/``time-micros``, ``timestamp-*`` (UTC-adjusted),
``local-timestamp-*`` (not adjusted), ``decimal``, records as groups, arrays as lists, maps
as maps. A ``["null", T]`` union is an optional T; unions of several non-null types are
refused (parquet-avro writes them as ``member0``, ``member1``… groups, which kflow does not).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, Prop, RunContext
from kflow.tasks.serdes.columnar import (
    Conversion,
    avro_properties,
    bad_lines_mode,
    converter,
    enum_value,
    int_prop,
    named_types,
    output_file,
    records,
    require,
    schema_type,
    source_uri,
    task_schema,
    type_name,
)

CODECS = {"UNCOMPRESSED": "NONE", "SNAPPY": "SNAPPY", "GZIP": "GZIP", "ZSTD": "ZSTD"}
BATCH_ROWS = 10_000
DEFAULT_ROW_GROUP = 128 * 1024 * 1024  # parquet-mr's DEFAULT_BLOCK_SIZE
DEFAULT_PAGE = 1024 * 1024  # parquet-mr's DEFAULT_PAGE_SIZE


class _Unsupported(Exception):
    pass


def arrow_type(pa: Any, schema: Any, names: Mapping[str, Any], path: str) -> tuple[Any, bool]:
    """The Arrow type and nullability of an Avro schema (parquet-avro's mapping)."""
    schema = schema_type(schema, names)
    if isinstance(schema, list):
        branches = [b for b in schema if schema_type(b, names) != "null"]
        if len(branches) != 1:
            if not branches:
                return pa.null(), True
            raise _Unsupported(
                f"field '{path}': a union of several types ({json.dumps(schema)}) is not "
                'supported by kflow\'s Parquet writer; use ["null", <type>]'
            )
        return arrow_type(pa, branches[0], names, path)[0], True
    kind = type_name(schema)
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    if logical == "decimal":
        precision, scale = int(schema["precision"]), int(schema.get("scale", 0))
        maker = pa.decimal128 if precision <= 38 else pa.decimal256
        return maker(precision, scale), False
    simple = {
        "date": pa.date32(),
        "time-millis": pa.time32("ms"),
        "time-micros": pa.time64("us"),
        "timestamp-millis": pa.timestamp("ms", tz="UTC"),
        "timestamp-micros": pa.timestamp("us", tz="UTC"),
        "local-timestamp-millis": pa.timestamp("ms"),
        "local-timestamp-micros": pa.timestamp("us"),
        "uuid": pa.string(),
    }
    if logical in simple:
        return simple[logical], False
    primitives = {
        "null": pa.null(),
        "boolean": pa.bool_(),
        "int": pa.int32(),
        "long": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "bytes": pa.binary(),
        "string": pa.string(),
        "enum": pa.string(),
    }
    if kind in primitives:
        return primitives[kind], kind == "null"
    if kind == "fixed":
        return pa.binary(int(schema["size"])), False
    if kind in ("record", "error"):
        return pa.struct(arrow_fields(pa, schema, names, path)), False
    if kind == "array":
        item, nullable = arrow_type(pa, schema["items"], names, f"{path}[]")
        return pa.list_(pa.field("element", item, nullable=nullable)), False
    if kind == "map":
        value, nullable = arrow_type(pa, schema["values"], names, f"{path}{{}}")
        return pa.map_(pa.string(), pa.field("value", value, nullable=nullable)), False
    raise _Unsupported(f"field '{path}': the Avro type {kind!r} has no Parquet mapping")


def arrow_fields(
    pa: Any, record: Mapping[str, Any], names: Mapping[str, Any], path: str
) -> list[Any]:
    fields = []
    for f in record.get("fields", []):
        sub = f"{path}.{f['name']}" if path else f["name"]
        kind, nullable = arrow_type(pa, f["type"], names, sub)
        fields.append(pa.field(f["name"], kind, nullable=nullable))
    return fields


def _plain(value: Any) -> Any:
    """Values pyarrow does not take as they are: uuids (written as text)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class IonToParquet(Conversion):
    """Convert an Ion file to Parquet with an Avro schema."""

    type = "io.kestra.plugin.serdes.parquet.IonToParquet"
    aliases = ("io.kestra.plugin.serdes.parquet.ParquetWriter",)
    requires = (("pyarrow", "parquet"),)
    properties = {
        **avro_properties(),
        "compressionCodec": Prop(
            default="GZIP", kind="string", allowed=tuple(CODECS), doc="The compression codec"
        ),
        "parquetVersion": Prop(
            default="V2", kind="string", allowed=("V1", "V2"), doc="Parquet data page version"
        ),
        "rowGroupSize": Prop(
            default=DEFAULT_ROW_GROUP, kind="int", doc="Target row group size, in bytes"
        ),
        "pageSize": Prop(default=DEFAULT_PAGE, kind="int", doc="Target page size, in bytes"),
        "dictionaryPageSize": Prop(
            default=DEFAULT_PAGE, kind="int", doc="Max dictionary page size, in bytes"
        ),
    }
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the Parquet file"),
        "size": Output("INTEGER", "The number of records converted"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        pa = require("pyarrow", "parquet")
        pq = require("pyarrow.parquet", "parquet")
        uri = source_uri(self, ctx)
        mode = bad_lines_mode(self, ctx)
        codec = CODECS[enum_value(self, ctx, "compressionCodec", tuple(CODECS))]
        version = enum_value(self, ctx, "parquetVersion", ("V1", "V2"))
        row_group = int_prop(self, ctx, "rowGroupSize", minimum=1)
        page = int_prop(self, ctx, "pageSize", minimum=1)
        dictionary_page = int_prop(self, ctx, "dictionaryPageSize", minimum=1)
        schema = task_schema(self, ctx, uri)
        conv = converter(self, ctx, schema, mode)
        names = named_types(schema)
        try:
            arrow_schema = pa.schema(arrow_fields(pa, schema, names, ""))
        except _Unsupported as exc:
            raise TaskError(str(exc)) from None
        arrow_schema = arrow_schema.with_metadata(
            {"parquet.avro.schema": json.dumps(schema), "writer.model.name": "avro"}
        )
        path = output_file(ctx, ".parquet")
        count = 0
        with pq.ParquetWriter(
            str(path),
            arrow_schema,
            compression=codec,
            data_page_version="2.0" if version == "V2" else "1.0",
            data_page_size=page,
            dictionary_pagesize_limit=dictionary_page,
        ) as writer:
            pending: list[Any] = []  # batches of the row group being filled
            pending_bytes = 0
            for numbers, batch in self._batches(records(ctx, uri, conv)):
                table = self._table(pa, batch, numbers, arrow_schema, mode)
                count += table.num_rows
                pending.append(table)
                pending_bytes += table.nbytes
                if pending_bytes >= row_group:
                    self._write(pa, writer, pending)
                    pending, pending_bytes = [], 0
            if pending:
                self._write(pa, writer, pending)
        ctx.metric("records", "counter", count)
        return {"uri": ctx.put_file(path), "size": count}

    @staticmethod
    def _batches(
        rows: Iterable[tuple[int, dict[str, Any]]],
    ) -> Iterable[tuple[list[int], list[dict[str, Any]]]]:
        numbers: list[int] = []
        batch: list[dict[str, Any]] = []
        for number, record in rows:
            numbers.append(number)
            batch.append(_plain(record))
            if len(batch) >= BATCH_ROWS:
                yield numbers, batch
                numbers, batch = [], []
        if batch:
            yield numbers, batch

    @staticmethod
    def _write(pa: Any, writer: Any, tables: list[Any]) -> None:
        table = pa.concat_tables(tables)
        writer.write_table(table, row_group_size=max(table.num_rows, 1))

    @staticmethod
    def _table(
        pa: Any, batch: list[dict[str, Any]], numbers: list[int], schema: Any, mode: str
    ) -> Any:
        """The batch as an Arrow table. A row Arrow refuses (a null that onBadLines WARN or
        SKIP left in a required column) fails the task whatever the mode: Kestra's Parquet
        writer has no skip either."""
        try:
            return pa.Table.from_pylist(batch, schema=schema).cast(schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
        for number, record in zip(numbers, batch, strict=True):
            problem = _row_problem(pa, record, schema)
            if problem is not None:
                hint = "fix the data or the schema"
                if mode != "ERROR":
                    hint += f" (onBadLines: {mode} turns a value that does not fit into null)"
                raise TaskError(f"row {number}, {problem}", hint=hint)
        raise TaskError("the rows do not fit the Parquet schema", hint="fix the data or the schema")


def _row_problem(pa: Any, record: dict[str, Any], schema: Any) -> str | None:
    """Why Arrow refuses a record (field by field), or None when it fits."""
    for f in schema:
        value = record.get(f.name)
        if value is None and not f.nullable:
            return f"field '{f.name}': null in a required column of type {f.type}"
        try:
            pa.array([value], type=f.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
            return f"field '{f.name}': {exc}"
    try:
        pa.Table.from_pylist([record], schema=schema).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        return str(exc)
    return None
