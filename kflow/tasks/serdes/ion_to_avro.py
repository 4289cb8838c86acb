"""``io.kestra.plugin.serdes.avro.IonToAvro``: Ion rows to an Avro data file.

Each row is converted by Kestra's ``AvroConverter`` rules (:mod:`kflow.tasks.serdes.columnar`):
texts become ints, doubles, booleans, dates and timestamps of the schema (``trueValues``,
``nullValues``, ``dateFormat``…), a union takes its first type that fits. Without a
``schema`` one is inferred from the first ``numberOfRowsToScan`` rows (all with
``inferAllFields``). Records are written one by one, uncompressed (codec ``null``), as
Kestra's ``DataFileWriter`` writes them.
"""

from __future__ import annotations

from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import Output, RunContext
from kflow.tasks.serdes.columnar import (
    Conversion,
    avro_properties,
    bad_lines_mode,
    converter,
    output_file,
    records,
    require,
    source_uri,
    task_schema,
)


class IonToAvro(Conversion):
    """Convert an Ion file to Avro with a JSON Avro schema."""

    type = "io.kestra.plugin.serdes.avro.IonToAvro"
    aliases = ("io.kestra.plugin.serdes.avro.AvroWriter",)
    requires = (("fastavro", "avro"),)
    properties = avro_properties()
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the Avro file"),
        "size": Output("INTEGER", "The number of records converted"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        fastavro = require("fastavro", "avro")
        uri = source_uri(self, ctx)
        mode = bad_lines_mode(self, ctx)
        schema = task_schema(self, ctx, uri)
        conv = converter(self, ctx, schema, mode)
        try:
            parsed = fastavro.parse_schema(schema)
        except Exception as exc:
            raise TaskError(f"Invalid Avro schema: {exc}") from None
        path = output_file(ctx, ".avro")
        count = 0
        with open(path, "wb") as out:
            writer = fastavro.write.Writer(out, parsed, codec="null")
            for number, record in records(ctx, uri, conv):
                count += 1  # Kestra counts the rows converted, written or skipped
                # A failed write may leave half a record in the block: check first when
                # the row is to be skipped rather than fail the task.
                if mode != "ERROR" and not _fits(fastavro, record, parsed, number, mode, ctx):
                    continue
                try:
                    writer.write(record)
                except Exception as exc:  # a value fastavro cannot encode
                    _fits(fastavro, record, parsed, number, mode, ctx)
                    raise TaskError(
                        f"row {number} does not fit the Avro schema: {exc}",
                        hint="fix the data or the schema",
                    ) from None
            writer.flush()
        ctx.metric("records", "counter", count)
        return {"uri": ctx.put_file(path), "size": count}


def _fits(fastavro: Any, record: Any, parsed: Any, number: int, mode: str, ctx: RunContext) -> bool:
    """Whether a record fits the schema (a null left by WARN/SKIP in a required field);
    when it does not, Kestra's writer fails (ERROR) or skips the record (WARN logs it)."""
    from fastavro.validation import ValidationError

    try:
        fastavro.validation.validate(record, parsed, raise_errors=True)
    except (ValidationError, ValueError, TypeError) as exc:
        fields = _error_fields(exc)
        where = f"row {number}" + (f", field '{fields}'" if fields else "")
        message = f"{where}: the record does not fit the Avro schema ({_details(exc)})"
        if mode == "ERROR":
            raise TaskError(message, hint="fix the data or the schema") from None
        if mode == "WARN":
            ctx.log("WARN", f"Bad record skipped (onBadLines=WARN): {message}")
        return False
    return True


def _error_fields(exc: Exception) -> str:
    names = []
    for error in getattr(exc, "errors", []) or []:
        field = getattr(error, "field", None)
        if field:
            names.append(str(field).rsplit(".", 1)[-1])
    return ", ".join(dict.fromkeys(names))


def _details(exc: Exception) -> str:
    errors = getattr(exc, "errors", []) or []
    return "; ".join(str(e) for e in errors) or str(exc)
