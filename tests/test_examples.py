"""Every flow in examples/ runs, and the seed documents' flows give the outputs they describe
(seed 000: Kestra's "Workflow Outputs" guide)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import EXAMPLES, kflow_cli, run_json

DATE = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z"

# inputs an example needs to run
EXAMPLE_ARGS = {"bash_with_files.yml": ["-i", "file=@data.txt"]}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yml")))
def test_every_example_runs(name):
    code, doc = run_json(name, *EXAMPLE_ARGS.get(name, []), cwd=EXAMPLES)
    assert code == 0, doc
    assert doc["state"]["current"] == "SUCCESS"


def outputs_of(doc, task_id):
    return [r["outputs"] for r in doc["taskRunList"] if r["taskId"] == task_id]


def evaluate(exec_id, expression, *options):
    proc = kflow_cli("eval", "--exec", exec_id, expression, *options, cwd=EXAMPLES)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout[:-1] if proc.stdout.endswith("\n") else proc.stdout


def test_task_outputs_example():
    _, doc = run_json("task_outputs_example.yml", cwd=EXAMPLES)
    assert outputs_of(doc, "produce_output") == [{"value": f"my output {doc['id']}"}]
    assert outputs_of(doc, "use_output") == [{}]
    logs = kflow_cli("logs", doc["id"], "--task", "use_output", cwd=EXAMPLES).stdout
    assert f"The previous task output is my output {doc['id']}" in logs


def test_flow_outputs_and_parent_flow():
    _, doc = run_json("flow_outputs.yml", cwd=EXAMPLES)
    assert doc["outputs"] == {"final": "this is a task output used as a final flow output"}
    _, parent = run_json("parent_flow.yml", cwd=EXAMPLES)
    sub = outputs_of(parent, "subflow")[0]
    assert sub["state"] == "SUCCESS"
    assert sub["outputs"] == {"final": "this is a task output used as a final flow output"}
    assert sub["executionId"] != parent["id"]
    assert evaluate(parent["id"], "{{ outputs.subflow.outputs.final }}") == (
        "this is a task output used as a final flow output"
    )
    linked = kflow_cli("outputs", parent["id"], "--json", cwd=EXAMPLES).stdout
    assert sub["executionId"] in linked


@pytest.mark.parametrize(
    ("value", "expected", "main_state"),
    [(None, "Hello World!", "SUCCESS"), ("true", "Hello World!", "SUCCESS"),
     ("false", "fallback output", "SKIPPED")],
)
def test_conditionally_return_output(value, expected, main_state):
    args = ["-i", f"run_task={value}"] if value is not None else []
    _, doc = run_json("conditionally_return_output.yml", *args, cwd=EXAMPLES)
    assert doc["outputs"] == {"flow_output": expected}
    main = [r for r in doc["taskRunList"] if r["taskId"] == "main"][0]
    assert main["state"]["current"] == main_state


def test_json_values_and_debug_expression():
    _, doc = run_json("json_values.yml", cwd=EXAMPLES)
    assert outputs_of(doc, "sample_json") == [{"value": '{"data": [1, 2, 3]}'}]
    proc = kflow_cli("eval", "--exec", "last",
                     "{{ outputs.sample_json.value | jq('.data') | first }}", cwd=EXAMPLES)
    assert proc.returncode == 0 and proc.stdout == "[1,2,3]\n"


def test_taskrun_value_example():
    _, doc = run_json("taskrun_value_example.yml", cwd=EXAMPLES)
    inner = [r for r in doc["taskRunList"] if r["taskId"] == "inner"]
    each_id = [r for r in doc["taskRunList"] if r["taskId"] == "each"][0]["id"]
    assert [r["value"] for r in inner] == ["alpha", "beta", "gamma"]
    assert all(r["parentTaskRunId"] == each_id for r in inner)
    for r in inner:
        assert re.fullmatch(rf"inner > {r['value']} > {DATE}", r["outputs"]["value"])


def test_loop_sequentially_over_list():
    _, doc = run_json("loop_sequentially_over_list.yml", cwd=EXAMPLES)
    assert [o["value"] for o in outputs_of(doc, "inner")] == [
        "my-key > my-value",
        'my-complex > {"sub":1,"bool":true}',
    ]


def test_output_sample():
    _, doc = run_json("output_sample.yml", cwd=EXAMPLES)
    use = outputs_of(doc, "use")[0]["value"]
    assert re.fullmatch(rf"Previous task produced output: sub > s1 > {DATE}", use)


def test_dynamic_looping():
    _, doc = run_json("dynamic_looping.yml", cwd=EXAMPLES)
    assert outputs_of(doc, "end") == [{"value": "end > alpha"}]


def test_sibling_tasks():
    _, doc = run_json("sibling_tasks.yml", cwd=EXAMPLES)
    assert outputs_of(doc, "second") == [{"values": {"data": "hello from task 1"}}]
    assert evaluate(doc["id"], "{{ outputs.second.values.data }}") == "hello from task 1"


def test_loop_with_sibling_tasks():
    _, doc = run_json("loop_with_sibling_tasks.yml", cwd=EXAMPLES)
    assert [o["values"]["data"] for o in outputs_of(doc, "second")] == [
        "First value: alpha", "First value: beta", "First value: gamma",
    ]
    logs = kflow_cli("logs", doc["id"], "--task", "log_output_from_foreach", cwd=EXAMPLES).stdout
    assert "First value: alpha" in logs


def test_bash_with_files():
    _, doc = run_json("bash_with_files.yml", "-i", "file=@data.txt", cwd=EXAMPLES)
    out = outputs_of(doc, "rename")[0]
    assert out["exitCode"] == 0 and list(out["outputFiles"]) == ["output.tmp"]
    assert doc["inputs"]["file"].startswith("kestra:///company/team/bash-with-files/executions/")
    content = evaluate(doc["id"], "{{ read(outputs.rename.outputFiles['output.tmp']) }}")
    assert content == "hello from an uploaded file"


def test_encryped_output():
    _, doc = run_json("encryped_output.yml", cwd=EXAMPLES)
    vars_ = outputs_of(doc, "hello")[0]["vars"]
    assert vars_["plaintext"] == "plaintext_value"
    assert "my secret value" not in str(doc)
    # as Kestra's Debug Expression: the stored, encrypted form; --decrypt for the plaintext
    shown = json.loads(evaluate(doc["id"], "{{ outputs.hello['vars']['encrypted'] }}"))
    assert shown == outputs_of(doc, "hello")[0]["vars"]["encrypted"]
    assert shown["type"] == "io.kestra.datatype:aes_encrypted"
    assert evaluate(doc["id"], "{{ outputs.hello['vars']['encrypted'] }}", "--decrypt") == (
        "my secret value"
    )
    table = kflow_cli("outputs", doc["id"], cwd=EXAMPLES).stdout
    assert "my secret value" not in table


def test_query_to_csv():
    # the outputs guide's "Internal storage" flow: the query's Ion rows converted by IonToCsv
    _, doc = run_json("query_to_csv.yml", cwd=EXAMPLES)
    [query] = outputs_of(doc, "output_from_query")
    assert query["size"] == 3 and query["uri"].endswith(".ion")
    [csv_out] = outputs_of(doc, "write_to_csv")
    assert csv_out["size"] == 3 and csv_out["uri"].endswith(".csv")
    content = evaluate(doc["id"], "{{ read(outputs.write_to_csv.uri) }}")
    assert content == (
        "datehour,title,views\n"
        "2023-06-01T10:00:00.000Z,Main_Page,109787\n"
        "2023-06-01T10:00:00.000Z,Special:Search,20513\n"
        "2023-06-01T09:00:00.000Z,Main_Page,98012\n"
    )


def test_files_chain_then_preview():
    # DuckDB → IonToCsv → Split → Concat, then the result through `kflow preview`
    _, doc = run_json("files_chain.yml", cwd=EXAMPLES)
    [split] = outputs_of(doc, "split")
    assert len(split["uris"]) == 3  # 5 rows in parts of 2
    parts = [evaluate(doc["id"], "{{ read('" + uri + "') }}") for uri in split["uris"]]
    # DuckDB types the prices DECIMAL(3,2): Kestra's BigDecimal keeps the scale
    assert parts == ["1,apple,1.25\n2,pear,0.50\n", "3,fig,3.00\n4,kiwi,0.75\n", "5,plum,2.00\n"]
    uri = evaluate(doc["id"], "{{ outputs.concat.uri }}")
    assert evaluate(doc["id"], "{{ read(outputs.concat.uri) }}") == "".join(parts)
    shown = kflow_cli("preview", uri, "--rows", "2", "--format", "text", cwd=EXAMPLES)
    assert shown.returncode == 0, shown.stderr
    # a CSV's first line is its header; --rows counts the rows under it
    assert shown.stdout == "1,apple,1.25\n2,pear,0.50\n3,fig,3.00\n"
    assert "more remain" in shown.stderr  # never a silent cut, and stdout stays clean
    exported = kflow_cli("preview", uri, "--to", "jsonl", cwd=EXAMPLES)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[0] == '{"1":"2","apple":"pear","1.25":"0.50"}'
