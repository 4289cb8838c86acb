"""Acceptance cases: Kestra's behaviour checked through kflow's command line.

Every case file under ``tests/acceptance/cases`` (a flow and what Kestra does with it; the
``sample_*`` files are the project's published sample, the others were derived from Kestra's
sources, docs and the Pebble oracle) is run by the project's own runner
(``tests/acceptance/runner.py``) with kflow started as a process, as a user starts it. Each
case is its own test, so a failure names its case and shows the kflow calls it made.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.acceptance.runner import CASES_DIR, case_files, mismatch, run_case, run_cases

KFLOW = [sys.executable, "-m", "kflow"]
FILES = case_files(CASES_DIR)


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    return {r.name: r for r in run_cases(FILES, KFLOW, jobs=max(2, os.cpu_count() or 1))}


def test_the_cases_are_there() -> None:
    assert len(FILES) > 500
    assert any(p.name.startswith("sample_") for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_case(path: Path, results: dict[str, object]) -> None:
    result = results[path.stem]
    assert result.passed, "\n".join(result.failures + ["", *result.transcript])  # type: ignore[attr-defined]


def test_runner_catches_a_wrong_expectation(tmp_path: Path) -> None:
    """The runner itself can fail: a case whose expectation is wrong is reported."""
    case = tmp_path / "wrong.yaml"
    case.write_text(
        "description: a Return task whose value is stated wrongly\n"
        "flow: |\n  id: f\n  namespace: t\n  tasks:\n"
        "    - id: r\n      type: io.kestra.plugin.core.debug.Return\n      format: 'a'\n"
        "expect:\n  state: SUCCESS\n  task_outputs:\n    r:\n      value: b\n"
        "  evals:\n    - expr: '{{ outputs.r.value }}'\n      equals: c\n",
        encoding="utf-8",
    )
    result = run_case(case, KFLOW)
    assert not result.passed
    assert any('expected "b", got "a"' in f for f in result.failures), result.failures
    assert any("got 'a', expected 'c'" in f for f in result.failures), result.failures


def test_matching_rules() -> None:
    assert mismatch({"a": 1}, {"a": 1.0, "b": 2}, subset=True) is None
    assert mismatch({"a": 1}, {"a": 1, "b": 2}, subset=False) is not None
    assert mismatch("1", 1, subset=True) is not None
    assert mismatch(True, 1, subset=True) is not None
    assert mismatch([1, 2], [1], subset=True) is not None
