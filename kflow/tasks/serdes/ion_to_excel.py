"""``io.kestra.plugin.serdes.excel.IonToExcel``: Ion rows to an ``.xlsx`` file.

``from`` is one Ion file (written to the sheet ``sheetsTitle``) or a map of sheet title →
Ion file (one sheet each, in order). Written with openpyxl in write-only (streaming) mode.
Cells as Kestra writes them: numbers as numbers (decimals as doubles, integers beyond 64
bits as text), booleans as booleans, dates, local date-times and timestamps as Excel dates
(a timestamp as its day in ``timeZoneId``), text starting with ``Formula:`` as a formula,
anything else as its Java text (null as ``null``, a struct as ``{k=v}``). With ``header``
the first struct's keys make the first row; list rows need ``header: false``.

Two deliberate differences from Kestra's code: booleans keep their value (Kestra's writer
sets the cell type without the value, which stores FALSE), and with ``styles`` the date
format is set on the date cells (Kestra sets it as the column's default style, which Excel
does not apply to the cells written).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from kflow.errors import TaskError
from kflow.ion import AnnotatedStr
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.serdes.columnar import (
    LONG_MAX,
    LONG_MIN,
    check_pattern,
    ion_rows,
    java_string,
    java_time_text,
    java_value,
    output_file,
    require,
)
from kflow.tasks.storage.common import check_uri

MAX_ROWS = 1_048_576  # an .xlsx sheet's limit


class IonToExcel(Task):
    """Convert Ion files to an Excel (.xlsx) file."""

    type = "io.kestra.plugin.serdes.excel.IonToExcel"
    aliases = ("io.kestra.plugin.serdes.excel.ExcelWriter",)
    requires = (("openpyxl", "excel"),)
    properties = {
        "from": Prop(
            required=True, kind="any", doc="A kestra:/// Ion file, or a map sheet title → file"
        ),
        "sheetsTitle": Prop(default="Sheet", kind="string", doc="The sheet of a single file"),
        "header": Prop(default=True, kind="bool", doc="Write the first row's keys as a header"),
        "styles": Prop(default=True, kind="bool", doc="Give date cells the dateFormat style"),
        "charset": Prop(
            default="UTF-8",
            kind="string",
            ignored="an .xlsx file is XML in UTF-8: Kestra does not use it either",
        ),
        "dateFormat": Prop(default="yyyy-MM-dd", kind="string", doc="Excel format of dates"),
        "timeFormat": Prop(
            default="HH:mm:ss[XXX]", kind="string", ignored="Kestra does not use it for Excel"
        ),
        "dateTimeFormat": Prop(
            default="yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]",
            kind="string",
            ignored="Kestra does not use it for Excel",
        ),
        "timeZoneId": Prop(default="UTC", kind="string", doc="Zone giving a timestamp's day"),
    }
    outputs = {
        "uri": Output("URI", "kestra:/// URI of the .xlsx file"),
        "size": Output("INTEGER", "The number of rows written, all sheets together"),
    }

    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        size = outputs.get("size")
        return {"rows": size} if isinstance(size, int) else {}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        openpyxl = require("openpyxl", "excel")
        from kflow.errors import KflowError
        from kflow.java.time import zone_of

        source = self.prop("from")
        if isinstance(source, Mapping):
            sheets = [(str(ctx.render(k)), ctx.render(v)) for k, v in source.items()]
        else:
            sheets = [(str(self.rendered(ctx, "sheetsTitle")), ctx.render(source))]
        header = self.flag(ctx, "header")
        styles = self.flag(ctx, "styles")
        date_format = str(self.rendered(ctx, "dateFormat"))
        zone_name = self.rendered(ctx, "timeZoneId")
        try:
            zone = zone_of(str(zone_name) if zone_name is not None else None)
        except KflowError as exc:
            raise TaskError(f"`timeZoneId`: {exc.message}") from None
        check_pattern(date_format, "dateFormat")
        workbook = openpyxl.Workbook(write_only=True)
        writer = _SheetWriter(openpyxl, date_format if styles else None, zone)
        total = 0
        for title, uri in sheets:
            checked = check_uri(ctx, uri, "from")
            try:
                sheet = workbook.create_sheet(title)
            except ValueError as exc:
                raise TaskError(f"invalid sheet title {title!r}: {exc}") from None
            total += writer.write(sheet, ion_rows(ctx, checked), header, title)
        path = output_file(ctx, ".xlsx")
        workbook.save(str(path))
        ctx.metric("records", "counter", total)
        return {"uri": ctx.put_file(path), "size": total}


class _SheetWriter:
    def __init__(self, openpyxl: Any, date_format: str | None, zone: Any) -> None:
        self.cell_class = require("openpyxl.cell", "excel").WriteOnlyCell
        self.to_excel = require("openpyxl.utils.datetime", "excel").to_excel
        self.date_format = date_format
        self.zone = zone

    def write(self, sheet: Any, rows: Iterator[Any], header: bool, title: str) -> int:
        count = 0
        written = 0
        first = True
        for number, row in enumerate(rows, start=1):
            if isinstance(row, list):
                if header:
                    raise TaskError(
                        f"row {number} of sheet {title!r} is a list: a header needs structs",
                        hint="set header: false to write list rows",
                    )
                cells = row
            elif isinstance(row, Mapping):
                if first and header:
                    sheet.append([self.cell(sheet, key) for key in row])
                    written += 1
                cells = list(row.values())
            else:
                count += 1  # Kestra counts a row it does not write
                continue
            first = False
            try:
                sheet.append([self.cell(sheet, value) for value in cells])
            except ValueError as exc:  # text Excel cannot hold (control characters)
                raise TaskError(f"row {number} of sheet {title!r}: {exc}") from None
            written += 1
            count += 1
            if written > MAX_ROWS:
                raise TaskError(
                    f"sheet {title!r} would have more than {MAX_ROWS} rows, the .xlsx limit",
                    hint="split the file (io.kestra.plugin.core.storage.Split) into several sheets",
                )
        return count

    def cell(self, sheet: Any, raw: Any) -> Any:
        to_excel = self.to_excel
        cell = self.cell_class(sheet)
        if isinstance(raw, AnnotatedStr) and raw.annotation in ("ZonedDateTime", "OffsetDateTime"):
            self.text(cell, str(raw))  # no Excel date type in Kestra's switch: its text
            return cell
        value = java_value(raw)
        if isinstance(value, bool):
            cell.value = value
        elif isinstance(value, int):
            if LONG_MIN <= value <= LONG_MAX:
                cell.value = float(value) if abs(value) > 2**53 else value
            else:
                self.text(cell, str(value))
        elif isinstance(value, float):
            cell.value = value
        elif isinstance(value, Decimal):
            cell.value = float(value)
        elif isinstance(value, datetime):
            if value.tzinfo is not None:  # an Instant: its day in the zone
                day = value.astimezone(self.zone.tz).date()
                self.date(cell, to_excel(datetime(day.year, day.month, day.day)))
            else:
                self.date(cell, to_excel(value))
        elif isinstance(value, date):
            self.date(cell, to_excel(datetime(value.year, value.month, value.day)))
        elif isinstance(value, time):
            self.text(cell, java_time_text(value))
        else:
            text = str(value) if isinstance(value, AnnotatedStr) else java_string(value)
            if text.startswith("Formula:"):
                cell.value = "=" + text[len("Formula:") :]
            else:
                self.text(cell, text)
        return cell

    def date(self, cell: Any, serial: float) -> None:
        cell.value = serial
        if self.date_format is not None:
            cell.number_format = self.date_format

    @staticmethod
    def text(cell: Any, text: str) -> None:
        cell.value = text
        cell.data_type = "s"  # never a formula, even when it starts with '='
