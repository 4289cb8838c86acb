"""``kflow download``: a stored file copied out, streamed, never overwriting silently."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.conftest import kflow_cli

SCRIPT = """
id: script
namespace: company.team
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    outputFiles: ["out.txt", "big.bin"]
    commands:
      - printf 'hello\\n' > out.txt
      - head -c 3000000 /dev/zero | tr '\\0' 'x' > big.bin
"""


def _run(write_flow: Any) -> dict[str, Any]:
    proc = kflow_cli("run", str(write_flow(SCRIPT)), "--json")
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def test_download_by_name_by_uri_to_a_directory_and_to_stdout(write_flow: Any, tmp_path: Path) -> None:
    doc = _run(write_flow)
    files = doc["taskRunList"][0]["outputs"]["outputFiles"]
    out = tmp_path / "out"
    out.mkdir()
    proc = kflow_cli("download", "last", "sh", "out.txt", cwd=out)
    assert proc.returncode == 0, proc.stderr
    assert (out / "out.txt").read_bytes() == b"hello\n"
    assert "-> out.txt (6 bytes)" in proc.stderr and proc.stdout == ""
    # a second time: refused, the file kept; --force replaces it
    (out / "out.txt").write_text("mine")
    proc = kflow_cli("download", "last", "sh", "out.txt", cwd=out)
    assert proc.returncode == 2 and "out.txt exists: not overwritten" in proc.stderr
    assert (out / "out.txt").read_text() == "mine"
    assert kflow_cli("download", "last", "sh", "out.txt", "--force", cwd=out).returncode == 0
    assert (out / "out.txt").read_bytes() == b"hello\n"
    # by URI, into a directory (the name without its id prefix), and to stdout
    sub = out / "sub"
    sub.mkdir()
    assert kflow_cli("download", files["big.bin"], "-o", str(sub)).returncode == 0
    assert (sub / "big.bin").stat().st_size == 3_000_000
    assert not [p for p in sub.iterdir() if p.name.endswith(".part")]
    proc = kflow_cli("download", files["out.txt"], "-o", "-")
    assert proc.returncode == 0 and proc.stdout == "hello\n"


def test_bad_sources_are_one_clear_message(write_flow: Any, tmp_path: Path) -> None:
    _run(write_flow)
    for args, needle in [
        (["kestra:///../../etc/passwd"], "outside the internal storage"),
        (["kestra:///company/team/script/nope.txt"], "no file in internal storage"),
        (["./local.txt"], "download takes one kestra:/// URI or EXEC TASK FILE"),
        (["last", "sh", "missing.txt"], "missing.txt"),
    ]:
        proc = kflow_cli("download", *args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert os.listdir(tmp_path) == [p for p in os.listdir(tmp_path) if not p.endswith(".part")]
