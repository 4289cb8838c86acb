"""Tests of ``kflow serve`` through real HTTP: helpers shared by test_api and test_openapi.

:class:`LiveServer` runs uvicorn in a thread on 127.0.0.1 (a free port) with the app of a
kflow home; :func:`build_home` fills a home by running real flows with ``python -m kflow
run`` (a ForEach, a script that stores files and an encrypted output, a SECRET input, a
failing task, one run of another organisation) and soft-deletes one record.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import kflow_cli

TOKEN = "test-token-" + "x" * 20

DEMO = """\
id: demo
namespace: company.team
inputs:
  - id: password
    type: SECRET
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b", "c"]
    tasks:
      - id: hello
        type: io.kestra.plugin.core.debug.Return
        format: "hi {{ taskrun.value }}"
  - id: write
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["out.txt", "numbers.csv"]
    commands:
      - echo hello-file > out.txt
      - seq 1 200000 > numbers.csv
      - echo '::{"encryptedOutputs":{"token":"s3cret-value"}}::'
"""

BROKEN = """\
id: broken
namespace: company.team
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "it broke"
"""

OTHER_ORG = """\
id: private
namespace: other.team
tasks:
  - id: hidden
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["private.txt"]
    commands:
      - echo other-org > private.txt
"""

SECRETS = ("s3cret-value", "hunter2")  # never in an API answer


def run_flow_cli(home: Path, flow: Path, *args: str, org: str | None = None) -> dict[str, Any]:
    """``kflow run --json`` into ``home``; the execution document."""
    env = {"KFLOW_HOME": str(home), "NO_COLOR": "1"}
    if org is not None:
        env["KFLOW_ORG"] = org
    proc = kflow_cli("run", str(flow), *args, "--json", env=env)
    assert proc.stdout.strip(), proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


@dataclass
class Data:
    """What build_home made: execution documents (as ``kflow run --json`` printed them)."""

    home: Path
    demo1: dict[str, Any]
    demo2: dict[str, Any]
    broken: dict[str, Any]
    other: dict[str, Any]
    deleted_record: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def write(dir_: Path, name: str, text: str) -> Path:
    path = dir_ / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def build_home(root: Path) -> Data:
    home = root / "home"
    flows = root / "flows"
    flows.mkdir(parents=True)
    demo = write(flows, "demo.yml", DEMO)
    demo1 = run_flow_cli(home, demo, "-i", "password=hunter2")
    demo2 = run_flow_cli(home, demo, "-i", "password=hunter2")
    broken = run_flow_cli(home, write(flows, "broken.yml", BROKEN))
    other = run_flow_cli(home, write(flows, "other.yml", OTHER_ORG), org="other")
    data = Data(home, demo1, demo2, broken, other)
    # soft-delete the record of demo1's "write" run (as `kflow outputs --delete` would)
    from kflow.api import open_home
    from kflow.taskoutputs import record_id

    write_run = next(t for t in demo1["taskRunList"] if t["taskId"] == "write")
    data.deleted_record = record_id(write_run["id"])
    with open_home(home) as h:
        assert h.store.organization_id == "local"
        assert h.store.delete_records([data.deleted_record], by="tester") == [data.deleted_record]
    return data


class LiveServer:
    """The API of a kflow home served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, home: Path, token: str = TOKEN) -> None:
        import uvicorn

        from kflow.api import open_home
        from kflow.server import create_app

        saved = os.environ.pop("KFLOW_ORG", None)
        try:
            self.home = open_home(home)
        finally:
            if saved is not None:
                os.environ["KFLOW_ORG"] = saved
        self.token = token
        config = uvicorn.Config(
            create_app(self.home, token), host="127.0.0.1", port=0, log_level="warning",
            lifespan="off", ws="none", access_log=False,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="kflow-serve-test", daemon=True)
        self.url = ""

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def client(self, token: str | None = None) -> httpx.Client:
        """A client sending ``token`` (the server's by default; "" for none)."""
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, trust_env=False)

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.home.close()


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """``response`` is an error answer in the one error shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "detail"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["code"].replace("_", "").isalpha() and body["code"].islower()
    if code is not None:
        assert body["code"] == code, body
    return body
