"""The README's tour runs when pasted: each ``$`` line, in order, in the repository, with
``kflow`` on the PATH as the README tells users to put it. Each must exit 0, and the lines
the README shows under a command must appear in what it printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tour() -> list[tuple[str, list[str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## A short tour") :]
    block = re.search(r"```console\n(.*?)```", section, re.DOTALL)
    assert block, "the tour's console block is missing"
    steps: list[tuple[str, list[str]]] = []
    for line in block.group(1).splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif line.strip():
            steps[-1][1].append(line)
    return steps


def test_the_tour_has_the_commands_a_user_needs() -> None:
    commands = " ".join(cmd for cmd, _ in tour())
    for needed in ("kflow run", "kflow eval", "kflow outputs", "kflow logs", "kflow preview",
                   "kflow validate", "-i file=@examples/data.txt", "--json"):  # fmt: skip
        assert needed in commands, needed
    assert "flow.yml " not in commands and "..." not in commands  # no placeholders


def test_the_tour_runs_when_pasted(tmp_path: Path) -> None:
    env = dict(os.environ, KFLOW_HOME=str(tmp_path / "home"))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("COLUMNS", None)
    for command, expected in tour():
        proc = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert proc.returncode == 0, f"$ {command}\nexit {proc.returncode}\n{proc.stderr}"
        for line in expected:
            assert line in proc.stdout, f"$ {command}\nexpected {line!r} in:\n{proc.stdout}"
