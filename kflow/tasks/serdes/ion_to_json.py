"""``io.kestra.plugin.serdes.json.IonToJson``: Ion to JSON Lines (or one JSON document).

Written as Kestra's Jackson generator writes: compact, non-ASCII as is, doubles with Java's
digits (``1.0E10``), decimals as ``BigDecimal.toString``, blobs in base64, NaN and
infinities as strings. Ion timestamps print as Java's ``ZonedDateTime.toString`` in
``timeZoneId`` (as the plugin's annotation-keeping path writes them). With ``newLine``
false, a single row is written alone and several rows as one array.
``shouldKeepAnnotations`` writes an annotated string as
``{"ion_annotations": [...], "value": "..."}``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.serdes.common import (
    CHARSET,
    FROM,
    OUTPUTS,
    TIME_ZONE,
    IonLines,
    charset,
    finish,
    output_file,
    source,
    zone,
)

_encode_string = json.encoder.encode_basestring
_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _local_time(hour: int, minute: int, second: int, nano: int) -> str:
    """``LocalTime.toString``: seconds only when not zero, the fraction by groups of 3."""
    text = f"{hour:02d}:{minute:02d}"
    if second or nano:
        text += f":{second:02d}"
        if nano:
            if nano % 1_000_000 == 0:
                text += f".{nano // 1_000_000:03d}"
            elif nano % 1000 == 0:
                text += f".{nano // 1000:06d}"
            else:
                text += f".{nano:09d}"
    return text


def zoned_string(moment: datetime, jzone: Any) -> str:
    """``instant.atZone(zone).toString()``: ``2021-05-05T11:21:12.123+01:00[Europe/Lisbon]``."""
    from kflow.java.isotime import iso_local_date, offset_id

    local = moment.astimezone(jzone.tz)
    off = local.utcoffset()
    seconds = int(off.total_seconds()) if off is not None else 0
    text = (
        iso_local_date(local.year, local.month, local.day)
        + "T"
        + _local_time(local.hour, local.minute, local.second, local.microsecond * 1000)
        + offset_id(seconds)
    )
    return text if jzone.is_offset else f"{text}[{jzone.id}]"


class _Json:
    """Jackson's JSON for the values :func:`kflow.ion.read_rows` yields."""

    def __init__(self, jzone: Any, keep_annotations: bool) -> None:
        from kflow.ion import AnnotatedStr
        from kflow.java.numbers import double_to_string
        from kflow.java.strings import to_string

        self.zone = jzone

        def number(x: float) -> str:
            if x != x or x in (float("inf"), float("-inf")):
                return '"NaN"' if x != x else ('"Infinity"' if x > 0 else '"-Infinity"')
            return double_to_string(x)

        def text(v: str) -> str:
            if keep_annotations and isinstance(v, AnnotatedStr) and v.annotations:
                names = ",".join(_encode_string(a) for a in v.annotations)
                return '{"ion_annotations":[' + names + '],"value":' + _encode_string(str(v)) + "}"
            return str(_encode_string(v))

        def obj(v: dict[Any, Any]) -> str:
            return (
                "{"
                + ",".join(_encode_string(str(k)) + ":" + self.write(x) for k, x in v.items())
                + "}"
            )

        def arr(v: list[Any]) -> str:
            return "[" + ",".join(self.write(x) for x in v) + "]"

        self.by_type: dict[type, Callable[[Any], str]] = {
            str: text,
            AnnotatedStr: text,
            bool: lambda v: "true" if v else "false",
            int: str,
            float: number,
            type(None): lambda v: "null",
            dict: obj,
            list: arr,
            Decimal: to_string,
            bytes: lambda v: '"' + base64.b64encode(v).decode("ascii") + '"',
            datetime: lambda v: _encode_string(zoned_string(v, self.zone)),
            date: lambda v: _encode_string(
                zoned_string(datetime(v.year, v.month, v.day, tzinfo=UTC), self.zone)
            ),
        }

    def write(self, value: Any) -> str:
        writer = self.by_type.get(type(value))
        if writer is None:
            return str(_encode_string(str(value)))
        return writer(value)


class IonToJson(Task):
    """Convert an Ion file (Kestra's storage format) to JSON Lines or one JSON document."""

    type = "io.kestra.plugin.serdes.json.IonToJson"
    aliases = ("io.kestra.plugin.serdes.json.JsonWriter",)
    outputs = OUTPUTS
    properties = {
        "from": FROM,
        "charset": CHARSET,
        "newLine": Prop(default=True, kind="bool", doc="JSON Lines (else one JSON document)"),
        "timeZoneId": TIME_ZONE,
        "shouldKeepAnnotations": Prop(
            default=False, kind="bool", doc="Keep Ion annotations as ion_annotations fields"
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = source(self, ctx)
        encoding = charset(self, ctx)
        lines = self.flag(ctx, "newLine")
        writer = _Json(zone(self, ctx), self.flag(ctx, "shouldKeepAnnotations"))
        path = output_file(ctx, ".jsonl" if lines else ".json")
        count = 0
        with ctx.open_file(uri) as fh, path.open("w", encoding=encoding, newline="") as out:
            texts = _texts(IonLines(fh, uri, ctx), writer)
            if lines:
                count = _write_lines(texts, out)
            else:
                count = _write_document(texts, out)
        return finish(ctx, path, count)


def _texts(lines: IonLines, writer: _Json) -> Iterator[str]:
    """The JSON text of each row; blocks of flat all-string structs go through the C
    encoder in one call per row."""
    for block, first_line, n in lines.blocks():
        found = lines.split(block, n) if lines.keys is not None else None
        if found is not None and lines.keys is not None:
            keys = lines.keys
            for values in found:
                yield _compact(dict(zip(keys, values, strict=True)))
            continue
        for row in lines.parse(block, first_line):
            yield writer.write(row)
    for row in lines.finish():
        yield writer.write(row)


def _write_lines(texts: Iterator[str], out: IO[str]) -> int:
    count = 0
    buf: list[str] = []
    for text in texts:
        buf.append(text + "\n")
        count += 1
        if len(buf) >= 4096:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    return count


def _write_document(texts: Iterator[str], out: IO[str]) -> int:
    first = next(texts, None)
    if first is None:
        return 0
    second = next(texts, None)
    if second is None:
        out.write(first)
        return 1
    out.write("[" + first + "," + second)
    count = 2
    for text in texts:
        out.write("," + text)
        count += 1
    out.write("]")
    return count
