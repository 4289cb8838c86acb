"""Avro conversions (io.kestra.plugin.serdes.avro.*) run through real flows.

Expected values come from the plugin's own tests (kestra-io/plugin-serdes, cited per test);
fixtures are listed in data/SOURCES-columnar.md.
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import fastavro
import pytest

from kflow.errors import KflowError
from kflow.ion import AnnotatedStr, read_rows, write_rows
from kflow.storage.local import LocalStorage
from tests.conftest import by_task, states

DATA = Path(__file__).parent / "data"
HEAD = "id: av\nnamespace: company.team\ninputs:\n  - {id: file, type: FILE}\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def error(ex, task_id: str) -> str:
    return by_task(ex, task_id)[-1].error or ""


def avro_records(home, uri: str) -> list[dict]:
    return list(fastavro.reader(io.BytesIO(read(home, uri))))


def ion_file(tmp_path: Path, rows: list, name: str = "rows.ion") -> Path:
    path = tmp_path / name
    with open(path, "wb") as fh:
        write_rows(rows, fh)
    return path


def schema_yaml(schema: dict | str) -> str:
    """A schema as a YAML block scalar (the property is JSON text, as in Kestra)."""
    text = schema if isinstance(schema, str) else json.dumps(schema, indent=2)
    return "    schema: |\n" + "".join(f"      {line}\n" for line in text.splitlines())


def to_avro(run_yaml, path: Path, schema: dict | str | None, extra: str = "") -> object:
    flow = HEAD + '  - id: avro\n    type: io.kestra.plugin.serdes.avro.IonToAvro\n'
    flow += '    from: "{{ inputs.file }}"\n' + extra
    if schema is not None:
        flow += schema_yaml(schema)
    return run_yaml(flow, {"file": str(path)})


def test_avro_to_ion_then_back(run_yaml, kflow_home):
    # AvroToIonWriterTest.basic: insurance_sample.avro → Ion → Avro keeps the 5 records
    ex = run_yaml(HEAD + """
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ inputs.file }}"}
  - id: avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ outputs.ion.uri }}"
    inferAllFields: false
""" + schema_yaml((DATA / "avro_insurance_sample.avsc").read_text()),
        {"file": str(DATA / "avro_insurance_sample.avro")})
    assert states(ex) == {"ion": "SUCCESS", "avro": "SUCCESS"}, ex.task_runs
    ion = out(ex, "ion")
    assert ion["size"] == 5 and ion["uri"].endswith(".ion")
    rows = list(read_rows(io.BytesIO(read(kflow_home, ion["uri"]))))
    assert rows[0] == {
        "policyID": "119736", "statecode": "FL", "county": "CLAY COUNTY",
        "eq_site_limit": "498960", "hu_site_limit": "498960", "fl_site_limit": "498960",
        "fr_site_limit": "498960", "tiv_2011": "498960", "tiv_2012": "792148.9",
        "eq_site_deductible": "0", "hu_site_deductible": "9979.2", "fl_site_deductible": "0",
        "fr_site_deductible": "0", "point_latitude": "30.102261", "point_longitude": "-81.711777",
        "line": "Residential", "construction": "Masonry", "point_granularity": "1",
    }  # fmt: skip
    avro = out(ex, "avro")
    assert avro["size"] == 5 and avro["uri"].endswith(".avro")
    original = list(fastavro.reader(io.BytesIO((DATA / "avro_insurance_sample.avro").read_bytes())))
    assert avro_records(kflow_home, avro["uri"]) == original


def test_aliases():
    from kflow.tasks.serdes.avro_to_ion import AvroToIon
    from kflow.tasks.serdes.ion_to_avro import IonToAvro

    assert AvroToIon.aliases == ("io.kestra.plugin.serdes.avro.AvroReader",)
    assert IonToAvro.aliases == ("io.kestra.plugin.serdes.avro.AvroWriter",)
    assert AvroToIon.requires == IonToAvro.requires == (("fastavro", "avro"),)


def test_avro_with_nulls(run_yaml, kflow_home):
    # AvroToIonWriterTest.nullValues: a ["string", "null"] union holding null
    ex = run_yaml(HEAD + """
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ inputs.file }}"}
""", {"file": str(DATA / "avro_null.avro")})
    assert states(ex) == {"ion": "SUCCESS"}
    assert read(kflow_home, out(ex, "ion")["uri"]) == b'{var1:"Hello",var2:null,var3:null}\n'


def test_nested_records_with_aliases(run_yaml, kflow_home):
    ex = run_yaml(HEAD + """
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ inputs.file }}"}
""", {"file": str(DATA / "avro_portfolio_aliases.avro")})
    lines = read(kflow_home, out(ex, "ion")["uri"]).decode().splitlines()
    assert lines[0] == (
        '{id:166781,portfolio:"Omnicommerce",portfolioId:"91721",it:{selectedScenario:'
        '{nbJH_DTP_Helpdesk:"12",nbJH_DTP_Cloud_Connectivity:null,nbJH_DTP_Sales:9}}}'
    )


ALL_TYPES = {
    "type": "record",
    "name": "all",
    "namespace": "io.kestra.test",
    "fields": [
        {"name": "s", "type": "string"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "d", "type": "double"},
        {"name": "b", "type": "boolean"},
        {"name": "n", "type": ["null", "string"]},
        {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "clock", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "blob", "type": "bytes"},
        {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "child", "type": ["null", {"type": "record", "name": "Child",
                                            "fields": [{"name": "x", "type": "int"}]}]},
    ],
}  # fmt: skip
ALL_ROWS = [
    {
        "s": "héllo \"q\"", "i": 42, "l": 2**40, "d": 1.5, "b": True, "n": None,
        "dec": Decimal("12.50"), "day": date(2024, 2, 29),
        "ts": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "local": datetime(2024, 1, 2, 3, 4, 5, 678000),
        "clock": time(10, 11, 12, 500000), "blob": b"\x00\x01",
        "color": "GREEN", "tags": ["a", "b"], "attrs": {"k": 7}, "child": {"x": -1},
    },
    {
        "s": "", "i": -1, "l": 0, "d": -0.25, "b": False, "n": "x",
        "dec": Decimal("-0.01"), "day": date(1970, 1, 1),
        "ts": datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        "local": AnnotatedStr("2000-01-01T00:00:00", "LocalDateTime"),
        "clock": AnnotatedStr("00:00:00", "LocalTime"), "blob": b"",
        "color": "RED", "tags": [], "attrs": {}, "child": None,
    },
]  # fmt: skip


def test_round_trip_ion_avro_ion_is_byte_equal(run_yaml, kflow_home, tmp_path):
    src = ion_file(tmp_path, ALL_ROWS)
    ex = run_yaml(HEAD + """
  - id: avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ inputs.file }}"
""" + schema_yaml(ALL_TYPES) + """
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ outputs.avro.uri }}"}
""", {"file": str(src)})
    assert states(ex) == {"avro": "SUCCESS", "ion": "SUCCESS"}, ex.task_runs
    assert out(ex, "avro")["size"] == 2 and out(ex, "ion")["size"] == 2
    records = avro_records(kflow_home, out(ex, "avro")["uri"])
    assert records[0]["local"] == datetime(2024, 1, 2, 3, 4, 5, 678000)
    assert records[0]["clock"] == time(10, 11, 12, 500000)
    assert records[0]["dec"] == Decimal("12.50")
    assert read(kflow_home, out(ex, "ion")["uri"]) == src.read_bytes()


def test_uuid_and_fixed(run_yaml, kflow_home, tmp_path):
    schema = {"type": "record", "name": "u", "fields": [
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "f", "type": {"type": "fixed", "name": "F", "size": 3}},
    ]}  # fmt: skip
    value = "123e4567-e89b-12d3-a456-426614174000"
    src = ion_file(tmp_path, [{"id": value, "f": "abc"}, {"id": "nope", "f": "abc"}])
    ex = to_avro(run_yaml, src, schema)
    assert states(ex) == {"avro": "FAILED"}
    assert "row 2, field 'id'" in error(ex, "avro")
    src = ion_file(tmp_path, [{"id": value, "f": "abc"}])
    ex = to_avro(run_yaml, src, schema)
    assert avro_records(kflow_home, out(ex, "avro")["uri"]) == [{"id": uuid.UUID(value), "f": b"abc"}]


def test_list_rows_use_schema_order(run_yaml, kflow_home):
    # IonToAvroTest.array: rows written as lists are read by field position
    ex = to_avro(run_yaml, DATA / "avro_insurance_sample_array.ion",
                 (DATA / "avro_insurance_sample.avsc").read_text())
    assert states(ex) == {"avro": "SUCCESS"}, ex.task_runs
    assert out(ex, "avro")["size"] == 5
    original = list(fastavro.reader(io.BytesIO((DATA / "avro_insurance_sample.avro").read_bytes())))
    assert avro_records(kflow_home, out(ex, "avro")["uri"]) == original


def test_map_rows_with_struct_values(run_yaml, kflow_home):
    # IonToAvroTest.map: the sample's point_granularity is a struct; a string field takes
    # its text (String.valueOf), so all 5 rows are written
    ex = to_avro(run_yaml, DATA / "avro_insurance_sample.ion",
                 (DATA / "avro_insurance_sample.avsc").read_text(), "    inferAllFields: false\n")
    assert states(ex) == {"avro": "SUCCESS"}, ex.task_runs
    assert out(ex, "avro")["size"] == 5


CONVERT = {"type": "record", "name": "c", "fields": [
    {"name": "i", "type": ["null", "int"]},
    {"name": "b", "type": "boolean"},
    {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "f", "type": "float"},
]}  # fmt: skip


def test_text_values_are_converted(run_yaml, kflow_home, tmp_path):
    # PrimitiveIntTest, PrimitiveBoolTest, LogicalDecimalTest, LogicalDateTimeTest
    rows = [
        {"i": "-42", "b": "True", "dec": "12.8", "day": "2020-05-28", "ts": "2019-12-26T12:13", "f": "1.5"},
        {"i": "n/a", "b": 0, "dec": 12, "day": date(2021, 1, 2), "ts": "2019-12-26T12:13:11.123000+01:00", "f": 2},
        {"i": 7, "b": "", "dec": 12.8444, "day": datetime(2021, 1, 2, 23, 0, tzinfo=UTC), "ts": 1577362391123, "f": 0.1},
        {"i": None, "b": "yes", "dec": "19", "day": "2021-01-02+02:00", "ts": "1577362391123", "f": "-0"},
    ]  # fmt: skip
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), CONVERT)
    assert states(ex) == {"avro": "SUCCESS"}, ex.task_runs
    got = avro_records(kflow_home, out(ex, "avro")["uri"])
    utc = UTC
    assert got == [
        {"i": -42, "b": True, "dec": Decimal("12.80"), "day": date(2020, 5, 28),
         "ts": datetime(2019, 12, 26, 12, 13, tzinfo=utc), "f": 1.5},
        {"i": None, "b": False, "dec": Decimal("12.00"), "day": date(2021, 1, 2),
         "ts": datetime(2019, 12, 26, 11, 13, 11, 123000, tzinfo=utc), "f": 2.0},
        {"i": 7, "b": False, "dec": Decimal("12.84"), "day": date(2021, 1, 2),
         "ts": datetime(2019, 12, 26, 12, 13, 11, 123000, tzinfo=utc), "f": pytest.approx(0.1)},
        {"i": None, "b": True, "dec": Decimal("19.00"), "day": date(2021, 1, 2),
         "ts": datetime(2019, 12, 26, 12, 13, 11, 123000, tzinfo=utc), "f": -0.0},
    ]  # fmt: skip


def test_formats_separator_and_values(run_yaml, kflow_home, tmp_path):
    # LogicalDateTest.withFormat ("28/5/20", "d/M/yy"), LogicalDateTimeTest.withFormat,
    # LogicalDecimalTest.separator ("12,82" with ',')
    rows = [{"i": "NULL!", "b": "oui", "dec": "12,82", "day": "28/5/20",
             "ts": "2020-04-30 08:00:00 +0200", "f": "1,25"}]  # fmt: skip
    extra = """    dateFormat: d/M/yy
    datetimeFormat: "yyyy-MM-dd' 'HH:mm:ss' 'XXXX"
    decimalSeparator: ","
    trueValues: [oui]
    nullValues: ["NULL!"]
"""
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), CONVERT, extra)
    assert states(ex) == {"avro": "SUCCESS"}, ex.task_runs
    assert avro_records(kflow_home, out(ex, "avro")["uri"]) == [
        {"i": None, "b": True, "dec": Decimal("12.82"), "day": date(2020, 5, 28),
         "ts": datetime(2020, 4, 30, 6, 0, tzinfo=UTC), "f": 1.25}
    ]  # fmt: skip


def test_time_zone_of_local_texts(run_yaml, kflow_home, tmp_path):
    rows = [{"i": 1, "b": True, "dec": "1", "day": "2020-01-01", "ts": "2020-06-01T12:00", "f": 1}]
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), CONVERT, "    timeZoneId: Europe/Paris\n")
    assert avro_records(kflow_home, out(ex, "avro")["uri"])[0]["ts"] == datetime(
        2020, 6, 1, 10, 0, tzinfo=UTC
    )


def test_bad_row_names_row_and_field(run_yaml, tmp_path):
    # PrimitiveIntTest.failedSource: "a" and 42.2 are no int
    rows = [{"i": 1, "b": True, "dec": "1", "day": "2020-01-01", "ts": "0", "f": 1},
            {"i": "a", "b": True, "dec": "1", "day": "2020-01-01", "ts": "0", "f": 1}]  # fmt: skip
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), CONVERT)
    assert states(ex) == {"avro": "FAILED"}
    message = error(ex, "avro")
    assert message.startswith("row 2, field 'i': cannot convert String value 'a' to any type")
    # an Ion int that Java reads as an Integer is no timestamp (LogicalDateTimeTest: Long only)
    rows = [{"i": 1, "b": True, "dec": "1", "day": "2020-01-01", "ts": 0, "f": 1}]
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), CONVERT)
    assert error(ex, "avro").startswith("row 1, field 'ts': cannot convert Integer value 0")


def test_value_beyond_decimal_precision(run_yaml, tmp_path):
    rows = [{"i": 1, "b": True, "dec": "123.4", "day": "2020-01-01", "ts": "0", "f": 1}]
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), CONVERT)
    assert states(ex) == {"avro": "FAILED"}
    assert error(ex, "avro").startswith("row 1, field 'dec': cannot convert String value '123.4'")
    assert "123.40 has more digits than the precision 4" in error(ex, "avro")


@pytest.mark.parametrize("mode", ["SKIP", "WARN"])
def test_on_bad_lines_skips_rows(run_yaml, kflow_home, tmp_path, mode):
    schema = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "int"}]}
    rows = [{"x": 1}, {"x": "nope"}, {"x": 3}]
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), schema, f"    onBadLines: {mode}\n")
    assert states(ex) == {"avro": "SUCCESS"}, ex.task_runs
    assert out(ex, "avro")["size"] == 3  # Kestra counts the rows converted, skipped or not
    assert avro_records(kflow_home, out(ex, "avro")["uri"]) == [{"x": 1}, {"x": 3}]


def test_strict_schema(run_yaml, tmp_path):
    schema = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "int"}]}
    src = ion_file(tmp_path, [{"x": 1, "extra": 2}])
    assert states(to_avro(run_yaml, src, schema)) == {"avro": "SUCCESS"}
    ex = to_avro(run_yaml, src, schema, "    strictSchema: true\n")
    assert states(ex) == {"avro": "FAILED"}
    assert "Data contains more fields than schema: expected 1, got 2" in error(ex, "avro")


def test_invalid_schema(run_yaml, tmp_path):
    src = ion_file(tmp_path, [{"x": 1}])
    ex = to_avro(run_yaml, src, '{"type": "record", "name": "r", "fields": [{"name": "x", "type": "integer"}]}')
    assert states(ex) == {"avro": "FAILED"}
    assert error(ex, "avro").startswith("Invalid Avro schema: ")
    ex = to_avro(run_yaml, src, "{not json")
    assert error(ex, "avro").startswith("Invalid Avro schema: not JSON")


def test_schema_inferred_when_absent(run_yaml, kflow_home, tmp_path):
    # IonToAvroTest.ionWithoutSchema and InferAvroSchema's rules
    rows = [{"s": "a", "i": 2, "d": 3.2, "t": datetime(2024, 1, 1, tzinfo=UTC), "day": date(2024, 1, 1),
             "nested": {"k": True}, "list": [1, 2], "dec": Decimal("1.5")}]  # fmt: skip
    ex = to_avro(run_yaml, ion_file(tmp_path, rows), None)
    assert states(ex) == {"avro": "SUCCESS"}, ex.task_runs
    reader = fastavro.reader(io.BytesIO(read(kflow_home, out(ex, "avro")["uri"])))
    schema = reader.writer_schema
    assert schema["name"] == "io.kestra.plugin.serdes.avro.root"
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert types["s"] == ["null", "string"] and types["i"] == ["null", "int"]
    assert types["t"] == ["null", {"type": "long", "logicalType": "local-timestamp-millis"}]
    assert types["day"] == ["null", {"type": "int", "logicalType": "date"}]
    assert list(reader) == [{"s": "a", "i": 2, "d": 3.2, "t": datetime(2024, 1, 1), "day": date(2024, 1, 1),
                             "nested": {"k": True}, "list": [1, 2], "dec": "1.5"}]  # fmt: skip


def test_infer_all_fields_scans_every_row(run_yaml, kflow_home, tmp_path):
    # IonToAvroTest.inferAllFieldsTrueScansAllRowsForDateField
    rows = [{"id": i, "event_date": None} for i in range(1, 101)]
    rows += [{"id": i, "event_date": date(2024, 1, i - 100)} for i in range(101, 111)]
    src = ion_file(tmp_path, rows)
    ex = to_avro(run_yaml, src, None, "    inferAllFields: true\n")
    assert states(ex) == {"avro": "SUCCESS"}, ex.task_runs
    assert out(ex, "avro")["size"] == 110
    ex = to_avro(run_yaml, src, None)  # 100 rows scanned: event_date typed null
    assert states(ex) == {"avro": "FAILED"}
    assert "row 101, field 'event_date'" in error(ex, "avro")


def test_inference_fails_on_empty_file(run_yaml, tmp_path):
    # IonToAvroTest.inferenceFailsOnEmptyFile
    ex = to_avro(run_yaml, ion_file(tmp_path, []), None)
    assert states(ex) == {"avro": "FAILED"}
    assert error(ex, "avro") == (
        "Cannot infer Avro schema from ION input: the file appears to be empty "
        "or contains no valid records."
    )


def test_root_lists_are_wrapped_and_unwrapped(run_yaml, kflow_home, tmp_path):
    src = ion_file(tmp_path, [[1, 2], [3]])
    ex = run_yaml(HEAD + """
  - {id: avro, type: io.kestra.plugin.serdes.avro.IonToAvro, from: "{{ inputs.file }}"}
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ outputs.avro.uri }}"}
""", {"file": str(src)})
    assert states(ex) == {"avro": "SUCCESS", "ion": "SUCCESS"}, ex.task_runs
    assert read(kflow_home, out(ex, "ion")["uri"]) == src.read_bytes()


def test_not_an_avro_file(run_yaml, tmp_path):
    src = ion_file(tmp_path, [{"x": 1}])
    ex = run_yaml(HEAD + """
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ inputs.file }}"}
""", {"file": str(src)})
    assert states(ex) == {"ion": "FAILED"}
    assert "is not an Avro data file" in error(ex, "ion")


def test_missing_fastavro_names_the_pip_line(run_yaml, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "fastavro", None)
    src = ion_file(tmp_path, [{"x": 1}])
    try:
        ex = run_yaml(HEAD + """
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ inputs.file }}"}
""", {"file": str(src)})
    except KflowError as exc:  # refused before any task runs
        assert "pip install 'kflow[avro]'" in f"{exc} {exc.hint}"
    else:
        assert states(ex) == {"ion": "FAILED"}
        assert "pip install 'kflow[avro]'" in error(ex, "ion")


def test_maps_in_java_hash_map_order(run_yaml, kflow_home, tmp_path):
    # Kestra collects an Avro map into a java.util.HashMap (AvroConverter.complexMap,
    # AvroDeserializer.mapDeserializer): bucket order of the keys' hashes, "aa" (3104) first
    schema = {"type": "record", "name": "m", "fields": [{"name": "m", "type": {"type": "map", "values": "int"}}]}
    src = ion_file(tmp_path, [{"m": {"b": 1, "a": 2, "c": 3, "aa": 4}}])
    ex = run_yaml(HEAD + """
  - id: avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ inputs.file }}"
""" + schema_yaml(schema) + """
  - {id: ion, type: io.kestra.plugin.serdes.avro.AvroToIon, from: "{{ outputs.avro.uri }}"}
""", {"file": str(src)})
    assert read(kflow_home, out(ex, "ion")["uri"]) == b"{m:{aa:4,a:2,b:1,c:3}}\n"
    assert list(avro_records(kflow_home, out(ex, "avro")["uri"])[0]["m"]) == ["aa", "a", "b", "c"]
