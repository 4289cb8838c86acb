"""kflow's acceptance runner: a case file states a flow and what Kestra does with it.

Each case (``tests/acceptance/cases/*.yaml``) is run through kflow's command line exactly as
a user would run it: ``kflow run flow.yml --json`` in a fresh working directory with a fresh
``KFLOW_HOME``, then ``kflow eval --exec``, ``kflow outputs`` and ``kflow preview`` against
the execution it produced. The format is described in ``tests/acceptance/README.md``.

By hand::

    python -m tests.acceptance.runner                  # every case, kflow from this venv
    python -m tests.acceptance.runner -k foreach -v    # cases whose name holds "foreach"
    python -m tests.acceptance.runner --kflow "kflow"  # another kflow command

The test suite runs it through :func:`run_cases` (``tests/test_acceptance.py``).
Standard library and PyYAML only, so it runs wherever kflow's tests run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).resolve().parent / "cases"
TERMINAL = {"SUCCESS", "WARNING", "FAILED", "KILLED"}
NOT_RUN = "NOT_RUN"
TOP_KEYS = {"description", "flow", "subflows", "inputs", "files", "http", "expect"}
EXPECT_KEYS = {
    "cli_error",
    "state",
    "exit_code",
    "outputs",
    "outputs_absent",
    "tasks",
    "taskrun_count",
    "task_outputs",
    "task_outputs_all",
    "task_outputs_empty",
    "task_outputs_not_contains",
    "task_values",
    "exec_inputs",
    "exec_inputs_not",
    "json_not_contains",
    "evals",
    "outputs_cmd",
    "preview",
}
EVAL_CHECKS = {"equals", "not_equals", "matches", "contains", "not_contains", "error"}


# ------------------------------------------------------------------------------ matching
def _j(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"... (+{len(text) - limit} chars)"


def mismatch(expected: Any, actual: Any, *, subset: bool, path: str = "$") -> str | None:
    """None when ``actual`` matches ``expected``, else where and how they differ.

    Strings, booleans and null compare strictly; numbers by value (1 == 1.0, relative
    tolerance 1e-6); mappings key by key (``subset`` allows extra keys, at every depth);
    lists item by item with the same length.
    """
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {_j(actual)}"
        for key, want in expected.items():
            if key not in actual:
                return f"{path}: key {key!r} missing"
            reason = mismatch(want, actual[key], subset=subset, path=f"{path}.{key}")
            if reason:
                return reason
        extra = [k for k in actual if k not in expected]
        if extra and not subset:
            return f"{path}: unexpected keys {extra}"
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected a list, got {_j(actual)}"
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} items, got {len(actual)} ({_j(actual)})"
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            reason = mismatch(want, got, subset=subset, path=f"{path}[{i}]")
            if reason:
                return reason
        return None
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        same = type(actual) is type(expected) and actual == expected
        return None if same else f"{path}: expected {_j(expected)}, got {_j(actual)}"
    if isinstance(expected, int | float):
        if isinstance(actual, int | float) and not isinstance(actual, bool):
            if math.isclose(expected, actual, rel_tol=1e-6, abs_tol=1e-9):
                return None
        return f"{path}: expected {_j(expected)}, got {_j(actual)}"
    return None if expected == actual else f"{path}: expected {_j(expected)}, got {_j(actual)}"


def substitute(value: Any, table: dict[str, str]) -> Any:
    """Replace placeholders such as ``@BASE_URL@`` in every string of a loaded case."""
    if isinstance(value, str):
        for key, new in table.items():
            value = value.replace(key, new)
        return value
    if isinstance(value, list):
        return [substitute(v, table) for v in value]
    if isinstance(value, dict):
        return {substitute(k, table): substitute(v, table) for k, v in value.items()}
    return value


def cli_value(value: Any) -> str:
    """An input value as ``-i KEY=VALUE`` text: JSON for lists and maps."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def execution_json(stdout: str) -> dict[str, Any] | None:
    """The execution object ``kflow run --json`` printed (its only stdout line)."""
    text = stdout.strip()
    if not text:
        return None
    for candidate in (text, *reversed(text.splitlines())):
        try:
            doc = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(doc, dict):
            return doc
    return None


# ------------------------------------------------------------------------------ HTTP
class CaseServer:
    """The ``http:`` routes of a case, served on 127.0.0.1 at a free port."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes

        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def _answer(self, body_wanted: bool = True) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                spec = outer.routes.get(self.path) or outer.routes.get(self.path.split("?")[0])
                spec = spec or {"status": 404, "body": "not found", "content_type": "text/plain"}
                if "json" in spec:
                    body = json.dumps(spec["json"]).encode()
                    ctype = spec.get("content_type", "application/json")
                else:
                    body = str(spec.get("body", "")).encode()
                    ctype = spec.get("content_type", "text/plain; charset=utf-8")
                self.send_response(int(spec.get("status", 200)))
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (spec.get("headers") or {}).items():
                    self.send_header(str(key), str(value))
                self.end_headers()
                if body_wanted:
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def do_HEAD(self) -> None:
                self._answer(body_wanted=False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> CaseServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------------------ a case
@dataclass
class Result:
    name: str
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


Kflow = Callable[[list[str], Path, dict[str, str]], tuple[int | None, str, str]]


def kflow_command(argv: list[str], timeout: float, transcript: list[str]) -> Kflow:
    def call(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int | None, str, str]:
        full = argv + args
        try:
            proc = subprocess.run(full, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout)  # fmt: skip
            rc: int | None = proc.returncode
            out = proc.stdout.decode("utf-8", "replace")
            err = proc.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            rc, out, err = None, "", f"timed out after {timeout:g}s"
        transcript.append(f"$ {shlex.join(full)}  -> {rc}")
        if out.strip():
            transcript.append("  stdout: " + out.strip()[:2000])
        if err.strip():
            transcript.append("  stderr: " + err.strip()[:2000])
        return rc, out, err

    return call


def load_case(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(case, dict) or not isinstance(case.get("flow"), str):
        raise ValueError("a case is a mapping whose `flow` is the flow's YAML text")
    return case


def case_problems(case: dict[str, Any]) -> list[str]:
    """What is wrong with a case file itself (unknown keys, no expectation...)."""
    problems = []
    if set(case) - TOP_KEYS:
        problems.append(f"unknown keys {sorted(set(case) - TOP_KEYS)}")
    if not str(case.get("description") or "").strip():
        problems.append("no description")
    expect = case.get("expect")
    if not isinstance(expect, dict):
        return [*problems, "no expect mapping"]
    if set(expect) - EXPECT_KEYS:
        problems.append(f"unknown expect keys {sorted(set(expect) - EXPECT_KEYS)}")
    if not expect.get("cli_error") and expect.get("state") not in TERMINAL:
        problems.append(f"expect.state must be one of {sorted(TERMINAL)}")
    for spec in expect.get("evals") or []:
        if not isinstance(spec, dict) or "expr" not in spec or not set(spec) & EVAL_CHECKS:
            problems.append(f"an eval needs expr and one of {sorted(EVAL_CHECKS)}")
    for task, state in (expect.get("tasks") or {}).items():
        if state not in TERMINAL | {"SKIPPED", NOT_RUN}:
            problems.append(f"tasks.{task}: unknown state {state!r}")
    return problems


def _runs(execution: dict[str, Any], task: str) -> list[dict[str, Any]]:
    return [r for r in execution.get("taskRunList") or [] if r.get("taskId") == task]


def _state(run: dict[str, Any]) -> Any:
    return (run.get("state") or {}).get("current")


def check_run(expect: dict[str, Any], ex: dict[str, Any], stdout: str, rc: int | None) -> list[str]:
    """Every expectation that the ``run --json`` result alone can answer."""
    out: list[str] = []
    current = (ex.get("state") or {}).get("current")
    state = expect.get("state")
    if state is not None and current != state:
        out.append(f"state is {current}, expected {state}")
    if "exit_code" in expect:
        if rc != expect["exit_code"]:
            out.append(f"exit code {rc}, expected {expect['exit_code']}")
    elif state in ("SUCCESS", "WARNING") and rc != 0:
        out.append(f"exit code {rc}, expected 0 for {state}")
    elif state == "FAILED" and rc != 1:
        out.append(f"exit code {rc}, expected 1 for FAILED")
    runs = ex.get("taskRunList") or []
    if "outputs" in expect:
        reason = mismatch(expect["outputs"], ex.get("outputs") or {}, subset=False, path="outputs")
        if reason:
            out.append("flow " + reason)
    if expect.get("outputs_absent") and ex.get("outputs") not in (None, {}, []):
        out.append(f"flow outputs should be absent, got {_j(ex.get('outputs'))}")
    if "taskrun_count" in expect and len(runs) != expect["taskrun_count"]:
        ids = ", ".join(str(r.get("taskId")) for r in runs)
        out.append(f"{len(runs)} task runs, expected {expect['taskrun_count']} ({ids[:200]})")
    for task, want in (expect.get("tasks") or {}).items():
        found = _runs(ex, task)
        if want == NOT_RUN:
            if found:
                out.append(f"task {task} should not have run ({len(found)} runs)")
        elif not found:
            out.append(f"task {task}: no task run (expected {want})")
        elif any(_state(r) != want for r in found):
            out.append(f"task {task}: states {[_state(r) for r in found]}, expected all {want}")
    for task, want in (expect.get("task_outputs") or {}).items():
        found = _runs(ex, task)
        if len(found) != 1:
            out.append(f"task {task}: {len(found)} runs, expected exactly one to check outputs")
            continue
        reason = mismatch(want, found[0].get("outputs") or {}, subset=True, path=f"{task}.outputs")
        if reason:
            out.append("task " + reason)
    for task, wanted in (expect.get("task_outputs_all") or {}).items():
        left = [r.get("outputs") or {} for r in _runs(ex, task)]
        if len(left) != len(wanted):
            out.append(f"task {task}: {len(left)} runs, expected {len(wanted)}")
            continue
        for want in wanted:
            hit = next(
                (i for i, o in enumerate(left) if mismatch(want, o, subset=True) is None), None
            )
            if hit is None:
                out.append(f"task {task}: no run has outputs matching {_j(want)} ({_j(left, 300)})")
                break
            left.pop(hit)
    for task in expect.get("task_outputs_empty") or []:
        found = _runs(ex, task)
        if not found:
            out.append(f"task {task}: no task run")
        out.extend(f"task {task} should have no outputs, got {_j(r.get('outputs'))}"
                   for r in found if r.get("outputs") not in (None, {}, []))  # fmt: skip
    for task, needles in (expect.get("task_outputs_not_contains") or {}).items():
        found = _runs(ex, task)
        if not found:
            out.append(f"task {task}: no task run")
        for r in found:
            text = json.dumps(r.get("outputs"), ensure_ascii=False)
            out.extend(f"task {task} outputs contain {n!r}" for n in needles if n in text)
    for task, values in (expect.get("task_values") or {}).items():
        got = sorted(json.dumps(r.get("value"), sort_keys=True) for r in _runs(ex, task))
        if got != sorted(json.dumps(v, sort_keys=True) for v in values):
            out.append(f"task {task}: run values {got}, expected {_j(values)}")
    inputs = ex.get("inputs") if isinstance(ex.get("inputs"), dict) else {}
    if "exec_inputs" in expect:
        reason = mismatch(expect["exec_inputs"], inputs, subset=True, path="inputs")
        if reason:
            out.append("execution " + reason)
    for key, value in (expect.get("exec_inputs_not") or {}).items():
        if mismatch(value, inputs.get(key), subset=False) is None:
            out.append(f"execution inputs.{key} must not be {_j(value)}")
    out.extend(
        f"run JSON contains {n!r}" for n in expect.get("json_not_contains") or [] if n in stdout
    )
    return out


def check_eval(spec: dict[str, Any], rc: int | None, stdout: str, exec_id: str) -> list[str]:
    label = str(spec.get("expr"))[:80]
    if spec.get("error"):
        return [f"eval {label}: expected an error, got exit 0"] if rc == 0 else []
    if rc != 0:
        return [f"eval {label}: exit code {rc}"]
    value = stdout[:-1] if stdout.endswith("\n") else stdout
    problems = []
    table = {"@EXEC_ID@": exec_id}
    if "equals" in spec and value != substitute(str(spec["equals"]), table):
        problems.append(f"eval {label}: got {value[:200]!r}, expected {spec['equals']!r}")
    if "not_equals" in spec and value == substitute(str(spec["not_equals"]), table):
        problems.append(f"eval {label}: got {value[:200]!r}, which it must not be")
    if "matches" in spec:
        pattern = str(spec["matches"]).replace("@EXEC_ID@", re.escape(exec_id))
        if not re.fullmatch(pattern, value, flags=re.DOTALL):
            problems.append(f"eval {label}: {value[:200]!r} does not match /{pattern}/")
    for key, wanted in (("contains", True), ("not_contains", False)):
        needles = spec.get(key)
        for needle in needles if isinstance(needles, list) else [needles] if needles else []:
            if (str(needle) in value) != wanted:
                verb = "does not contain" if wanted else "contains"
                problems.append(f"eval {label}: {value[:200]!r} {verb} {needle!r}")
    return problems


def run_case(path: Path, kflow_argv: list[str], timeout: float = 180.0) -> Result:
    """Run one case file in a fresh directory and home; the result lists every mismatch."""
    result = Result(path.stem)
    try:
        case = load_case(path)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        result.failures.append(f"cannot load the case: {exc}")
        return result
    problems = case_problems(case)
    if problems:
        result.failures.append("invalid case file: " + "; ".join(problems))
        return result
    with tempfile.TemporaryDirectory(prefix="kflow-acceptance-") as tmp:
        if case.get("http"):
            server = CaseServer({})
            with server:
                case = substitute(case, {"@BASE_URL@": server.base_url})
                server.routes.update(case["http"])
                _run(case, Path(tmp), kflow_argv, timeout, result)
        else:
            _run(case, Path(tmp), kflow_argv, timeout, result)
    return result


def _run(case: dict[str, Any], tmp: Path, argv: list[str], timeout: float, result: Result) -> None:
    expect = case["expect"]
    work, home = tmp / "work", tmp / "home"
    work.mkdir()
    home.mkdir()
    env = {**os.environ, "KFLOW_HOME": str(home)}
    kflow = kflow_command(argv, timeout, result.transcript)
    (work / "flow.yml").write_text(case["flow"], encoding="utf-8")
    args = ["run", "flow.yml"]
    for key, value in (case.get("inputs") or {}).items():
        args += ["-i", f"{key}={cli_value(value)}"]
    if case.get("subflows"):
        (work / "flows").mkdir()
        for i, text in enumerate(case["subflows"], 1):
            (work / "flows" / f"subflow_{i:02d}.yml").write_text(text, encoding="utf-8")
        args += ["--flows", "flows"]
    for name, content in (case.get("files") or {}).items():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(str(content).encode("utf-8"))
    rc, out, err = kflow([*args, "--json"], work, env)
    fail = result.failures
    if rc is None:
        fail.append(f"kflow run did not finish: {err[:150]}")
        return
    ex = execution_json(out)
    if expect.get("cli_error"):
        if rc == 0:
            fail.append("expected the run to be refused, but kflow exited 0")
        elif ex is not None and ex.get("taskRunList"):
            fail.append("expected the run to be refused before any task ran")
        return
    if ex is None:
        fail.append(f"stdout is not an execution JSON object (exit {rc}): {(out or err)[:150]!r}")
        return
    fail.extend(check_run(expect, ex, out, rc))
    exec_id = str(ex.get("id") or "")
    for spec in expect.get("evals") or []:
        erc, eout, _ = kflow(["eval", "--exec", exec_id, str(spec["expr"])], work, env)
        fail.extend(check_eval(spec, erc, eout, exec_id))
    if expect.get("outputs_cmd"):
        orc, oout, _ = kflow(["outputs", exec_id, "--json"], work, env)
        if orc != 0:
            fail.append(f"kflow outputs --json: exit code {orc}")
        else:
            try:
                json.loads(oout)
            except ValueError:
                fail.append(f"kflow outputs --json is not JSON: {oout[:120]!r}")
            fail.extend(f"kflow outputs does not mention {n!r}"
                        for n in expect["outputs_cmd"].get("contains") or [] if n not in oout)  # fmt: skip
    for spec in expect.get("preview") or []:
        urc, uout, _ = kflow(["eval", "--exec", exec_id, str(spec["uri_expr"])], work, env)
        if urc != 0:
            fail.append(f"preview: {spec['uri_expr']} did not render (exit {urc})")
            continue
        prc, pout, _ = kflow(["preview", uout.strip()], work, env)
        if prc != 0:
            fail.append(f"kflow preview: exit code {prc}")
            continue
        fail.extend(f"kflow preview does not show {n!r}"
                    for n in spec.get("contains") or [] if str(n) not in pout)  # fmt: skip


def case_files(directory: Path = CASES_DIR, select: str | None = None) -> list[Path]:
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    return [p for p in files if select is None or select in p.name]


def run_cases(paths: Iterable[Path], kflow_argv: list[str], jobs: int = 2) -> list[Result]:
    """Run cases on ``jobs`` threads (each case is a few kflow processes)."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda p: run_case(p, kflow_argv), paths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kflow", default=f"{shlex.quote(sys.executable)} -m kflow",
                        help="the kflow command (default: this Python's -m kflow)")  # fmt: skip
    parser.add_argument("--cases", type=Path, default=CASES_DIR, help="directory of case files")
    parser.add_argument("-k", dest="select", help="only cases whose file name holds this text")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("-v", "--verbose", action="store_true", help="show every kflow call")
    args = parser.parse_args(argv)
    results = run_cases(case_files(args.cases, args.select), shlex.split(args.kflow), args.jobs)
    for r in results:
        print(
            ("PASS " if r.passed else "FAIL ") + r.name + ("" if r.passed else ": " + r.failures[0])
        )
        if args.verbose and not r.passed:
            print("\n".join("    " + line for line in r.failures[1:] + r.transcript))
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
