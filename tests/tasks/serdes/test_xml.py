"""XmlToIon and IonToXml through real flows, with expectations from the plugin's own tests
(kestra-io/plugin-serdes ``XmlToIonWriterTest``) and its test files."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from kflow import ion
from kflow.storage.local import LocalStorage
from kflow.tasks.serdes.xml_to_ion import hashmap_order, java_hash, string_to_value
from tests.conftest import by_task

DATA = Path(__file__).parent / "data"
HEAD = "id: xm\nnamespace: company.team\ninputs:\n  - {id: file, type: FILE}\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def rows(home, uri: str) -> list:
    with LocalStorage(home / "storage").open(uri) as fh:
        return list(ion.read_rows(fh))


def ok(ex) -> None:
    assert ex.state.current.value == "SUCCESS", [(tr.task_id, tr.error) for tr in ex.task_runs]


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def run(run_yaml, tmp_path: Path, content: bytes | str, tasks: str, name: str = "in.xml"):
    source = tmp_path / name
    source.write_bytes(content if isinstance(content, bytes) else content.encode())
    return run_yaml(HEAD + tasks, {"file": str(source)})


def task(kind: str, task_id: str, source: str, props: str = "") -> str:
    return f'  - {{id: {task_id}, type: io.kestra.plugin.serdes.xml.{kind}, from: "{{{{ {source} }}}}"{props}}}\n'


def test_book_with_query_round_trip(run_yaml, kflow_home, tmp_path):
    # XmlToIonWriterTest.bookWithQuery: book.xml with /catalog/book, back to XML, equals
    # book_result.xml byte for byte (keys in Java HashMap order, 44.95 a decimal)
    ex = run(
        run_yaml,
        tmp_path,
        (DATA / "book.xml").read_bytes(),
        task("XmlToIon", "r", "inputs.file", ", query: /catalog/book")
        + task("IonToXml", "w", "outputs.r.uri"),
    )
    ok(ex)
    assert read(kflow_home, out(ex, "w")["uri"]) == (DATA / "book_result.xml").read_bytes()
    assert out(ex, "r")["size"] == out(ex, "w")["size"] == 12
    first = read(kflow_home, out(ex, "r")["uri"]).decode().splitlines()[0]
    assert first.startswith('{author:"Gambardella, Matthew",price:44.95,genre:"Computer",')


def test_items_unwrap_to_rows(run_yaml, kflow_home, tmp_path):
    # XmlToIonWriterTest.readItemsListUnwrapsToIndividualRecords
    ex = run(
        run_yaml, tmp_path, (DATA / "items.xml").read_bytes(), task("XmlToIon", "r", "inputs.file")
    )
    ok(ex)
    found = rows(kflow_home, out(ex, "r")["uri"])
    assert len(found) == 3 and found[0]["job_title"] == "BI Data Analyst"
    assert str(found[0]["avg_salary"]) == "836644.8"


def test_round_trip_ion_xml_ion(run_yaml, kflow_home, tmp_path):
    # XmlToIonWriterTest.roundTripIonToXmlAndBack
    ion_text = '{job_title:"Data Engineer",avg_salary:157510.03e0}\n{job_title:"Data Analyst",avg_salary:116348.29e0}\n'
    ex = run(
        run_yaml,
        tmp_path,
        ion_text,
        task("IonToXml", "w", "inputs.file") + task("XmlToIon", "r", "outputs.w.uri"),
        "in.ion",
    )
    ok(ex)
    found = rows(kflow_home, out(ex, "r")["uri"])
    assert len(found) == 2 and found[0]["job_title"] == "Data Engineer"


def test_ion_to_xml_values(run_yaml, kflow_home, tmp_path):
    # XmlToIonWriterTest.ion: the values FileSerde writes for Java types, in Europe/Lisbon
    ion_text = (
        '{String:"string",Int:2,Float:3.200000047683716e0,Double:3.2e0,'
        "Instant:2021-05-05T10:21:12.123Z,"
        'ZonedDateTime:ZonedDateTime::"2021-05-05T12:21:12.123456+02:00",'
        'LocalDateTime:LocalDateTime::"2021-05-05T12:21:00",'
        'OffsetDateTime:OffsetDateTime::"2021-05-05T12:21:12.123456+02:00",'
        "LocalDate:2021-05-05T,"
        'LocalTime:LocalTime::"12:21:12.123456",'
        'OffsetTime:OffsetTime::"12:21:12.123456+02:00",'
        "Date:2021-05-05T10:21:12.123Z}\n"
    )
    ex = run(
        run_yaml,
        tmp_path,
        ion_text,
        task("IonToXml", "w", "inputs.file", ", timeZoneId: Europe/Lisbon"),
        "in.ion",
    )
    ok(ex)
    assert read(kflow_home, out(ex, "w")["uri"]).decode() == (
        "<?xml version='1.0' encoding='UTF-8'?>\n<items>\n  <item>\n    "
        "<String>string</String>\n    "
        "<Int>2</Int>\n    "
        "<Float>3.200000047683716</Float>\n    "
        "<Double>3.2</Double>\n    "
        "<Instant>2021-05-05T10:21:12.123Z</Instant>\n    "
        "<ZonedDateTime>2021-05-05T11:21:12.123456+01:00</ZonedDateTime>\n    "
        "<LocalDateTime>2021-05-05T12:21:00</LocalDateTime>\n    "
        "<OffsetDateTime>2021-05-05T11:21:12.123456+01:00</OffsetDateTime>\n    "
        "<LocalDate>2021-05-05</LocalDate>\n    "
        "<LocalTime>12:21:12.123456</LocalTime>\n    "
        "<OffsetTime>12:21:12.123456+02:00</OffsetTime>\n    "
        "<Date>2021-05-05T10:21:12.123Z</Date>\n  "
        "</item>\n</items>\n"
    )
    assert out(ex, "w")["size"] == 1


def test_ion_to_xml_nesting_nulls_and_escapes(run_yaml, kflow_home, tmp_path):
    ex = run(
        run_yaml,
        tmp_path,
        '{a:null,b:"x < y & z",c:{d:""},e:["p","q"]}\n',
        task("IonToXml", "w", "inputs.file", ", rootName: rows"),
        "in.ion",
    )
    ok(ex)
    assert read(kflow_home, out(ex, "w")["uri"]).decode() == (
        "<?xml version='1.0' encoding='UTF-8'?>\n<rows>\n  <item>\n    <a/>\n"
        "    <b>x &lt; y &amp; z</b>\n    <c>\n      <d></d>\n    </c>\n"
        "    <e>\n      <e>p</e>\n      <e>q</e>\n    </e>\n  </item>\n</rows>\n"
    )


def test_empty_files(run_yaml, kflow_home, tmp_path):
    # XmlToIonWriterTest.readEmpty / readEmptyTagBadQuery / readEmptyTagGoodQuery
    ex = run(
        run_yaml, tmp_path, b"", task("XmlToIon", "r", "inputs.file", ", query: /random/stuff")
    )
    ok(ex)
    assert read(kflow_home, out(ex, "r")["uri"]) == b""
    tag = (DATA / "empty-tag.xml").read_bytes()
    ex = run(
        run_yaml, tmp_path, tag, task("XmlToIon", "r", "inputs.file", ", query: /random/stuff")
    )
    ok(ex)
    assert read(kflow_home, out(ex, "r")["uri"]) == b""
    ex = run(run_yaml, tmp_path, tag, task("XmlToIon", "r", "inputs.file", ", query: /catalog"))
    ok(ex)
    assert read(kflow_home, out(ex, "r")["uri"]) == b'""\n'


def test_org_json_shapes(run_yaml, kflow_home, tmp_path):
    xml = (
        '<root xmlns:dc="http://purl.org/dc"><dc:title lang="en">Hi</dc:title>'
        "<n>007</n><n>-0</n><b>TRUE</b><z>null</z><e/><c><![CDATA[<raw> 1]]></c></root>"
    )
    ex = run(run_yaml, tmp_path, xml, task("XmlToIon", "r", "inputs.file"))
    ok(ex)
    (row,) = rows(kflow_home, out(ex, "r")["uri"])
    root = row["root"]
    assert root["dc:title"] == {"lang": "en", "content": "Hi"}
    assert root["xmlns:dc"] == "http://purl.org/dc"
    assert root["n"] == ["007", -0.0] and root["b"] is True and root["z"] is None
    assert root["e"] == "" and root["c"] == "<raw> 1"


def test_force_list(run_yaml, kflow_home, tmp_path):
    xml = "<catalog><book><id>1</id><tag>a</tag></book></catalog>"
    props = ", query: /catalog/book, parserConfiguration: {forceList: [tag]}"
    ex = run(run_yaml, tmp_path, xml, task("XmlToIon", "r", "inputs.file", props))
    ok(ex)
    assert rows(kflow_home, out(ex, "r")["uri"]) == [{"id": 1, "tag": ["a"]}]


def test_malformed_xml_names_the_line(run_yaml, tmp_path):
    ex = run(run_yaml, tmp_path, "<a>\n<b>\n</a>\n", task("XmlToIon", "r", "inputs.file"))
    tr = by_task(ex, "r")[-1]
    assert tr.state.current.value == "FAILED"
    assert "invalid XML at line 3" in str(tr.error)


def test_string_to_value_and_hash_order():
    assert [string_to_value(s) for s in ("12", "1.50", "0x1F", "01", "abc", "False", "-")] == [
        12,
        __import__("decimal").Decimal("1.50"),
        "0x1F",
        "01",
        "abc",
        False,
        "-",
    ]
    assert java_hash("a") == 97 and java_hash("ab") == 97 * 31 + 98  # String.hashCode
    assert java_hash("polygenelubricants") == 0x80000000  # Integer.MIN_VALUE, unsigned
    assert hashmap_order(
        ("id", "author", "title", "genre", "price", "publish_date", "description")
    ) == (
        "author",
        "price",
        "genre",
        "description",
        "id",
        "title",
        "publish_date",
    )


def test_query_streams(run_yaml, tmp_path):
    """XmlToIonWriterTest.largeXmlStreaming, larger: 100,000 items (~7 MB) with a bounded
    Python allocation peak (a first run imports the modules)."""
    flow = HEAD + task("XmlToIon", "r", "inputs.file", ", query: /catalog/item")
    small = tmp_path / "small.xml"
    small.write_text('<catalog><item id="1"><name>x</name></item></catalog>')
    ok(run_yaml(flow, {"file": str(small)}))
    big = tmp_path / "big.xml"
    with big.open("w") as fh:
        fh.write('<?xml version="1.0"?>\n<catalog>\n')
        for i in range(100_000):
            fh.write(f'  <item id="{i}"><name>Item {i}</name><value>{i * 1.5}</value></item>\n')
        fh.write("</catalog>\n")
    assert big.stat().st_size > 6_000_000
    peaks: dict[str, int] = {}

    def on_event(event) -> None:
        if event.kind == "taskrun" and event.taskrun is not None:
            if event.taskrun.state.current.value == "RUNNING":
                tracemalloc.reset_peak()
            else:
                peaks[event.taskrun.task_id] = tracemalloc.get_traced_memory()[1]

    tracemalloc.start()
    try:
        ex = run_yaml(flow, {"file": str(big)}, on_event=on_event)
    finally:
        tracemalloc.stop()
    ok(ex)
    assert out(ex, "r")["size"] == 100_000
    assert peaks["r"] < 4 * 1024 * 1024, peaks
