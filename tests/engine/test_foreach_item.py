"""ForEachItem (issue 15): batches of a stored file, one subflow execution each, the
generated <id>_split / <id>_items / <id>_merge task runs. Flows from Kestra's
core/src/test/resources/flows/valids/for-each-item*.yaml (kestra-io/kestra 58c1ca2d),
asserts from ForEachItemCaseTest (102 lines of 20 characters, so 26 batches of 4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kflow.api import open_home
from kflow.storage.local import LocalStorage
from tests.conftest import by_task, states

SUBFLOW = """
id: for-each-item-subflow
namespace: io.kestra.tests

inputs:
  - id: items
    type: STRING

tasks:
  - id: per-item
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.items }}"
"""
SUBFLOW_FAILED = """
id: for-each-item-subflow-failed
namespace: io.kestra.tests

inputs:
  - id: items
    type: STRING

tasks:
  - id: per-item
    type: io.kestra.plugin.core.execution.Fail
"""
SUBFLOW_OUTPUTS = """
id: for-each-item-outputs-subflow
namespace: io.kestra.tests

inputs:
  - id: items
    type: STRING

tasks:
  - id: return
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.items) }}"

outputs:
  - id: value
    value: "{{ outputs.return.value }}"
    type: STRING
"""


def main(flow_id: str, subflow: str, batch: str = "rows: 4", wait: bool = True) -> str:
    return f"""
id: {flow_id}
namespace: io.kestra.tests

inputs:
  - id: file
    type: FILE

tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "{{{{ inputs.file }}}}"
    batch:
      {batch}
    namespace: io.kestra.tests
    flowId: {subflow}
    wait: {str(wait).lower()}
    transmitFailed: true
    inputs:
      items: "{{{{ taskrun.items }}}}"
"""


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    for name, text in (("sub", SUBFLOW), ("failed", SUBFLOW_FAILED), ("outputs", SUBFLOW_OUTPUTS)):
        (folder / f"{name}.yml").write_text(text)
    return folder


@pytest.fixture
def items(tmp_path: Path) -> Path:
    path = tmp_path / "file.txt"
    path.write_text("".join(f"{i:>20}\n" for i in range(102)))
    return path


def children(parent_id: str) -> list:
    with open_home() as home:
        return [home.store.get_execution(c.id) for c in home.store.children(parent_id)]


def read(home: Path, uri: str) -> str:
    with LocalStorage(home / "storage").open(uri) as fh:
        return fh.read().decode()


def test_for_each_item(run_yaml, flows, items, kflow_home):
    # for-each-item.yaml (batch rows from an input) / ForEachItemCaseTest.forEachItem
    text = main("for-each-item", "for-each-item-subflow", 'rows: "{{inputs.batch}}"')
    text = text.replace("    type: FILE\n", "    type: FILE\n  - id: batch\n    type: INT\n")
    ex = run_yaml(text, {"file": str(items), "batch": "4"}, flows_dir=flows)
    assert ex.state.current.value == "SUCCESS"
    assert [tr.task_id for tr in ex.task_runs] == ["each", "each_split", "each_items", "each_merge"]
    assert [tr.task_type.rsplit(".", 1)[-1] for tr in ex.task_runs] == [
        "ForEachItem",
        "ForEachItem$ForEachItemSplit",
        "ForEachItem$ForEachItemExecutable",
        "ForEachItem$ForEachItemMergeOutputs",
    ]
    each = ex.task_runs[0]
    assert {tr.parent_taskrun_id for tr in ex.task_runs[1:]} == {each.id}
    items_run = ex.task_runs[2]
    assert len(items_run.attempts) == 1
    assert items_run.outputs["numberOfBatches"] == 26
    assert items_run.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 26}
    assert items_run.outputs["subflowOutputsBaseUri"] == (
        f"/io/kestra/tests/for-each-item/executions/{ex.id}/tasks/each-items/{items_run.id}"
    )
    assert ex.task_runs[3].outputs == {}  # the subflow has no outputs: nothing to merge

    split = ex.task_runs[1].outputs["splits"]
    batches = read(kflow_home, split).split("\n")
    assert len(batches) == 26
    assert read(kflow_home, batches[0]) == "".join(f"{i:>20}\n" for i in range(4))
    assert read(kflow_home, batches[-1]) == "".join(f"{i:>20}\n" for i in range(100, 102))

    subs = children(ex.id)
    assert len(subs) == 26
    pattern = r"kestra:///io/kestra/tests/for-each-item/executions/.*/tasks/each-split/.*\.txt"
    for sub in subs:
        assert sub.flow_id == "for-each-item-subflow"
        assert sub.state.current.value == "SUCCESS"
        assert re.fullmatch(pattern, sub.inputs["items"])
        assert len(sub.task_runs) == 1
        assert {"key": "system.correlationId", "value": ex.id} in sub.labels
    assert sorted(s.inputs["items"] for s in subs) == sorted(batches)


def test_subflow_outputs_are_merged(run_yaml, flows, items, kflow_home):
    # for-each-item-outputs.yaml / ForEachItemCaseTest.forEachItemWithSubflowOutputs
    text = (
        main("for-each-item-outputs", "for-each-item-outputs-subflow")
        + """
  - id: return
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.each_merge.subflowOutputs }}"
"""
    )
    ex = run_yaml(text, {"file": str(items)}, flows_dir=flows)
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 5
    assert ex.task_runs[2].outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "SUCCESS": 26}
    merged = ex.task_runs[3].outputs["subflowOutputs"]
    assert merged.endswith(f"/tasks/each-merge/{ex.task_runs[3].id}/outputs.ion")
    assert by_task(ex, "return")[0].outputs == {"value": merged}
    lines = read(kflow_home, merged).splitlines()
    assert len(lines) == 26  # one line per subflow
    first = "".join(f"{i:>20}\\n" for i in range(4))
    assert lines[0] == '{value:"' + first + '"}'
    base = ex.task_runs[2].outputs["subflowOutputsBaseUri"]
    assert read(kflow_home, f"kestra://{base}/26/outputs.ion").startswith("{value:")


def test_failed_subflows(run_yaml, flows, items):
    # for-each-item-failed.yaml / ForEachItemCaseTest.forEachItemFailed: 3 task runs
    ex = run_yaml(main("for-each-item-failed", "for-each-item-subflow-failed"), {"file": str(items)},
                  flows_dir=flows)  # fmt: skip
    assert ex.state.current.value == "FAILED"
    assert [tr.task_id for tr in ex.task_runs] == ["each", "each_split", "each_items"]
    items_run = ex.task_runs[2]
    assert len(items_run.attempts) == 1
    assert items_run.attempts[0].current.value == "FAILED"
    assert items_run.outputs["numberOfBatches"] == 26
    assert items_run.outputs["iterations"] == {"CREATED": 0, "RUNNING": 0, "FAILED": 26}
    assert all(s.state.current.value == "FAILED" for s in children(ex.id))


def test_no_wait(run_yaml, flows, items):
    # for-each-item-no-wait.yaml / ForEachItemCaseTest.forEachItemNoWait
    ex = run_yaml(main("for-each-item-no-wait", "for-each-item-subflow", wait=False),
                  {"file": str(items)}, flows_dir=flows)  # fmt: skip
    assert ex.state.current.value == "SUCCESS"
    assert len(ex.task_runs) == 4
    outputs = ex.task_runs[2].outputs
    assert outputs["numberOfBatches"] == 26
    assert outputs["iterations"] == {"RUNNING": 0, "SUCCESS": 26}
    subs = children(ex.id)
    assert len(subs) == 26  # all ended: a run waits for its background subflows
    assert all(s.state.current.value == "SUCCESS" for s in subs)


@pytest.mark.parametrize(
    ("batch", "count"),
    [("partitions: 5", 5), ("bytes: 100B", 21), ("rows: 1", 102), ("rows: 200", 1)],
)
def test_batch_sizes(run_yaml, flows, items, batch, count):
    ex = run_yaml(main("batches", "for-each-item-subflow", batch), {"file": str(items)},
                  flows_dir=flows)  # fmt: skip
    assert ex.state.current.value == "SUCCESS"
    assert ex.task_runs[2].outputs["numberOfBatches"] == count


def test_items_must_be_a_stored_file(run_yaml, flows):
    ex = run_yaml(
        """
id: bad
namespace: io.kestra.tests
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEachItem
    items: "/tmp/file.txt"
    namespace: io.kestra.tests
    flowId: for-each-item-subflow
""",
        flows_dir=flows,
    )
    assert states(ex) == {"each": "FAILED", "each_split": "FAILED"}
    assert by_task(ex, "each_split")[0].error == (
        "Unable to split the items from /tmp/file.txt, this is not an internal storage URI!"
    )


def test_empty_file_starts_nothing(run_yaml, flows, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    ex = run_yaml(main("empty", "for-each-item-outputs-subflow"), {"file": str(empty)},
                  flows_dir=flows)  # fmt: skip
    assert ex.state.current.value == "SUCCESS"
    assert [tr.outputs for tr in ex.task_runs[2:]] == [{}, {}]
    assert children(ex.id) == []


def test_legacy_name_and_missing_subflow(run_yaml, flows, items):
    text = main("legacy", "no-such-flow").replace(
        "io.kestra.plugin.core.flow.ForEachItem", "io.kestra.core.tasks.flows.ForEachItem"
    )
    ex = run_yaml(text, {"file": str(items)}, flows_dir=flows)
    assert ex.state.current.value == "FAILED"
    assert states(ex)["each_items"] == "FAILED"
    assert "no-such-flow" in by_task(ex, "each_items")[0].error


def test_labels_and_inherited_labels(run_yaml, flows, items):
    text = main("labelled", "for-each-item-subflow", "partitions: 2").replace(
        "    transmitFailed: true\n",
        "    transmitFailed: true\n    inheritLabels: true\n    labels:\n      batch: nightly\n",
    )
    text = text.replace(
        "namespace: io.kestra.tests\n\ninputs",
        "namespace: io.kestra.tests\nlabels:\n  team: data\n\ninputs",
        1,
    )
    ex = run_yaml(text, {"file": str(items)}, flows_dir=flows)
    assert ex.state.current.value == "SUCCESS"
    subs = children(ex.id)
    assert len(subs) == 2
    for sub in subs:
        labels = {label["key"]: label["value"] for label in sub.labels}
        assert labels == {"team": "data", "batch": "nightly", "system.correlationId": ex.id}
