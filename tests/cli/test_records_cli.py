"""``kflow outputs`` across runs: task-output records listed, filtered, paged and exported;
the expression each row prints works in ``kflow eval --exec`` as printed; soft delete,
``kflow purge`` and organisations."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kflow.api import open_home, run_flow
from kflow.cli import app
from kflow.cli.records import parse_duration_back, parse_instant
from kflow.errors import UsageError
from kflow.expr.values import to_string
from kflow.taskoutputs import RecordQuery, expression, with_key
from tests.conftest import EXAMPLES
from tests.test_examples import EXAMPLE_ARGS

runner = CliRunner()

LOOP = """
id: loop
namespace: company.team
labels:
  env: ci
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["alpha", "beta"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "v-{{ taskrun.value }}"
  - id: last
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.inner['alpha'].value }}"
"""

SCRIPT = """
id: script
namespace: company.other
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    outputFiles: ["out.txt"]
    commands:
      - echo hello > out.txt
"""


def kflow(*args: str, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, list(args), env=env)
    return result


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = kflow(*args, env=env)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def run(write_flow: Any, text: str, name: str = "flow.yml") -> str:
    doc = json.loads(ok("run", str(write_flow(text, name)), "--json"))
    assert doc["state"]["current"] == "SUCCESS", doc
    return str(doc["id"])


def listing(*args: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(ok("outputs", "--json", *args))
    return doc


def test_records_newest_first_with_the_documents_fields(write_flow: Any) -> None:
    first = run(write_flow, LOOP)
    second = run(write_flow, LOOP)
    doc = listing("--limit", "100")
    data = doc["data"]
    assert doc["has_more"] is False and doc["next_after"] is None
    assert [r["flow_execution_id"] for r in data[:4]] == [second] * 4
    assert [r["flow_execution_id"] for r in data[4:]] == [first] * 4
    inner = next(r for r in data if r["iteration_value"] == "alpha")
    assert set(inner) >= {"id", "flow_execution_id", "organization_id", "task_name", "status",
                          "summary", "output", "tags", "created_at", "updated_at", "updated_by"}
    assert inner["organization_id"] == "local" and inner["updated_by"] == "system"
    assert inner["status"] == "completed" and inner["output"] == {"value": "v-alpha"}
    assert inner["tags"] == {"env": "ci", "system.correlationId": second,
                             "type": "io.kestra.plugin.core.debug.Return", "state": "SUCCESS"}
    assert inner["expression"] == "outputs.inner['alpha']"
    assert inner["iteration_index"] == 0
    # the record id is stable: the same in the execution view
    view = json.loads(ok("outputs", second, "--json"))
    by_run = {r["id"]: r for r in view["taskRuns"]}
    assert by_run[inner["task_run_id"]]["recordId"] == inner["id"]
    assert by_run[inner["task_run_id"]]["expression"] == "outputs.inner['alpha']"


def test_filters(write_flow: Any) -> None:
    run(write_flow, LOOP)
    run(write_flow, SCRIPT, "script.yml")
    assert {r["task_name"] for r in listing("--task", "inner")["data"]} == {"inner"}
    assert {r["task_name"] for r in listing("--flow", "script")["data"]} == {"sh"}
    assert {r["flow_id"] for r in listing("--namespace", "company.team")["data"]} == {"loop"}
    assert {r["task_name"] for r in listing("--tag", "env=ci", "--tag", "state=SUCCESS")["data"]} == {
        "each", "inner", "last"}  # fmt: skip
    shells = listing("--tag", "type=io.kestra.plugin.scripts.shell.Commands")["data"]
    assert [r["task_name"] for r in shells] == ["sh"]
    assert shells[0]["summary"] == {"exit_code": 0, "file_count": 1}
    assert listing("--status", "failed")["data"] == []
    assert len(listing("--status", "completed")["data"]) == 5
    assert len(listing("--since", "1h")["data"]) == 5
    assert len(listing("--since", "PT1H", "--until", "2999-01-01")["data"]) == 5
    assert listing("--until", "2000-01-01")["data"] == []
    assert len(listing("--since", "2000-01-01T00:00:00Z")["data"]) == 5


def test_pages_neither_skip_nor_repeat_while_runs_are_written(write_flow: Any) -> None:
    for _ in range(3):
        run(write_flow, LOOP)
    before = {r["id"] for r in listing("--limit", "1000")["data"]}
    seen: list[str] = []
    after: str | None = None
    writer_flow = write_flow(LOOP, "again.yml")
    # another writer (its own store connection, as another process would be)
    writer = threading.Thread(target=lambda: [run_flow(writer_flow) for _ in range(3)])
    writer.start()
    try:
        while True:
            page = listing("--limit", "5", *(("--after", after) if after else ()))
            seen += [r["id"] for r in page["data"]]
            if not page["has_more"]:
                break
            after = page["next_after"]
    finally:
        writer.join()
    assert len(seen) == len(set(seen)), "a record was listed twice"
    assert before <= set(seen), "a record that existed before the listing was skipped"


def test_table_says_how_to_get_the_next_page_and_jsonl_streams_everything(write_flow: Any) -> None:
    run(write_flow, LOOP)
    run(write_flow, LOOP)
    text = ok("outputs", "--task", "inner", "--limit", "3")
    assert "3 records shown; next page: kflow outputs --task inner --limit 3 --after " in text
    last_id = text.rsplit("--after ", 1)[1].split()[0]
    rest = ok("outputs", "--task", "inner", "--limit", "3", "--after", last_id)
    assert "1 record\n" in rest
    lines = ok("outputs", "--jsonl").splitlines()
    assert len(lines) == 8 and all(json.loads(line)["id"] for line in lines)
    assert len(ok("outputs", "--jsonl", "--limit", "2").splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--status", "done"], "--status 'done' is not a record status"),
        (["--since", "yesterday"], "--since 'yesterday' is not a duration"),
        (["--until", "2026-13-01"], "--until '2026-13-01' is not a date"),
        (["--tag", "env"], "--tag 'env' is not KEY=VALUE"),
        (["--limit", "0"], "--limit must be a whole number from 1 to 10,000"),
        (["--after", "nope"], "no task-output record with id 'nope' to page after"),
        (["--json", "--jsonl"], "--json and --jsonl cannot be used together"),
        (["last", "--since", "2h"], "--since filter the records across runs"),
        (["--delete"], "--delete needs the ids of the records to delete"),
    ],
)
def test_bad_options_are_one_clear_message(write_flow: Any, args: list[str], needle: str) -> None:
    run(write_flow, LOOP)
    result = kflow("outputs", *args)
    assert result.exit_code in (1, 2), result.output
    assert needle in result.output
    assert "Traceback" not in result.output


def test_every_row_of_every_example_evaluates_as_printed(kflow_home: Path) -> None:
    """Copy, paste, it works: the expression of each record, and of each of its outputs,
    given to `kflow eval --exec` prints the value the record holds."""
    cwd = os.getcwd()
    os.chdir(EXAMPLES)
    try:
        for flow in sorted(EXAMPLES.glob("*.yml")):
            ok("run", flow.name, *EXAMPLE_ARGS.get(flow.name, []))
    finally:
        os.chdir(cwd)
    checked = 0
    with open_home() as home:
        records = list(home.store.iter_records(RecordQuery(limit=None)))
    for record in records:
        if record.output is None:
            continue
        rows = [(record.expression, record.output)] + [
            (with_key(record.expression, key), value) for key, value in record.output.items()
        ]
        for text, value in rows:
            printed = ok("eval", "--exec", record.flow_execution_id, text)
            assert printed == to_string(value) + "\n", (record.flow_id, text)
            checked += 1
    assert checked > 40


def test_expressions_quote_what_pebble_cannot_read_as_a_name() -> None:
    assert expression("t") == "outputs.t"
    assert expression("my-task", ("a b", "it's")) == "outputs['my-task']['a b']['it\\'s']"
    assert with_key(expression("t", ("1",)), "not") == "outputs.t['1']['not']"
    assert with_key("outputs.t", "exitCode") == "outputs.t.exitCode"


def test_soft_delete_keeps_records_for_audit(write_flow: Any) -> None:
    eid = run(write_flow, LOOP)
    other = run(write_flow, LOOP)
    ids = [r["id"] for r in listing("--flow", "loop", "--task", "last")["data"]]
    out = ok("outputs", "--delete", ids[0], "--yes")
    assert "deleted 1 task-output record" in out
    assert ids[0] not in {r["id"] for r in listing()["data"]}
    deleted = [r for r in listing("--include-deleted")["data"] if r["id"] == ids[0]]
    assert deleted[0]["status"] == "deleted" and deleted[0]["updated_by"] != "system"
    assert deleted[0]["output"] == {"value": "v-alpha"}  # kept
    assert [r["id"] for r in listing("--status", "deleted")["data"]] == [ids[0]]
    # an unknown id deletes nothing
    result = kflow("outputs", "--delete", ids[1], "nope", "--yes")
    assert result.exit_code != 0 and "no task-output record with id 'nope'" in result.output
    assert ids[1] in {r["id"] for r in listing()["data"]}
    # a whole execution; its view and eval still show the outputs, marked deleted
    assert "deleted 4 task-output records" in ok("outputs", "--delete-execution", eid, "--yes")
    assert {r["flow_execution_id"] for r in listing()["data"]} == {other}
    view = json.loads(ok("outputs", eid, "--json"))
    assert {r["recordStatus"] for r in view["taskRuns"]} == {"deleted"}
    assert "SUCCESS (deleted)" in ok("outputs", eid)
    result = kflow("eval", "--exec", eid, "outputs.last.value")
    assert result.exit_code == 0 and result.stdout == "v-alpha\n"
    assert "soft-deleted task-output records" in result.stderr


def test_purge_removes_old_files_and_marks_records_stale(write_flow: Any, kflow_home: Path) -> None:
    eid = run(write_flow, SCRIPT, "script.yml")
    files = [p for p in (kflow_home / "storage").rglob("*") if p.is_file() and eid in str(p)]
    assert files
    assert "nothing to purge" in ok("purge", "--older-than", "1h", "--yes")
    out = ok("purge", "--older-than", "0s", "--yes")
    assert "1 task-output record marked stale" in out and "of 1 execution;" in out
    assert not any(p.exists() for p in files)
    (record,) = listing("--status", "stale")["data"]
    assert record["flow_execution_id"] == eid and record["output"]["outputFiles"]
    assert json.loads(ok("outputs", eid, "--json"))["taskRuns"][0]["recordStatus"] == "stale"


def test_organisations_see_their_own_records(write_flow: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("KFLOW_ORG", "local")  # --org sets it in this process: restored after
    run(write_flow, LOOP)
    acme = json.loads(ok("--org", "acme", "run", str(write_flow(LOOP, "a.yml")), "--json"))["id"]
    monkeypatch.setenv("KFLOW_ORG", "local")
    assert {r["organization_id"] for r in listing()["data"]} == {"local"}
    doc = json.loads(ok("--org", "acme", "outputs", "--json"))
    monkeypatch.setenv("KFLOW_ORG", "local")
    assert {r["flow_execution_id"] for r in doc["data"]} == {acme}
    assert {r["organization_id"] for r in doc["data"]} == {"acme"}
    bad = kflow("--org", "a b", "outputs")
    monkeypatch.setenv("KFLOW_ORG", "local")
    assert bad.exit_code == 2 and "invalid organisation 'a b'" in bad.output


def test_durations_and_instants() -> None:
    assert parse_duration_back("2h", "--since").total_seconds() == 7200
    assert parse_duration_back("1h30m", "--since").total_seconds() == 5400
    assert parse_duration_back("P1D", "--since").total_seconds() == 86400
    assert parse_duration_back("pt2h", "--since").total_seconds() == 7200
    with pytest.raises(UsageError):
        parse_duration_back("-2h", "--since")
    assert parse_instant("2026-12-01T10:00:00Z", "--since") == "2026-12-01T10:00:00.000000Z"
    assert parse_instant("2026-12-01T11:00:00+01:00", "--since") == "2026-12-01T10:00:00.000000Z"


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run kflow with stdin and stdout on a pseudo-terminal, answering ``answer``."""
    import pty
    import subprocess
    import sys
    import time

    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kflow", *args], stdin=follower,
                            stdout=follower, stderr=follower, close_fds=True)  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    while b"[y/N]" not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(leader, 4096)
        except OSError:
            break
    os.write(leader, answer.encode() + b"\n")
    code = proc.wait(30)
    try:
        while chunk := os.read(leader, 4096):
            seen += chunk
    except OSError:  # the terminal closed with the process
        pass
    os.close(leader)
    return code, seen.decode(errors="replace")


def test_a_terminal_is_asked_before_deleting_or_purging(write_flow: Any) -> None:
    eid = run(write_flow, LOOP)
    code, text = _on_a_terminal(["outputs", "--delete-execution", eid], "n")
    assert "soft-delete the 4 task-output records of execution" in text
    assert code == 2 and "nothing changed: not confirmed" in text
    assert len(listing()["data"]) == 4
    code, text = _on_a_terminal(["outputs", "--delete-execution", eid], "y")
    assert code == 0 and "deleted 4 task-output records" in text
    assert listing()["data"] == []
    code, text = _on_a_terminal(["purge", "--older-than", "0s"], "n")
    assert code == 2 and "remove the stored files of 1 execution that ended before" in text
