"""``kflow preview`` without a cap: every format as a table, the footer that says which rows
were shown (stdout on a terminal, stderr in a pipe), --offset/--rows/--all, --to exports,
encodings, binary files, Markdown and code on a terminal, ``kflow outputs --preview``, and
--offset in a big file without reading it into memory."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kflow.cli import app

runner = CliRunner()
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

CSV = 'id,name\n1,"Ada, Countess"\n2,"two\nlines"\n3,Linus\n4,Grace\n5,Alan\n6,Barbara\n'


def preview(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["preview", *args], env=env)


def terminal(*args: str, columns: int = 60):
    """As on a terminal (Rich's TTY_COMPATIBLE), styles taken out."""
    result = preview(*args, env={"TTY_COMPATIBLE": "1", "TERM": "xterm", "COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return _ANSI.sub("", result.stdout)


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


# ---------------------------------------------------------------- CSV, pages and the footer


def test_csv_in_a_pipe_is_its_own_lines_and_a_complete_copy_is_silent(data_csv):
    result = preview(str(data_csv))
    assert result.exit_code == 0
    assert result.stdout == CSV
    assert result.stderr == ""


def test_csv_page_footer_goes_to_stderr_in_a_pipe(data_csv):
    result = preview(str(data_csv), "--rows", "2")
    assert result.stdout == 'id,name\n1,"Ada, Countess"\n2,"two\nlines"\n'
    assert result.stderr == "rows 1–2 of data.csv; more remain: --offset 2, --rows N or --all\n"


def test_footer_on_stderr_of_a_real_pipe(cli, data_csv):
    proc = cli("preview", str(data_csv), "--offset", "2", "--rows", "2")
    assert proc.returncode == 0
    assert proc.stdout == "id,name\n3,Linus\n4,Grace\n"
    assert proc.stderr == "rows 3–4 of data.csv; more remain: --offset 4, --rows N or --all\n"


def test_csv_table_with_offset_and_the_last_page(data_csv):
    out = preview(str(data_csv), "--format", "table", "--offset", "4").stdout
    assert out == (
        "┏━━━━┳━━━━━━━━━┓\n"
        "┃ id ┃ name    ┃\n"
        "┡━━━━╇━━━━━━━━━┩\n"
        "│ 5  │ Alan    │\n"
        "│ 6  │ Barbara │\n"
        "└────┴─────────┘\n"
        "rows 5–6 of 6 in data.csv\n"
    )


def test_csv_table_first_page_keeps_quoted_fields(data_csv):
    out = preview(str(data_csv), "--format", "table", "--rows", "2").stdout
    assert out == (
        "┏━━━━┳━━━━━━━━━━━━━━━┓\n"
        "┃ id ┃ name          ┃\n"
        "┡━━━━╇━━━━━━━━━━━━━━━┩\n"
        "│ 1  │ Ada, Countess │\n"
        "│ 2  │ two           │\n"
        "│    │ lines         │\n"
        "└────┴───────────────┘\n"
        "rows 1–2 of data.csv; more remain: --offset 2, --rows N or --all\n"
    )


def test_all_rows_of_a_small_file_on_a_terminal(data_csv):
    assert terminal(str(data_csv), "--rows", "10").endswith("│ 6  │ Barbara       │\n"
                                                           "└────┴───────────────┘\n"
                                                           "all 6 rows of data.csv\n")  # fmt: skip


def test_default_is_100_rows_and_all_lifts_it(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("".join(f"line {i}\n" for i in range(1, 251)), encoding="utf-8")
    page = preview(str(path))
    assert page.stdout.splitlines() == [f"line {i}" for i in range(1, 101)]
    assert page.stderr == "lines 1–100 of n.txt; more remain: --offset 100, --rows N or --all\n"
    whole = preview(str(path), "--all")
    assert whole.stdout.splitlines() == [f"line {i}" for i in range(1, 251)]
    assert whole.stderr == ""
    tail = preview(str(path), "--offset", "200", "--all", "--format", "text")
    assert tail.stdout.splitlines() == [f"line {i}" for i in range(201, 251)]
    assert tail.stderr == ""


def test_offset_past_the_end_says_how_many_there_are(data_csv):
    result = preview(str(data_csv), "--offset", "10")
    assert result.exit_code == 0
    assert result.stdout == "id,name\n"
    assert result.stderr == "no rows after --offset 10: data.csv has 6\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--offset", "-1"], "error: --offset must be 0 or more, not -1"),
        (["--rows", "0"], "error: --rows must be at least 1, not 0"),
        (["--rows", "5", "--all"], "error: --all and --rows cannot be used together"),
        (["--encoding", "klingon"], "error: unknown encoding 'klingon'"),
        (["--to", "xml"], "error: --to must be jsonl, csv or json, not 'xml'"),
        (["--format", "html"], "error: --format must be auto, table or text, not 'html'"),
    ],
)
def test_bad_options_are_one_clear_message(data_csv, args, message):
    result = preview(str(data_csv), *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == message
    assert "Traceback" not in result.output


def test_unknown_file(tmp_path):
    result = preview(str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: no such file: {tmp_path / 'nope.csv'}\n")


# ---------------------------------------------------------------- --to


def test_to_exports_every_row_streamed(data_csv):
    jsonl = preview(str(data_csv), "--to", "jsonl")
    assert jsonl.stdout == (
        '{"id":"1","name":"Ada, Countess"}\n{"id":"2","name":"two\\nlines"}\n'
        '{"id":"3","name":"Linus"}\n{"id":"4","name":"Grace"}\n'
        '{"id":"5","name":"Alan"}\n{"id":"6","name":"Barbara"}\n'
    )
    assert jsonl.stderr == ""
    csv = preview(str(data_csv), "--to", "csv")
    assert csv.stdout == CSV
    assert csv.stderr == ""


def test_to_with_rows_and_offset_exports_those_rows(data_csv):
    result = preview(str(data_csv), "--to", "json", "--offset", "1", "--rows", "2")
    assert result.stdout == '[\n{"id":"2","name":"two\\nlines"},\n{"id":"3","name":"Linus"}\n]\n'
    assert result.stderr == "rows 2–3 of data.csv exported; more remain: --offset 3\n"
    rest = preview(str(data_csv), "--to", "json", "--offset", "5")
    assert (rest.stdout, rest.stderr) == ('[\n{"id":"6","name":"Barbara"}\n]\n', "")
    none = preview(str(data_csv), "--to", "json", "--offset", "6")
    assert none.stdout == "[]\n"


def test_ion_to_csv_and_jsonl(tmp_path):
    path = tmp_path / "rows.ion"
    path.write_text(
        '{id:1,name:"abc",amount:12.5e0}\n'
        '{id:2,name:"d\\"e",amount:1.50,day:2024-01-02T}\n'
        '{id:3,name:null,tags:["x","y"]}\n',
        encoding="utf-8",
    )
    csv = preview(str(path), "--to", "csv")
    assert csv.stdout == 'id,name,amount,day,tags\n1,abc,12.5,,\n2,"d""e",1.5,2024-01-02,\n3,,,,"[""x"",""y""]"\n'
    jsonl = preview(str(path), "--to", "jsonl", "--offset", "1")
    assert jsonl.stdout == (
        '{"id":2,"name":"d\\"e","amount":1.5,"day":"2024-01-02"}\n{"id":3,"tags":["x","y"]}\n'
    )


def test_to_refuses_a_binary_file(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01\x02" * 10)
    result = preview(str(path), "--to", "jsonl")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: blob.bin is a binary file, 30 bytes, application/octet-stream: it has no rows to export",
        "hint: kflow download copies it as it is",
    ]


# ---------------------------------------------------------------- other formats


def test_ion_table_and_pipe(tmp_path):
    path = tmp_path / "rows.ion"
    path.write_text('{id:1,name:"abc",amount:12.5e0}\n{id:2,name:"de"}\n', encoding="utf-8")
    assert preview(str(path)).stdout == '{"id":1,"name":"abc","amount":12.5}\n{"id":2,"name":"de"}\n'
    assert preview(str(path), "--format", "table").stdout == (
        "┏━━━━┳━━━━━━┳━━━━━━━━┓\n"
        "┃ id ┃ name ┃ amount ┃\n"
        "┡━━━━╇━━━━━━╇━━━━━━━━┩\n"
        "│ 1  │ abc  │ 12.5   │\n"
        "│ 2  │ de   │        │\n"
        "└────┴──────┴────────┘\n"
        "all 2 rows of rows.ion\n"
    )


def test_ion_offset_with_values_over_several_lines(tmp_path):
    path = tmp_path / "hand.ion"
    path.write_text('{id:1,\n name:"a"}\n{id:2,\n name:"b"}\n{id:3, name:"c"}\n', encoding="utf-8")
    result = preview(str(path), "--offset", "1", "--rows", "1")
    assert result.stdout == '{"id":2,"name":"b"}\n'
    assert result.stderr == "rows 2–2 of hand.ion; more remain: --offset 2, --rows N or --all\n"


def test_json_lines_tsv_and_json(tmp_path):
    jsonl = tmp_path / "e.jsonl"
    jsonl.write_text('{"a":1}\n{"a":2,"b":"x"}\n', encoding="utf-8")
    assert preview(str(jsonl)).stdout == '{"a":1}\n{"a":2,"b":"x"}\n'
    assert "│ 2 │ x │" in preview(str(jsonl), "--format", "table").stdout
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\n1\t2\n", encoding="utf-8")
    assert "│ 1 │ 2 │" in preview(str(tsv), "--format", "table").stdout
    array = tmp_path / "a.json"
    array.write_text('[{"a": 1}, {"a": 2, "b": [1, 2]}, {"b": null}]', encoding="utf-8")
    assert preview(str(array), "--format", "table", "--offset", "1").stdout == (
        "┏━━━┳━━━━━━━┓\n"
        "┃ a ┃ b     ┃\n"
        "┡━━━╇━━━━━━━┩\n"
        "│ 2 │ [1,2] │\n"
        "│   │       │\n"
        "└───┴───────┘\n"
        "rows 2–3 of 3 in a.json\n"
    )
    assert preview(str(array), "--to", "jsonl").stdout == '{"a":1}\n{"a":2,"b":[1,2]}\n{}\n'
    doc = tmp_path / "o.json"
    doc.write_text('{"x": [1, 2], "y": "z"}', encoding="utf-8")
    assert preview(str(doc)).stdout == '{\n  "x": [\n    1,\n    2\n  ],\n  "y": "z"\n}\n'


def test_json_lines_that_do_not_parse_are_shown_as_text(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a":1}\nnot json\n', encoding="utf-8")
    result = preview(str(path), "--format", "table")
    assert result.exit_code == 0
    assert result.stdout == '{"a":1}\nnot json\nall 2 lines of bad.jsonl\n'


def test_parquet_pages_by_row_group(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": list(range(1, 8)), "name": [f"n{i}" for i in range(1, 8)],
                      "amount": [i * 1.5 for i in range(1, 8)]})  # fmt: skip
    path = tmp_path / "p.parquet"
    pq.write_table(table, path, row_group_size=3)
    result = preview(str(path), "--format", "table", "--offset", "4", "--rows", "2")
    assert result.stdout == (
        "┏━━━━┳━━━━━━┳━━━━━━━━┓\n"
        "┃ id ┃ name ┃ amount ┃\n"
        "┡━━━━╇━━━━━━╇━━━━━━━━┩\n"
        "│ 5  │ n5   │ 7.5    │\n"
        "│ 6  │ n6   │ 9.0    │\n"
        "└────┴──────┴────────┘\n"
        "rows 5–6 of 7 in p.parquet; more remain: --offset 6, --rows N or --all\n"
    )
    assert preview(str(path), "--to", "jsonl", "--offset", "5").stdout == (
        '{"id":6,"name":"n6","amount":9.0}\n{"id":7,"name":"n7","amount":10.5}\n'
    )


def test_unreadable_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    result = preview(str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot read x.parquet as Parquet: ")
    assert "Traceback" not in result.output


def test_avro_pages_by_block(tmp_path):
    fastavro = pytest.importorskip("fastavro")
    schema = {"type": "record", "name": "R",
              "fields": [{"name": "id", "type": "int"}, {"name": "tag", "type": ["null", "string"]}]}  # fmt: skip
    path = tmp_path / "a.avro"
    with path.open("wb") as fh:
        records = [{"id": i, "tag": None if i % 2 else f"t{i}"} for i in range(1, 8)]
        fastavro.writer(fh, schema, records, sync_interval=20)  # several blocks
    result = preview(str(path), "--format", "table", "--offset", "3", "--rows", "2")
    assert result.stdout == (
        "┏━━━━┳━━━━━┓\n"
        "┃ id ┃ tag ┃\n"
        "┡━━━━╇━━━━━┩\n"
        "│ 4  │ t4  │\n"
        "│ 5  │     │\n"
        "└────┴─────┘\n"
        "rows 4–5 of a.avro; more remain: --offset 5, --rows N or --all\n"
    )
    assert preview(str(path), "--offset", "5").stdout == '{"id":6,"tag":"t6"}\n{"id":7}\n'


def test_excel_first_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "People"
    sheet.append(["name", "age", "born"])
    sheet.append(["Ada", 36, datetime.date(2024, 12, 10)])
    sheet.append(["Linus", 28.5, None])
    path = tmp_path / "b.xlsx"
    book.save(path)
    table = preview(str(path), "--format", "table").stdout
    assert table.splitlines()[-1] == "all 2 rows of b.xlsx [People]"
    assert "│ Linus │ 28.5 │" in table
    csv = preview(str(path), "--to", "csv").stdout
    assert csv.splitlines()[0] == "name,age,born" and csv.splitlines()[2] == "Linus,28.5,"
    assert csv.splitlines()[1] in ("Ada,36.0,2024-12-10", "Ada,36,2024-12-10T00:00:00")


@pytest.mark.parametrize(
    ("name", "modules", "extra", "needs"),
    [
        ("p.parquet", ["pyarrow", "pyarrow.parquet"], "parquet", "pyarrow"),
        ("a.avro", ["fastavro"], "avro", "fastavro"),
        ("b.xlsx", ["python_calamine", "openpyxl"], "excel", "python-calamine or openpyxl"),
    ],
)
def test_a_missing_library_names_the_extra(tmp_path, monkeypatch, name, modules, extra, needs):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    path = tmp_path / name
    path.write_bytes(b"whatever")
    result = preview(str(path))
    assert result.exit_code == 2
    kind = {"parquet": "Parquet", "avro": "Avro", "excel": "Excel"}[extra]
    assert result.stderr == (
        f"error: previewing {kind} files needs {needs}: pip install 'kflow[{extra}]'\n"
    )


# ---------------------------------------------------------------- encodings and binary files


def test_latin1_is_detected_or_forced(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes("ville,pays\nSète,France\nKöln,Deutschland\n".encode("latin-1"))
    assert preview(str(path)).stdout == "ville,pays\nSète,France\nKöln,Deutschland\n"
    forced = preview(str(path), "--encoding", "latin-1", "--format", "table")
    assert forced.stdout.splitlines()[-1] == "all 2 rows of l.csv (latin-1)"


def test_utf16_with_a_bom(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("a,b\n1,ü\n2,ß\n".encode("utf-16"))
    result = preview(str(path), "--format", "table", "--offset", "1")
    assert "│ 2 │ ß │" in result.stdout and "ü" not in result.stdout
    assert result.stdout.splitlines()[-1] == "rows 2–2 of 2 in u.csv (utf-16)"
    assert preview(str(path), "--to", "jsonl").stdout == '{"a":"1","b":"ü"}\n{"a":"2","b":"ß"}\n'


def test_utf8_bom_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert preview(str(path), "--to", "jsonl").stdout == '{"a":"1","b":"2"}\n'
    assert preview(str(path)).stdout == "a,b\n1,2\n"


def test_binary_file_is_one_line(tmp_path):
    path = tmp_path / "archive.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 12296)
    result = preview(str(path))
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "binary file, 12.3 kB, application/zip\n", "")  # fmt: skip
    assert terminal(str(path)) == "binary file, 12.3 kB, application/zip\n"


# ---------------------------------------------------------------- text on a terminal


def test_markdown_is_rendered_on_a_terminal(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# Title\n\nSome *text*.\n\n- one\n- two\n", encoding="utf-8")
    assert terminal(str(path), columns=30) == (
        "Title\n"
        "\n"
        "Some text.\n"
        "\n"
        " • one                        \n"
        " • two                        \n"
        "all 6 lines of README.md\n"
    )
    assert preview(str(path)).stdout == "# Title\n\nSome *text*.\n\n- one\n- two\n"  # a pipe


def test_code_is_highlighted_with_line_numbers_from_the_offset(tmp_path):
    path = tmp_path / "job.py"
    path.write_text("import os\n\nprint(os.name)\nprint(1)\n", encoding="utf-8")
    assert terminal(str(path), "--offset", "2", "--rows", "1") == (
        "  3 print(os.name)\n"
        "lines 3–3 of job.py; more remain: --offset 3, --rows N or --all\n"
    )
    assert terminal(str(path), "--format", "text", "--rows", "1") == (
        "import os\nlines 1–1 of job.py; more remain: --offset 1, --rows N or --all\n"
    )


# ---------------------------------------------------------------- stored files and outputs --preview

FILES_FLOW = """
id: files
namespace: company.team
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - printf 'city,people\\nParis,2\\nLyon,1\\nNice,3\\nLille,4\\nBrest,5\\nCaen,6\\n' > cities.csv
      - echo hello > note.txt
    outputFiles:
      - cities.csv
      - note.txt
  - id: say
    type: io.kestra.plugin.core.debug.Return
    format: "no file here"
"""


@pytest.fixture
def files_execution(run_yaml):
    execution = run_yaml(FILES_FLOW)
    assert execution.state.current.value == "SUCCESS"
    return execution


def test_exec_task_file_with_offset(files_execution):
    result = preview("last", "make", "cities.csv", "--offset", "4", "--to", "csv")
    assert result.stdout == "city,people\nBrest,5\nCaen,6\n"


def test_outputs_preview_shows_the_head_of_each_file(files_execution):
    ex = files_execution.id
    result = runner.invoke(app, ["outputs", "last", "--preview"])
    assert result.exit_code == 0, result.output
    tail = result.stdout.split("outputs.say.value\n", 1)[1].split("Metrics\n")[0]
    assert tail == (
        "make · cities.csv\n"
        "city   people\n"
        "Paris  2\n"
        "Lyon   1\n"
        "Nice   3\n"
        "Lille  4\n"
        "Brest  5\n"
        f"  rows 1–5 of cities.csv; more: kflow preview {ex} make cities.csv\n"
        "make · note.txt\n"
        "  hello\n"
    )
    only = runner.invoke(app, ["outputs", "last", "--task", "make", "--preview"]).stdout
    assert only.endswith("make · note.txt\n  hello\n") and "say" not in only
    assert "hello" not in runner.invoke(app, ["outputs", "last"]).stdout


@pytest.mark.parametrize("args", [["last", "--json"], []])
def test_outputs_preview_is_for_one_execution_on_screen(files_execution, args):
    result = runner.invoke(app, ["outputs", *args, "--preview"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --preview shows the output files of one execution on the terminal\n"
    )


def test_help_describes_the_options():
    text = runner.invoke(app, ["preview", "--help"]).stdout
    for option in ("--rows", "--offset", "--all", "--encoding", "--to", "--format"):
        assert option in text
    assert "--preview" in runner.invoke(app, ["outputs", "--help"]).stdout


# ---------------------------------------------------------------- memory


# Runs kflow and writes its peak RSS (VmHWM, kB) to argv[1] at exit. Linux's ru_maxrss of
# a child is no use here: it starts from the memory of the process it was forked from (this
# test process, bigger than the bound after the Parquet tests).
_MEASURE = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open('/proc/self/status') as status, open(out, 'w') as fh:
        fh.write(next(l for l in status if l.startswith('VmHWM:')).split()[1])
atexit.register(peak)
sys.argv[0] = 'kflow'
runpy.run_module('kflow', run_name='__main__', alter_sys=True)
"""


def _peak_rss_mb(tmp_path: Path, *args: str) -> tuple[float, bytes, bytes]:
    """Run ``kflow preview``: its own peak RSS in MB, stdout and stderr."""
    report = tmp_path / "vmhwm"
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(report), "preview", *args],
                          capture_output=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return int(report.read_text()) / 1024, proc.stdout, proc.stderr


def _big_file(path: Path, header: bytes, line: str) -> int:
    """~100 MB: 100,000 rows (``line`` formatted with ``i``) written again and again;
    returns how many rows."""
    block = "".join(line.format(i=i) for i in range(100_000)).encode()
    rows = 0
    with path.open("wb") as fh:
        fh.write(header)
        while fh.tell() < 100_000_000:
            fh.write(block)
            rows += 100_000
    return rows


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM (Linux)")
@pytest.mark.parametrize(
    ("name", "header", "line", "expected"),
    [
        ("big.csv", b"id,name,quoted,amount\n", '{i},name{i},"q {i}",{i}.5\n',
         b'id,name,quoted,amount\n1,name1,"q 1",1.5\n2,name2,"q 2",2.5\n'),
        ("big.ion", b"", '{{id:{i},name:"abc",amount:12.5e0}}\n',
         b'{"id":1,"name":"abc","amount":12.5}\n{"id":2,"name":"abc","amount":12.5}\n'),
    ],
)
def test_offset_in_a_big_file_does_not_read_it_into_memory(tmp_path, name, header, line, expected):
    path = tmp_path / name
    rows = _big_file(path, header, line)
    offset = rows - 100_000 + 1  # the second row of the last block
    rss, out, err = _peak_rss_mb(tmp_path, str(path), "--offset", str(offset), "--rows", "2")
    assert out == expected
    assert err.decode() == (
        f"rows {offset + 1:,}–{offset + 2:,} of {name}; more remain: --offset {offset + 2}, "
        "--rows N or --all\n"
    )
    assert rss < 80, f"peak RSS {rss:.0f} MB: the file was read into memory"


def test_csv_export_names_columns_that_came_too_late(tmp_path):
    path = tmp_path / "late.jsonl"
    path.write_text('{"a":1}\n' * 1000 + '{"a":2,"b":3}\n', encoding="utf-8")
    result = preview(str(path), "--to", "csv")
    assert result.stdout == "a\n" + "1\n" * 1000 + "2\n"
    assert result.stderr == "warning: columns not in the first 1,000 rows left out of the CSV: b\n"


def test_public_names_of_kflow_preview():
    import kflow.preview

    assert sorted(kflow.preview.__all__) == [
        "DEFAULT_ROWS", "Item", "Preview", "PreviewError", "Source", "as_record",
        "find_output_file", "open_source", "read_preview", "stored_files", "take",
    ]  # fmt: skip


def test_text_format_on_a_terminal_prints_rows_as_a_pipe_gets_them(tmp_path):
    path = tmp_path / "rows.ion"
    path.write_text('{id:1,name:"abc"}\n{id:2}\n', encoding="utf-8")
    assert terminal(str(path), "--format", "text") == (
        '{"id":1,"name":"abc"}\n{"id":2}\nall 2 rows of rows.ion\n'
    )


def test_empty_files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text("a,b\n", encoding="utf-8")
    assert terminal(str(tmp_path / "empty.csv")) == "no rows in empty.csv\n"
    assert terminal(str(tmp_path / "header.csv")) == (
        "┏━━━┳━━━┓\n┃ a ┃ b ┃\n┡━━━╇━━━┩\n└───┴───┘\nno rows in header.csv\n"
    )
    piped = preview(str(tmp_path / "empty.csv"))
    assert (piped.exit_code, piped.stdout, piped.stderr) == (0, "", "")
