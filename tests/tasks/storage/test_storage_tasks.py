"""Storage task types (io.kestra.plugin.core.storage.*) run through real flows."""

from __future__ import annotations

import re

from kflow.storage.local import LocalStorage
from tests.conftest import by_task, states

HEAD = "id: st\nnamespace: company.team\ntasks:\n"


def read(home, uri: str) -> bytes:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read()


def exists(home, uri: str) -> bool:
    return LocalStorage(home / "storage").exists(uri)


def out(ex, task_id: str) -> dict:
    return by_task(ex, task_id)[-1].outputs


def prefix(ex, task_id: str) -> str:
    tr = by_task(ex, task_id)[-1]
    return f"kestra:///company/team/st/executions/{ex.id}/tasks/{task_id.replace('_', '-')}/{tr.id}/"


def test_write_size_concat(run_yaml, kflow_home):
    ex = run_yaml(HEAD + """
  - {id: w1, type: io.kestra.plugin.core.storage.Write, content: "héllo {{ flow.id }}", extension: .txt}
  - {id: w2, type: io.kestra.plugin.core.storage.Write, content: "world"}
  - {id: size, type: io.kestra.plugin.core.storage.Size, uri: "{{ outputs.w1.uri }}"}
  - id: cat
    type: io.kestra.plugin.core.storage.Concat
    files: ["{{ outputs.w1.uri }}", "{{ outputs.w2.uri }}"]
    separator: "\\n--{{ x }}\\n"
    extension: .csv
  - id: cat_json
    type: io.kestra.plugin.core.storage.Concat
    files: '["{{ outputs.w2.uri }}", "{{ outputs.w2.uri }}"]'
""")
    assert ex.state.current.value == "SUCCESS", ex.task_runs
    w1 = out(ex, "w1")["uri"]
    assert re.fullmatch(re.escape(prefix(ex, "w1")) + r"\d+\.txt", w1)
    assert read(kflow_home, w1) == "héllo st".encode()
    assert re.fullmatch(re.escape(prefix(ex, "w2")) + r"\d+\.tmp", out(ex, "w2")["uri"])
    assert out(ex, "size") == {"size": 9}
    cat = out(ex, "cat")["uri"]
    assert cat.startswith(prefix(ex, "cat")) and cat.endswith(".csv")
    # separator is used unrendered and written after every file
    assert read(kflow_home, cat) == "héllo st\n--{{ x }}\nworld\n--{{ x }}\n".encode()
    assert read(kflow_home, out(ex, "cat_json")["uri"]) == b"worldworld"


def test_reverse(run_yaml, kflow_home):
    ex = run_yaml(HEAD + """
  - {id: w, type: io.kestra.plugin.core.storage.Write, content: "a\\nb\\r\\nc\\n", extension: .txt}
  - {id: rev, type: io.kestra.plugin.core.storage.Reverse, from: "{{ outputs.w.uri }}"}
  - {id: rev2, type: io.kestra.core.tasks.storages.Reverse, from: "{{ outputs.w.uri }}", separator: ";"}
""")
    assert ex.state.current.value == "SUCCESS"
    uri = out(ex, "rev")["uri"]
    assert uri.startswith(prefix(ex, "rev")) and uri.endswith(".txt")
    assert read(kflow_home, uri) == b"c\nb\na\n"
    assert read(kflow_home, out(ex, "rev2")["uri"]) == b"c;b;a;"


def test_split(run_yaml, kflow_home):
    ex = run_yaml(HEAD + """
  - {id: w, type: io.kestra.plugin.core.storage.Write, content: "1\\n22\\n333\\n4444\\n55555", extension: .csv}
  - {id: rows, type: io.kestra.plugin.core.storage.Split, from: "{{ outputs.w.uri }}", rows: 2}
  - {id: bytes, type: io.kestra.plugin.core.storage.Split, from: "{{ outputs.w.uri }}", bytes: "5B"}
  - {id: parts, type: io.kestra.plugin.core.storage.Split, from: "{{ outputs.w.uri }}", partitions: 3}
  - {id: many, type: io.kestra.core.tasks.storages.Split, from: "{{ outputs.w.uri }}", partitions: 8, separator: ","}
""")
    assert ex.state.current.value == "SUCCESS", ex.task_runs

    def contents(task_id):
        uris = out(ex, task_id)["uris"]
        assert all(u.startswith(prefix(ex, task_id)) and u.endswith(".csv") for u in uris)
        return [read(kflow_home, u) for u in uris]

    assert contents("rows") == [b"1\n22\n", b"333\n4444\n", b"55555\n"]
    assert contents("bytes") == [b"1\n22\n", b"333\n4444\n", b"55555\n"]
    assert contents("parts") == [b"1\n4444\n", b"22\n55555\n", b"333\n"]
    assert contents("many") == [b"1,", b"22,", b"333,", b"4444,", b"55555,"]


def test_split_without_size_fails(run_yaml):
    ex = run_yaml(HEAD + """
  - {id: w, type: io.kestra.plugin.core.storage.Write, content: "a"}
  - {id: s, type: io.kestra.plugin.core.storage.Split, from: "{{ outputs.w.uri }}"}
""")
    assert states(ex)["s"] == "FAILED"
    assert "Invalid configuration with no size, count, nor rows" in by_task(ex, "s")[0].error


def test_delete(run_yaml, kflow_home):
    ex = run_yaml(HEAD + """
  - {id: w, type: io.kestra.plugin.core.storage.Write, content: "x"}
  - {id: d1, type: io.kestra.plugin.core.storage.Delete, uri: "{{ outputs.w.uri }}"}
  - {id: d2, type: io.kestra.core.tasks.storages.Delete, uri: "{{ outputs.w.uri }}"}
  - {id: d3, type: io.kestra.plugin.core.storage.Delete, uri: "{{ outputs.w.uri }}", errorOnMissing: true}
""")
    uri = out(ex, "w")["uri"]
    assert out(ex, "d1") == {"uri": uri, "deleted": True}
    assert not exists(kflow_home, uri)
    assert out(ex, "d2") == {"uri": uri, "deleted": False}
    assert states(ex)["d3"] == "FAILED"
    assert f"Unable to find file '{uri}'" in by_task(ex, "d3")[0].error


def test_size_of_missing_file_fails(run_yaml):
    ex = run_yaml(HEAD + """
  - {id: s, type: io.kestra.core.tasks.storages.Size, uri: "kestra:///company/team/st/executions/{{ execution.id }}/nope.txt"}
""")
    assert states(ex)["s"] == "FAILED"
    assert "Unable to find file" in by_task(ex, "s")[0].error


def test_purge_current_execution_files(run_yaml, kflow_home):
    ex = run_yaml(HEAD + """
  - {id: w1, type: io.kestra.plugin.core.storage.Write, content: "one"}
  - {id: w2, type: io.kestra.core.tasks.storages.Write, content: "two"}
  - {id: purge, type: io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles}
  - {id: again, type: io.kestra.core.tasks.storages.PurgeExecution}
""")
    assert ex.state.current.value == "SUCCESS"
    written = [out(ex, "w1")["uri"], out(ex, "w2")["uri"]]
    assert sorted(out(ex, "purge")["uris"]) == sorted(written)
    assert not any(exists(kflow_home, u) for u in written)
    assert out(ex, "again") == {"uris": []}


def test_refuses_uris_outside_the_execution(run_yaml, kflow_home):
    first = run_yaml(HEAD + "  - {id: w, type: io.kestra.plugin.core.storage.Write, content: kept}\n")
    other = out(first, "w")["uri"]
    ex = run_yaml(HEAD + f"""
  - {{id: size, type: io.kestra.plugin.core.storage.Size, uri: "{other}"}}
  - {{id: del, type: io.kestra.plugin.core.storage.Delete, uri: "{other}", allowFailure: true}}
  - {{id: cat, type: io.kestra.plugin.core.storage.Concat, files: ["{other}"], allowFailure: true}}
  - {{id: rev, type: io.kestra.plugin.core.storage.Reverse, from: "{other}", allowFailure: true}}
  - {{id: spl, type: io.kestra.plugin.core.storage.Split, from: "{other}", rows: 1, allowFailure: true}}
  - {{id: dots, type: io.kestra.plugin.core.storage.Size, uri: "kestra:///company/../../etc/passwd", allowFailure: true}}
""".replace("size, type", "size, allowFailure: true, type"))
    for task_id in ("size", "del", "cat", "rev", "spl"):
        assert "didn't belong to the current execution" in by_task(ex, task_id)[0].error, task_id
    assert "outside the internal storage" in by_task(ex, "dots")[0].error
    assert read(kflow_home, other) == b"kept"


def test_concat_invalid_files_type(run_yaml):
    ex = run_yaml(HEAD + "  - {id: c, type: io.kestra.plugin.core.storage.Concat, files: {a: 1}}\n")
    assert states(ex)["c"] == "FAILED"
    assert "Invalid `files` properties with type" in by_task(ex, "c")[0].error


WRITE_ITEMS = """
  - id: w
    type: io.kestra.plugin.core.storage.Write
    extension: .ion
    content: |
      {id:1,value:3,name:"a"}
      {id:2,value:null,name:"b"}
      {id:1,value:7,name:"c"}
      {id:3,value:5,name:"d"}
"""


def test_filter_items_include_exclude_and_null_behaviour(run_yaml, kflow_home):
    ex = run_yaml(HEAD + WRITE_ITEMS + """  - id: big
    type: io.kestra.core.tasks.storages.FilterItems
    from: "{{ outputs.w.uri }}"
    filterCondition: "{{ value > 4 }}"
    errorOrNullBehavior: EXCLUDE
  - id: not_null
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.w.uri }}"
    filterCondition: "{{ value == null }}"
    filterType: EXCLUDE
  - id: lenient
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.w.uri }}"
    filterCondition: "{{ nope.x }}"
    errorOrNullBehavior: INCLUDE
  - id: strict
    type: io.kestra.plugin.core.storage.FilterItems
    from: "{{ outputs.w.uri }}"
    filterCondition: "{{ nope.x }}"
    allowFailure: true
""")
    big = out(ex, "big")
    assert big["processedItemsTotal"] == 4 and big["droppedItemsTotal"] == 2
    assert read(kflow_home, big["uri"]) == b'{id:1,value:7,name:"c"}\n{id:3,value:5,name:"d"}\n'
    assert big["uri"].startswith(prefix(ex, "big")) and big["uri"].endswith(".ion")
    kept = read(kflow_home, out(ex, "not_null")["uri"]).decode().splitlines()
    assert [line.split("name:")[1] for line in kept] == ['"a"}', '"c"}', '"d"}']
    # a null value prints as nothing (falsy); an expression that fails follows
    # errorOrNullBehavior: INCLUDE keeps every item, FAIL (the default) fails the task
    assert out(ex, "lenient")["droppedItemsTotal"] == 0
    (strict,) = by_task(ex, "strict")
    assert strict.state.current.value == "WARNING"
    assert strict.error == "Unable to find `nope` used in the expression `{{ nope.x }}` at line 1"


def test_deduplicate_items_keeps_the_last_of_each_key(run_yaml, kflow_home):
    ex = run_yaml(HEAD + WRITE_ITEMS + """  - id: dedup
    type: io.kestra.plugin.core.storage.DeduplicateItems
    from: "{{ outputs.w.uri }}"
    expr: "{{ id }}"
""")
    assert ex.state.current.value == "SUCCESS", ex.task_runs
    o = out(ex, "dedup")
    assert (o["numKeys"], o["processedItemsTotal"], o["droppedItemsTotal"]) == (3, 4, 1)
    # the last item of key 1 survives, in the place it had; the order of survivors is kept
    assert read(kflow_home, o["uri"]) == (
        b'{id:2,value:null,name:"b"}\n{id:1,value:7,name:"c"}\n{id:3,value:5,name:"d"}\n'
    )
