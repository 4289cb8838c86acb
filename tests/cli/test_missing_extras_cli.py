"""A flow using Avro without fastavro installed, through the real command line: ``run``
refuses it before any task runs (exit 2, the ``pip install`` line); ``validate`` warns and
exits 0. fastavro is hidden from the child process by a ``sitecustomize`` that makes its
import fail, as on a machine without the extra."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import kflow_cli

FLOW = """id: avro_flow
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: this must not run
  - id: w
    type: io.kestra.plugin.core.storage.Write
    content: "{a:1}"
    extension: .ion
  - id: to_avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ outputs.w.uri }}"
"""

BLOCKER = """import importlib.abc, sys

class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "fastavro":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Hide())
"""


def _env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    return {"PYTHONPATH": str(site)}


def test_run_refuses_and_validate_warns(tmp_path: Path) -> None:
    flow = tmp_path / "avro_flow.yml"
    flow.write_text(FLOW)
    env = _env(tmp_path)

    run = kflow_cli("run", str(flow), env=env)
    assert run.returncode == 2, run.stderr
    assert "avro_flow.yml:12:5: task 'to_avro'" in run.stderr
    assert "needs the optional package 'fastavro'" in run.stderr
    assert "pip install 'kflow[avro]'" in run.stderr
    assert "Traceback" not in run.stderr
    listed = kflow_cli("executions", "--json", env=env)
    assert json.loads(listed.stdout) == []  # nothing ran, nothing was recorded

    check = kflow_cli("validate", str(flow), env=env)
    assert check.returncode == 0, check.stderr
    assert "warning:" in check.stderr and "pip install 'kflow[avro]'" in check.stderr

    # with the package importable, the same flow runs
    ok = kflow_cli("run", str(flow))
    assert ok.returncode == 0, ok.stderr
