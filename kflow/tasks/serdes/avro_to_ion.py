"""``io.kestra.plugin.serdes.avro.AvroToIon``: an Avro data file to Ion, record by record.

Logical types come back as Kestra's deserializer gives them: ``date`` as a day timestamp,
``timestamp-*`` as a UTC timestamp, ``local-timestamp-*`` as ``LocalDateTime::"…"``,
``time-*`` as ``LocalTime::"…"``, ``decimal`` as an Ion decimal, ``uuid`` as a string,
``bytes``/``fixed`` as blobs, enums as strings. A root record named ``root`` with one array
field ``value`` (what IonToAvro writes for a file of lists) is unwrapped to the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kflow.errors import TaskError
from kflow.ion import dumps_line
from kflow.tasks.base import Output, Prop, RunContext
from kflow.tasks.serdes.columnar import (
    BAD_LINES,
    AvroReaderView,
    Conversion,
    bad_lines_mode,
    output_file,
    require,
    source_uri,
)


def _root_array(schema: Any) -> str | None:
    """The field to unwrap when the file's schema is the ``root``/``value`` array wrapper."""
    if not isinstance(schema, Mapping):
        return None
    fields = schema.get("fields") or []
    name = str(schema.get("name", "")).rsplit(".", 1)[-1]
    if name != "root" or len(fields) != 1 or fields[0].get("name") != "value":
        return None
    kind = fields[0].get("type")
    if isinstance(kind, Mapping) and kind.get("type") == "array":
        return "value"
    return None


class AvroToIon(Conversion):
    """Convert an Avro file to Ion."""

    type = "io.kestra.plugin.serdes.avro.AvroToIon"
    aliases = ("io.kestra.plugin.serdes.avro.AvroReader",)
    requires = (("fastavro", "avro"),)
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// Avro file to convert"),
        "onBadLines": Prop(
            default="ERROR",
            kind="string",
            allowed=BAD_LINES,
            doc="ERROR fails on an unreadable record, WARN logs and stops, SKIP stops",
        ),
    }
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the Ion file"),
        "size": Output("INTEGER", "The number of records converted"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        fastavro = require("fastavro", "avro")
        uri = source_uri(self, ctx)
        mode = bad_lines_mode(self, ctx)
        path = output_file(ctx, ".ion")
        count = 0
        with ctx.open_file(uri) as source, open(path, "w", encoding="utf-8", newline="\n") as out:
            try:
                reader = fastavro.reader(source)
            except (ValueError, EOFError, OSError) as exc:
                raise TaskError(
                    f"{uri} is not an Avro data file: {exc}",
                    hint="give the URI of a file written by IonToAvro or another Avro writer",
                ) from None
            unwrap = _root_array(reader.writer_schema)
            view = AvroReaderView(reader.writer_schema)
            records = iter(reader)
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except Exception as exc:  # fastavro raises many types on a damaged block
                    message = f"Failed to read Avro record {count + 1} of {uri}: {exc}"
                    if mode == "ERROR":
                        raise TaskError(message) from None
                    if mode == "WARN":
                        ctx.log("WARN", message)
                    break  # the rest of the block cannot be read reliably
                value = view.record(record)
                if unwrap is not None:
                    value = value[unwrap]
                out.write(dumps_line(value) + "\n")
                count += 1
        ctx.metric("records", "counter", count)
        return {"uri": ctx.put_file(path), "size": count}
