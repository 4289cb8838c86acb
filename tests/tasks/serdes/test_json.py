"""JsonToIon and IonToJson through real flows, with expectations from the plugin's own tests
(kestra-io/plugin-serdes ``JsonToIonTest``, ``IonToJsonTest``) and its test files."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from kflow.storage.local import LocalStorage
from tests.conftest import by_task

DATA = Path(__file__).parent / "data"
HEAD = "id: js\nnamespace: company.team\ninputs:\n  - {id: file, type: FILE}\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def ok(ex) -> None:
    assert ex.state.current.value == "SUCCESS", [(tr.task_id, tr.error) for tr in ex.task_runs]


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def error(ex, task_id: str) -> str:
    tr = by_task(ex, task_id)[-1]
    assert tr.state.current.value == "FAILED"
    return str(tr.error)


def run(run_yaml, tmp_path: Path, content: bytes | str, tasks: str, name: str = "in.json"):
    source = tmp_path / name
    source.write_bytes(content if isinstance(content, bytes) else content.encode())
    return run_yaml(HEAD + tasks, {"file": str(source)})


def task(kind: str, task_id: str, source: str, props: str = "") -> str:
    return f'  - {{id: {task_id}, type: io.kestra.plugin.serdes.json.{kind}, from: "{{{{ {source} }}}}"{props}}}\n'


def test_jsonl_round_trip(run_yaml, kflow_home, tmp_path):
    # JsonToIonTest.newLine: full.jsonl -> Ion -> JSON Lines gives the same values, .jsonl
    source = (DATA / "full_head.jsonl").read_bytes()
    ex = run(
        run_yaml,
        tmp_path,
        source,
        task("JsonToIon", "r", "inputs.file") + task("IonToJson", "w", "outputs.r.uri"),
    )
    ok(ex)
    result = read(kflow_home, out(ex, "w")["uri"]).decode()
    assert out(ex, "w")["uri"].endswith(".jsonl") and out(ex, "r")["uri"].endswith(".ion")
    assert [json.loads(x) for x in result.splitlines()] == [
        json.loads(x) for x in source.decode().splitlines()
    ]
    # Jackson's compact output: same bytes as the source lines
    assert result.encode() == source
    assert out(ex, "r")["size"] == out(ex, "w")["size"] == 50


def test_array_round_trip(run_yaml, kflow_home, tmp_path):
    # JsonToIonTest.array / notNewLine: an array document, one row per item, .json back
    rows = [json.loads(x) for x in (DATA / "full_head.jsonl").read_text().splitlines()]
    source = "[\n  " + ",\n  ".join(json.dumps(r) for r in rows) + "\n]\n"
    ex = run(
        run_yaml,
        tmp_path,
        source,
        task("JsonToIon", "r", "inputs.file", ", newLine: false")
        + task("IonToJson", "w", "outputs.r.uri", ", newLine: false"),
    )
    ok(ex)
    assert out(ex, "r")["size"] == 50
    assert out(ex, "w")["uri"].endswith(".json")
    assert json.loads(read(kflow_home, out(ex, "w")["uri"])) == rows


def test_object_document_is_one_row(run_yaml, kflow_home, tmp_path):
    # JsonToIonTest.object: object.json -> one row, written back as the object alone
    ex = run(
        run_yaml,
        tmp_path,
        (DATA / "object.json").read_bytes(),
        task("JsonToIon", "r", "inputs.file", ", newLine: false")
        + task("IonToJson", "w", "outputs.r.uri", ", newLine: false"),
    )
    ok(ex)
    assert json.loads(read(kflow_home, out(ex, "w")["uri"]))["id"] == 4814976


def test_ion_values_as_jackson_writes_them(run_yaml, kflow_home, tmp_path):
    # IonToJsonTest.ion (floats: 3.2f is written by ion-java as the double 3.200000047683716)
    ion = (
        '{String:"string",Int:2,Float:3.200000047683716e0,Double:3.2e0,Big:1.0E10,Dec:12.50,'
        'Ts:2021-05-05T10:21:12.123Z,Day:2021-05-05T,B:{{aGk=}},N:null,L:[1,"a"],'
        'T:LocalTime::"12:21:12.123456"}\n'
    )
    ex = run(
        run_yaml,
        tmp_path,
        ion,
        task("IonToJson", "w", "inputs.file", ", timeZoneId: Europe/Lisbon"),
        "in.ion",
    )
    ok(ex)
    assert read(kflow_home, out(ex, "w")["uri"]).decode() == (
        '{"String":"string","Int":2,"Float":3.200000047683716,"Double":3.2,"Big":1.0E10,'
        '"Dec":12.50,"Ts":"2021-05-05T11:21:12.123+01:00[Europe/Lisbon]",'
        '"Day":"2021-05-05T01:00+01:00[Europe/Lisbon]","B":"aGk=","N":null,"L":[1,"a"],'
        '"T":"12:21:12.123456"}\n'
    )


@pytest.mark.parametrize(
    ("keep", "expected"),
    [
        # IonToJsonTest.should_transform_ion_to_json_without_annotations
        (
            False,
            '{"dn":"cn=tony@orga.com","attributes":{"description":["Some description 2","TGlz","Melusine"]}}',
        ),
        # IonToJsonTest.should_transform_ion_to_json_with_annotations
        (
            True,
            '{"dn":"cn=tony@orga.com","attributes":{"description":["Some description 2",'
            '{"ion_annotations":["base64"],"value":"TGlz"},"Melusine"]}}',
        ),
    ],
)
def test_annotations(run_yaml, kflow_home, tmp_path, keep, expected):
    ion = '{dn:"cn=tony@orga.com",attributes:{description:["Some description 2",base64::"TGlz","Melusine"]}}\n'
    ex = run(
        run_yaml,
        tmp_path,
        ion,
        task("IonToJson", "w", "inputs.file", f", shouldKeepAnnotations: {str(keep).lower()}"),
        "in.ion",
    )
    ok(ex)
    assert json.loads(read(kflow_home, out(ex, "w")["uri"])) == json.loads(expected)
    assert out(ex, "w")["size"] == 1


def test_one_ion_list_is_one_json_value(run_yaml, kflow_home, tmp_path):
    # IonToJsonTest.should_stream_large_ion_without_memory_issue (an Ion list of 2,000 maps)
    ion = "[" + ",".join(f'{{"id":{i},"name":"Item{i}"}}' for i in range(2000)) + "]"
    ex = run(
        run_yaml, tmp_path, ion, task("IonToJson", "w", "inputs.file", ", newLine: false"), "in.ion"
    )
    ok(ex)
    value = json.loads(read(kflow_home, out(ex, "w")["uri"]))
    assert len(value) == 2000 and value[1999] == {"id": 1999, "name": "Item1999"}


def test_empty_ion_gives_empty_file(run_yaml, kflow_home, tmp_path):
    # IonToJsonTest.should_handle_empty_binary_ion_without_throwing (empty file)
    ex = run(run_yaml, tmp_path, b"", task("IonToJson", "w", "inputs.file"), "in.ion")
    ok(ex)
    assert read(kflow_home, out(ex, "w")["uri"]) == b"" and out(ex, "w")["size"] == 0


def test_binary_ion_refused(run_yaml, tmp_path):
    ex = run(
        run_yaml, tmp_path, b"\xe0\x01\x00\xea\x00", task("IonToJson", "w", "inputs.file"), "in.ion"
    )
    assert "binary Ion" in error(ex, "w")


def test_json_to_ion_types(run_yaml, kflow_home, tmp_path):
    ex = run(
        run_yaml,
        tmp_path,
        '{"a":1,"b":1.5,"c":1e10,"d":"x\\u0001","e":[true,null],"f":{}}\n\n"s"\n',
        task("JsonToIon", "r", "inputs.file"),
    )
    ok(ex)
    assert (
        read(kflow_home, out(ex, "r")["uri"])
        == b'{a:1,b:1.5e0,c:1.0E10,d:"x\\x01",e:[true,null],f:{}}\n"s"\n'
    )


def test_invalid_json_line_is_named(run_yaml, tmp_path):
    ex = run(
        run_yaml, tmp_path, '{"a":1}\n{"a":2}\n{"a":}\n', task("JsonToIon", "r", "inputs.file")
    )
    message = error(ex, "r")
    assert "invalid JSON at line 3, column 6" in message


def test_invalid_json_document_is_named(run_yaml, tmp_path):
    ex = run(
        run_yaml,
        tmp_path,
        '[\n {"a":1},\n {"a":2} {"a":3}\n]',
        task("JsonToIon", "r", "inputs.file", ", newLine: false"),
    )
    assert "invalid JSON at line 3, column 10: expected ',' or ']'" in error(ex, "r")
    ex = run(
        run_yaml, tmp_path, '[{"a":NaN}]', task("JsonToIon", "r", "inputs.file", ", newLine: false")
    )
    assert "invalid JSON at line 1" in error(ex, "r")


def test_charset(run_yaml, kflow_home, tmp_path):
    ex = run(
        run_yaml,
        tmp_path,
        '{"a":"é"}\n'.encode("latin-1"),
        task("JsonToIon", "r", "inputs.file", ", charset: ISO-8859-1")
        + task("IonToJson", "w", "outputs.r.uri", ", charset: UTF-16"),
    )
    ok(ex)
    assert read(kflow_home, out(ex, "w")["uri"]).decode("utf-16") == '{"a":"é"}\n'


def test_json_array_streams(run_yaml, tmp_path):
    """A 12 MB JSON array goes through with a few MB of Python allocations (a first run
    imports the modules, so that imports are not counted)."""
    small = tmp_path / "small.json"
    small.write_text('[{"a":1}]')
    flow = HEAD + task("JsonToIon", "r", "inputs.file", ", newLine: false")
    ok(run_yaml(flow, {"file": str(small)}))
    big = tmp_path / "big.json"
    with big.open("w") as fh:
        fh.write("[")
        fh.write(
            ",\n".join(
                json.dumps({"id": i, "name": f"item {i}", "v": i * 0.5}) for i in range(250_000)
            )
        )
        fh.write("]")
    assert big.stat().st_size > 10_000_000
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
    assert out(ex, "r")["size"] == 250_000
    assert peaks["r"] < 4 * 1024 * 1024, peaks
