"""Acceptance cases: Kestra's behaviour checked through kflow's command line.

Runs the shared runner (``../shared/acceptance/run.py``, beside the repository) twice:
on the shared sample cases and on this repository's cases (``tests/acceptance/cases``).
Each runner invocation prints one ``PASS``/``FAIL`` line per case and a final
``N passed, M failed`` line. The runner executes cases one after another, so the case
files are split into a few chunks run in parallel (each chunk is a temporary directory
holding copies of its case files); every chunk must end with ``0 failed``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).resolve().parents[2] / "shared" / "acceptance" / "run.py"
SHARED_CASES = RUNNER.parent / "flows"
OUR_CASES = Path(__file__).resolve().parent / "acceptance" / "cases"

FINAL_LINE = re.compile(r"^(\d+) passed, (\d+) failed$")
CHUNKS = max(1, min(4, os.cpu_count() or 1))
TIMEOUT = 1800  # seconds for one chunk


def _case_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))


def _run_chunks(cases_dir: Path, tmp_path: Path) -> tuple[int, int, list[str]]:
    files = _case_files(cases_dir)
    assert files, f"no case files in {cases_dir}"
    chunks = [files[i::CHUNKS] for i in range(CHUNKS)]
    kflow = f"{shlex.quote(sys.executable)} -m kflow"
    procs = []
    for index, chunk in enumerate(c for c in chunks if c):
        chunk_dir = tmp_path / f"chunk{index}"
        chunk_dir.mkdir()
        for path in chunk:
            shutil.copy(path, chunk_dir / path.name)
        argv = [sys.executable, str(RUNNER), "--kflow", kflow, "--cases", str(chunk_dir)]
        procs.append(
            subprocess.Popen(
                argv,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    passed = failed = 0
    problems: list[str] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=TIMEOUT)
        lines = [line for line in out.splitlines() if line.strip()]
        last = lines[-1] if lines else ""
        match = FINAL_LINE.match(last)
        if not match:
            problems.append(f"runner did not finish normally; last line: {last!r}")
            problems.extend(lines[-20:])
            continue
        passed += int(match.group(1))
        failed += int(match.group(2))
        problems.extend(line for line in lines if line.startswith("FAIL "))
    return passed, failed, problems


@pytest.mark.parametrize(
    "cases_dir",
    [pytest.param(SHARED_CASES, id="shared"), pytest.param(OUR_CASES, id="ours")],
)
def test_acceptance(cases_dir: Path, tmp_path: Path) -> None:
    assert RUNNER.is_file(), f"acceptance runner not found at {RUNNER}"
    passed, failed, problems = _run_chunks(cases_dir, tmp_path)
    summary = f"{passed} passed, {failed} failed"
    assert failed == 0 and not problems, summary + "\n" + "\n".join(problems)
    assert passed == len(_case_files(cases_dir)), summary
