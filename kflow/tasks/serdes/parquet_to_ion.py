"""``io.kestra.plugin.serdes.parquet.ParquetToIon``: a Parquet file to Ion, batch by batch.

Kestra reads Parquet through ``parquet-avro`` and writes each record as its Avro
deserializer does (see :mod:`kflow.tasks.serdes.avro_to_ion`); kflow reads with pyarrow in
batches of 10,000 rows and writes the same Ion: dates as day timestamps, UTC-adjusted
timestamps as timestamps, local timestamps as ``LocalDateTime::"…"``, times as
``LocalTime::"…"``, decimals as decimals, binary as blobs, groups as structs, lists as lists,
maps as structs (in Java's ``HashMap`` order, as Kestra's deserializer collects them).
Nanosecond values are cut to microseconds (Python's resolution).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.ion import dumps_line
from kflow.tasks.base import Output, Prop, RunContext
from kflow.tasks.serdes.columnar import (
    Conversion,
    java_hash_order,
    output_file,
    require,
    source_uri,
)

BATCH_ROWS = 10_000


def readable_type(pa: Any, kind: Any) -> Any:
    """An Arrow type whose values Python can hold: nanoseconds as microseconds,
    dictionary-encoded columns as their values; nested types walked."""
    types = pa.types
    if types.is_timestamp(kind) and kind.unit == "ns":
        return pa.timestamp("us", tz=kind.tz)
    if types.is_time64(kind) and kind.unit == "ns":
        return pa.time64("us")
    if types.is_duration(kind) and kind.unit == "ns":
        return pa.duration("us")
    if types.is_dictionary(kind):
        return readable_type(pa, kind.value_type)
    if types.is_struct(kind):
        return pa.struct([f.with_type(readable_type(pa, f.type)) for f in kind])
    if types.is_map(kind):
        return pa.map_(kind.key_type, kind.item_field.with_type(readable_type(pa, kind.item_type)))
    if types.is_list(kind) or types.is_large_list(kind):
        make = pa.list_ if types.is_list(kind) else pa.large_list
        return make(kind.value_field.with_type(readable_type(pa, kind.value_type)))
    return kind


def ion_value(pa: Any, kind: Any, value: Any) -> Any:
    """A Python value of an Arrow column as Kestra writes it (maps as structs)."""
    if value is None:
        return None
    types = pa.types
    if types.is_map(kind):
        return java_hash_order({str(k): ion_value(pa, kind.item_type, v) for k, v in value})
    if types.is_struct(kind):
        return {f.name: ion_value(pa, f.type, value.get(f.name)) for f in kind}
    if types.is_list(kind) or types.is_large_list(kind) or types.is_fixed_size_list(kind):
        return [ion_value(pa, kind.value_type, v) for v in value]
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def _root_array(metadata: Mapping[bytes, bytes] | None) -> bool:
    """Whether the file holds IonToParquet's wrapper of a file of lists (root/value)."""
    raw = (metadata or {}).get(b"parquet.avro.schema")
    if raw is None:
        return False
    try:
        schema = json.loads(raw)
    except ValueError:
        return False
    fields = schema.get("fields") or [] if isinstance(schema, dict) else []
    return (
        isinstance(schema, dict)
        and str(schema.get("name", "")).rsplit(".", 1)[-1] == "root"
        and len(fields) == 1
        and fields[0].get("name") == "value"
        and isinstance(fields[0].get("type"), dict)
        and fields[0]["type"].get("type") == "array"
    )


class ParquetToIon(Conversion):
    """Convert a Parquet file to Ion."""

    type = "io.kestra.plugin.serdes.parquet.ParquetToIon"
    aliases = ("io.kestra.plugin.serdes.parquet.ParquetReader",)
    requires = (("pyarrow", "parquet"),)
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// Parquet file to convert"),
    }
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the Ion file"),
        "size": Output("INTEGER", "The number of records converted"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        pa = require("pyarrow", "parquet")
        pq = require("pyarrow.parquet", "parquet")
        uri = source_uri(self, ctx)
        path = output_file(ctx, ".ion")
        count = 0
        with ctx.open_file(uri) as source, open(path, "w", encoding="utf-8", newline="\n") as out:
            try:
                parquet = pq.ParquetFile(source)
                arrow_schema = parquet.schema_arrow
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise TaskError(
                    f"{uri} is not a Parquet file: {exc}",
                    hint="give the URI of a file written by IonToParquet or another Parquet writer",
                ) from None
            target = pa.schema([f.with_type(readable_type(pa, f.type)) for f in arrow_schema])
            unwrap = _root_array(parquet.metadata.metadata)
            fields = list(target)
            try:
                for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                    if batch.schema != target:
                        batch = batch.cast(target, safe=False)
                    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                    for index in range(batch.num_rows):
                        row = {
                            f.name: ion_value(pa, f.type, column[index])
                            for f, column in zip(fields, columns, strict=True)
                        }
                        value = row["value"] if unwrap else row
                        out.write(dumps_line(value) + "\n")
                        count += 1
            except (pa.ArrowException, OSError) as exc:
                raise TaskError(f"cannot read {uri} after {count} rows: {exc}") from None
        ctx.metric("records", "counter", count)
        return {"uri": ctx.put_file(path), "size": count}
