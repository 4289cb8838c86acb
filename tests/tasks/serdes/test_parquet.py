"""Parquet conversions (io.kestra.plugin.serdes.parquet.*) run through real flows.

Expected values come from the plugin's own tests (kestra-io/plugin-serdes, cited per test).
"""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kflow.errors import FlowValidationError, KflowError
from kflow.ion import AnnotatedStr, read_rows, write_rows
from kflow.storage.local import LocalStorage
from tests.conftest import by_task, states
from tests.tasks.serdes.test_avro import ALL_ROWS, ALL_TYPES, schema_yaml

DATA = Path(__file__).parent / "data"
HEAD = "id: pq\nnamespace: company.team\ninputs:\n  - {id: file, type: FILE}\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def error(ex, task_id: str) -> str:
    return by_task(ex, task_id)[-1].error or ""


def ion_file(tmp_path: Path, rows: list, name: str = "rows.ion") -> Path:
    path = tmp_path / name
    with open(path, "wb") as fh:
        write_rows(rows, fh)
    return path


def parquet(home, uri: str) -> pq.ParquetFile:
    return pq.ParquetFile(io.BytesIO(read(home, uri)))


def to_parquet_and_back(run_yaml, src: Path, schema: dict | str | None, extra: str = ""):
    flow = HEAD + """
  - id: pq
    type: io.kestra.plugin.serdes.parquet.IonToParquet
    from: "{{ inputs.file }}"
""" + extra + (schema_yaml(schema) if schema is not None else "") + """
  - {id: ion, type: io.kestra.plugin.serdes.parquet.ParquetToIon, from: "{{ outputs.pq.uri }}"}
"""
    return run_yaml(flow, {"file": str(src)})


# ParquetToIonTest.testWithSchema's row, as FileSerde wrote the Java values
JAVA_ROW = {
    "String": "string",
    "Int": 2,
    "Float": 3.200000047683716,
    "Double": 3.2,
    "Instant": datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC),
    "ZonedDateTime": datetime(2021, 8, 2, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    "LocalDateTime": datetime(2024, 5, 6, 9, 8, 9, 123000),
    "OffsetDateTime": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    "LocalDate": date(2024, 5, 6),
    "LocalTime": time(9, 8, 9, 123000),
    "OffsetTime": time(9, 8, 9, tzinfo=timezone(timedelta(hours=2))),
    "Date": datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC),
}


def test_aliases():
    from kflow.tasks.serdes.ion_to_parquet import IonToParquet
    from kflow.tasks.serdes.parquet_to_ion import ParquetToIon

    assert IonToParquet.aliases == ("io.kestra.plugin.serdes.parquet.ParquetWriter",)
    assert ParquetToIon.aliases == ("io.kestra.plugin.serdes.parquet.ParquetReader",)
    assert IonToParquet.requires == ParquetToIon.requires == (("pyarrow", "parquet"),)


@pytest.mark.parametrize("with_schema", [True, False])
def test_java_types_with_and_without_schema(run_yaml, kflow_home, tmp_path, with_schema):
    # ParquetToIonTest.ionWithInputSchema / ionWithInferredSchema: the ZonedDateTime
    # 2021-08-02T12:00+02:00 comes back as the LocalDateTime 2021-08-02T10:00 (UTC zone)
    schema = (DATA / "avro_all.avsc").read_text() if with_schema else None
    ex = to_parquet_and_back(run_yaml, ion_file(tmp_path, [JAVA_ROW]), schema, "    timeZoneId: UTC\n")
    assert states(ex) == {"pq": "SUCCESS", "ion": "SUCCESS"}, ex.task_runs
    assert out(ex, "pq")["size"] == 1 and out(ex, "ion")["size"] == 1
    assert out(ex, "pq")["uri"].endswith(".parquet") and out(ex, "ion")["uri"].endswith(".ion")
    [row] = list(read_rows(io.BytesIO(read(kflow_home, out(ex, "ion")["uri"]))))
    assert row["String"] == "string"
    assert row["ZonedDateTime"] == AnnotatedStr("2021-08-02T10:00:00", "LocalDateTime")
    assert row["ZonedDateTime"].annotation == "LocalDateTime"
    assert row["LocalDate"] == date(2024, 5, 6)
    assert row["Instant"] == "2024-05-06T07:08:09.123"  # local-timestamp-millis
    assert row["LocalTime"] == AnnotatedStr("09:08:09.123", "LocalTime")
    assert row["OffsetTime"] == "09:08:09"
    if with_schema:
        assert row["Float"] == pytest.approx(3.2) and isinstance(row["Float"], float)
    meta = parquet(kflow_home, out(ex, "pq")["uri"]).metadata.metadata
    assert json.loads(meta[b"parquet.avro.schema"])["type"] == "record"


def test_multiple_rows_with_inferred_schema(run_yaml, kflow_home, tmp_path):
    # IonToParquetTest.convertMultipleRowsWithInferredSchema
    rows = [{"id": 1, "name": "Alice", "active": True}, {"id": 2, "name": "Bob", "active": False},
            {"id": 3, "name": "Charlie", "active": True}]  # fmt: skip
    ex = to_parquet_and_back(run_yaml, ion_file(tmp_path, rows), None)
    assert out(ex, "pq")["size"] == 3
    got = list(read_rows(io.BytesIO(read(kflow_home, out(ex, "ion")["uri"]))))
    assert got == rows
    assert parquet(kflow_home, out(ex, "pq")["uri"]).schema_arrow.field("id").type == pa.int32()


def test_inference_fails_on_empty_file(run_yaml, tmp_path):
    # IonToParquetTest.inferenceFailsOnEmptyFile
    ex = to_parquet_and_back(run_yaml, ion_file(tmp_path, []), None)
    assert states(ex) == {"pq": "FAILED"}
    assert error(ex, "pq") == (
        "Cannot infer Avro schema from ION input: the file appears to be empty "
        "or contains no valid records."
    )


def test_round_trip_ion_parquet_ion_is_byte_equal(run_yaml, kflow_home, tmp_path):
    src = ion_file(tmp_path, ALL_ROWS)
    ex = to_parquet_and_back(run_yaml, src, ALL_TYPES)
    assert states(ex) == {"pq": "SUCCESS", "ion": "SUCCESS"}, ex.task_runs
    assert read(kflow_home, out(ex, "ion")["uri"]) == src.read_bytes()
    schema = parquet(kflow_home, out(ex, "pq")["uri"]).schema_arrow
    assert schema.field("dec").type == pa.decimal128(10, 2)
    assert schema.field("ts").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("local").type == pa.timestamp("ms")
    assert schema.field("clock").type == pa.time32("ms")
    attrs = schema.field("attrs").type
    assert (attrs.key_type, attrs.item_type) == (pa.string(), pa.int64())
    assert not schema.field("s").nullable and schema.field("n").nullable


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("UNCOMPRESSED", "UNCOMPRESSED"), ("SNAPPY", "SNAPPY"), ("GZIP", "GZIP"), ("ZSTD", "ZSTD")],
)
def test_compression_codecs(run_yaml, kflow_home, tmp_path, codec, expected):
    src = ion_file(tmp_path, [{"x": i} for i in range(10)])
    ex = to_parquet_and_back(run_yaml, src, None, f"    compressionCodec: {codec}\n")
    assert states(ex) == {"pq": "SUCCESS", "ion": "SUCCESS"}
    meta = parquet(kflow_home, out(ex, "pq")["uri"]).metadata
    assert meta.row_group(0).column(0).compression == expected


def test_default_codec_is_gzip(run_yaml, kflow_home, tmp_path):
    ex = to_parquet_and_back(run_yaml, ion_file(tmp_path, [{"x": 1}]), None)
    assert parquet(kflow_home, out(ex, "pq")["uri"]).metadata.row_group(0).column(0).compression == "GZIP"


def test_unknown_codec_refused(run_yaml, tmp_path):
    with pytest.raises(FlowValidationError, match="LZO"):
        to_parquet_and_back(run_yaml, ion_file(tmp_path, [{"x": 1}]), None, "    compressionCodec: LZO\n")


def test_many_rows_in_batches_and_row_groups(run_yaml, kflow_home, tmp_path):
    rows = [{"id": i, "name": f"n{i}", "v": i / 4} for i in range(25_000)]
    src = ion_file(tmp_path, rows)
    ex = to_parquet_and_back(
        run_yaml, src, None, "    rowGroupSize: 100000\n    pageSize: 8192\n    parquetVersion: V1\n"
    )
    assert states(ex) == {"pq": "SUCCESS", "ion": "SUCCESS"}, ex.task_runs
    assert out(ex, "pq")["size"] == out(ex, "ion")["size"] == 25_000
    meta = parquet(kflow_home, out(ex, "pq")["uri"]).metadata
    assert meta.num_rows == 25_000 and meta.num_row_groups > 1
    assert read(kflow_home, out(ex, "ion")["uri"]) == src.read_bytes()


def test_union_of_several_types_is_refused(run_yaml, tmp_path):
    schema = {"type": "record", "name": "r", "fields": [{"name": "x", "type": ["null", "int", "string"]}]}
    ex = to_parquet_and_back(run_yaml, ion_file(tmp_path, [{"x": 1}]), schema)
    assert states(ex) == {"pq": "FAILED"}
    assert "field 'x': a union of several types" in error(ex, "pq")
    assert "not supported" in error(ex, "pq")


def test_bad_rows(run_yaml, kflow_home, tmp_path):
    schema = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "int"}]}
    src = ion_file(tmp_path, [{"x": 1}, {"x": "two"}, {"x": 3}])
    ex = to_parquet_and_back(run_yaml, src, schema)
    assert states(ex) == {"pq": "FAILED"}
    assert error(ex, "pq").startswith("row 2, field 'x': cannot convert String value 'two' to int")
    # SKIP turns the value into null, which a required column refuses: Kestra's Parquet
    # writer fails then (it has no skip), and so does kflow
    ex = to_parquet_and_back(run_yaml, src, schema, "    onBadLines: SKIP\n")
    assert states(ex) == {"pq": "FAILED"}
    assert error(ex, "pq").startswith("row 2, field 'x': null in a required column")
    nullable = {"type": "record", "name": "r", "fields": [{"name": "x", "type": ["null", "int"]}]}
    src = ion_file(tmp_path, [{"x": 1}, {"x": 2.5}, {"x": 3}])
    ex = to_parquet_and_back(run_yaml, src, nullable, "    onBadLines: WARN\n")
    assert states(ex) == {"pq": "SUCCESS", "ion": "SUCCESS"}, ex.task_runs
    assert out(ex, "pq")["size"] == 3
    assert read(kflow_home, out(ex, "ion")["uri"]) == b"{x:1}\n{x:null}\n{x:3}\n"


def test_reads_files_of_other_writers(run_yaml, kflow_home, tmp_path):
    table = pa.table({
        "ns": pa.array([1_000_001_000], pa.timestamp("ns", tz="UTC")),
        "cat": pa.array(["a"]).dictionary_encode(),
        "m": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
        "big": pa.array(["x"], pa.large_string()),
        "nested": pa.array([{"a": [1, None]}], pa.struct([("a", pa.list_(pa.int64()))])),
        "bin": pa.array([b"\x01"], pa.binary()),
        "dec": pa.array([Decimal("1.50")], pa.decimal128(5, 2)),
        "d": pa.array([date(2020, 1, 2)], pa.date32()),
        "nothing": pa.array([None], pa.int32()),
    })  # fmt: skip
    src = tmp_path / "other.parquet"
    pq.write_table(table, src)
    ex = run_yaml(HEAD + """
  - {id: ion, type: io.kestra.plugin.serdes.parquet.ParquetToIon, from: "{{ inputs.file }}"}
""", {"file": str(src)})
    assert states(ex) == {"ion": "SUCCESS"}, ex.task_runs
    assert read(kflow_home, out(ex, "ion")["uri"]) == (
        b'{ns:1970-01-01T00:00:01.000Z,cat:"a",m:{k:1},big:"x",nested:{a:[1,null]},'
        b"bin:{{AQ==}},dec:1.50,d:2020-01-02T,nothing:null}\n"
    )


def test_not_a_parquet_file(run_yaml, tmp_path):
    ex = run_yaml(HEAD + """
  - {id: ion, type: io.kestra.plugin.serdes.parquet.ParquetToIon, from: "{{ inputs.file }}"}
""", {"file": str(ion_file(tmp_path, [{"x": 1}]))})
    assert states(ex) == {"ion": "FAILED"}
    assert "is not a Parquet file" in error(ex, "ion")


def test_root_lists_round_trip(run_yaml, kflow_home, tmp_path):
    src = ion_file(tmp_path, [[1, 2], [3]])
    ex = to_parquet_and_back(run_yaml, src, None)
    assert states(ex) == {"pq": "SUCCESS", "ion": "SUCCESS"}, ex.task_runs
    assert read(kflow_home, out(ex, "ion")["uri"]) == src.read_bytes()


def test_missing_pyarrow_names_the_pip_line(run_yaml, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    src = ion_file(tmp_path, [{"x": 1}])
    try:
        ex = to_parquet_and_back(run_yaml, src, None)
    except KflowError as exc:  # refused before any task runs
        assert "pip install 'kflow[parquet]'" in f"{exc} {exc.hint}"
    else:
        assert states(ex) == {"pq": "FAILED"}
        assert "pip install 'kflow[parquet]'" in error(ex, "pq")
