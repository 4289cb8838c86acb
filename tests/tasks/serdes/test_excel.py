"""Excel conversions (io.kestra.plugin.serdes.excel.*) run through real flows.

Expected values come from the plugin's own tests (kestra-io/plugin-serdes ExcelToIonTest and
IonToExcelTest, cited per test); fixtures are listed in data/SOURCES-columnar.md.
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from kflow.errors import KflowError
from kflow.ion import read_rows, write_rows
from kflow.storage.local import LocalStorage
from tests.conftest import by_task, states

DATA = Path(__file__).parent / "data"
HEAD = "id: xl\nnamespace: company.team\ninputs:\n  - {id: file, type: FILE}\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def error(ex, task_id: str) -> str:
    return by_task(ex, task_id)[-1].error or ""


def ion(home, uri: str) -> list:
    return list(read_rows(io.BytesIO(read(home, uri))))


def ion_file(tmp_path: Path, rows: list, name: str = "rows.ion") -> Path:
    path = tmp_path / name
    with open(path, "wb") as fh:
        write_rows(rows, fh)
    return path


def workbook(home, uri: str, data_only: bool = False) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(read(home, uri)), data_only=data_only)


def values(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def to_ion(run_yaml, name: str, extra: str = ""):
    return run_yaml(HEAD + """
  - id: ion
    type: io.kestra.plugin.serdes.excel.ExcelToIon
    from: "{{ inputs.file }}"
""" + extra, {"file": str(DATA / name)})


def test_aliases():
    from kflow.tasks.serdes.excel_to_ion import ExcelToIon
    from kflow.tasks.serdes.ion_to_excel import IonToExcel

    assert ExcelToIon.aliases == ("io.kestra.plugin.serdes.excel.ExcelReader",)
    assert IonToExcel.aliases == ("io.kestra.plugin.serdes.excel.ExcelWriter",)
    assert ExcelToIon.requires == IonToExcel.requires == (("openpyxl", "excel"),)


def test_with_header(run_yaml, kflow_home):
    # ExcelToIonTest.should_get_a_correct_ion_inputs: 'policyID:"333743"', 'point_latitude:30.102261'
    ex = to_ion(run_yaml, "excel_insurance_sample.xlsx")
    assert states(ex) == {"ion": "SUCCESS"}, ex.task_runs
    assert out(ex, "ion")["size"] == 5
    uri = out(ex, "ion")["uris"]["Worksheet"]
    text = read(kflow_home, uri).decode()
    assert 'policyID:"333743"' in text and "point_latitude:30.102261" in text
    first = ion(kflow_home, uri)[0]
    assert first["policyID"] == "119736" and first["county"] == "CLAY COUNTY"
    assert first["eq_site_limit"] == 922337203685478.0 and isinstance(first["eq_site_limit"], float)
    assert first["hu_site_limit"] == "9223372036854775808"
    assert first["point_granularity"] == 1.0
    assert first["date"] == "2023-06-06"
    assert text.splitlines()[0].startswith('{policyID:"119736",statecode:"FL",county:"CLAY COUNTY",')


def test_without_header(run_yaml, kflow_home):
    # ExcelToIonTest: header false keeps the first row as data: '"policyID","statecode"'
    ex = to_ion(run_yaml, "excel_insurance_sample.xlsx", "    header: false\n")
    assert out(ex, "ion")["size"] == 6
    rows = ion(kflow_home, out(ex, "ion")["uris"]["Worksheet"])
    assert rows[0][:2] == ["policyID", "statecode"] and rows[1][0] == "119736"
    assert '"policyID","statecode"' in read(kflow_home, out(ex, "ion")["uris"]["Worksheet"]).decode()


def test_skip_rows_without_header(run_yaml):
    # IonToExcelTest.skipRows: header false, skipRows 4 → 2 rows (the first one is kept)
    ex = to_ion(run_yaml, "excel_insurance_sample.xlsx", "    header: false\n    skipRows: 4\n")
    assert out(ex, "ion")["size"] == 2


def test_skip_rows_with_header(run_yaml, kflow_home):
    # with a header, skipRows moves the header down: the third row names the columns
    ex = to_ion(run_yaml, "excel_insurance_sample.xlsx", "    skipRows: 2\n")
    rows = ion(kflow_home, out(ex, "ion")["uris"]["Worksheet"])
    assert len(rows) == 3 and list(rows[0])[0] == "448094" and rows[0]["448094"] == "206893"


def test_missing_cells(run_yaml, kflow_home):
    # ExcelToIonTest: missing_cells_sample.xlsx contains "abc"; full missing column → null
    ex = to_ion(run_yaml, "excel_missing_cells_sample.xlsx")
    assert states(ex) == {"ion": "SUCCESS"}
    assert "abc" in read(kflow_home, out(ex, "ion")["uris"]["Sheet1"]).decode()
    ex = to_ion(run_yaml, "excel_sample_with_a_full_missing_column.xlsx")
    text = read(kflow_home, out(ex, "ion")["uris"]["Sheet1"]).decode()
    assert "PrizeMasterType:null" in text
    assert text.splitlines()[0] == (
        '{PrizeId:"1.2",PrizeCode:"GL-MMMM",PrizeName:"GL-MMMM",PrizeMasterType:null,'
        'PrizeType:"FnB",PrizeColour:null}'
    )


def test_dates(run_yaml, kflow_home):
    # ExcelToIonTest: sample_with_date.xlsx gives "2025-04-01" and the text "2025-06-27 14h22"
    ex = to_ion(run_yaml, "excel_sample_with_date.xlsx")
    rows = ion(kflow_home, out(ex, "ion")["uris"]["Sheet1"])
    assert rows == [
        {"date_": "2025-04-01", "employee_id": 3455.0, "expense": 25.0},
        {"date_": "2025-06-27 14h22", "employee_id": 42.0, "expense": 23.0},
    ]
    ex = to_ion(run_yaml, "excel_sample_with_date.xlsx", "    dateTimeRender: SERIAL_NUMBER\n")
    assert ion(kflow_home, out(ex, "ion")["uris"]["Sheet1"])[0]["date_"] == 45748.0
    ex = to_ion(run_yaml, "excel_sample_with_date.xlsx", "    dateTimeRender: FORMATTED_STRING\n")
    assert ion(kflow_home, out(ex, "ion")["uris"]["Sheet1"])[0]["date_"] == "2025-04-01"


def test_formatted_values(run_yaml, kflow_home):
    ex = to_ion(run_yaml, "excel_insurance_sample.xlsx", "    valueRender: FORMATTED_VALUE\n")
    assert states(ex) == {"ion": "SUCCESS"}, ex.task_runs
    first = ion(kflow_home, out(ex, "ion")["uris"]["Worksheet"])[0]
    assert first["eq_site_limit"] == "9.22E+14"  # format 0.00E+00
    assert first["fl_site_limit"] == "498960"  # General
    assert first["tiv_2012"] == "792148.9"
    assert first["county"] == 'UPPER("clay county")'  # no evaluator: the formula
    # a date cell rendered unformatted is the java.util.Date: an Ion timestamp
    ex = to_ion(run_yaml, "excel_sample_with_date.xlsx", "    valueRender: FORMATTED_VALUE\n")
    rows = ion(kflow_home, out(ex, "ion")["uris"]["Sheet1"])
    assert rows[0] == {"date_": datetime(2025, 4, 1, tzinfo=UTC), "employee_id": "3455", "expense": "25"}


def test_sheets_title_selects_sheets(run_yaml, kflow_home):
    # ExcelToIonTest.multiSheets
    ex = to_ion(
        run_yaml,
        "excel_insurance_sample_multiple_sheets.xlsx",
        "    sheetsTitle: [Worksheet_1, Worksheet_3]\n",
    )
    uris = out(ex, "ion")["uris"]
    assert sorted(uris) == ["Worksheet_1", "Worksheet_3"]
    assert out(ex, "ion")["size"] == 10
    for uri in uris.values():
        text = read(kflow_home, uri).decode()
        assert 'policyID:"333743"' in text and "point_latitude:30.102261" in text


def test_not_an_excel_file(run_yaml):
    ex = to_ion(run_yaml, "avro_insurance_sample.ion")
    assert states(ex) == {"ion": "FAILED"}
    assert "is not an Excel (.xlsx) file" in error(ex, "ion")


def to_excel(run_yaml, src: Path, extra: str = ""):
    return run_yaml(HEAD + """
  - id: xlsx
    type: io.kestra.plugin.serdes.excel.IonToExcel
    from: "{{ inputs.file }}"
""" + extra, {"file": str(src)})


def test_ion_to_excel_matches_the_plugin_workbook(run_yaml, kflow_home):
    # IonToExcelTest.header: insurance_sample.ion → the cells of insurance_sample.xlsx
    ex = to_excel(run_yaml, DATA / "excel_insurance_sample.ion", "    sheetsTitle: Worksheet\n")
    assert states(ex) == {"xlsx": "SUCCESS"}, ex.task_runs
    assert out(ex, "xlsx")["size"] == 5 and out(ex, "xlsx")["uri"].endswith(".xlsx")
    got = workbook(kflow_home, out(ex, "xlsx")["uri"])
    assert got.sheetnames == ["Worksheet"]
    expected = openpyxl.load_workbook(DATA / "excel_insurance_sample.xlsx")
    got_rows, expected_rows = values(got["Worksheet"]), values(expected["Worksheet"])
    assert len(got_rows) == len(expected_rows) == 6
    for got_row, expected_row in zip(got_rows, expected_rows, strict=True):
        for g, e in zip(got_row, expected_row, strict=True):
            if isinstance(e, datetime):  # same day (the plugin's file has another format)
                e = e.date()
                g = g.date() if isinstance(g, datetime) else g
            assert g == e or (g, e) == ('=UPPER("clay county")', "CLAY COUNTY"), (g, e)


def test_ion_to_excel_without_header(run_yaml, kflow_home):
    # IonToExcelTest.noHeader
    ex = to_excel(run_yaml, DATA / "excel_insurance_sample.ion", "    header: false\n")
    rows = values(workbook(kflow_home, out(ex, "xlsx")["uri"])["Sheet"])
    expected = values(openpyxl.load_workbook(DATA / "excel_insurance_sample_no_header.xlsx")["Worksheet"])
    assert len(rows) == 5
    assert [r[0] for r in rows] == [r[0] for r in expected]


def test_multiple_sheets(run_yaml, kflow_home):
    # IonToExcelTest.multiSheets: a map of sheet title → file
    ex = run_yaml(HEAD + """
  - id: xlsx
    type: io.kestra.plugin.serdes.excel.IonToExcel
    from:
      Worksheet_1: "{{ inputs.file }}"
      Worksheet_2: "{{ inputs.file }}"
      Worksheet_3: "{{ inputs.file }}"
""", {"file": str(DATA / "excel_insurance_sample.ion")})
    assert states(ex) == {"xlsx": "SUCCESS"}, ex.task_runs
    assert out(ex, "xlsx")["size"] == 15
    got = workbook(kflow_home, out(ex, "xlsx")["uri"])
    assert got.sheetnames == ["Worksheet_1", "Worksheet_2", "Worksheet_3"]
    assert all(len(values(got[name])) == 6 for name in got.sheetnames)


def test_cell_types_and_round_trip(run_yaml, kflow_home, tmp_path):
    rows = [{
        "int": 1, "big": 2**70, "float": 1.5, "dec": Decimal("2.25"), "yes": True, "no": False,
        "day": date(2024, 2, 29), "local": datetime(2024, 1, 2, 12, 0),
        "ts": datetime(2024, 1, 2, 23, 30, tzinfo=UTC), "clock": time(10, 0),
        "text": "=1+1", "formula": "Formula:SUM(1,2)", "none": None, "map": {"a": 1},
    }]  # fmt: skip
    ex = run_yaml(HEAD + """
  - {id: xlsx, type: io.kestra.plugin.serdes.excel.IonToExcel, from: "{{ inputs.file }}", timeZoneId: Asia/Tokyo}
  - {id: back, type: io.kestra.plugin.serdes.excel.ExcelToIon, from: "{{ outputs.xlsx.uri }}"}
""", {"file": str(ion_file(tmp_path, rows))})
    assert states(ex) == {"xlsx": "SUCCESS", "back": "SUCCESS"}, ex.task_runs
    sheet = workbook(kflow_home, out(ex, "xlsx")["uri"])["Sheet"]
    header, cells = values(sheet)
    assert header == list(rows[0])
    assert cells[:6] == [1, "1180591620717411303424", 1.5, 2.25, True, False]
    assert cells[6:9] == [datetime(2024, 2, 29), datetime(2024, 1, 2, 12, 0), datetime(2024, 1, 3)]
    assert sheet["G2"].number_format == "yyyy-MM-dd"
    assert cells[9:] == ["10:00", "=1+1", "=SUM(1,2)", "null", "{a=1}"]
    assert sheet["K2"].data_type == "s"
    back = ion(kflow_home, out(ex, "back")["uris"]["Sheet"])
    assert back[0]["day"] == "2024-02-29" and back[0]["int"] == 1.0 and back[0]["yes"] is True
    assert back[0]["formula"] is None  # no cached result: openpyxl does not compute formulas


def test_no_styles(run_yaml, kflow_home, tmp_path):
    # IonToExcelTest.styles: dates without a style are plain serial numbers
    ex = to_excel(run_yaml, ion_file(tmp_path, [{"d": date(2024, 1, 1)}]), "    styles: false\n")
    sheet = workbook(kflow_home, out(ex, "xlsx")["uri"])["Sheet"]
    assert sheet["A2"].value == 45292 and sheet["A2"].number_format == "General"


def test_list_rows_need_no_header(run_yaml, kflow_home, tmp_path):
    src = ion_file(tmp_path, [[1, "a"], [2, "b"]])
    ex = to_excel(run_yaml, src)
    assert states(ex) == {"xlsx": "FAILED"}
    assert "row 1 of sheet 'Sheet' is a list: a header needs structs" in error(ex, "xlsx")
    ex = to_excel(run_yaml, src, "    header: false\n")
    assert values(workbook(kflow_home, out(ex, "xlsx")["uri"])["Sheet"]) == [[1, "a"], [2, "b"]]


def test_large_round_trip(run_yaml, kflow_home, tmp_path):
    # IonToExcelTest.large: 10,000 rows read back by ExcelToIon (10 text columns, not 100)
    row = {f"key{i}": "value1" for i in range(10)} | {"int": 1}
    src = ion_file(tmp_path, [row] * 10_000)
    ex = run_yaml(HEAD + """
  - {id: xlsx, type: io.kestra.plugin.serdes.excel.ExcelWriter, from: "{{ inputs.file }}"}
  - {id: back, type: io.kestra.plugin.serdes.excel.ExcelReader, from: "{{ outputs.xlsx.uri }}"}
""".replace("ExcelWriter", "IonToExcel").replace("ExcelReader", "ExcelToIon"), {"file": str(src)})
    assert states(ex) == {"xlsx": "SUCCESS", "back": "SUCCESS"}, ex.task_runs
    assert out(ex, "xlsx")["size"] == out(ex, "back")["size"] == 10_000


@pytest.mark.parametrize("task", ["ExcelToIon", "IonToExcel"])
def test_missing_openpyxl_names_the_pip_line(run_yaml, tmp_path, monkeypatch, task):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    src = DATA / "excel_insurance_sample.xlsx" if task == "ExcelToIon" else ion_file(tmp_path, [{"x": 1}])
    try:
        ex = run_yaml(HEAD + f"""
  - {{id: t, type: io.kestra.plugin.serdes.excel.{task}, from: "{{{{ inputs.file }}}}"}}
""", {"file": str(src)})
    except KflowError as exc:  # refused before any task runs
        assert "pip install 'kflow[excel]'" in f"{exc} {exc.hint}"
    else:
        assert states(ex) == {"t": "FAILED"}
        assert "pip install 'kflow[excel]'" in error(ex, "t")
