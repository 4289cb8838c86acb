"""``io.kestra.plugin.serdes.excel.ExcelToIon``: the sheets of an ``.xlsx`` file to Ion,
one Ion file per sheet.

Read with openpyxl in read-only (streaming) mode, cached formula results instead of
formulas. As Kestra's streaming reader: rows absent from the sheet are not rows; with
``header`` the first row (after ``skipRows`` rows) names the columns, its first and last
cells bound every row, a missing header cell is named ``Column<i>``; numbers are doubles
(Ion floats), date cells ISO dates (``dateTimeRender``), empty and error cells null.
``skipRows`` without ``header`` skips the rows after the first one, as Kestra does.

``valueRender: FORMATTED_VALUE`` formats cells as Excel shows them (POI's
``DataFormatter``): kflow renders the ``General`` format, numeric formats made of ``0 # , .
% E`` and date formats; a cell with another format fails the task (not supported).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Context
from pathlib import Path
from typing import Any

from kflow.errors import TaskError
from kflow.ion import dumps_line
from kflow.java.strings import to_string
from kflow.tasks.base import Output, Prop, RunContext, Task
from kflow.tasks.serdes.columnar import enum_value, int_prop, output_file, require, source_uri

VALUE_RENDERS = ("UNFORMATTED_VALUE", "FORMATTED_VALUE", "FORMULA")
DATETIME_RENDERS = ("UNFORMATTED_VALUE", "SERIAL_NUMBER", "FORMATTED_STRING")


class _Cell:
    """One present cell: its value (openpyxl's), type letter and number format."""

    __slots__ = ("value", "kind", "number_format")

    def __init__(self, value: Any, kind: str, number_format: str) -> None:
        self.value = value
        self.kind = kind
        self.number_format = number_format


def _present(row: tuple[Any, ...]) -> dict[int, _Cell]:
    """The cells of a row that exist in the sheet (openpyxl pads rows with EmptyCell),
    by 0-based column; a styled cell without a value is present but blank."""
    cells: dict[int, _Cell] = {}
    for index, cell in enumerate(row):
        if type(cell).__name__ == "EmptyCell":
            continue
        cells[index] = _Cell(cell.value, cell.data_type, cell.number_format or "General")
    return cells


def _serial(value: Any, epoch: Any) -> float:
    to_excel = require("openpyxl.utils.datetime", "excel").to_excel
    return float(to_excel(value, epoch))


def _day(value: Any) -> str:
    """``getDateCellValue().toInstant().atZone(zone).toLocalDate().toString()``."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return "1899-12-31"  # serial 0.x: day 0 of Excel's 1900 calendar
    if isinstance(value, timedelta):
        return (datetime(1899, 12, 31) + value).date().isoformat()
    return str(value)


class ExcelToIon(Task):
    """Convert the sheets of an Excel file to Ion files."""

    type = "io.kestra.plugin.serdes.excel.ExcelToIon"
    aliases = ("io.kestra.plugin.serdes.excel.ExcelReader",)
    requires = (("openpyxl", "excel"),)
    properties = {
        "from": Prop(required=True, kind="string", doc="The kestra:/// .xlsx file to convert"),
        "sheetsTitle": Prop(kind="list", doc="The sheets to convert (all when absent)"),
        "charset": Prop(
            default="UTF-8",
            kind="string",
            ignored="an .xlsx file is XML with its own encoding: Kestra does not use it either",
        ),
        "valueRender": Prop(
            default="UNFORMATTED_VALUE",
            kind="string",
            allowed=VALUE_RENDERS,
            doc="UNFORMATTED_VALUE, FORMATTED_VALUE (as Excel shows it) or FORMULA",
        ),
        "dateTimeRender": Prop(
            default="UNFORMATTED_VALUE",
            kind="string",
            allowed=DATETIME_RENDERS,
            doc="Dates as ISO dates, SERIAL_NUMBER or FORMATTED_STRING",
        ),
        "header": Prop(default=True, kind="bool", doc="The first row names the columns"),
        "skipEmptyRows": Prop(
            default=False, kind="bool", doc="Blank cells as null (they already are)"
        ),
        "skipRows": Prop(default=0, kind="int", doc="Rows to skip (see the module docstring)"),
    }
    outputs = {
        "uris": Output("MAP", "Sheet title → kestra:/// URI of its Ion file"),
        "size": Output("INTEGER", "The number of rows converted, all sheets together"),
    }

    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        size = outputs.get("size")
        return {"rows": size} if isinstance(size, int) else {}

    def run(self, ctx: RunContext) -> dict[str, Any]:
        openpyxl = require("openpyxl", "excel")
        uri = source_uri(self, ctx)
        titles = self.string_list(ctx, "sheetsTitle")
        value_render = enum_value(self, ctx, "valueRender", VALUE_RENDERS)
        date_render = enum_value(self, ctx, "dateTimeRender", DATETIME_RENDERS)
        header = self.flag(ctx, "header")
        skip = int_prop(self, ctx, "skipRows")
        formatted = value_render == "FORMATTED_VALUE"
        uris: dict[str, str] = {}
        total = 0
        with ctx.open_file(uri) as source:
            try:
                # FORMATTED_VALUE shows a formula cell's formula, as POI's DataFormatter
                workbook = openpyxl.load_workbook(source, read_only=True, data_only=not formatted)
            except Exception as exc:  # zipfile, XML and openpyxl errors alike
                raise TaskError(
                    f"{uri} is not an Excel (.xlsx) file: {exc}",
                    hint="ExcelToIon reads .xlsx files (Excel 2007 and later)",
                ) from None
            try:
                ctx.metric("sheets", "counter", len(workbook.sheetnames))
                reader = _SheetReader(workbook.epoch, value_render, date_render)
                for sheet in workbook.worksheets:
                    if titles and sheet.title not in titles:
                        continue
                    path = output_file(ctx, ".ion")
                    rows = reader.rows(sheet, header, skip)
                    count = _write(path, rows)
                    uris[sheet.title] = ctx.put_file(path)
                    total += count
            finally:
                workbook.close()
        return {"uris": uris, "size": total}


def _write(path: Path, rows: Iterator[Any]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(dumps_line(row) + "\n")
            count += 1
    return count


class _SheetReader:
    def __init__(self, epoch: Any, value_render: str, date_render: str) -> None:
        self.epoch = epoch
        self.value_render = value_render
        self.date_render = date_render

    def rows(self, sheet: Any, header: bool, skip: int) -> Iterator[Any]:
        """The rows of one sheet, as Kestra's ExcelToIon builds them (maps with a header)."""
        present = (
            (number, cells)
            for number, row in enumerate(sheet.iter_rows(), start=1)
            if (cells := _present(row))
        )
        headers: list[str] = []
        first, last = 0, -1
        if header:
            found = next(present, None)
            for _ in range(skip):
                later = next(present, None)
                if later is None:
                    break
                found = later
            if found is not None:
                number, cells = found
                first, last = min(cells), max(cells) + 1
                for col in range(first, last):
                    cell = cells.get(col)
                    if cell is None or cell.value is None:
                        headers.append(f"Column{col}")
                    else:
                        headers.append(to_string(self.value(cell, number, col)))
        skipped = 0
        for index, (number, cells) in enumerate(present):
            if last == -1:  # no header: the first data row gives the width
                last = max(cells) + 1
            elif not header and skip > 0 and skipped < skip and index > 0:
                skipped += 1
                continue
            values = [
                self.value(cells[c], number, c) if c in cells else None for c in range(first, last)
            ]
            if headers:
                yield dict(zip(headers, values, strict=True))
            else:
                yield values

    def value(self, cell: _Cell, row: int, col: int) -> Any:
        if cell.value is None:  # a blank cell (RETURN_BLANK_AS_NULL)
            return None
        try:
            if self.value_render == "FORMATTED_VALUE":
                return self.formatted(cell)
            return self.unformatted(cell)
        except TaskError as exc:
            letter = require("openpyxl.utils", "excel").get_column_letter(col + 1)
            raise TaskError(f"cell {letter}{row}: {exc.message}") from None

    def unformatted(self, cell: _Cell) -> Any:
        value, kind = cell.value, cell.kind
        if value is None or kind == "e":
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value
        if isinstance(value, datetime | date | time | timedelta):
            if self.date_render == "SERIAL_NUMBER":
                return _serial(value, self.epoch)
            if self.date_render == "FORMATTED_STRING":
                return format_date(value, cell.number_format)
            return _day(value)
        if isinstance(value, int | float):
            return float(value)
        return to_string(value)

    def formatted(self, cell: _Cell) -> Any:
        value = cell.value
        if value is None:
            return ""
        if cell.kind == "f" or (isinstance(value, str) and cell.kind != "s" and value[:1] == "="):
            return str(value)[1:]  # no formula evaluator: POI prints the formula
        if isinstance(value, datetime | date | time | timedelta):
            if self.date_render == "SERIAL_NUMBER":
                return _serial(value, self.epoch)
            if self.date_render == "FORMATTED_STRING":
                return format_date(value, cell.number_format)
            return _instant(value)
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return format_number(float(value), cell.number_format)
        return str(value)


def _instant(value: Any) -> Any:
    """``getDateCellValue()`` (a ``java.util.Date``, UTC): an aware datetime."""
    from datetime import UTC

    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, time):
        return datetime.combine(date(1899, 12, 31), value).replace(tzinfo=UTC)
    return (datetime(1899, 12, 31) + value).replace(tzinfo=UTC)


# --------------------------------------------------------------------------- DataFormatter


def _sections(number_format: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in number_format:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _general(value: float) -> str:
    """POI's ``ExcelGeneralNumberFormat``: integers plain, 10 significant digits, and
    scientific notation past 1E11 or below 1E-10."""
    if value == 0:
        return "0"
    if math.isnan(value) or math.isinf(value):
        return to_string(value)
    magnitude = abs(value)
    if magnitude >= 1e11 or magnitude < 1e-10:
        from kflow.java.numbers import DecimalFormat

        text = DecimalFormat("0.#####E0").format(value)
        return re.sub(r"E(\d)", r"E+\1", text)
    rounded = Context(prec=10, rounding=ROUND_HALF_UP).create_decimal(repr(value))
    text = format(rounded.normalize(), "f")
    return text


_NUMERIC = re.compile(r"[0#?,.%E+\-\s]*")


def format_number(value: float, number_format: str) -> str:
    """A number as Excel shows it with ``number_format``; TaskError for formats kflow
    does not render."""
    sections = _sections(number_format)
    section = sections[0]
    if value < 0 and len(sections) > 1 and sections[1]:
        section, value = sections[1], -value
    elif value == 0 and len(sections) > 2 and sections[2]:
        section = sections[2]
    section = re.sub(r"\[[^\]]*\]", "", section)  # colours, conditions, locales
    if section in ("General", "@", ""):
        return _general(value)
    body = re.sub(r'\\(.)|"([^"]*)"', lambda m: "'" + (m.group(1) or m.group(2)) + "'", section)
    body = re.sub(r"_.|\*.", "", body)  # alignment padding
    core = re.sub(r"'[^']*'", "", body)
    if not _NUMERIC.fullmatch(core) or not re.search(r"[0#]", core):
        raise TaskError(
            f"the number format {number_format!r} is not supported by kflow's "
            "valueRender: FORMATTED_VALUE",
            hint="use valueRender: UNFORMATTED_VALUE",
        )
    from kflow.java.numbers import DecimalFormat

    pattern = body.replace("?", "#").replace("E+", "E").replace("E-", "E")
    text = DecimalFormat(pattern).format(value)
    if "E+" in section:
        text = re.sub(r"E(\d)", r"E+\1", text)
    return text


_DATE_TOKEN = re.compile(
    r'"[^"]*"|\\.|\[[^\]]*\]|yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|'
    r"AM/PM|am/pm|A/P|a/p|\.0+|.",
    re.IGNORECASE,
)


def format_date(value: Any, number_format: str) -> str:
    """A date cell as Excel shows it (POI's date formats, translated to Java patterns)."""
    from kflow.java.time import format_pattern, from_local, zone_of

    moment = _instant(value).replace(tzinfo=None)
    tokens = _DATE_TOKEN.findall(_sections(number_format)[0])
    java: list[str] = []
    lowered = [t.lower() for t in tokens]
    for index, token in enumerate(tokens):
        low = lowered[index]
        if token.startswith('"'):
            java.append("'" + token[1:-1].replace("'", "''") + "'")
        elif token.startswith("\\"):
            java.append("'" + token[1:].replace("'", "''") + "'")
        elif token.startswith("["):
            continue
        elif low in ("yyyy", "yy"):
            java.append(low)
        elif low.startswith("m"):
            before = next((t for t in reversed(lowered[:index]) if t[0] in "hdsy"), "")
            after = next((t for t in lowered[index + 1 :] if t[0] in "hdsy"), "")
            minute = len(low) <= 2 and (before.startswith("h") or after.startswith("s"))
            java.append(
                low if minute else {1: "M", 2: "MM", 3: "MMM", 4: "MMMM"}.get(len(low), "MMMMM")
            )
        elif low.startswith("d"):
            java.append({1: "d", 2: "dd", 3: "EEE"}.get(len(low), "EEEE"))
        elif low.startswith("h"):
            ampm = any(t in ("am/pm", "a/p") for t in lowered)
            java.append(low if ampm else low.upper())
        elif low.startswith("s"):
            java.append(low)
        elif low in ("am/pm", "a/p"):
            java.append("a")
        elif token.startswith("."):
            java.append("." + "S" * (len(token) - 1))
        elif token.isalpha():
            raise TaskError(
                f"the date format {number_format!r} is not supported by kflow's FORMATTED_STRING",
                hint="use dateTimeRender: UNFORMATTED_VALUE or SERIAL_NUMBER",
            )
        else:
            java.append("'" + token.replace("'", "''") + "'" if token != " " else " ")
    zone = zone_of("UTC")
    return format_pattern(from_local(moment, moment.microsecond * 1000, zone), "".join(java))
