"""Flows written with the serdes plugin's older names (``CsvReader``, ``AvroWriter``...) run
unchanged: each name resolves to its current type."""

from __future__ import annotations

import pytest

from kflow.storage.local import LocalStorage
from kflow.tasks import registry
from tests.conftest import by_task

PAIRS = [
    ("csv.CsvReader", "csv.CsvToIon"),
    ("csv.CsvWriter", "csv.IonToCsv"),
    ("json.JsonReader", "json.JsonToIon"),
    ("json.JsonWriter", "json.IonToJson"),
    ("xml.XmlReader", "xml.XmlToIon"),
    ("xml.XmlWriter", "xml.IonToXml"),
    ("avro.AvroReader", "avro.AvroToIon"),
    ("avro.AvroWriter", "avro.IonToAvro"),
    ("parquet.ParquetReader", "parquet.ParquetToIon"),
    ("parquet.ParquetWriter", "parquet.IonToParquet"),
    ("excel.ExcelReader", "excel.ExcelToIon"),
    ("excel.ExcelWriter", "excel.IonToExcel"),
]
P = "io.kestra.plugin.serdes."


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_old_name_resolves(old: str, new: str) -> None:
    cls = registry.lookup(P + old)
    assert cls is not None and cls.type == P + new
    assert P + old in cls.aliases


def test_a_flow_with_old_names_round_trips(run_yaml, kflow_home) -> None:  # type: ignore[no-untyped-def]
    ex = run_yaml(
        """
        id: legacy
        namespace: company.team
        tasks:
          - id: w
            type: io.kestra.plugin.core.storage.Write
            content: "id,name\\n1,a\\n2,b\\n"
            extension: .csv
          - id: read
            type: io.kestra.plugin.serdes.csv.CsvReader
            from: "{{ outputs.w.uri }}"
          - id: avro
            type: io.kestra.plugin.serdes.avro.AvroWriter
            from: "{{ outputs.read.uri }}"
            schema: '{"type": "record", "name": "r", "fields": [{"name": "id", "type": "int"}, {"name": "name", "type": "string"}]}'
          - id: back
            type: io.kestra.plugin.serdes.avro.AvroReader
            from: "{{ outputs.avro.uri }}"
          - id: csv
            type: io.kestra.plugin.serdes.csv.CsvWriter
            from: "{{ outputs.back.uri }}"
        """
    )
    assert ex.state.current.value == "SUCCESS", ex.task_runs
    uri = by_task(ex, "csv")[-1].outputs["uri"]
    with LocalStorage(kflow_home / "storage").open(uri) as fh:
        assert fh.read() == b"id,name\n1,a\n2,b\n"  # the CSV strings became ints in Avro
    assert by_task(ex, "back")[-1].outputs["size"] == 2
