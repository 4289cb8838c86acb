"""``kflow serve`` through real HTTP: every endpoint and filter, pagination, the token,
the error shape, stored files, organisations, the CLI process itself, and speed."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import (
    SECRETS,
    TOKEN,
    Data,
    LiveServer,
    assert_error,
    build_home,
    run_flow_cli,
)

RECORD_KEYS = {
    "id", "flow_execution_id", "organization_id", "namespace", "flow_id", "task_name",
    "task_run_id", "task_type", "iteration_value", "iteration_index", "parent_task_run_id",
    "status", "summary", "output", "tags", "expression", "created_at", "updated_at",
    "updated_by",
}  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return build_home(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def server(data: Data) -> Iterator[LiveServer]:
    with LiveServer(data.home) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def get_json(api: httpx.Client, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def all_outputs(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    page = get_json(api, "/task-outputs", limit=1000, **params)
    assert page["has_more"] is False
    return list(page["data"])


def run_ids(execution: dict[str, Any], task: str | None = None) -> list[str]:
    return [t["id"] for t in execution["taskRunList"] if task is None or t["taskId"] == task]


# ------------------------------------------------------------------ /task-outputs
def test_list_task_outputs_newest_first_in_the_documents_shape(api: httpx.Client, data: Data):
    page = get_json(api, "/task-outputs")
    assert set(page) == {"data", "has_more"}
    records = all_outputs(api)
    assert page["data"] == records[:50]
    for record in records:
        assert set(record) == RECORD_KEYS
        assert record["organization_id"] == "local"
    # newest first: the failing run's output, then demo2's, then demo1's
    executions = [r["flow_execution_id"] for r in records]
    order = [data.broken["id"], data.demo2["id"], data.demo1["id"]]
    assert sorted(executions, key=order.index) == executions
    # one record per task run, the deleted one left out, the other organisation's absent
    expected = set(run_ids(data.broken) + run_ids(data.demo2) + run_ids(data.demo1))
    from kflow.taskoutputs import record_id

    expected.discard(next(t for t in expected if record_id(t) == data.deleted_record))
    assert {r["task_run_id"] for r in records} == expected
    hello_b = next(
        r for r in records
        if r["flow_execution_id"] == data.demo2["id"] and r["iteration_value"] == "b"
    )  # fmt: skip
    assert hello_b["task_name"] == "hello"
    assert hello_b["output"] == {"value": "hi b"}
    assert hello_b["iteration_index"] == 1
    assert hello_b["status"] == "completed"
    assert hello_b["tags"]["state"] == "SUCCESS"
    assert hello_b["task_type"] == "io.kestra.plugin.core.debug.Return"
    assert hello_b["expression"] == "outputs.hello['b']"


def test_encrypted_outputs_and_secret_inputs_stay_masked(api: httpx.Client, data: Data):
    write_record = next(
        r for r in all_outputs(api, flow_execution_id=data.demo2["id"]) if r["task_name"] == "write"
    )
    assert write_record["output"]["vars"]["token"] == "******"
    execution = get_json(api, f"/flow-executions/{data.demo2['id']}")
    assert execution["inputs"]["password"] == "******"
    answers = [
        api.get("/task-outputs", params={"limit": 1000}).text,
        api.get(f"/flow-executions/{data.demo2['id']}").text,
        api.get(f"/task-outputs/{write_record['id']}").text,
        api.get("/task-executions", params={"limit": 1000}).text,
    ]
    for text in answers:
        for secret in SECRETS:
            assert secret not in text
        assert "aes_encrypted" not in text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"task_name": "hello"}, lambda d: run_ids(d.demo2, "hello") + run_ids(d.demo1, "hello")),
        ({"status": "failed"}, lambda d: run_ids(d.broken)),
        ({"status": "completed", "task_name": "each"},
         lambda d: run_ids(d.demo2, "each") + run_ids(d.demo1, "each")),
        ({"task_name": "nope"}, lambda d: []),
        ({"status": "queued"}, lambda d: []),
    ],
)  # fmt: skip
def test_filters(api: httpx.Client, data: Data, params: dict[str, str], expected: Any):
    records = all_outputs(api, **params)
    assert sorted(r["task_run_id"] for r in records) == sorted(expected(data))
    for key, value in params.items():
        assert all(r[key] == value for r in records)


def test_filter_by_flow_execution(api: httpx.Client, data: Data):
    records = all_outputs(api, flow_execution_id=data.demo1["id"])
    # demo1's "write" record is deleted: left out unless status=deleted is asked
    assert {r["task_name"] for r in records} == {"each", "hello"}
    assert len(records) == 4
    assert all_outputs(api, flow_execution_id=data.other["id"]) == []  # another organisation
    assert all_outputs(api, flow_execution_id="no-such-execution") == []


def test_deleted_records_only_when_asked(api: httpx.Client, data: Data):
    deleted = all_outputs(api, status="deleted")
    assert [r["id"] for r in deleted] == [data.deleted_record]
    assert deleted[0]["updated_by"] == "tester"
    assert deleted[0]["output"]["outputFiles"]  # kept for audit
    assert data.deleted_record not in {r["id"] for r in all_outputs(api)}


def test_created_after_and_before(api: httpx.Client, data: Data):
    records = all_outputs(api)
    boom = next(r for r in records if r["task_name"] == "boom")
    cut = boom["created_at"]
    after = all_outputs(api, created_after=cut)
    assert [r["id"] for r in after] == [boom["id"]]  # the newest run, bound included
    before = all_outputs(api, created_before=cut)
    assert [r["id"] for r in before] == [r["id"] for r in records if r["id"] != boom["id"]]
    # dates, and date-times with an offset, are instants too
    assert all_outputs(api, created_after="2000-01-01") == records
    assert all_outputs(api, created_before="2000-01-01") == []
    assert all_outputs(api, created_after="2000-01-01T00:00:00+02:00") == records
    assert all_outputs(api, created_before="2999-12-31T23:59:59Z") == records
    # a window from midnight (a date) to an instant
    day = cut[:10]
    in_window = [r for r in before if r["created_at"] >= day]
    assert all_outputs(api, created_after=day, created_before=cut) == in_window


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "done"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2024-13-40"}, "created_before"),
    ],
)
def test_invalid_query_parameters_are_422_in_the_error_shape(
    api: httpx.Client, params: dict[str, Any], name: str
):
    body = assert_error(api.get("/task-outputs", params=params), 422, "validation_error")
    assert name in body["detail"]


def test_pagination_neither_skips_nor_repeats(api: httpx.Client):
    everything = [r["id"] for r in all_outputs(api)]
    assert len(everything) >= 10
    for size in (1, 2, 3, 7):
        seen: list[str] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": size}
            if after is not None:
                params["starting_after"] = after
            page = get_json(api, "/task-outputs", **params)
            assert len(page["data"]) <= size
            seen += [r["id"] for r in page["data"]]
            if not page["has_more"]:
                break
            assert len(page["data"]) == size
            after = page["data"][-1]["id"]
        assert seen == everything


def test_pagination_with_a_filter(api: httpx.Client, data: Data):
    expected = [r["id"] for r in all_outputs(api, task_name="hello")]
    first = get_json(api, "/task-outputs", task_name="hello", limit=4)
    assert first["has_more"] is True
    rest = get_json(
        api, "/task-outputs", task_name="hello", limit=4, starting_after=first["data"][-1]["id"]
    )
    assert rest["has_more"] is False
    assert [r["id"] for r in first["data"] + rest["data"]] == expected


def test_unknown_cursor_is_404(api: httpx.Client):
    body = assert_error(
        api.get("/task-outputs", params={"starting_after": "nope"}), 404, "cursor_not_found"
    )
    assert "starting_after" in body["detail"]


def test_pagination_while_runs_are_written(tmp_path: Path, write_flow: Any):
    """A run that lands while a client pages goes above the first page: the walk still
    returns each record that existed when it started exactly once."""
    home = tmp_path / "home"
    flow = write_flow(
        """
        id: loop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: ["1", "2", "3", "4", "5", "6"]
            tasks:
              - id: item
                type: io.kestra.plugin.core.debug.Return
                format: "{{ taskrun.value }}"
        """
    )
    run_flow_cli(home, flow)
    with LiveServer(home) as live, live.client() as api:
        before = [r["id"] for r in all_outputs(api)]
        page = get_json(api, "/task-outputs", limit=3)
        seen = [r["id"] for r in page["data"]]
        run_flow_cli(home, flow)  # 7 new records while the client pages
        while page["has_more"]:
            page = get_json(api, "/task-outputs", limit=3, starting_after=seen[-1])
            seen += [r["id"] for r in page["data"]]
        assert seen == before
        assert len(all_outputs(api)) == 2 * len(before)


# ------------------------------------------------------------------ /task-outputs/{id}
def test_get_one_task_output(api: httpx.Client, data: Data):
    listed = all_outputs(api)[0]
    assert get_json(api, f"/task-outputs/{listed['id']}") == listed
    deleted = get_json(api, f"/task-outputs/{data.deleted_record}")
    assert deleted["status"] == "deleted"


def test_unknown_task_output_is_404(api: httpx.Client, data: Data):
    assert_error(api.get("/task-outputs/no-such-id"), 404, "record_not_found")
    from kflow.taskoutputs import record_id

    other = record_id(run_ids(data.other)[0])  # exists, in another organisation
    assert_error(api.get(f"/task-outputs/{other}"), 404, "record_not_found")


# ------------------------------------------------------------------ /flow-executions/{id}
def test_flow_execution_with_its_task_outputs(api: httpx.Client, data: Data):
    execution = get_json(api, f"/flow-executions/{data.demo1['id']}")
    for key in ("id", "namespace", "flowId", "flowRevision", "state", "inputs", "outputs",
                "labels"):  # fmt: skip
        assert key in execution
    assert execution["id"] == data.demo1["id"]
    assert execution["namespace"] == "company.team"
    assert execution["flowId"] == "demo"
    assert execution["state"]["current"] == "SUCCESS"
    assert execution["state"]["endDate"]
    assert "taskRunList" not in execution
    outputs = execution["task_outputs"]
    assert [o["task_run_id"] for o in outputs] == run_ids(data.demo1)  # run order
    assert all(set(o) == RECORD_KEYS for o in outputs)
    statuses = {o["id"]: o["status"] for o in outputs}
    assert statuses[data.deleted_record] == "deleted"  # deleted ones included
    assert {s for k, s in statuses.items() if k != data.deleted_record} == {"completed"}

    failed = get_json(api, f"/flow-executions/{data.broken['id']}")
    assert failed["state"]["current"] == "FAILED"
    assert [o["status"] for o in failed["task_outputs"]] == ["failed"]


def test_unknown_flow_execution_is_404(api: httpx.Client, data: Data):
    assert_error(api.get("/flow-executions/no-such-execution"), 404, "execution_not_found")
    assert_error(api.get(f"/flow-executions/{data.demo1['id'][:8]}"), 404, "execution_not_found")
    assert_error(api.get("/flow-executions/last"), 404, "execution_not_found")
    assert_error(api.get(f"/flow-executions/{data.other['id']}"), 404, "execution_not_found")


# ------------------------------------------------------------------ /task-executions
def test_task_executions_with_state_attempts_and_timings(api: httpx.Client, data: Data):
    page = get_json(api, "/task-executions", flow_execution_id=data.broken["id"])
    assert page["has_more"] is False
    (boom,) = page["data"]
    assert boom["id"] == run_ids(data.broken)[0]
    assert boom["task_name"] == "boom"
    assert boom["state"] == "FAILED"
    assert boom["status"] == "failed"
    assert boom["error"] == "it broke"
    assert boom["start_date"] <= boom["end_date"]
    assert boom["duration"].startswith("PT")
    assert [h["state"] for h in boom["state_history"]] == ["CREATED", "RUNNING", "FAILED"]
    assert [a["state"] for a in boom["attempts"]] == ["FAILED"]
    assert get_json(api, f"/task-outputs/{boom['task_output_id']}")["task_run_id"] == boom["id"]

    runs = get_json(api, "/task-executions", flow_execution_id=data.demo1["id"], limit=1000)
    # every run, the one whose output was deleted too, newest first (as their records)
    assert sorted(r["id"] for r in runs["data"]) == sorted(run_ids(data.demo1))
    hello = [r for r in runs["data"] if r["task_name"] == "hello"]
    assert [r["iteration_value"] for r in hello] == ["c", "b", "a"]
    assert all(r["state"] == "SUCCESS" and r["end_date"] and r["attempts"] for r in hello)
    assert {r["parent_task_run_id"] for r in hello} == set(run_ids(data.demo1, "each"))


def test_task_executions_filter_and_pagination(api: httpx.Client, data: Data):
    everything = get_json(api, "/task-executions", limit=1000)
    ids = [r["id"] for r in everything["data"]]
    assert set(ids) == set(run_ids(data.demo1) + run_ids(data.demo2) + run_ids(data.broken))
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 4}
    while True:
        page = get_json(api, "/task-executions", **params)
        seen += [r["id"] for r in page["data"]]
        if not page["has_more"]:
            break
        params["starting_after"] = page["data"][-1]["id"]
    assert seen == ids
    hello = get_json(api, "/task-executions", task_name="hello", limit=1000)["data"]
    assert sorted(r["id"] for r in hello) == sorted(
        run_ids(data.demo1, "hello") + run_ids(data.demo2, "hello")
    )
    assert_error(
        api.get("/task-executions", params={"starting_after": "nope"}), 404, "cursor_not_found"
    )
    assert_error(api.get("/task-executions", params={"limit": 5000}), 422, "validation_error")


# ------------------------------------------------------------------ /files
def output_files(data: Data, execution: dict[str, Any]) -> dict[str, str]:
    run = next(t for t in execution["taskRunList"] if t["taskId"] == "write")
    files: dict[str, str] = run["outputs"]["outputFiles"]
    return files


def test_files_are_streamed_with_their_type(api: httpx.Client, data: Data):
    files = output_files(data, data.demo2)
    response = api.get("/files", params={"uri": files["out.txt"]})
    assert response.status_code == 200
    assert response.text == "hello-file\n"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-length"] == str(len("hello-file\n"))
    assert "attachment" in response.headers["content-disposition"]
    # a larger file arrives in several chunks, whole
    expected = "".join(f"{i}\n" for i in range(1, 200001)).encode()
    with api.stream("GET", "/files", params={"uri": files["numbers.csv"]}) as streamed:
        assert streamed.status_code == 200
        assert streamed.headers["content-type"].startswith("text/csv")
        chunks = list(streamed.iter_raw())
    assert b"".join(chunks) == expected
    assert len(expected) > 1 << 20


def test_uris_outside_the_storage_root_are_refused(api: httpx.Client, data: Data):
    (data.home / "storage" / "escape").symlink_to(data.home)
    for uri in (
        "kestra:///../kflow.db",
        "kestra:///company/../../kflow.db",
        "kestra:///company/%2e%2e/%2e%2e/kflow.db",
        "kestra:///escape/kflow.db",  # a symlink out of the storage
        "kestra://host/file",
        "file:///etc/passwd",
        "/etc/passwd",
    ):
        body = assert_error(api.get("/files", params={"uri": uri}), 400, "invalid_uri")
        assert "kflow.db" not in api.get("/files", params={"uri": uri}).headers.get(
            "content-disposition", ""
        )
        assert body["detail"]


def test_missing_files(api: httpx.Client, data: Data):
    uri = output_files(data, data.demo2)["out.txt"]
    assert_error(api.get("/files", params={"uri": uri + ".nope"}), 404, "file_not_found")
    assert_error(api.get("/files", params={"uri": uri.rsplit("/", 1)[0]}), 400, "invalid_uri")
    assert_error(api.get("/files"), 422, "validation_error")


def test_another_organisations_files_are_not_served(api: httpx.Client, data: Data):
    run = data.other["taskRunList"][0]
    uri = run["outputs"]["outputFiles"]["private.txt"]
    assert (data.home / "storage" / uri.removeprefix("kestra:///")).is_file()
    assert_error(api.get("/files", params={"uri": uri}), 404, "file_not_found")


# ------------------------------------------------------------------ auth and errors
def test_every_request_needs_the_token(server: LiveServer, data: Data):
    paths = [
        "/task-outputs", f"/task-outputs/{data.deleted_record}", f"/flow-executions/{data.demo1['id']}",
        "/task-executions", "/openapi.json", "/files?uri=kestra:///x", "/no-such-path",
    ]  # fmt: skip
    with server.client(token="") as anonymous, server.client(token="wrong" + TOKEN) as wrong:
        for path in paths:
            body = assert_error(anonymous.get(path), 401, "unauthorized")
            assert "Authorization" in body["detail"]
            assert anonymous.get(path).headers["www-authenticate"].startswith("Bearer")
            assert_error(wrong.get(path), 401, "unauthorized")
        for header in (f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}", "Bearer", "Bearer  x",
                       f"Bearer {TOKEN}x", b"Bearer \xe9"):  # fmt: skip
            response = anonymous.get("/task-outputs", headers={"Authorization": header})
            assert_error(response, 401, "unauthorized")
        ok = anonymous.get("/task-outputs", headers={"Authorization": f"bearer {TOKEN}"})
        assert ok.status_code == 200
    with server.client() as api:
        assert api.get("/openapi.json").status_code == 200
        assert api.get("/task-outputs").status_code == 200


def test_unknown_paths_and_methods_answer_in_the_error_shape(api: httpx.Client):
    assert_error(api.get("/no-such-path"), 404, "not_found")
    assert_error(api.get("/docs"), 404, "not_found")
    assert_error(api.post("/task-outputs"), 405, "method_not_allowed")
    assert_error(api.delete("/task-outputs/x"), 405, "method_not_allowed")


def test_internal_errors_answer_in_the_error_shape(tmp_path: Path, write_flow: Any):
    home = tmp_path / "home"
    run_flow_cli(home, write_flow(BROKEN_FLOW))
    with LiveServer(home) as live, live.client() as api:

        def broken(query: Any) -> Any:
            raise RuntimeError("a bug")

        live.home.store.list_records = broken  # type: ignore[method-assign]
        body = assert_error(api.get("/task-outputs"), 500, "internal_error")
        assert "RuntimeError" in body["detail"] and "a bug" not in body["detail"]


BROKEN_FLOW = """
id: broken
namespace: company.team
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
"""


# ------------------------------------------------------------------ the CLI
def test_non_loopback_address_without_a_token_is_refused():
    env = {k: v for k, v in os.environ.items() if k != "KFLOW_TOKEN"}
    for host in ("0.0.0.0", "::"):
        proc = subprocess.run(
            [sys.executable, "-m", "kflow", "serve", "--host", host, "--port", "0"],
            capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert f"refusing to serve on {host} without a token" in proc.stderr
        assert "--token" in proc.stderr and "KFLOW_TOKEN" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""


def test_unusable_tokens_and_hosts_are_refused(cli: Any):
    proc = cli("serve", "--token", "", "--port", "0")
    assert proc.returncode == 2 and "empty" in proc.stderr, proc.stderr
    proc = cli("serve", "--token", "two words", "--port", "0")
    assert proc.returncode == 2 and "printable ASCII" in proc.stderr, proc.stderr
    proc = cli("serve", "--host", "no-such-host.invalid", "--token", "t", "--port", "0")
    assert proc.returncode == 2 and "cannot listen on" in proc.stderr, proc.stderr
    assert not any("Traceback" in p.stderr for p in [proc])


def test_a_port_in_use_is_one_clear_error(server: LiveServer, cli: Any):
    port = server.url.rsplit(":", 1)[1]
    proc = cli("serve", "--port", port, "--token", TOKEN)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "--port 0" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_server_extra_is_a_usage_error(tmp_path: Path):
    code = (
        "import sys; sys.modules['fastapi'] = None; sys.argv = ['kflow', 'serve']; "
        "from kflow.cli import main; main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "kflow serve needs the server extra" in proc.stderr
    assert "pip install 'kflow[server]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def start_serve(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``python -m kflow serve`` as a process; the line it printed at start."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kflow", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if not line.startswith("kflow serve: "):
        proc.kill()
        raise AssertionError(line + proc.stderr.read())
    return proc, line


def stop(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Ctrl-C; the exit code, stdout and the rest of stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, out, err


def test_kflow_serve_process_generates_a_token_on_loopback(
    data: Data, monkeypatch: pytest.MonkeyPatch
):
    env = {"KFLOW_HOME": str(data.home)}
    monkeypatch.delenv("KFLOW_TOKEN", raising=False)
    proc, line = start_serve(env=env)
    try:
        # kflow serve: http://127.0.0.1:PORT  token: TOKEN
        parts = line.split()
        url, token = parts[2], parts[4]
        assert url.startswith("http://127.0.0.1:") and parts[3] == "token:"
        assert len(token) >= 40
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
            assert_error(client.get("/task-outputs"), 401, "unauthorized")
            auth = {"Authorization": f"Bearer {token}"}
            page = client.get("/task-outputs", headers=auth).json()
            assert {r["flow_execution_id"] for r in page["data"]} == {
                data.demo1["id"], data.demo2["id"], data.broken["id"],
            }  # fmt: skip
            uri = output_files(data, data.demo1)["out.txt"]
            assert client.get("/files", params={"uri": uri}, headers=auth).text == "hello-file\n"
    finally:
        code, out, err = stop(proc)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert out == ""


def test_kflow_serve_process_with_the_token_from_the_environment_and_org(data: Data):
    env = {"KFLOW_HOME": str(data.home), "KFLOW_TOKEN": TOKEN}
    proc, line = start_serve("--host", "localhost", env=env)
    try:
        assert TOKEN not in line and "KFLOW_TOKEN" in line
        url = line.split()[2]
        with httpx.Client(base_url=url, trust_env=False, timeout=30,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:  # fmt: skip
            assert client.get("/task-outputs").status_code == 200
    finally:
        code, _, _ = stop(proc)
    assert code == 130
    # `kflow --org other serve`: the other organisation's records only
    proc, line = start_org(data, "other")
    try:
        url = line.split()[2]
        with httpx.Client(base_url=url, trust_env=False, timeout=30,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:  # fmt: skip
            records = client.get("/task-outputs").json()["data"]
            assert [r["flow_execution_id"] for r in records] == [data.other["id"]]
            assert records[0]["organization_id"] == "other"
            assert client.get(f"/flow-executions/{data.other['id']}").status_code == 200
            assert_error(client.get(f"/flow-executions/{data.demo1['id']}"), 404)
            uri = output_files(data, data.demo1)["out.txt"]
            assert_error(client.get("/files", params={"uri": uri}), 404, "file_not_found")
    finally:
        stop(proc)


def start_org(data: Data, org: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kflow", "--org", org, "serve", "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "KFLOW_HOME": str(data.home)},
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if not line.startswith("kflow serve: "):
        proc.kill()
        raise AssertionError(line + proc.stderr.read())
    return proc, line


# ------------------------------------------------------------------ speed
def test_a_page_of_50_records_under_100_ms_with_100000_records(tmp_path: Path):
    """The performance target: a page of 50 from a running server, 100,000 records in
    the store (written through the store's own interface, as runs write them)."""
    from kflow.api import open_home
    from kflow.records import Execution, StateHistory, TaskRun
    from kflow.states import State

    home = tmp_path / "home"
    with open_home(home) as h:
        for e in range(4):
            execution = Execution(id=f"perf{e}", namespace="perf", flow_id="big")
            h.store.create_execution(execution, "id: big\nnamespace: perf\ntasks: []\n")
            for i in range(25_000):
                state = StateHistory()
                state.set(State.RUNNING)
                state.set(State.SUCCESS)
                h.store.save_taskrun(execution, TaskRun(
                    id=f"r{e}-{i}", execution_id=execution.id, namespace="perf", flow_id="big",
                    task_id=f"t{i % 7}", task_type="io.kestra.plugin.core.debug.Return",
                    value=str(i), iteration=i, state=state, outputs={"value": f"v{i}"}, seq=i,
                ))  # fmt: skip
        h.store.flush()
    with LiveServer(home) as live, live.client() as api:
        timings: dict[str, list[float]] = {}
        for path, params in (
            ("/task-outputs", {}),
            ("/task-outputs", {"task_name": "t3"}),
            ("/task-outputs", {"flow_execution_id": "perf2"}),
            ("/task-outputs", {"created_after": "2000-01-01"}),
        ):
            after = None
            spent = timings.setdefault(f"{path} {params}", [])
            for _ in range(20):
                query = {**params, **({"starting_after": after} if after else {})}
                start = time.perf_counter()
                response = api.get(path, params=query)
                spent.append(time.perf_counter() - start)
                assert response.status_code == 200
                page = response.json()
                assert len(page["data"]) == 50 and page["has_more"]
                after = page["data"][-1]["id"]
        assert len(get_json(api, "/task-outputs", limit=1000)["data"]) == 1000
        for name, spent in timings.items():
            assert statistics.median(spent) < 0.1, (name, spent)
            assert max(spent) < 0.5, (name, spent)
