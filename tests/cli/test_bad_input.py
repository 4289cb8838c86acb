"""A user who hits bad input gets one clear message (what, where, how to fix) and an exit
code — never a traceback, never an ``internal error``, never lost data.

Each test runs kflow as a real subprocess (``cli`` fixture) against a temporary KFLOW_HOME.
Some of these tests describe the correct behaviour of problems found in an audit and fail
until they are fixed (see the audit report)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RETURN = """
  - id: x
    type: io.kestra.plugin.core.debug.Return
    format: hi
"""


def flow(body: str, head: str = "") -> str:
    return f"id: t\nnamespace: a.b\n{head}tasks:\n{body.strip(chr(10))}\n"


def clean(proc, code: int, *needles: str) -> str:
    """The exit code is ``code``; stderr has no traceback/internal error and holds every
    needle. Returns stderr."""
    err = proc.stderr
    assert "Traceback" not in err and "internal error" not in err, err
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], err)
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def no_execution_recorded(cli) -> None:
    proc = cli("executions", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [], proc.stdout


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- flow files that load


def test_bom_flow_runs(cli, tmp_path):
    path = write_bytes(tmp_path, "flow.yml", b"\xef\xbb\xbf" + flow(RETURN).encode())
    proc = cli("run", str(path), "--json")
    clean(proc, 0)
    assert json.loads(proc.stdout)["state"]["current"] == "SUCCESS"


def test_crlf_flow_runs(cli, tmp_path):
    path = write_bytes(tmp_path, "flow.yml", flow(RETURN).replace("\n", "\r\n").encode())
    proc = cli("run", str(path), "--json")
    clean(proc, 0)
    assert json.loads(proc.stdout)["taskRunList"][0]["outputs"] == {"value": "hi"}


def test_huge_flow_validates(cli, write_flow):
    tasks = "".join(
        f"  - id: x{i}\n    type: io.kestra.plugin.core.debug.Return\n    format: hi\n" for i in range(3000)
    )
    proc = cli("validate", str(write_flow(flow(tasks))))
    clean(proc, 0)


# ---------------------------------------------------------------- malformed flow files


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("", ["flow.yml:1", "empty"]),
        ("- 1\n- 2\n", ["flow.yml:1", "mapping"]),
        ("just a string\n", ["flow.yml:1", "mapping"]),
        (flow("  x: 1\n"), ["flow.yml:3", "'tasks' must be a list"]),
        ("id: t\nnamespace: a.b\ntasks: null\n", ["flow.yml:3", "at least one task"]),
        ("id: t\nnamespace: a.b\nid: u\ntasks:\n" + RETURN, ["flow.yml:3", "duplicate key 'id'"]),
        (flow(RETURN.replace("id: x", "id: é")), ["flow.yml:4", "invalid task id"]),
        (flow(RETURN.replace("id: x", "id: 123")), ["flow.yml:4", "invalid task id"]),
        (flow(RETURN.replace("core.debug", "core. debug")), ["flow.yml:5", "invalid type"]),
        (flow(RETURN.replace("Return", "Retrun")), ["flow.yml:5", "unknown type", "debug.Return"]),
        ("id: 5\nnamespace: 7\ntasks:\n" + RETURN, ["flow.yml:1", "flow.yml:2"]),
        (flow(RETURN, "inputs:\n  - id: a\n    type: NOPE\n"), ["flow.yml:4", "unknown type 'NOPE'"]),
        (flow(RETURN, "inputs:\n  - id: a\n    type: INT\n    defaults: abc\n"), ["flow.yml:4", "defaults"]),
        (flow(RETURN, "inputs:\n  a: 1\n"), ["flow.yml:3", "'inputs' must be a list"]),
        (flow(RETURN, "unknownTop: 1\n"), ["flow.yml:3", "unknownTop"]),
        (flow(RETURN + "    nope: 1\n"), ["flow.yml:7", "unknown property 'nope'"]),
        (flow(RETURN + "    retry: {type: nope}\n"), ["flow.yml:7", "retry"]),
        (flow(RETURN + "    allowFailure: abc\n"), ["flow.yml:7", "allowFailure"]),
        (flow("  - id: p\n    type: io.kestra.plugin.core.flow.Parallel\n    tasks: []\n"), ["flow.yml:6", "empty"]),
        (flow("  - id: l\n    type: io.kestra.plugin.core.log.Log\n    message: {a: 1}\n"), ["flow.yml:4", "message"]),
        (flow("  - &a\n    id: x\n    type: io.kestra.plugin.core.debug.Return\n    format: hi\n  - *a\n"),
         ["Duplicate task id"]),
    ],
    ids=["empty", "list", "scalar", "tasks-mapping", "tasks-null", "duplicate-key", "unicode-id",
         "numeric-id", "type-with-space", "type-typo", "numeric-flow-id", "input-type", "input-defaults",
         "inputs-mapping", "unknown-top", "unknown-prop", "retry-type", "allowFailure", "parallel-empty",
         "log-message-map", "alias-duplicate"],
)
def test_malformed_flow_is_refused_with_location(cli, write_flow, text, needles):
    path = write_flow(text) if text else write_bytes(write_flow("x").parent, "flow.yml", b"")
    for command in ("validate", "run"):
        clean(cli(command, str(path)), 2, *needles)
    no_execution_recorded(cli)


def test_flow_that_is_a_directory(cli, tmp_path):
    (tmp_path / "dir.yml").mkdir()
    clean(cli("run", str(tmp_path / "dir.yml")), 2, "directory")


def test_missing_flow_file(cli, tmp_path):
    clean(cli("run", str(tmp_path / "nope.yml")), 2, "not found")


def test_deeply_nested_yaml_is_refused(cli, write_flow):
    path = write_flow(flow(RETURN, "variables:\n  v: " + "[" * 5000 + "]" * 5000 + "\n"))
    clean(cli("run", str(path)), 2, "flow.yml:4", "nesting")


def test_tab_indentation_says_tab(cli, tmp_path):
    path = write_bytes(tmp_path, "flow.yml", flow(RETURN).replace("  - id: x", "\t- id: x").encode())
    err = clean(cli("run", str(path)), 2, "flow.yml:4")
    message = err.split("flow.yml:4", 1)[1].lower()  # the tmp path holds the test name
    assert "tab" in message, err  # now: "found character that cannot start any token"


def test_duplicate_key_hint_is_about_the_duplicate(cli, write_flow):
    path = write_flow("id: t\nnamespace: a.b\nid: u\ntasks:\n" + RETURN)
    err = clean(cli("validate", str(path)), 2, "duplicate key 'id'")
    assert "indentation" not in err, err  # the hint should say to remove one of the two keys


def test_non_utf8_flow_names_the_line(cli, tmp_path):
    path = write_bytes(tmp_path, "flow.yml", flow(RETURN).replace("format: hi", "format: h\udcffi")
                       .encode("utf-8", "surrogateescape"))
    err = clean(cli("run", str(path)), 2, "UTF-8")
    assert "flow.yml:6" in err, err  # now: "flow.yml: flow.yml is not UTF-8 text"


def test_billion_laughs_is_refused_at_load(cli, write_flow):
    lines = ["variables:", '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write_flow(flow(RETURN.replace("format: hi", 'format: "{{ vars.a9 }}"'), "\n".join(lines) + "\n"))
    # kflow run hangs for ever rendering 3.8 billion strings; refuse the file as SnakeYAML does
    clean(cli("validate", str(path), timeout=30), 2, "flow.yml:")


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        ("    timeout: abc\n", 7),
        ("    retry: {type: constant, interval: xyz, maxAttempt: 2}\n", 7),
        ("    runIf: [1]\n", 7),
    ],
    ids=["timeout-literal", "retry-interval", "runIf-list"],
)
def test_bad_literal_common_property_is_refused_at_load(cli, write_flow, extra, line):
    path = write_flow(flow(RETURN + extra))
    clean(cli("validate", str(path)), 2, f"flow.yml:{line}")


def test_bad_literal_sleep_duration_is_refused_at_load(cli, write_flow):
    path = write_flow(flow("  - id: s\n    type: io.kestra.plugin.core.flow.Sleep\n    duration: abc\n"))
    clean(cli("validate", str(path)), 2, "flow.yml:6", "duration")


@pytest.mark.parametrize("tasktype", ["Sequential", "ForEach"])
def test_empty_flowable_tasks_is_refused(cli, write_flow, tasktype):
    extra = "    values: [1]\n" if tasktype == "ForEach" else ""
    path = write_flow(flow(f"  - id: s\n    type: io.kestra.plugin.core.flow.{tasktype}\n{extra}    tasks: []\n"))
    clean(cli("validate", str(path)), 2, "flow.yml:", "empty")  # Parallel already does this


@pytest.mark.parametrize(
    ("prop", "value"),
    [("taskRunner", "[1]"), ("env", "[1]"), ("failFast", "{a: 1}"), ("outputFiles", "{a: 1}")],
)
def test_wrong_kind_message_does_not_leak_internal_class_names(cli, write_flow, prop, value):
    path = write_flow(flow(f"  - id: s\n    type: io.kestra.plugin.scripts.shell.Commands\n"
                           f"    commands: ['true']\n    {prop}: {value}\n"))
    err = clean(cli("validate", str(path)), 2, "flow.yml:7", prop)
    assert "LineList" not in err and "LineDict" not in err, err


# ---------------------------------------------------------------- expressions in flows

BAD = '"{{ 1 + }}"'
EXPRESSION_FLOWS = {
    "format": (flow(RETURN.replace("format: hi", f"format: {BAD}")), 6),
    "runIf": (flow(RETURN + f"    runIf: {BAD}\n"), 7),
    "foreach-values": (flow(f"  - id: fe\n    type: io.kestra.plugin.core.flow.ForEach\n    values: {BAD}\n"
                            "    tasks:\n" + RETURN.replace("\n  ", "\n      ")), 6),
    "switch-value": (flow(f"  - id: sw\n    type: io.kestra.plugin.core.flow.Switch\n    value: {BAD}\n"
                          "    cases:\n      a:\n" + RETURN.replace("\n  ", "\n      ")), 6),
    "if-condition": (flow(f"  - id: i\n    type: io.kestra.plugin.core.flow.If\n    condition: {BAD}\n"
                          "    then:\n" + RETURN.replace("\n  ", "\n      ")), 6),
    "outputvalues": (flow(f"  - id: ov\n    type: io.kestra.plugin.core.output.OutputValues\n    values:\n"
                          f"      a: {BAD}\n"), 7),
    "log-list": (flow("  - id: l\n    type: io.kestra.plugin.core.log.Log\n    message:\n      - ok\n"
                      '      - "{% if %}"\n'), 8),
    "flow-output": (flow(RETURN) + f"outputs:\n  - id: o\n    type: STRING\n    value: {BAD}\n", 10),
    "input-defaults": (flow(RETURN, f"inputs:\n  - id: d\n    type: STRING\n    defaults: {BAD}\n"), 6),
}


@pytest.mark.parametrize("case", list(EXPRESSION_FLOWS))
def test_run_fails_on_a_template_syntax_error_as_kestra_does(cli, write_flow, case):
    text, _ = EXPRESSION_FLOWS[case]
    # Kestra accepts such a flow and fails the task (or the outputs, or the inputs) when it
    # renders (BadFlowableTest.flowableWithParentFail): kflow run does the same, with the
    # parser's message and position; kflow validate refuses the file (below).
    proc = cli("run", str(write_flow(text)))
    assert "Traceback" not in proc.stderr
    if case == "input-defaults":
        assert proc.returncode == 2 and "`d`" in proc.stderr  # inputs refused: nothing runs
        no_execution_recorded(cli)
    else:
        assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
        assert "Unexpected" in proc.stdout or "Unexpected" in proc.stderr


@pytest.mark.parametrize("case", list(EXPRESSION_FLOWS))
def test_validate_points_at_the_line_of_the_bad_expression(cli, write_flow, case):
    text, line = EXPRESSION_FLOWS[case]
    clean(cli("validate", str(write_flow(text))), 2, f"flow.yml:{line}")


def test_unknown_filter_is_refused_before_the_run(cli, write_flow):
    # Pebble 3.2.2 resolves filters when rendering ('{% if false %}{{ 1 | nosuchfilter }}
    # {% endif %}x' renders 'x', pebble-oracle), so Kestra fails the task only when it
    # renders; a filter that does not exist is always a mistake, so kflow refuses the flow
    # up front (issue 11: validate and run report it, exit 2, before any task runs)
    path = write_flow(flow(RETURN.replace("format: hi", 'format: "{{ 1 | nosuchfilter }}"')))
    proc = cli("validate", str(path))
    assert proc.returncode == 2 and "Filter [nosuchfilter] does not exist." in proc.stderr
    proc = cli("run", str(path))
    assert proc.returncode == 2 and "Filter [nosuchfilter] does not exist." in proc.stderr
    assert "RUNNING" not in proc.stdout + proc.stderr


def test_undefined_variable_in_flow_output_fails_run_naming_it(cli, write_flow):
    path = write_flow(flow(RETURN) + 'outputs:\n  - id: o\n    type: STRING\n    value: "{{ outputs.nope.x }}"\n')
    proc = cli("run", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "output `o`" in proc.stdout and "outputs.nope" in proc.stdout


# ---------------------------------------------------------------- -i / --inputs / --label / --flows

INPUTS = flow(RETURN, "inputs:\n  - id: a\n    type: STRING\n    required: false\n"
                      "  - id: n\n    type: INT\n    required: false\n"
                      "  - id: f\n    type: FILE\n    required: false\n")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["-i", "=x"], ["not KEY=VALUE", "hint"]),
        (["-i", "a"], ["not KEY=VALUE"]),
        (["-i", "a=@missing.txt"], ["missing.txt"]),
        (["-i", "a=@/"], ["cannot read"]),
        (["-i", "n=abc"], ["flow.yml:7", "`n`"]),
        (["-i", "f=@missing.txt"], ["flow.yml:10", "`f`"]),
        (["--inputs", "missing.yml"], ["not found"]),
        (["--inputs", "/"], ["/"]),
        (["--label", "bad"], ["not KEY=VALUE"]),
    ],
)
def test_bad_run_arguments(cli, write_flow, args, needles):
    path = write_flow(INPUTS)
    clean(cli("run", str(path), *args, cwd=path.parent), 2, *needles)
    no_execution_recorded(cli)


def test_input_with_double_equals_keeps_the_rest(cli, write_flow):
    path = write_flow(INPUTS.replace("format: hi", 'format: "{{ inputs.a }}"'))
    proc = cli("run", str(path), "-i", "a==b", "--json")
    clean(proc, 0)
    assert json.loads(proc.stdout)["taskRunList"][0]["outputs"]["value"] == "=b"


def test_inputs_file_holding_a_list(cli, write_flow, tmp_path):
    (tmp_path / "in.yml").write_text("- 1\n- 2\n")
    clean(cli("run", str(write_flow(INPUTS)), "--inputs", str(tmp_path / "in.yml")), 2, "mapping")


def test_inputs_file_invalid_yaml_is_one_line_with_location(cli, write_flow, tmp_path):
    (tmp_path / "in.yml").write_text("a: [unclosed\n")
    err = clean(cli("run", str(write_flow(INPUTS)), "--inputs", str(tmp_path / "in.yml")), 2, "in.yml:1")
    assert "<unicode string>" not in err, err  # now a 4-line PyYAML dump


def test_inputs_file_not_utf8(cli, write_flow, tmp_path):
    bad = write_bytes(tmp_path, "in.yml", b"\xff\xfe\x00")
    clean(cli("run", str(write_flow(INPUTS)), "--inputs", str(bad)), 2, "in.yml")  # now exit 3


def test_input_at_file_not_utf8(cli, write_flow, tmp_path):
    bad = write_bytes(tmp_path, "bin.dat", b"\xff\xfe\x00")
    clean(cli("run", str(write_flow(INPUTS)), "-i", f"a=@{bad}"), 2, "bin.dat")  # now exit 3


def test_label_hint_does_not_promise_at_file(cli, write_flow):
    err = clean(cli("run", str(write_flow(INPUTS)), "--label", "bad"), 2)
    assert "@file" not in err, err  # --label k=@f is taken literally


@pytest.mark.parametrize("where", ["missing-dir", "a-file"])
def test_flows_option_must_be_a_directory(cli, write_flow, tmp_path, where):
    path = write_flow(INPUTS)
    target = tmp_path / "nope" if where == "missing-dir" else path
    clean(cli("run", str(path), "--flows", str(target)), 2, "--flows")  # now ignored (exit 0)


def test_subflow_to_missing_flow_fails_naming_it(cli, write_flow):
    path = write_flow(flow("  - id: s\n    type: io.kestra.plugin.core.flow.Subflow\n"
                           "    namespace: a.b\n    flowId: missing_child\n"))
    proc = cli("run", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "a.b.missing_child not found" in proc.stdout


def test_unknown_output_is_refused(cli, write_flow):
    clean(cli("run", str(write_flow(INPUTS)), "--output", "nope"), 2, "no output 'nope'")


# ---------------------------------------------------------------- eval


@pytest.mark.parametrize(
    ("expression", "code", "needle"),
    [
        ("{{", 2, "^"),
        ("{% if %}", 2, "^"),
        ("{% if true %}x", 2, "endif"),
        ("{{ 99999999999999999999999 }}", 2, "^"),
        ("{{ 1 / 0 }}", 1, "division"),
        ("{{ 'a' | nosuchfilter }}", 1, "nosuchfilter"),
        ("{{ nosuchfunction() }}", 1, "nosuchfunction"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", 1, "recursion"),
        ('{{ fromJson("{bad") }}', 1, "json"),
        ("{{ undefined_thing }}", 2, "undefined_thing"),
    ],
)
def test_eval_errors(cli, expression, code, needle):
    clean(cli("eval", expression), code, needle)


def test_eval_plain_braces(cli):
    proc = cli("eval", "}}")
    clean(proc, 0)
    assert proc.stdout == "}}\n"


def test_eval_render_recursion_message_is_not_repeated(cli):
    err = clean(cli("eval", '{% set x = "{{ render(x) }}" %}{{ render(x) }}'), 1, "render()")
    assert err.count("({{ render(x) }}:1)") <= 1, err  # now repeated 10 times


@pytest.mark.parametrize(
    ("content", "code", "needle"),
    [(b"[1, 2]", 2, "mapping"), (None, 2, "not found"), (b"a: !!python/object:os.system x\n", 2, "ctx")],
)
def test_eval_context_bad_files(cli, tmp_path, content, code, needle):
    path = tmp_path / "ctx"
    if content is not None:
        path.write_bytes(content)
    clean(cli("eval", "{{ 1 }}", "--context", str(path)), code, needle)


def test_eval_context_directory(cli, tmp_path):
    clean(cli("eval", "{{ 1 }}", "--context", str(tmp_path)), 2, "Is a directory")


def test_eval_context_not_utf8(cli, tmp_path):
    bad = write_bytes(tmp_path, "ctx.yml", b"\xff\xfe\x00")
    clean(cli("eval", "{{ a }}", "--context", str(bad)), 2, "ctx.yml")  # now exit 3


def test_eval_context_invalid_yaml_is_one_line_with_location(cli, tmp_path):
    (tmp_path / "ctx.yml").write_text("a: [\n")
    # the file ends inside the list: PyYAML marks the end of the stream (line 2)
    err = clean(cli("eval", "{{ a }}", "--context", str(tmp_path / "ctx.yml")), 2, "ctx.yml:2")
    assert "<unicode string>" not in err, err


# ---------------------------------------------------------------- executions, prefixes, logs


def _one_run(cli, write_flow) -> str:
    proc = cli("run", str(write_flow(flow(RETURN))), "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["id"]


@pytest.mark.parametrize("command", [["outputs", "last"], ["logs", "last"], ["eval", "{{ 1 }}", "--exec", "last"]])
def test_empty_home(cli, command):
    clean(cli(*command), 2, "no execution yet")


def test_unknown_execution(cli, write_flow):
    _one_run(cli, write_flow)
    clean(cli("outputs", "nope"), 2, "no execution with id 'nope'", "kflow executions")


def test_unique_prefix_resolves(cli, write_flow):
    eid = _one_run(cli, write_flow)
    proc = cli("outputs", eid[:6])
    clean(proc, 0)
    assert eid in proc.stdout


def test_prefix_is_case_sensitive(cli, write_flow):
    eid = _one_run(cli, write_flow)
    # ids are case-sensitive base62; SQLite LIKE matches them case-insensitively
    clean(cli("outputs", eid.swapcase()), 2, "no execution")


@pytest.mark.parametrize("pattern", ["____", "%%%%"])
def test_prefix_is_not_a_like_pattern(cli, write_flow, pattern):
    _one_run(cli, write_flow)
    clean(cli("outputs", pattern), 2, "no execution")  # now resolves to the only execution


def test_too_short_prefix_says_so(cli, write_flow):
    eid = _one_run(cli, write_flow)
    err = clean(cli("outputs", eid[:2]), 2)
    assert "prefix" in err or "characters" in err, err  # now "no execution with id 'xy'"


def test_logs_unknown_task_is_refused_like_outputs(cli, write_flow):
    _one_run(cli, write_flow)
    clean(cli("outputs", "last", "--task", "nope"), 2, "no run of task 'nope'")
    clean(cli("logs", "last", "--task", "nope"), 2, "nope")  # now exit 0, empty output


def test_corrupt_database(cli, kflow_home):
    kflow_home.mkdir(parents=True)
    (kflow_home / "kflow.db").write_text("garbage, not a database")
    for command in (["executions"], ["logs", "last"]):
        proc = cli(*command)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        assert "not a database" in proc.stderr


@pytest.mark.parametrize("sub", ["", "sub"])
def test_home_that_is_a_file(cli, tmp_path, sub):
    home = tmp_path / "homefile"
    home.write_text("x")
    target = str(home / sub) if sub else str(home)
    proc = cli("executions", env={"KFLOW_HOME": target})
    clean(proc, 2, "KFLOW_HOME")  # now: internal error FileExistsError/NotADirectoryError, exit 3


# ---------------------------------------------------------------- preview


@pytest.mark.parametrize(
    ("uri", "needle"),
    [
        ("kestra:///nope/x.csv", "no file"),
        ("kestra://", "malformed"),
        ("kestra:///../../etc/passwd", "outside"),
        ("kestra:///%2e%2e/%2e%2e/etc/passwd", "outside"),
        # a path that is not a kestra:/// URI is a local file now (issue 11): a missing one
        ("/nonexistent-dir/x.csv", "no such file"),
        ("kestra:///", "kestra:///"),
    ],
)
def test_preview_bad_uris(cli, uri, needle):
    clean(cli("preview", uri), 2, needle)


def test_preview_negative_rows_is_refused(cli, write_flow, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("a\nb\n")
    path = write_flow(INPUTS)
    proc = cli("run", str(path), "-i", f"f=@{data}", "--json")
    uri = json.loads(proc.stdout)["inputs"]["f"]
    clean(cli("preview", uri), 0)
    clean(cli("preview", uri, "--rows", "-5"), 2, "--rows")  # now "(first -5 rows shown)"


# ---------------------------------------------------------------- failing tasks at run time


def test_failing_script_missing_interpreter_and_closed_port(cli, write_flow):
    path = write_flow(flow("""
  - id: fail
    type: io.kestra.plugin.scripts.shell.Commands
    allowFailure: true
    commands:
      - echo oops >&2; exit 3
  - id: nointerp
    type: io.kestra.plugin.scripts.shell.Commands
    allowFailure: true
    interpreter: ["/no/such/shell", "-c"]
    commands:
      - echo hi
  - id: http
    type: io.kestra.plugin.core.http.Request
    allowFailure: true
    uri: http://127.0.0.1:9/x
  - id: dl
    type: io.kestra.plugin.core.http.Download
    allowFailure: true
    uri: http://127.0.0.1:9/x
"""))
    proc = cli("run", str(path))
    clean(proc, 0)
    assert "exit code 3" in proc.stdout and "oops" in proc.stdout
    assert "cannot start the interpreter '/no/such/shell'" in proc.stdout
    assert proc.stdout.count("cannot reach http://127.0.0.1:9/x") >= 2


# ---------------------------------------------------------------- signals

SLEEPY = flow("""
  - id: before
    type: io.kestra.plugin.core.debug.Return
    format: ok
  - id: zz
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - echo $$ > PIDFILE; exec sleep 30
""")


def _interrupt(path: Path, sig: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kflow", "run", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 20
    assert proc.stdout is not None
    seen = ""
    while time.monotonic() < deadline:  # wait until the script task is running
        line = proc.stdout.readline()
        seen += line
        if "zz RUNNING" in line:
            break
    time.sleep(0.5)
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc, err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_records_killed(cli, write_flow, sig, code):
    pidfile = write_flow("", "pid.txt")
    path = write_flow(SLEEPY.replace("PIDFILE", str(pidfile)))
    proc, err = _interrupt(path, sig)
    text = pidfile.read_text().strip()
    assert text.isdigit() and int(text) > 1, text
    script_pid = int(text)
    time.sleep(0.3)
    try:
        os.kill(script_pid, 0)
    except ProcessLookupError:
        orphan = False
    else:
        orphan = True
        os.kill(script_pid, signal.SIGKILL)
    assert "Traceback" not in err
    assert not orphan, "the script task's process outlived kflow"
    # SIGINT: 130, KILLED. SIGTERM (CI cancel, `timeout`, `kill`): today the process dies
    # with -15, the execution stays RUNNING for ever and `sleep 30` is left orphaned.
    assert proc.returncode == code, (proc.returncode, err)
    execs = json.loads(cli("executions", "--json").stdout)
    assert [e["state"] for e in execs] == ["KILLED"], execs
