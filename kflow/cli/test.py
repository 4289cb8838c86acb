"""``kflow test``: run Kestra test suites (unit tests of flows) found in files and folders."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from kflow.errors import UsageError

_STYLE = {"SUCCESS": "green", "FAILED": "red", "ERROR": "red", "SKIPPED": "yellow"}


def _yaml_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            for found in sorted([*path.rglob("*.yml"), *path.rglob("*.yaml")]):
                if not any(p.startswith(".") for p in found.relative_to(path).parts):
                    yield found
        else:
            raise UsageError(
                f"no such file or folder: {path}", hint="give test suite files or folders"
            )


def _read(path: Path) -> Any:
    from kflow.errors import KflowError
    from kflow.flow.loader import parse_yaml

    try:
        return parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except (KflowError, OSError, UnicodeDecodeError):
        return None


def discover(
    paths: list[Path], flows_dir: Path | None
) -> tuple[list[Path], dict[tuple[str, str], list[Path]]]:
    """The suite files under ``paths`` and the flow files (under ``flows_dir``, else
    ``paths``) by (namespace, id)."""
    from kflow.testing import is_suite

    suites: list[Path] = []
    flows: dict[tuple[str, str], list[Path]] = {}
    for path in _yaml_files(paths):
        data = _read(path)
        if is_suite(data):
            suites.append(path)
        elif flows_dir is None and isinstance(data, dict) and "tasks" in data:
            flows.setdefault((str(data.get("namespace")), str(data.get("id"))), []).append(path)
    if flows_dir is not None:
        for path in _yaml_files([flows_dir]):
            data = _read(path)
            if isinstance(data, dict) and "tasks" in data and not is_suite(data):
                flows.setdefault((str(data.get("namespace")), str(data.get("id"))), []).append(path)
    return suites, flows


def _flow_for(suite: Any, data_line: int | None, flows: dict[tuple[str, str], list[Path]]) -> Path:
    from kflow.testing import SuiteError

    found = flows.get((suite.namespace, suite.flow_id), [])
    if not found:
        raise SuiteError(
            f"Invalid TestSuite: Flow with id: '{suite.flow_id}' does not exist on "
            f"Namespace: '{suite.namespace}'.", path=suite.path, line=data_line,
            hint="give the folder of the flow files with --flows DIR (or among the paths)",
        )  # fmt: skip
    if len(found) > 1:
        raise SuiteError(f"flow {suite.namespace}.{suite.flow_id} is defined twice: "
                         f"{found[0]} and {found[1]}", path=suite.path, line=data_line,
                         hint="keep one file per flow id")  # fmt: skip
    return found[0]


def run_tests_command(
    paths: list[Path],
    flows_dir: Path | None,
    case_ids: list[str],
    as_json: bool,
    exitfirst: bool,
    keep: bool,
) -> None:
    """Find suites, check them all (exit 2 on the first invalid one), run their cases, print
    the results; exit 1 when a case failed or errored."""
    from kflow.api import load_flow, open_home
    from kflow.flow.loader import parse_yaml
    from kflow.testing import load_suite
    from kflow.testing.runner import FAILED, SKIPPED, SuiteResult, run_case, suite_state

    suite_files, flows = discover(paths or [Path.cwd()], flows_dir)
    if not suite_files:
        raise UsageError(f"no test suite found in {', '.join(str(p) for p in paths) or Path.cwd()}",
                         hint="a test suite is a YAML file with flowId and testCases")  # fmt: skip
    planned = []
    for path in suite_files:
        suite = load_suite(path)
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        flow_path = _flow_for(suite, data.mark("flowId")[0], flows)
        planned.append((suite, flow_path, load_flow(flow_path)))  # a bad flow: exit 2 first
    wanted = set(case_ids) if case_ids else None
    if wanted is not None:
        known = {c.id for s, _, _ in planned for c in s.test_cases}
        if not wanted & known:
            raise UsageError(f"no test case {', '.join(sorted(wanted))}",
                             hint=f"test cases: {', '.join(sorted(known))}")  # fmt: skip
    results: list[SuiteResult] = []
    with tempfile.TemporaryDirectory(prefix="kflow-test-") as tmp:
        with open_home(None if keep else Path(tmp)) as home:
            stop = False
            for suite, flow_path, flow in planned:
                if stop:
                    break
                result = SuiteResult(suite, SKIPPED)
                results.append(result)
                if suite.disabled:
                    continue
                for case in suite.test_cases:
                    if wanted is not None and case.id not in wanted:
                        continue
                    case_result = run_case(
                        case, flow, home, flows_dir=flows_dir or flow_path.parent
                    )
                    result.results.append(case_result)
                    if exitfirst and case_result.state in (FAILED, "ERROR"):
                        stop = True
                        break
                result.state = suite_state(result.results)
    counts = _counts(results)
    if as_json:
        from kflow.cli.jsonout import dumps

        sys.stdout.write(dumps({"suites": [r.to_json() for r in results], "total": counts}) + "\n")
    else:
        _print(results, counts)
    if counts["failed"] or counts["errors"]:
        raise typer.Exit(1)


def _counts(results: list[Any]) -> dict[str, int]:
    states = [c.state for r in results for c in r.results]
    return {
        "suites": len(results),
        "cases": len(states),
        "passed": states.count("SUCCESS"),
        "failed": states.count("FAILED"),
        "errors": states.count("ERROR"),
        "skipped": states.count("SKIPPED"),
    }


def _print(results: list[Any], counts: dict[str, int]) -> None:
    from rich.table import Table
    from rich.text import Text

    from kflow.cli.render import console
    from kflow.cli.safetext import safe

    out = console()
    table = Table(show_lines=False)
    for name in ("Suite", "Case", "State", "Assertion", "Expected", "Actual", "Message"):
        table.add_column(name, overflow="fold")
    for result in results:
        suite = result.suite
        name = safe(f"{suite.namespace}.{suite.id} ({suite.flow_id})")
        if not result.results:
            table.add_row(name, "", Text(result.state, style=_STYLE[result.state]), "", "", "", "")
        for case in result.results:
            state = Text(case.state, style=_STYLE.get(case.state, ""))
            rows: list[tuple[str, str, str, str]] = [
                (r.operator, _shown(r.expected), _shown(r.actual),
                 "" if r.is_success else safe(r.error_message or "")) for r in case.assertion_results
            ]  # fmt: skip
            rows += [("error", "", "", safe(e["message"] + (f" ({e['details']})" if e.get("details") else "")))
                     for e in case.errors]  # fmt: skip
            for i, row in enumerate(rows or [("", "", "", "")]):
                first = i == 0
                table.add_row(name if first else "", safe(case.test_id) if first else "",
                              state if first else "", *row)  # fmt: skip
            name = ""
    out.print(table)
    style = "red" if counts["failed"] or counts["errors"] else "green"
    out.print(Text(
        f"{counts['cases']} test case{'' if counts['cases'] == 1 else 's'} in {counts['suites']} "
        f"suite{'' if counts['suites'] == 1 else 's'}: {counts['passed']} passed, {counts['failed']} "
        f"failed, {counts['errors']} errored, {counts['skipped']} skipped", style=style))  # fmt: skip


def _shown(value: Any) -> str:
    from kflow.cli.safetext import safe

    if value is None:
        return "null"
    if isinstance(value, list):
        return safe("[" + ", ".join("null" if v is None else str(v) for v in value) + "]")
    return safe(str(value))
