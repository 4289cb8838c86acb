"""``read_ion(...)`` in DuckDB queries without the ``ion`` community extension.

Kestra's DuckDB plugin loads the ``ion`` extension by default; kflow rewrites the call over
``read_json`` of a converted copy. Expected rows and types follow the extension's own
``test/sql/ion_read.test`` (kestra-io/duckdb-ion): decimals as DECIMAL(18,scale), blobs as
BLOB, timestamps WITH TIME ZONE, ``records := false`` as one ``ion`` column,
``format := 'array'``, lists of files and globs, unknown options refused.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kflow.errors import TaskError
from kflow.tasks.jdbc.read_ion import rewrite
from tests.conftest import by_task

SAMPLE = (
    '{bigint:1, varchar:"two", bool:true, decimal:12.340, timestamptz:2020-01-02T03:04:05.678Z,'
    " blob:{{AQID}}}\n"
    '{bigint:2, varchar:"three"}\n'
    "{bool:false}\n"
)


def query(sql: str, tmp_path: Path) -> list[tuple[object, ...]]:
    temp = tmp_path / "conv"
    temp.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(rewrite(sql, tmp_path, temp)).fetchall()  # type: ignore[no-any-return]


def test_rows_and_types_as_the_extension_gives_them(tmp_path: Path) -> None:
    (tmp_path / "sample.ion").write_text(SAMPLE)
    rows = query(
        "SELECT bigint, varchar, bool, decimal::VARCHAR,"
        " strftime(timestamptz::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ'), hex(blob)"
        " FROM read_ion('sample.ion')",
        tmp_path,
    )
    assert rows == [
        (1, "two", True, "12.340", "2020-01-02T03:04:05.678000Z", "010203"),
        (2, "three", None, None, None, None),
        (None, None, False, None, None, None),
    ]
    types = query(
        "SELECT typeof(bigint), typeof(decimal), typeof(timestamptz), typeof(blob)"
        " FROM read_ion('sample.ion') LIMIT 1",
        tmp_path,
    )
    assert types == [("BIGINT", "DECIMAL(18,3)", "TIMESTAMP WITH TIME ZONE", "BLOB")]


def test_options(tmp_path: Path) -> None:
    (tmp_path / "sample.ion").write_text(SAMPLE)
    (tmp_path / "scalars.ion").write_text("1\n2\n3\n")
    (tmp_path / "array.ion").write_text('[{bigint:1, varchar:"two"}, {bigint:2, varchar:"x"}]')
    (tmp_path / "multi_1.ion").write_text("{a:1}\n{a:2}\n")
    (tmp_path / "multi_2.ion").write_text("{a:3}\n")
    assert query(
        "SELECT bigint, varchar FROM read_ion('sample.ion',"
        " columns := {bigint: 'BIGINT', varchar: 'VARCHAR', bool: 'BOOLEAN'})",
        tmp_path,
    ) == [(1, "two"), (2, "three"), (None, None)]
    assert query("SELECT ion FROM read_ion('scalars.ion', records := 'false')", tmp_path) == [
        (1,), (2,), (3,),
    ]
    assert query("SELECT bigint FROM read_ion('array.ion', format := 'array')", tmp_path) == [
        (1,), (2,),
    ]
    assert query("SELECT count(*) FROM read_ion('multi_[12].ion')", tmp_path) == [(3,)]
    assert query(
        "SELECT count(*) FROM read_ion(['multi_1.ion', 'multi_2.ion'])", tmp_path
    ) == [(3,)]


def test_literals_and_comments_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "sample.ion").write_text(SAMPLE)
    sql = "SELECT 'read_ion(' AS s -- read_ion('nope.ion')\n, count(*) FROM READ_ION('sample.ion')"
    assert query(sql, tmp_path) == [("read_ion(", 3)]
    assert rewrite("SELECT my_read_ion('x')", tmp_path, tmp_path) == "SELECT my_read_ion('x')"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM read_ion('sample.ion', foo := 1)", 'Invalid named parameter "foo"'),
        ("SELECT * FROM read_ion('missing.ion')", "no file matches 'missing.ion'"),
        ("SELECT * FROM read_ion('sample.ion'", "not closed"),
        ("SELECT * FROM read_ion('bad.ion')", "bad.ion: invalid Ion at line 2"),
    ],
)
def test_refusals(tmp_path: Path, sql: str, message: str) -> None:
    (tmp_path / "sample.ion").write_text(SAMPLE)
    (tmp_path / "bad.ion").write_text("{a:1}\n{a:]}\n")
    with pytest.raises(TaskError, match=message):
        rewrite(sql, tmp_path, tmp_path)


def test_a_flow_reads_a_stored_ion_file(run_yaml) -> None:  # type: ignore[no-untyped-def]
    ex = run_yaml(
        """
        id: ri
        namespace: company.team
        tasks:
          - id: q
            type: io.kestra.plugin.jdbc.duckdb.Query
            sql: SELECT 1 AS id, 'a' AS name, 1.25::DECIMAL(10,2) AS amount
                 UNION ALL SELECT 2, 'b', 3.5 ORDER BY id
            fetchType: STORE
          - id: r
            type: io.kestra.plugin.jdbc.duckdb.Query
            inputFiles:
              data.ion: "{{ outputs.q.uri }}"
            sql: SELECT name, amount, typeof(amount) AS t FROM read_ion('data.ion') ORDER BY id
            afterSQL: SELECT count(*) FROM read_ion('data.ion')
            fetchType: FETCH
        """
    )
    assert ex.state.current.value == "SUCCESS", ex.task_runs
    assert by_task(ex, "r")[-1].outputs["rows"] == [
        {"name": "a", "amount": 1.25, "t": "DECIMAL(18,2)"},
        {"name": "b", "amount": 3.5, "t": "DECIMAL(18,2)"},
    ]
