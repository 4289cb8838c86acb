"""``kflow run --namespace-files [NAMESPACE=]DIR`` and the default ``_files/<namespace>/``
folder beside the flow."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kflow.cli import app
from tests.conftest import EXAMPLES, kflow_cli
from tests.conftest import run_json as run_example

runner = CliRunner()

FLOW = """
id: ns-cli
namespace: company.team
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('greet.txt') | trim }}|{{ fileExists('other.txt', namespace='company.other') }}"
outputs:
  - id: said
    type: STRING
    value: "{{ outputs.r.value }}"
"""


def folder(root: Path, rel: str, files: dict[str, str]) -> Path:
    path = root / rel
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    return path


def run_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["run", *args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_default_folder_beside_the_flow(write_flow, tmp_path):
    folder(tmp_path, "_files/company.team", {"greet.txt": "beside the flow\n"})
    folder(tmp_path, "_files/company.other", {"other.txt": "x"})
    code, doc = run_json(str(write_flow(FLOW)))
    assert code == 0
    assert doc["outputs"] == {"said": "beside the flow|true"}


def test_given_folders(write_flow, tmp_path):
    folder(tmp_path, "_files/company.team", {"greet.txt": "default"})
    mine = folder(tmp_path, "mine", {"greet.txt": "given"})
    other = folder(tmp_path, "other_ns", {"other.txt": "x"})
    flow = str(write_flow(FLOW))
    code, doc = run_json(flow, "--namespace-files", str(mine))
    assert code == 0 and doc["outputs"] == {"said": "given|false"}
    code, doc = run_json(
        flow, "--namespace-files", str(mine), "--namespace-files", f"company.other={other}"
    )
    assert code == 0 and doc["outputs"] == {"said": "given|true"}


def test_a_missing_folder_is_a_usage_error(write_flow, tmp_path):
    result = runner.invoke(
        app, ["run", str(write_flow(FLOW)), "--namespace-files", str(tmp_path / "nope")]
    )
    assert result.exit_code == 2
    assert f"--namespace-files: {tmp_path / 'nope'} is not a directory" in result.output


def test_two_folders_for_one_namespace(write_flow, tmp_path):
    a, b = folder(tmp_path, "a", {}), folder(tmp_path, "b", {})
    a.mkdir(exist_ok=True)
    b.mkdir(exist_ok=True)
    result = runner.invoke(
        app,
        ["run", str(write_flow(FLOW)), "--namespace-files", str(a), "--namespace-files", str(b)],
    )
    assert result.exit_code == 2
    assert "--namespace-files: two folders for the flow's namespace" in result.output


def test_missing_namespace_file_fails_the_run(write_flow, tmp_path):
    """A real process: exit 1, Kestra's message on the failed task."""
    flow = write_flow(FLOW)
    proc = kflow_cli("run", str(flow), "--json", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["state"]["current"] == "FAILED"
    assert "read(): File '/greet.txt' was not found in namespace 'company.team'." in proc.stdout


def test_upload_from_the_cli_lands_in_the_folder(write_flow, tmp_path):
    target = folder(tmp_path, "_files/company.team", {})
    target.mkdir(parents=True, exist_ok=True)
    flow = write_flow("""
id: up
namespace: company.team
tasks:
  - id: w
    type: io.kestra.plugin.core.storage.Write
    content: "uploaded"
  - id: up
    type: io.kestra.plugin.core.namespace.UploadFiles
    filesMap:
      greet.txt: "{{ outputs.w.uri }}"
""")
    code, _ = run_json(str(flow))
    assert code == 0
    assert (target / "greet.txt").read_text() == "uploaded"
    code, doc = run_json(str(write_flow(FLOW, name="read.yml")))
    assert code == 0 and doc["outputs"] == {"said": "uploaded|false"}


def test_the_example_reads_its_folder():
    code, doc = run_example("namespace_files.yml", cwd=EXAMPLES)
    assert code == 0, doc
    assert doc["outputs"] == {"sql": "SELECT name, total FROM sales ORDER BY total DESC LIMIT 3"}
