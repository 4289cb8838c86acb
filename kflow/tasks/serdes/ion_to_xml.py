"""``io.kestra.plugin.serdes.xml.IonToXml``: Ion to an XML document, streamed.

Written as Kestra's Jackson ``XmlMapper`` writes the list of rows: an XML declaration, the
``rootName`` element, one ``<item>`` per row, two-space indentation. A map's keys become
child elements, a list inside a row repeats its key inside a wrapper of the same name,
null is an empty element (``<key/>``). Dates and times print as Jackson's Java time module
prints them: instants as ISO instants, zoned and offset date-times in ``timeZoneId``.
Kestra holds every row in memory first; kflow writes each row as it is read.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import IO, Any

from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.serdes.common import (
    CHARSET,
    FROM,
    OUTPUTS,
    TIME_ZONE,
    ZONED_TEXT,
    charset,
    finish,
    ion_rows,
    offset_seconds,
    output_file,
    source,
    text,
    zone,
)

_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
_INDENT = "  "
# Woodstox escapes & and <, > only after ]], CR as a character reference, and other
# control characters (not allowed raw in XML 1.0) as character references too.
_ESCAPE = re.compile(r"[&<\r\x00-\x08\x0b\x0c\x0e-\x1f]|(?<=\]\])>")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape(value: str) -> str:
    if _ESCAPE.search(value) is None:
        return value
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(0)) or f"&#x{ord(m.group(0)):x};", value)


class _Xml:
    """Jackson's XML for one row."""

    def __init__(self, jzone: Any) -> None:
        self.zone = jzone

    def scalar(self, value: Any) -> str:
        """The text of a scalar value, as Jackson serialises its Java counterpart."""
        from kflow.ion import AnnotatedStr
        from kflow.java.isotime import Instant, iso_local_date, iso_local_time
        from kflow.java.strings import to_string

        if isinstance(value, AnnotatedStr):
            return self._annotated(value)
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            if value.tzinfo is None:
                local = iso_local_date(value.year, value.month, value.day)
                return (
                    local
                    + "T"
                    + iso_local_time(
                        value.hour, value.minute, value.second, value.microsecond * 1000
                    )
                )
            delta = value - datetime(1970, 1, 1, tzinfo=UTC)
            seconds = delta.days * 86400 + delta.seconds
            return str(Instant(seconds * 1_000_000_000 + delta.microseconds * 1000))
        if isinstance(value, date):
            return iso_local_date(value.year, value.month, value.day)
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(bytes(value)).decode("ascii")
        return to_string(
            value
        )  # numbers: Double/BigDecimal toString; maps and lists don't reach here

    def _annotated(self, value: Any) -> str:
        from kflow.java.isotime import iso_local_date, iso_local_time, offset_id

        kind = value.annotation
        raw = str(value)
        if kind not in ("ZonedDateTime", "OffsetDateTime"):
            return raw  # LocalDateTime, LocalTime, OffsetTime: Java's ISO text is kept
        m = ZONED_TEXT.fullmatch(raw)
        if m is None:
            return raw
        year, month, day, hour, minute, second, fraction, offset, _ = m.groups()
        seconds = offset_seconds(offset)
        if seconds is None:
            return raw
        nano = int((fraction or "0").ljust(9, "0"))
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=timezone(timedelta(seconds=seconds)),
        ).astimezone(self.zone.tz)
        off = moment.utcoffset()
        return (
            iso_local_date(moment.year, moment.month, moment.day)
            + "T"
            + iso_local_time(moment.hour, moment.minute, moment.second, nano)
            + offset_id(int(off.total_seconds()) if off is not None else 0)
        )

    def element(self, name: str, value: Any, depth: int, out: list[str]) -> None:
        pad = _INDENT * depth
        if value is None:
            out.append(f"{pad}<{name}/>\n")
        elif isinstance(value, dict):
            if not value:
                out.append(f"{pad}<{name}/>\n")
                return
            out.append(f"{pad}<{name}>\n")
            for key, item in value.items():
                self.member(str(key), item, depth + 1, out)
            out.append(f"{pad}</{name}>\n")
        elif isinstance(value, list):
            if not value:
                out.append(f"{pad}<{name}/>\n")
                return
            out.append(f"{pad}<{name}>\n")
            for item in value:
                self.element("item", item, depth + 1, out)
            out.append(f"{pad}</{name}>\n")
        else:
            out.append(f"{pad}<{name}>{_escape(self.scalar(value))}</{name}>\n")

    def member(self, key: str, value: Any, depth: int, out: list[str]) -> None:
        """A map entry: a list repeats the key inside a wrapper of the same name."""
        if isinstance(value, list) and value:
            pad = _INDENT * depth
            out.append(f"{pad}<{key}>\n")
            for item in value:
                self.element(key, item, depth + 1, out)
            out.append(f"{pad}</{key}>\n")
        else:
            self.element(key, value, depth, out)


class IonToXml(Task):
    """Convert an Ion file (Kestra's storage format) to an XML document."""

    type = "io.kestra.plugin.serdes.xml.IonToXml"
    aliases = ("io.kestra.plugin.serdes.xml.XmlWriter",)
    outputs = OUTPUTS
    properties = {
        "from": FROM,
        "charset": CHARSET,
        "rootName": Prop(default="items", kind="string", doc="Name of the root element"),
        "timeZoneId": TIME_ZONE,
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        uri = source(self, ctx)
        encoding = charset(self, ctx)
        root = text(self, ctx, "rootName")
        writer = _Xml(zone(self, ctx))
        path = output_file(ctx, ".xml")
        with path.open("w", encoding=encoding, newline="") as out:
            count = _write(ion_rows(ctx, uri), writer, root, out)
        return finish(ctx, path, count)


def _write(rows: Any, writer: _Xml, root: str, out: IO[str]) -> int:
    out.write(_DECLARATION)
    count = 0
    buf: list[str] = []
    for row in rows:
        if count == 0:
            out.write(f"<{root}>\n")
        writer.element("item", row, 1, buf)
        count += 1
        if len(buf) > 4096:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    out.write(f"</{root}>\n" if count else f"<{root}/>\n")
    return count
