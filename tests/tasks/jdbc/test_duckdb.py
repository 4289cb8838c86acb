"""io.kestra.plugin.jdbc.duckdb.Query, run end to end through the engine."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest

from kflow import ion
from kflow.errors import FlowValidationError
from kflow.tasks.base import register
from kflow.tasks.jdbc import duckdb_query
from kflow.tasks.jdbc.duckdb_query import DuckDbQuery

pytest.importorskip("duckdb")

PRODUCTS_CSV = "brand,price\nEssence,9.99\nChanel,129.5\nEssence,10.01\nDior,50\n"
HEAD = "id: duck\nnamespace: company.team\n"


@pytest.fixture(autouse=True)
def duckdb_task(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until the lead adds the type to the built-in registry.
    register(DuckDbQuery)
    # Kestra's JSON mapper prints date-times in the worker's zone: pin it.
    monkeypatch.setattr(duckdb_query, "_worker_zone", lambda: UTC)


def _run(run_yaml: Any, tasks: str, inputs: dict[str, Any] | None = None) -> Any:
    return run_yaml(HEAD + "tasks:\n" + tasks, inputs)


def _task(execution: Any, task_id: str) -> Any:
    return next(tr for tr in execution.task_runs if tr.task_id == task_id)


def _read(uri: str) -> bytes:
    from kflow.api import open_home

    with open_home() as home, home.storage.open(uri) as fh:
        return fh.read()


def _ok(execution: Any) -> None:
    failed = [f"{tr.task_id}: {tr.error}" for tr in execution.task_runs if tr.error]
    assert execution.state.current.value == "SUCCESS", failed


# --------------------------------------------------------------------------- tutorial

TUTORIAL_SQL_QUERY = """
  - id: sqlQuery
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      in.csv: "{{ inputs.csv }}"
    sql: |
      SELECT brand, round(avg(price), 2) as avg_price
      FROM read_csv_auto('{{ workingDir }}/in.csv', header=True)
      GROUP BY brand
      ORDER BY avg_price DESC;
    store: true
"""


def test_tutorial_avg_price_stored_as_ion(run_yaml):
    execution = run_yaml(
        HEAD + "inputs:\n  - {id: csv, type: STRING}\ntasks:" + TUTORIAL_SQL_QUERY,
        {"csv": PRODUCTS_CSV},
    )
    _ok(execution)
    outputs = _task(execution, "sqlQuery").outputs
    assert list(outputs) == ["row", "uri", "size", "outputFiles"]
    assert outputs["row"] is None
    assert outputs["size"] == 3
    assert outputs["outputFiles"] == {}
    assert re.fullmatch(
        r"kestra:///company/team/duck/executions/\w+/tasks/sqlquery/\w+/[0-9]+\.ion",
        outputs["uri"],
    )
    text = _read(outputs["uri"]).decode()
    assert text == (
        '{brand:"Chanel",avg_price:129.5e0}\n'
        '{brand:"Dior",avg_price:50e0}\n'
        '{brand:"Essence",avg_price:10e0}\n'
    )
    assert list(ion.read_rows(io.StringIO(text))) == [
        {"brand": "Chanel", "avg_price": 129.5},
        {"brand": "Dior", "avg_price": 50.0},
        {"brand": "Essence", "avg_price": 10.0},
    ]


def test_tutorial_input_file_from_internal_storage(run_yaml):
    # The tutorial passes a kestra:// URI (a Python task's output file) as in.csv.
    from_storage = "\"{{ outputs.make.outputFiles['products.csv'] }}\""
    query = TUTORIAL_SQL_QUERY.replace('"{{ inputs.csv }}"', from_storage)
    execution = _run(
        run_yaml,
        f"""
  - id: make
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: "COPY (FROM read_csv_auto('p.csv')) TO '{{{{ outputFiles['products.csv'] }}}}' (HEADER)"
    inputFiles:
      p.csv: {json.dumps(PRODUCTS_CSV)}
    outputFiles: [products.csv]
{query}
""",
    )
    _ok(execution)
    stored = _task(execution, "make").outputs["outputFiles"]["products.csv"]
    assert re.search(r"/products\.csv_[0-9]+\.tmp$", stored)
    assert _read(stored).decode() == PRODUCTS_CSV.replace("50\n", "50.0\n")
    outputs = _task(execution, "sqlQuery").outputs
    assert outputs["size"] == 3
    assert _read(outputs["uri"]).decode().splitlines()[0] == '{brand:"Chanel",avg_price:129.5e0}'


def test_relative_file_names_find_input_files(run_yaml):
    execution = _run(
        run_yaml,
        f"""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    inputFiles:
      data/in.csv: {json.dumps(PRODUCTS_CSV)}
    sql: SELECT count(*) AS n, sum(price) AS total FROM read_csv_auto('data/in.csv')
    fetchType: FETCH_ONE
""",
    )
    _ok(execution)
    assert _task(execution, "q").outputs == {
        "row": {"n": 4, "total": 199.5},
        "size": 1,
        "outputFiles": {},
    }


def test_stored_file_previews_as_a_table(run_yaml):
    from kflow.preview import read_preview

    execution = run_yaml(
        HEAD + "inputs:\n  - {id: csv, type: STRING}\ntasks:" + TUTORIAL_SQL_QUERY,
        {"csv": PRODUCTS_CSV},
    )
    uri = _task(execution, "sqlQuery").outputs["uri"]
    preview = read_preview(uri, io.BytesIO(_read(uri)))
    assert preview.kind == "table"
    assert preview.columns == ["brand", "avg_price"]
    assert preview.rows == [["Chanel", 129.5], ["Dior", 50.0], ["Essence", 10.0]]
    # kflow.ion reads it too (the preview can switch to it), capped like the UI's maxRows.
    head = [ion.to_jsonable(r) for r in ion.read_rows(io.BytesIO(_read(uri)), limit=2)]
    assert head == [{"brand": "Chanel", "avg_price": 129.5}, {"brand": "Dior", "avg_price": 50.0}]


# --------------------------------------------------------------------------- fetch types

ROWS_SQL = "SELECT * FROM (VALUES (2, 'b'), (1, 'a'), (3, NULL)) t(id, name) ORDER BY id"


def _query(run_yaml: Any, props: str, sql: str = ROWS_SQL) -> Any:
    execution = _run(
        run_yaml,
        f"""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    sql: "{sql}"
{props}
""",
    )
    return execution, _task(execution, "q")


def test_fetch_one(run_yaml):
    execution, tr = _query(run_yaml, "    fetchType: FETCH_ONE")
    _ok(execution)
    assert tr.outputs == {"row": {"id": 1, "name": "a"}, "size": 1, "outputFiles": {}}
    assert tr.metrics == [
        {
            "name": "fetch.size",
            "type": "counter",
            "value": 1,
            "tags": {"fetch": "true", "store": "false"},
        }
    ]


def test_fetch_one_without_rows_keeps_a_null_row(run_yaml):
    execution, tr = _query(run_yaml, "    fetchType: FETCH_ONE", "SELECT 1 AS a WHERE false")
    _ok(execution)
    assert tr.outputs == {"row": None, "size": 0, "outputFiles": {}}


def test_fetch_keeps_row_and_column_order(run_yaml):
    execution, tr = _query(run_yaml, "    fetchType: FETCH")
    _ok(execution)
    assert tr.outputs == {
        "row": None,
        "rows": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": None}],
        "size": 3,
        "outputFiles": {},
    }
    assert [list(r) for r in tr.outputs["rows"]] == [["id", "name"]] * 3


def test_store_writes_one_row_per_line(run_yaml):
    execution, tr = _query(run_yaml, "    fetchType: STORE\n    fetchSize: 1")
    _ok(execution)
    assert tr.outputs["size"] == 3
    assert _read(tr.outputs["uri"]) == b'{id:1,name:"a"}\n{id:2,name:"b"}\n{id:3,name:null}\n'
    assert tr.metrics[0]["tags"] == {"fetch": "false", "store": "true"}


def test_store_of_an_empty_result_is_an_empty_file(run_yaml):
    execution, tr = _query(run_yaml, "    fetchType: STORE", "SELECT 1 AS a WHERE false")
    _ok(execution)
    assert tr.outputs["size"] == 0
    assert _read(tr.outputs["uri"]) == b""


def test_none_fetches_nothing_but_keeps_the_row_key(run_yaml):
    execution, tr = _query(run_yaml, "")
    _ok(execution)
    assert tr.outputs == {"row": None, "outputFiles": {}}
    assert tr.metrics[0]["value"] == 0


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ("fetch: true\n    fetchOne: true\n    store: true\n    fetchType: NONE", "rows"),
        ("fetchOne: true\n    store: true\n    fetchType: FETCH", "row"),
        ("store: true\n    fetchType: FETCH", "uri"),
        ("fetchType: FETCH\n    fetch: false", "rows"),
        ("fetchType: \"{{ 'STORE' }}\"", "uri"),
    ],
)
def test_fetch_precedence_fetch_fetchone_store_then_fetchtype(run_yaml, props, expected):
    execution, tr = _query(run_yaml, "    " + props)
    _ok(execution)
    produced = {k for k in ("rows", "uri") if k in tr.outputs}
    produced |= {"row"} if tr.outputs["row"] is not None else set()
    assert produced == {expected}


def test_all_statements_run_and_the_last_result_is_kept(run_yaml):
    execution, tr = _query(
        run_yaml,
        "    fetchType: FETCH",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2); "
        "UPDATE t SET a = a * 10; SELECT a FROM t ORDER BY a;",
    )
    _ok(execution)
    assert tr.outputs["rows"] == [{"a": 10}, {"a": 20}]


def test_a_last_statement_without_rows_gives_no_size(run_yaml):
    execution, tr = _query(
        run_yaml,
        "    fetchType: FETCH",
        "CREATE TABLE t AS SELECT 1 AS a; INSERT INTO t VALUES (2)",
    )
    _ok(execution)
    assert tr.outputs == {"row": None, "outputFiles": {}}


def test_insert_returning_is_a_result(run_yaml):
    execution, tr = _query(
        run_yaml,
        "    fetchType: FETCH",
        "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (7) RETURNING a",
    )
    _ok(execution)
    assert tr.outputs["rows"] == [{"a": 7}]


# --------------------------------------------------------------------------- values

TYPES_SQL = """
      SELECT 1::TINYINT AS tiny, 2::SMALLINT AS small, 3::INTEGER AS i, 4::BIGINT AS big,
             170141183460469231731687303715884105727::HUGEINT AS huge,
             18446744073709551615::UBIGINT AS ubig, 1.1::FLOAT AS f, 2.5::DOUBLE AS d,
             12.50::DECIMAL(10,2) AS dec, 5::DECIMAL(10,0) AS dec0, true AS b, 'x' AS s,
             DATE '2024-01-01' AS day, TIME '10:00:00.5' AS t,
             TIMESTAMP '2024-01-01 10:00:00' AS ts,
             TIMESTAMPTZ '2024-01-01 10:00:00+02' AS tstz,
             '5e2b6a2c-7e0b-4a63-8b45-6d1c0f0a9d11'::UUID AS id,
             [1, 2] AS list, [1, 2]::INTEGER[2] AS arr,
             {'x': 1, 'y': [DATE '2024-01-02'], 'z': {'w': 1.5::DECIMAL(3,1)}} AS st,
             MAP {'k': 1} AS m, '{"a": [1, null]}'::JSON AS js, 'ab'::BLOB AS blob,
             'a'::ENUM('a', 'b') AS e, NULL AS n, 'nan'::DOUBLE AS nan
"""


def test_column_values_in_outputs_are_json(run_yaml):
    execution = _run(
        run_yaml,
        f"""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    timeZoneId: Europe/Paris
    fetchType: FETCH_ONE
    sql: |{TYPES_SQL}""",
    )
    _ok(execution)
    row = _task(execution, "q").outputs["row"]
    assert row == {
        "tiny": 1,
        "small": 2,
        "i": 3,
        "big": 4,
        "huge": "170141183460469231731687303715884105727",
        "ubig": "18446744073709551615",
        "f": 1.1,
        "d": 2.5,
        "dec": 12.5,
        "dec0": 5,
        "b": True,
        "s": "x",
        "day": "2024-01-01",
        "t": "10:00:00.5",
        # ZonedDateTime (10:00 in Paris) printed by Jackson in the worker's zone (UTC here)
        "ts": "2024-01-01T09:00:00Z",
        "tstz": "2024-01-01T08:00:00Z",
        "id": "5e2b6a2c-7e0b-4a63-8b45-6d1c0f0a9d11",
        "list": [1, 2],
        "arr": [1, 2],
        "st": {"x": 1, "y": ["2024-01-02"], "z": {"w": 1.5}},
        "m": {"k": 1},
        "js": {"a": [1, None]},
        "blob": "YWI=",
        "e": "a",
        "n": None,
        "nan": "NaN",
    }
    assert list(row) == list(row.keys())  # SELECT order kept
    assert list(row)[:3] == ["tiny", "small", "i"]


def test_column_values_in_the_ion_file_keep_kestra_types(run_yaml):
    execution = _run(
        run_yaml,
        f"""
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    timeZoneId: Europe/Paris
    fetchType: STORE
    sql: |{TYPES_SQL}""",
    )
    _ok(execution)
    line = _read(_task(execution, "q").outputs["uri"]).decode()
    assert line == (
        '{tiny:1,small:2,i:3,big:4,huge:"170141183460469231731687303715884105727",'
        'ubig:"18446744073709551615",f:1.100000023841858e0,d:2.5e0,dec:12.50,dec0:5.,'
        'b:true,s:"x",day:2024-01-01T,t:LocalTime::"10:00:00.5",'
        'ts:ZonedDateTime::"2024-01-01T10:00:00+01:00[Europe/Paris]",'
        'tstz:OffsetDateTime::"2024-01-01T08:00:00Z",'
        'id:"5e2b6a2c-7e0b-4a63-8b45-6d1c0f0a9d11",list:[1,2],arr:[1,2],'
        "st:{x:1,y:[2024-01-02T],z:{w:1.5}},m:{k:1},js:{a:[1,null]},blob:{{YWI=}},"
        "e:\"a\",n:null,'nan':nan}\n"
    )
    (row,) = ion.read_rows(io.StringIO(line))
    assert ion.dumps_line(row) + "\n" == line


def test_time_zone_as_an_offset_and_timestamp_precision(run_yaml):
    execution, tr = _query(
        run_yaml,
        "    fetchType: STORE\n    timeZoneId: '+02:00'",
        "SELECT TIMESTAMP_MS '2024-06-01 10:00:00.123' AS a, TIME '23:59:59' AS b",
    )
    _ok(execution)
    assert _read(tr.outputs["uri"]) == (
        b'{a:ZonedDateTime::"2024-06-01T10:00:00.123+02:00",b:LocalTime::"23:59:59"}\n'
    )


def test_unsupported_type_fails_with_a_hint(run_yaml):
    execution, tr = _query(run_yaml, "    fetchType: FETCH", "SELECT INTERVAL 1 DAY AS i")
    assert tr.state.current.value == "FAILED"
    assert tr.error == (
        "Data of type 'INTERVAL' for column 'i' is not supported; "
        "cast it in the SQL, e.g. CAST(i AS VARCHAR)"
    )


def test_unknown_time_zone_fails(run_yaml):
    execution, tr = _query(run_yaml, "    timeZoneId: Mars/Olympus")
    assert tr.state.current.value == "FAILED"
    assert "timeZoneId 'Mars/Olympus' is not a known time zone" in tr.error


# --------------------------------------------------------------------------- errors


def test_sql_error_is_a_clear_task_failure(run_yaml):
    execution, tr = _query(
        run_yaml, "    fetchType: FETCH", "CREATE TABLE t AS SELECT 1 AS a; SELECT b FROM t"
    )
    assert execution.state.current.value == "FAILED"
    assert tr.state.current.value == "FAILED"
    assert tr.error.startswith(
        "sql failed (statement 2 of 2: SELECT b FROM t): Binder Error: "
        'Referenced column "b" not found'
    )


def test_syntax_error_names_the_sql(run_yaml):
    execution, tr = _query(run_yaml, "", "SELEC 1")
    assert tr.state.current.value == "FAILED"
    assert tr.error.startswith('sql failed: Parser Error: syntax error at or near "SELEC"')


def test_empty_sql_fails(run_yaml):
    execution, tr = _query(run_yaml, "", " ; ")
    assert tr.error == "sql holds no SQL statement"


def test_bad_literal_fetch_type_is_refused_at_load(write_flow):
    from kflow.api import load_flow

    path = write_flow(
        HEAD + "tasks:\n  - {id: q, type: io.kestra.plugin.jdbc.duckdb.Query, sql: 'SELECT 1', "
        "fetchType: FETCH_ALL}\n"
    )
    with pytest.raises(FlowValidationError) as info:
        load_flow(path)
    assert "fetchType must be one of FETCH_ONE, FETCH, STORE, NONE, not 'FETCH_ALL'" in str(
        [p.message for p in info.value.problems]
    )


def test_missing_duckdb_package(run_yaml, monkeypatch):
    monkeypatch.setitem(sys.modules, "duckdb", None)
    execution, tr = _query(run_yaml, "")
    assert tr.error == "the DuckDB task needs the duckdb package: pip install 'kflow[duckdb]'"


def test_timeout_interrupts_the_query(run_yaml):
    execution = _run(
        run_yaml,
        """
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    timeout: PT0.5S
    sql: SELECT sum(i * i) FROM range(1000000000000) t(i)
    fetchType: FETCH_ONE
""",
    )
    tr = _task(execution, "q")
    assert tr.state.current.value == "FAILED"
    assert tr.error.startswith("Timeout after")


# --------------------------------------------------------------------------- files, params


def test_parameters_bind_named_placeholders(run_yaml):
    execution = _run(
        run_yaml,
        """
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    parameters:
      name: "{{ flow.id }}"
      limit: 2
    sql: >-
      SELECT :name AS name, '1'::INTEGER AS cast, ':literal' AS text, n
      FROM range(10) t(n) WHERE n < :limit -- :comment
    fetchType: FETCH
""",
    )
    _ok(execution)
    assert _task(execution, "q").outputs["rows"] == [
        {"name": "duck", "cast": 1, "text": ":literal", "n": 0},
        {"name": "duck", "cast": 1, "text": ":literal", "n": 1},
    ]


def test_output_files_and_template_variables(run_yaml):
    execution = _run(
        run_yaml,
        """
  - id: q
    type: io.kestra.plugin.jdbc.duckdb.Query
    outputFiles: [out, other]
    sql: |
      COPY (SELECT 1 AS a, 'x' AS b) TO '{{ outputFiles.out }}' (HEADER, DELIMITER ',');
      COPY (SELECT '{{ workingDir }}' = current_setting('file_search_path') AS same)
        TO '{{ temp.other }}' (HEADER);
""",
    )
    _ok(execution)
    files = _task(execution, "q").outputs["outputFiles"]
    assert sorted(files) == ["other", "out"]
    assert re.search(r"/out_[0-9]+\.tmp$", files["out"])
    assert _read(files["out"]) == b"a,b\n1,x\n"
    assert _read(files["other"]) == b"same\ntrue\n"


def test_bad_output_file_name(run_yaml):
    execution, tr = _query(run_yaml, "    outputFiles: ['../x']")
    assert tr.state.current.value == "FAILED"
    assert "outputFiles entry '../x' must be a plain name" in tr.error


def test_database_file_out_and_back_in(run_yaml):
    execution = _run(
        run_yaml,
        """
  - id: make
    type: io.kestra.plugin.jdbc.duckdb.Query
    outputDbFile: true
    sql: CREATE TABLE fruits AS SELECT * FROM (VALUES ('apple'), ('pear')) t(name)
  - id: use
    type: io.kestra.plugin.jdbc.duckdb.Query
    databaseUri: "{{ outputs.make.databaseUri }}"
    sql: SELECT string_agg(name, ',' ORDER BY name) AS names FROM fruits
    fetchType: FETCH_ONE
""",
    )
    _ok(execution)
    made = _task(execution, "make").outputs
    assert re.search(r"/[0-9]+\.db$", made["databaseUri"])
    assert _task(execution, "use").outputs["row"] == {"names": "apple,pear"}


def test_url_with_a_file_and_after_sql(run_yaml, tmp_path):
    db = tmp_path / "dbs" / "shop.db"
    execution = _run(
        run_yaml,
        f"""
  - id: create
    type: io.kestra.plugin.jdbc.duckdb.Query
    url: "jdbc:duckdb:{db}"
    inputFiles:
      seed.csv: "n\\n1\\n2\\n"
    sql: >-
      CREATE TABLE t AS SELECT * FROM read_csv_auto('seed.csv');
      SELECT sum(n)::INTEGER AS s FROM t
    afterSQL: "INSERT INTO t VALUES (40)"
    fetchType: FETCH_ONE
  - id: read
    type: io.kestra.plugin.jdbc.duckdb.Query
    url: "jdbc:duckdb:{db}"
    sql: >-
      SELECT sum(n)::INTEGER AS s, '{{{{ workingDir }}}}' AS wd, '{{{{ dbFilePath }}}}' AS db
      FROM t
    fetchType: FETCH_ONE
""",
    )
    _ok(execution)
    assert _task(execution, "create").outputs["row"] == {"s": 3}
    assert _task(execution, "read").outputs["row"] == {
        "s": 43,
        "wd": str(db.parent),
        "db": str(db),
    }
    assert (db.parent / "seed.csv").read_text() == "n\n1\n2\n"  # Kestra writes them there


def test_after_sql_failure_rolls_the_query_back(run_yaml, tmp_path):
    db = tmp_path / "shop.db"
    execution = _run(
        run_yaml,
        f"""
  - id: write
    type: io.kestra.plugin.jdbc.duckdb.Query
    url: "jdbc:duckdb:{db}"
    allowFailure: true
    sql: CREATE TABLE t AS SELECT 1 AS n
    afterSQL: SELECT * FROM missing
  - id: check
    type: io.kestra.plugin.jdbc.duckdb.Query
    url: "jdbc:duckdb:{db}"
    sql: SELECT count(*) AS c FROM duckdb_tables() WHERE table_name = 't'
    fetchType: FETCH_ONE
""",
    )
    assert _task(execution, "write").error.startswith("afterSQL failed: Catalog Error")
    assert _task(execution, "check").outputs["row"] == {"c": 0}


def test_output_db_file_needs_a_file(run_yaml):
    execution, tr = _query(run_yaml, "    url: 'jdbc:duckdb::memory:'\n    outputDbFile: true")
    assert tr.state.current.value == "FAILED"
    assert tr.error.startswith("outputDbFile needs a database file")


def test_community_extension_failure_is_only_a_warning(run_yaml, monkeypatch):
    logs: list[tuple[str, str]] = []

    def on_event(event):
        if event.kind == "log":
            logs.append((event.level, event.message))

    import duckdb

    real_connect = duckdb.connect

    class NoNetwork:
        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            if isinstance(sql, str) and sql.startswith("INSTALL"):
                raise duckdb.IOException("no network in tests")
            return self.con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.con, name)

    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: NoNetwork(real_connect(*a, **k)))
    execution = run_yaml(
        HEAD + "tasks:\n  - id: q\n    type: io.kestra.plugin.jdbc.duckdb.Query\n"
        "    communityExtensions: [nope, 'bad name']\n    sql: SELECT 1 AS a\n"
        "    fetchType: FETCH_ONE\n",
        on_event=on_event,
    )
    _ok(execution)
    warnings = [m for level, m in logs if level == "WARN"]
    assert any("'nope'" in m and "no network in tests" in m for m in warnings)
    assert any("'bad name'" in m and "unsupported name" in m for m in warnings)


def test_unknown_tables_never_resolve_to_python_variables(run_yaml):
    # DuckDB's Python client would otherwise scan kflow's own locals ("statements").
    execution, tr = _query(run_yaml, "    fetchType: FETCH", "SELECT * FROM statements")
    assert tr.state.current.value == "FAILED"
    assert "Catalog Error: Table with name statements does not exist" in tr.error


def test_old_duckdb_is_refused_with_the_upgrade_command(run_yaml, monkeypatch):
    import duckdb

    monkeypatch.setattr(duckdb, "__version__", "1.3.2")
    execution, tr = _query(run_yaml, "")
    assert tr.error == (
        "the DuckDB task needs duckdb >= 1.4, found 1.3.2: pip install -U 'kflow[duckdb]'"
    )


def test_importing_the_task_does_not_import_duckdb():
    import subprocess

    code = "import sys, kflow.tasks.jdbc.duckdb_query; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_infinite_timestamps_do_not_crash(run_yaml, monkeypatch):
    monkeypatch.setattr(duckdb_query, "_worker_zone", lambda: timezone(timedelta(hours=5)))
    execution, tr = _query(
        run_yaml,
        "    fetchType: FETCH_ONE\n    timeZoneId: UTC",
        "SELECT 'infinity'::TIMESTAMP AS a, 'infinity'::DATE AS b, 'infinity'::TIMESTAMPTZ AS c",
    )
    _ok(execution)
    assert tr.outputs["row"] == {
        "a": "9999-12-31T23:59:59.999999Z",
        "b": "9999-12-31",
        "c": "9999-12-31T23:59:59.999999Z",
    }
