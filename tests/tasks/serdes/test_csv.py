"""CsvToIon and IonToCsv through real flows, with expectations from the plugin's own tests
(kestra-io/plugin-serdes ``CsvToIonWriterTest``, ``IonToCsvTest``) and its test files."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from kflow import ion
from kflow.storage.local import LocalStorage
from tests.conftest import by_task

DATA = Path(__file__).parent / "data"
BOUND = 6 * 1024 * 1024  # bytes of Python allocations allowed to one conversion
HEAD = "id: csv\nnamespace: company.team\ninputs:\n  - {id: file, type: FILE}\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def rows(home, uri: str) -> list:
    with LocalStorage(home / "storage").open(uri) as fh:
        return list(ion.read_rows(fh))


def run(run_yaml, tasks: str, content: bytes | str, tmp_path: Path):
    source = tmp_path / "in.csv"
    source.write_bytes(content if isinstance(content, bytes) else content.encode())
    return run_yaml(HEAD + tasks, {"file": str(source)})


def ok(ex) -> None:
    assert ex.state.current.value == "SUCCESS", [(tr.task_id, tr.error) for tr in ex.task_runs]


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def error(ex, task_id: str) -> str:
    tr = by_task(ex, task_id)[-1]
    assert tr.state.current.value == "FAILED"
    return str(tr.error)


def to_ion(props: str = "") -> str:
    return (
        '  - {id: c, type: io.kestra.plugin.serdes.csv.CsvToIon, from: "{{ inputs.file }}"'
        + props
        + "}\n"
    )


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    ("name", "header", "line"),
    [
        # CsvToIonWriterTest.header: insurance_sample.csv, ';', alwaysDelimitText, \r\n
        ("insurance_sample.csv", "true", "\\r\\n"),
        # CsvToIonWriterTest.noHeader
        ("insurance_sample_no_header.csv", "false", "\\n"),
    ],
)
def test_round_trip_bytes_equal(run_yaml, kflow_home, tmp_path, name, header, line):
    source = (DATA / name).read_bytes()
    ex = run(
        run_yaml,
        to_ion(f', fieldSeparator: ";", header: {header}')
        + f"""
  - id: back
    type: io.kestra.plugin.serdes.csv.IonToCsv
    from: "{{{{ outputs.c.uri }}}}"
    fieldSeparator: ";"
    alwaysDelimitText: true
    lineDelimiter: "{line}"
    header: {header}
""",
        source,
        tmp_path,
    )
    ok(ex)
    assert read(kflow_home, out(ex, "back")["uri"]) == source
    assert out(ex, "c")["size"] == out(ex, "back")["size"] > 0
    assert out(ex, "back")["uri"].endswith(".csv") and out(ex, "c")["uri"].endswith(".ion")


def test_ion_bytes_match_the_plugin_file(run_yaml, kflow_home, tmp_path):
    # insurance_sample.ion is the plugin's Ion for insurance_sample.csv, but its last column
    # came from Avro bytes; every other field is the CSV's text, written as FileSerde does.
    ex = run(
        run_yaml,
        to_ion(', fieldSeparator: ";"'),
        (DATA / "insurance_sample.csv").read_bytes(),
        tmp_path,
    )
    ok(ex)
    mine = read(kflow_home, out(ex, "c")["uri"]).decode().splitlines()
    theirs = (DATA / "insurance_sample.ion").read_text().splitlines()
    assert len(mine) == len(theirs) == 5
    for a, b in zip(mine, theirs, strict=True):
        assert a.split(",point_granularity:")[0] == b.split(",point_granularity:")[0]
    assert mine[0].startswith('{policyID:"119736",statecode:"FL",county:"CLAY COUNTY"')


def test_records_metric_and_size(run_yaml, tmp_path):
    ex = run(run_yaml, to_ion(), "a,b\n1,2\n3,4\n", tmp_path)
    ok(ex)
    tr = by_task(ex, "c")[-1]
    assert tr.outputs["size"] == 2
    assert {"name": "records", "type": "counter", "value": 2} in tr.metrics


# --------------------------------------------------------------------------- CsvToIon properties


def test_no_header_single_column_gives_lists(run_yaml, kflow_home, tmp_path):
    # CsvToIonWriterTest.noHeaderSingleColumnProducesListRows
    ex = run(run_yaml, to_ion(", header: false"), "ABC\nXYZ\n", tmp_path)
    ok(ex)
    assert rows(kflow_home, out(ex, "c")["uri"]) == [["ABC"], ["XYZ"]]


def test_skip_rows(run_yaml, tmp_path):
    # CsvToIonWriterTest.skipRows: 5 lines, header false, skipRows 4 -> 2 records... of the
    # plugin's 6-line file (header line included as data)
    ex = run(
        run_yaml,
        to_ion(', fieldSeparator: ";", skipRows: 4, header: false'),
        (DATA / "insurance_sample.csv").read_bytes(),
        tmp_path,
    )
    ok(ex)
    assert out(ex, "c")["size"] == 2


def test_skip_rows_after_header_and_skip_empty_rows(run_yaml, kflow_home, tmp_path):
    ex = run(
        run_yaml, to_ion(", skipRows: 1, skipEmptyRows: true"), "a,b\n\n1,2\n\n3,4\n", tmp_path
    )
    ok(ex)
    assert rows(kflow_home, out(ex, "c")["uri"]) == [{"a": "3", "b": "4"}]


def test_null_marker_quotes_and_newlines(run_yaml, kflow_home, tmp_path):
    ex = run(run_yaml, to_ion(), 'a,b\n\\N,"x ""q"" y"\n"multi\r\nline",\t\n', tmp_path)
    ok(ex)
    assert read(kflow_home, out(ex, "c")["uri"]) == (
        b'{a:null,b:"x \\"q\\" y"}\n{a:"multi\\r\\nline",b:"\\t"}\n'
    )


def test_text_delimiter_and_separator(run_yaml, kflow_home, tmp_path):
    ex = run(
        run_yaml, to_ion(', fieldSeparator: "|", textDelimiter: "\'"'), "a|b\n'x|y'|z\n", tmp_path
    )
    ok(ex)
    assert rows(kflow_home, out(ex, "c")["uri"]) == [{"a": "x|y", "b": "z"}]


def test_utf8_bom_stripped(run_yaml, kflow_home, tmp_path):
    # CsvToIonWriterTest.utf8BomInHeaderIsStripped
    body = "code_insee;nom_commune\n1001;L'Abergement-Clémenciat\n".encode()
    ex = run(run_yaml, to_ion(', fieldSeparator: ";"'), b"\xef\xbb\xbf" + body, tmp_path)
    ok(ex)
    assert rows(kflow_home, out(ex, "c")["uri"]) == [
        {"code_insee": "1001", "nom_commune": "L'Abergement-Clémenciat"}
    ]


def test_bom_kept_for_other_charsets(run_yaml, kflow_home, tmp_path):
    # CsvToIonWriterTest.bomBytesAreNotStrippedForNonUtf8Charset
    body = "code_insee;nom_commune\n1001;Abergement\n".encode("latin-1")
    ex = run(
        run_yaml,
        to_ion(', fieldSeparator: ";", charset: ISO-8859-1'),
        b"\xef\xbb\xbf" + body,
        tmp_path,
    )
    ok(ex)
    (row,) = rows(kflow_home, out(ex, "c")["uri"])
    assert "ï»¿code_insee" in row and "code_insee" not in row


@pytest.mark.parametrize(
    ("csv", "props", "expected"),
    [
        # CsvToIonWriterTest.trailingEmptyHeaderColumnIsDropped
        ("code_insee;nom_commune;\n1001;X;\n", "", [{"code_insee": "1001", "nom_commune": "X"}]),
        # ...emptyHeaderNameInTheMiddleIsPreservedNotDropped
        (
            "code_insee;;nom_commune\n1001;X;Y\n",
            "",
            [{"code_insee": "1001", "": "X", "nom_commune": "Y"}],
        ),
        # ...multipleTrailingEmptyHeaderColumnsAreDropped
        ("code_insee;nom_commune;;\n1001;X;;\n", "", [{"code_insee": "1001", "nom_commune": "X"}]),
        # ...trailingUnnamedColumnsWithDataAreDroppedByDefault
        ("id;region;;\n1;north;100;200\n", "", [{"id": "1", "region": "north"}]),
        # ...trailingUnnamedColumnsWithDataAreKeptWhenRename
        (
            "id;region;;\n1;north;100;200\n",
            ", onEmptyHeader: RENAME",
            [{"id": "1", "region": "north", "col_2": "100", "col_3": "200"}],
        ),
        # ...renameDisambiguatesAgainstRealColumnNamedLikeGenerated
        (
            "a;;col_1;d\n1;2;3;4\n",
            ", onEmptyHeader: RENAME",
            [{"a": "1", "col_1_2": "2", "col_1": "3", "d": "4"}],
        ),
        # ...renameNamesMiddleAndAllEmptyHeaders
        (";b;\n1;2;3\n", ", onEmptyHeader: RENAME", [{"col_0": "1", "b": "2", "col_2": "3"}]),
        # ...allEmptyHeaderIsNotTrimmedToZeroColumns
        (";;;\n1;2;3;4\n", "", [{"": "4"}]),
    ],
)
def test_empty_header_names(run_yaml, kflow_home, tmp_path, csv, props, expected):
    ex = run(run_yaml, to_ion(', fieldSeparator: ";"' + props), csv, tmp_path)
    ok(ex)
    assert rows(kflow_home, out(ex, "c")["uri"]) == expected


def test_field_count_mismatch_fails_with_line(run_yaml, tmp_path):
    # CsvToIonWriterTest.badLinesErrorThrows
    ex = run(
        run_yaml,
        to_ion(),
        "header1,header2\nvalue1,value2\nvalue3,value4,value5\nvalue6,value7",
        tmp_path,
    )
    message = error(ex, "c")
    assert "Bad line encountered (field count mismatch): Expected 2, got 3 fields." in message
    assert "line 3" in message


def test_missing_trailing_separator_is_a_bad_line(run_yaml, tmp_path):
    # CsvToIonWriterTest.rowMissingHeadersTrailingSeparatorIsFlaggedAsBadLine
    ex = run(
        run_yaml,
        to_ion(', fieldSeparator: ";"'),
        "code_insee;nom_commune;\n1001;L'Abergement\n",
        tmp_path,
    )
    assert "Expected 3, got 2 fields." in error(ex, "c")


@pytest.mark.parametrize("mode", ["WARN", "SKIP"])
def test_bad_lines_warn_and_skip(run_yaml, kflow_home, tmp_path, mode):
    # CsvToIonWriterTest.badLinesWarnAndSkip: an unclosed quote runs to the end of the
    # file (one field), the 3-field line is inside it: 2 records
    csv = 'header1,header2\nvalue1,value2\nvalue3,"value4\nvalue6,value7\nvalue8,value9,value10\nvalue11,value12'
    ex = run(run_yaml, to_ion(f", onBadLines: {mode}"), csv, tmp_path)
    ok(ex)
    assert out(ex, "c")["size"] == 2
    # CsvToIonWriterTest.testCsvWithBadRows: 1 record
    ex = run(
        run_yaml,
        to_ion(f", onBadLines: {mode}"),
        "name,age,city\nAlice,New York\nBob,25,London,extra\nCharlie,35,Paris",
        tmp_path,
    )
    ok(ex)
    assert rows(kflow_home, out(ex, "c")["uri"]) == [
        {"name": "Charlie", "age": "35", "city": "Paris"}
    ]


def test_malformed_quote_fails_with_line(run_yaml, tmp_path):
    ex = run(run_yaml, to_ion(), 'a,b\n1,2\n3,"x"y\n', tmp_path)
    message = error(ex, "c")
    assert "malformed CSV at line 3" in message


def test_extra_chars_after_closing_quote_allowed(run_yaml, kflow_home, tmp_path):
    ex = run(
        run_yaml, to_ion(", allowExtraCharsAfterClosingQuote: true"), 'a,b\n3,"x"y\n', tmp_path
    )
    ok(ex)
    assert rows(kflow_home, out(ex, "c")["uri"]) == [{"a": "3", "b": "xy"}]


def test_field_larger_than_buffer_fails(run_yaml, tmp_path):
    # CsvToIonWriterTest.exceedsBufferThrows / largeQuotedFieldParsesWhenBufferSufficient
    csv = 'col1\n"' + "x" * 50 + '"\n'
    ex = run(run_yaml, to_ion(", maxBufferSize: 8, maxFieldSize: 1024"), csv, tmp_path)
    assert "larger than maxFieldSize/maxBufferSize" in error(ex, "c")
    ex = run(run_yaml, to_ion(", maxBufferSize: 128, maxFieldSize: 1024"), csv, tmp_path)
    ok(ex)


def test_bad_charset_and_separator_refused(run_yaml, tmp_path):
    ex = run(run_yaml, to_ion(", charset: NOPE-8"), "a\n", tmp_path)
    assert "unknown charset 'NOPE-8'" in error(ex, "c")
    ex = run(run_yaml, to_ion(', fieldSeparator: ";;"'), "a\n", tmp_path)
    assert "exactly one character" in error(ex, "c")


def test_not_decodable_names_the_charset(run_yaml, tmp_path):
    ex = run(run_yaml, to_ion(), b"a,b\n1,\xff\xfe\n", tmp_path)
    assert "not utf-8 text" in error(ex, "c")


# --------------------------------------------------------------------------- IonToCsv


def to_csv(ion_text: str, props: str, run_yaml, tmp_path):
    source = tmp_path / "in.ion"
    source.write_text(ion_text)
    task = (
        '  - {id: t, type: io.kestra.plugin.serdes.csv.IonToCsv, from: "{{ inputs.file }}"'
        + props
        + "}\n"
    )
    return run_yaml(HEAD + task, {"file": str(source)})


def test_ion_to_csv_quoting_rules(run_yaml, kflow_home, tmp_path):
    text = '{a:"x,y",b:"say \\"hi\\"",c:null,d:""}\n{a:"#c",b:"l1\\nl2",c:1,d:2.5e0}\n{a:"ok",b:"#no",c:true,d:12.50}\n'
    ex = to_csv(text, "", run_yaml, tmp_path)
    ok(ex)
    assert read(kflow_home, out(ex, "t")["uri"]) == (
        b'a,b,c,d\n"x,y","say ""hi""",,\n"#c","l1\nl2",1,2.5\nok,#no,true,12.50\n'
    )
    ex = to_csv(text, ", quoteMode: ALWAYS, header: false", run_yaml, tmp_path)
    ok(ex)
    assert read(kflow_home, out(ex, "t")["uri"]).split(b"\n")[0] == b'"x,y","say ""hi""","",""'


def test_ion_to_csv_non_numeric(run_yaml, kflow_home, tmp_path):
    # IonToCsv.QuoteMode.NON_NUMERIC: numbers stay bare, other non-empty values are quoted
    ex = to_csv(
        '{a:"12",b:"-1.5",c:"1e3",d:"x",e:null,f:""}\n',
        ", quoteMode: NON_NUMERIC",
        run_yaml,
        tmp_path,
    )
    ok(ex)
    assert (
        read(kflow_home, out(ex, "t")["uri"]) == b'"a","b","c","d","e","f"\n12,-1.5,"1e3","x",,\n'
    )


def test_ion_to_csv_dates(run_yaml, kflow_home, tmp_path):
    text = (
        '{i:2021-05-05T10:21:12.123Z,d:2021-05-05T,t:LocalTime::"12:21:12.123456",'
        'o:OffsetTime::"12:21:12+02:00",z:ZonedDateTime::"2021-05-05T12:21:12+02:00[Europe/Paris]",'
        'l:LocalDateTime::"2021-05-05T12:21"}\n'
    )
    ex = to_csv(text, ", header: false, timeZoneId: Europe/Lisbon", run_yaml, tmp_path)
    ok(ex)
    assert read(kflow_home, out(ex, "t")["uri"]) == (
        b"2021-05-05T10:21:12.123Z,2021-05-05,12:21:12,12:21:12+02:00,"
        b"2021-05-05T11:21:12.000+01:00,2021-05-05T12:21:00.000\n"
    )
    ex = to_csv(
        text,
        ', header: false, dateFormat: "dd/MM/yyyy", dateTimeFormat: "yyyy"',
        run_yaml,
        tmp_path,
    )
    ok(ex)
    assert read(kflow_home, out(ex, "t")["uri"]).startswith(b"2021,05/05/2021,")


def test_ion_to_csv_list_with_header_refused(run_yaml, tmp_path):
    ex = to_csv('["a","b"]\n', "", run_yaml, tmp_path)
    assert "Invalid data of type List with header" in error(ex, "t")


def test_ion_to_csv_bad_ion_names_line(run_yaml, tmp_path):
    ex = to_csv('{a:"1"}\n{a:"2"}\n{a:"3",,}\n', "", run_yaml, tmp_path)
    message = error(ex, "t")
    assert "line 3" in message and "invalid Ion" in message


def test_ion_to_csv_line_delimiter_and_charset(run_yaml, kflow_home, tmp_path):
    ex = to_csv(
        '{a:"é",b:"x"}\n',
        ', lineDelimiter: "\\r\\n", charset: ISO-8859-1, fieldSeparator: ";"',
        run_yaml,
        tmp_path,
    )
    ok(ex)
    assert read(kflow_home, out(ex, "t")["uri"]) == "a;b\r\né;x\r\n".encode("latin-1")
    ex = to_csv('{a:"x"}\n', ', lineDelimiter: "|"', run_yaml, tmp_path)
    assert "lineDelimiter" in error(ex, "t")


# --------------------------------------------------------------------------- streaming


def test_csv_to_ion_and_back_stream(run_yaml, kflow_home, tmp_path):
    """300,000 rows (~11 MB of CSV, ~20 MB of Ion) go both ways within BOUND of Python
    allocations: reading either file whole would allocate more than the bound. A first
    tiny run imports every module, so that imports are not counted."""
    flow = (
        HEAD
        + to_ion()
        + '  - {id: back, type: io.kestra.plugin.serdes.csv.IonToCsv, from: "{{ outputs.c.uri }}"}\n'
    )
    source = tmp_path / "big.csv"
    source.write_text("id,name\n1,x\n")
    ok(run_yaml(flow, {"file": str(source)}))
    with source.open("w") as fh:
        fh.write("id,name,amount,city,note\n")
        for i in range(300_000):
            note = '"a, b"' if i % 1000 == 0 else "x"
            fh.write(f"{i},name {i},{i * 1.5},city{i % 97},{note}\n")
    assert source.stat().st_size > 10_000_000
    peaks: dict[str, int] = {}

    def on_event(event) -> None:
        if event.kind != "taskrun" or event.taskrun is None:
            return
        if event.taskrun.state.current.value == "RUNNING":
            tracemalloc.reset_peak()
        elif event.taskrun.state.current.value in ("SUCCESS", "FAILED"):
            peaks[event.taskrun.task_id] = tracemalloc.get_traced_memory()[1]

    tracemalloc.start()
    try:
        ex = run_yaml(flow, {"file": str(source)}, on_event=on_event)
    finally:
        tracemalloc.stop()
    ok(ex)
    assert peaks["c"] < BOUND and peaks["back"] < BOUND, peaks
    assert out(ex, "c")["size"] == 300_000
    assert read(kflow_home, out(ex, "back")["uri"]) == source.read_bytes()
