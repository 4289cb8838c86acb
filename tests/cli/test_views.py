"""Views that show the cause of a failure first (issue 11, item 3): the run summary, `kflow
outputs` (errors, inputs, labels, metrics; long values folded or whole), `kflow logs`
(loop labels, --level, "(no log lines)"), `kflow executions` (duration) and `validate`."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from kflow.cli import app
from kflow.cli.render import human_duration

runner = CliRunner()

FAILING_OUTPUT = """
id: fail_out
namespace: company.team
tasks:
  - id: produce
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "the upstream API returned 503"
outputs:
  - id: result
    type: STRING
    value: "{{ outputs.produce.value }}"
"""

FAIL_ON_CONDITION = """
id: cond
namespace: company.team
tasks:
  - id: check
    type: io.kestra.plugin.core.execution.Fail
    condition: "{{ 1 == 1 }}"
    errorMessage: "row count is zero"
"""

WITH_INPUTS = """
id: described
namespace: company.team
inputs:
  - id: name
    type: STRING
tasks:
  - id: greet
    type: io.kestra.plugin.core.debug.Return
    format: "hi {{ inputs.name }}"
  - id: stop
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: "stopped on purpose"
"""

LOOP = """
id: loop
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["eu", "us"]
    tasks:
      - id: count
        type: io.kestra.plugin.core.log.Log
        message: "counting {{ taskrun.value }}"
      - id: ret
        type: io.kestra.plugin.core.debug.Return
        format: "{{ taskrun.value }}"
  - id: warn
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: careful
  - id: oops
    type: io.kestra.plugin.core.log.Log
    level: ERROR
    message: broken
"""

ECHO = """
id: echo
namespace: company.team
inputs:
  - id: text
    type: STRING
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ inputs.text }}"
"""

SILENT = """
id: silent
namespace: company.team
tasks:
  - id: out
    type: io.kestra.plugin.core.output.OutputValues
    values:
      a: b
"""

URI = (
    "kestra:///company/team/echo/executions/"
    + "a" * 22
    + "/tasks/ret/"
    + "b" * 22
    + "/"
    + ("a-very-long-file-name-that-goes-on-and-on" * 2)
    + ".csv"
)


def invoke(*args: str, columns: int | None = None, env: dict[str, str] | None = None):
    env = {**({"COLUMNS": str(columns)} if columns else {}), **(env or {})}
    if args[0] == "outputs" and "--json" not in args:
        # the Rich tables a terminal gets, colour codes taken out (a pipe gets plain text:
        # tests/cli/test_records_cli.py)
        env = {"TTY_COMPATIBLE": "1", "TERM": "xterm", "COLUMNS": "160", **env}
        result = runner.invoke(app, list(args), env=env)
        return SimpleNamespace(stdout=_ANSI.sub("", result.stdout), exit_code=result.exit_code,
                               output=_ANSI.sub("", result.output))  # fmt: skip
    return runner.invoke(app, list(args), env=env or None)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(write_flow, text: str, *args: str, code: int = 0):
    result = invoke("run", str(write_flow(text)), *args)
    assert result.exit_code == code, result.output
    return result


def header(stdout: str, first: str) -> list[str]:
    """The column names of the table whose header row starts with ``first``."""
    line = next(ln for ln in stdout.splitlines() if re.match(rf"^┃ {first} +┃", ln))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


# ---------------------------------------------------------------- run summary


def test_summary_lists_the_tasks_own_error_before_the_flow_output_error(write_flow):
    out = run(write_flow, FAILING_OUTPUT, code=1).stdout
    summary = out[out.index("Execution ") :]
    own = summary.index("✗ produce: the upstream API returned 503")
    knock_on = summary.index("✗ Failed to render output values: output `result`")
    assert own < knock_on
    assert summary.count("\n✗ ") == 2  # each error once, above the table
    assert summary.index("Task outputs") > knock_on


def test_a_fail_task_on_a_condition_shows_its_error_message(write_flow):
    out = run(write_flow, FAIL_ON_CONDITION, code=1).stdout
    summary = out[out.index("Execution ") :]
    assert "✗ check: Fail on a condition\n  row count is zero\n" in summary
    detail = invoke("outputs", "last", "--task", "check").stdout
    assert "check  FAILED\n  error: Fail on a condition\n  row count is zero\n" in detail


def test_the_live_view_labels_loop_log_lines_with_the_iteration_value(write_flow):
    out = run(write_flow, LOOP).stdout
    assert re.search(r"^\d\d:\d\d:\d\d count\[eu\] counting eu$", out, re.M)
    assert re.search(r"^\d\d:\d\d:\d\d count\[us\] counting us$", out, re.M)


# ---------------------------------------------------------------- kflow outputs


def test_outputs_shows_errors_inputs_labels_and_metrics(write_flow):
    run(write_flow, WITH_INPUTS, "-i", "name=Ada", "--label", "team=data", code=1)
    out = invoke("outputs", "last")
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert re.search(r"^labels: team=data, system\.correlationId=\w+$", text, re.M)
    assert "Inputs" in text and re.search(r"│ name +│ Ada +│", text)
    assert re.search(r"│ stop +│ FAILED +│ ✗ error +│ stopped on purpose +│", text)
    assert re.search(r"│ greet +│ SUCCESS +│ value +│ hi Ada +│", text)
    assert "Metrics" in text and re.search(r"│ greet +│ length = 6 \(counter\) +│", text)


def test_outputs_json_adds_inputs_labels_error_and_metrics_keeping_its_shape(write_flow):
    run(write_flow, WITH_INPUTS, "-i", "name=Ada", "--label", "team=data", code=1)
    doc = json.loads(invoke("outputs", "last", "--json").stdout)
    assert set(doc) >= {"executionId", "namespace", "flowId", "state", "taskRuns", "outputs"}
    assert doc["inputs"] == {"name": "Ada"}
    assert {"key": "team", "value": "data"} in doc["labels"]
    assert doc["error"] is None
    greet, stop = doc["taskRuns"]
    assert set(greet) >= {"id", "taskId", "parentTaskRunId", "value", "state", "outputs"}
    assert greet["error"] is None and greet["metrics"] == [
        {"name": "length", "type": "counter", "value": 6}
    ]
    assert stop["error"] == "stopped on purpose" and stop["metrics"] == []


def test_outputs_json_carries_the_flow_output_error(write_flow):
    run(write_flow, FAILING_OUTPUT, code=1)
    doc = json.loads(invoke("outputs", "last", "--json").stdout)
    assert doc["error"].startswith("Failed to render output values: output `result`")
    assert doc["taskRuns"][0]["error"] == "the upstream API returned 503"


def test_outputs_view_shows_the_flow_output_error_after_the_task_error(write_flow):
    run(write_flow, FAILING_OUTPUT, code=1)
    text = invoke("outputs", "last").stdout
    assert text.index("the upstream API returned 503") < text.index(
        "✗ Failed to render output values"
    )


def test_the_loop_value_column_is_not_called_value(write_flow):
    run(write_flow, LOOP)
    text = invoke("outputs", "last").stdout
    assert header(text, "task") == ["task", "iteration", "state", "output", "content", "expression"]
    assert re.search(r"│   ret +│ eu +│ SUCCESS +│ value +│ eu +│", text)


def test_without_loops_there_is_no_iteration_column(write_flow):
    run(write_flow, ECHO, "-i", "text=hello")
    text = invoke("outputs", "last").stdout
    assert header(text, "task") == ["task", "state", "output", "content", "expression"]


def test_long_values_are_folded_never_cut(write_flow):
    run(write_flow, ECHO, "-i", f"text={URI}")
    text = invoke("outputs", "last", columns=100).stdout
    assert "…" not in text and "chars" not in text
    assert URI not in text  # too wide for 100 columns: folded onto several lines
    joined = re.sub(r"[│\s]", "", text)
    assert URI in joined


def test_run_in_a_pipe_prints_plain_tables_with_values_whole(write_flow):
    """No Rich in a pipe: no box drawing, and a long value on one line, whole, whatever
    COLUMNS says (a CI log has no width; a URI is copied in one piece)."""
    text = invoke("run", str(write_flow(ECHO)), "-i", f"text={URI}", columns=100).stdout
    assert "…" not in text and "chars" not in text and "│" not in text and "┃" not in text
    assert re.search(rf"^ret +SUCCESS +value +{re.escape(URI)}$", text, re.M)
    assert re.search(r"^task +state +output +content$", text, re.M)


def test_forced_colours_in_a_pipe_get_rich_tables(write_flow):
    text = invoke("run", str(write_flow(ECHO)), "-i", "text=hi", env={"FORCE_COLOR": "1"}).stdout
    assert "┏━" in text and "\x1b[" in text  # Rich, as on a terminal


def test_task_view_prints_long_values_whole_on_one_line(write_flow):
    run(write_flow, ECHO, "-i", f"text={URI}")
    text = invoke("outputs", "last", "--task", "ret", columns=60).stdout
    lines = text.splitlines()
    assert "ret  SUCCESS" in lines
    assert f"  value: {URI}" in lines
    assert f"  metric length = {len(URI)} (counter)" in lines


def test_a_huge_value_is_shortened_in_the_table_and_whole_in_the_task_view(write_flow):
    big = "x" * 5000
    run(write_flow, ECHO, "-i", f"text={big}")
    doc = json.loads(invoke("outputs", "last", "--json").stdout)
    # the folded cells, joined (the expression column's one line taken out)
    text = re.sub(r"[│\s]", "", invoke("outputs", "last").stdout.replace("outputs.ret.value", ""))
    assert big not in text
    kept = "x" * 4000
    assert f"{kept}…(+1,000chars:kflowoutputs{doc['executionId']}--taskretshowsitwhole)" in text
    assert f"{kept}…(+1,000chars:kflowoutputs{doc['executionId']}--jsonshowsitwhole)" in text
    detail = invoke("outputs", "last", "--task", "ret").stdout
    assert f"  value: {big}" in detail.splitlines()


# ---------------------------------------------------------------- kflow logs


def test_logs_say_when_there_are_no_log_lines(write_flow):
    run(write_flow, SILENT)
    result = invoke("logs", "last")
    assert result.exit_code == 0 and result.stdout == "(no log lines)\n"
    filtered = invoke("logs", "last", "--task", "out", "--level", "ERROR")
    assert filtered.stdout == "(no log lines for task out at level ERROR or above)\n"


def test_logs_label_lines_inside_loops_with_the_iteration_value(write_flow):
    run(write_flow, LOOP)
    text = invoke("logs", "last").stdout
    assert re.search(r"Z INFO  count\[eu\] counting eu$", text, re.M)
    assert re.search(r"Z INFO  count\[us\] counting us$", text, re.M)
    assert re.search(r"Z WARN  warn careful$", text, re.M)  # outside a loop: the bare id


@pytest.mark.parametrize(
    ("level", "shown", "hidden"),
    [
        ("WARN", ["careful", "broken"], ["counting"]),
        ("warn", ["careful", "broken"], ["counting"]),
        ("ERROR", ["broken"], ["careful", "counting"]),
        ("INFO", ["counting", "careful", "broken"], []),
        ("TRACE", ["counting", "careful", "broken"], []),
    ],
)
def test_logs_level_shows_that_level_and_above(write_flow, level, shown, hidden):
    run(write_flow, LOOP)
    result = invoke("logs", "last", "--level", level)
    assert result.exit_code == 0, result.output
    for word in shown:
        assert word in result.stdout
    for word in hidden:
        assert word not in result.stdout


def test_logs_level_combines_with_task(write_flow):
    run(write_flow, LOOP)
    text = invoke("logs", "last", "--task", "count", "--level", "INFO").stdout
    assert "counting eu" in text and "careful" not in text


def test_logs_unknown_level_is_one_clear_error(write_flow):
    run(write_flow, LOOP)
    result = invoke("logs", "last", "--level", "LOUD")
    assert result.exit_code == 2
    assert "--level must be one of TRACE, DEBUG, INFO, WARN, ERROR, not 'LOUD'" in result.output
    assert "Traceback" not in result.output


def test_logs_help_lists_level():
    assert "--level" in invoke("logs", "--help").output


# ---------------------------------------------------------------- executions, validate


def test_executions_show_each_runs_duration(write_flow):
    run(write_flow, ECHO, "-i", "text=hi")
    text = invoke("executions").stdout
    assert header(text, "id") == ["id", "flow", "state", "started", "duration", "parent"]
    assert re.search(r"│ company\.team\.echo +│ SUCCESS +│ \S+Z +│ +\d+\.\d\ds +│", text)
    doc = json.loads(invoke("executions", "--json").stdout)
    assert re.fullmatch(r"PT\d+(\.\d+)?S", doc[0]["duration"])


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.0, "0.00s"), (0.423, "0.42s"), (12.34, "12.3s"), (123, "2m 03s"), (3725, "1h 02m 05s")],
)
def test_human_duration(seconds, shown):
    assert human_duration(seconds) == shown


def test_validate_counts_tasks_in_the_singular_and_plural(write_flow):
    one = write_flow(FAIL_ON_CONDITION, "one.yml")
    two = write_flow(WITH_INPUTS, "two.yml")
    result = invoke("validate", str(one), str(two))
    assert result.exit_code == 0, result.output
    assert f"✓ {one}  (company.team.cond, 1 task)" in result.stdout
    assert f"✓ {two}  (company.team.described, 2 tasks)" in result.stdout


def test_values_are_shown_as_they_are_never_as_markup_or_emoji(write_flow):
    run(write_flow, ECHO, "-i", "text=[bold]a[/bold] :x: b")
    for args in (["outputs", "last"], ["outputs", "last", "--task", "ret"]):
        text = invoke(*args).stdout
        assert "[bold]a[/bold] :x: b" in text and "❌" not in text


ALLOWED = """
id: allow
namespace: company.team
tasks:
  - id: soft
    type: io.kestra.plugin.core.execution.Fail
    allowFailure: true
    errorMessage: soft failure
  - id: each
    type: io.kestra.plugin.core.flow.ForEach
    values: ["a", "b"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.execution.Fail
        condition: "{{ taskrun.value == 'b' }}"
        errorMessage: "bad item {{ taskrun.value }}"
"""


def test_summary_puts_failures_before_errors_that_were_allowed(write_flow):
    out = run(write_flow, ALLOWED, code=1).stdout
    summary = out[out.index("Execution ") : out.index("Task outputs")]
    assert summary.splitlines()[1:] == [
        "✗ inner[b]: Fail on a condition",
        "  bad item b",
        "! soft (allowed to fail): soft failure",
    ]
    text = invoke("outputs", "last").stdout
    assert re.search(r"│ soft +│ +│ WARNING │ ! error +│ soft failure +│", text)
    assert re.search(r"│   inner │ b +│ FAILED +│ ✗ error +│ Fail on a condition +│ outputs.inner\['b'\] +│", text)


STDERR_SCRIPT = """
id: sh
namespace: company.team
tasks:
  - id: script
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - for i in 1 2 3; do echo "problem $i" >&2; done
      - exit 3
"""


def test_a_script_error_quoting_its_stderr_is_not_repeated(write_flow):
    out = run(write_flow, STDERR_SCRIPT, code=1).stdout
    summary = out[out.index("Execution ") : out.index("Task outputs")]
    assert summary.count("problem 3") == 1, summary
    assert "✗ script: Command failed with exit code 3" in summary


ERROR_LOGS = """
id: logged
namespace: company.team
tasks:
  - id: script
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - >-
        echo '::{"logs":[{"level":"ERROR","message":"cause 1"},{"level":"ERROR","message":"cause 2"},
        {"level":"ERROR","message":"cause 3"},{"level":"ERROR","message":"cause 4"},
        {"level":"ERROR","message":"cause 5"}]}::'
      - exit 1
"""


def test_the_last_error_lines_a_failed_task_logged_follow_its_error(write_flow):
    out = run(write_flow, ERROR_LOGS, code=1).stdout
    summary = out[out.index("Execution ") : out.index("Task outputs")]
    eid = summary.split()[1]
    assert summary.splitlines()[1:] == [
        "✗ script: Command failed with exit code 1",
        f"  … 2 earlier ERROR lines: kflow logs {eid} --task script --level ERROR",
        "  cause 3",
        "  cause 4",
        "  cause 5",
    ]


def test_plain_table_continues_a_multi_line_cell_under_its_column():
    from kflow.cli.views import Cell, TableModel, plain_table

    model = TableModel("Task outputs", [("task", True), ("state", False), ("content", True)])
    model.rows.append([Cell.of("fail"), Cell.of("FAILED", "red"), Cell.of("boom\n  why")])
    model.rows.append([Cell.of("a-long-task"), Cell.of("SUCCESS"), Cell.of("ok")])
    model.caption = "1 more"
    assert plain_table(model).splitlines() == [
        "Task outputs",
        "task         state    content",
        "fail         FAILED   boom",
        "                        why",
        "a-long-task  SUCCESS  ok",
        "1 more",
    ]


def test_summary_of_a_long_loop_reads_back_only_what_it_shows(write_flow, monkeypatch):
    """Once finished iterations are released from memory, the end-of-run summary reads the
    first rows and the failed runs from the store, never every run (a ForEach over a
    million values would read them all back)."""
    from kflow.engine import executor as executor_module
    from kflow.store.sqlite import SQLiteStore

    monkeypatch.setattr(executor_module, "RETAIN_TASKRUNS", 5)
    monkeypatch.setattr("kflow.cli.views.SUMMARY_ROWS", 10)
    reads: list[tuple[int | None, bool]] = []
    real = SQLiteStore.get_taskruns

    def spy(self, execution_id, *, limit=None, with_error=False):
        reads.append((limit, with_error))
        return real(self, execution_id, limit=limit, with_error=with_error)

    monkeypatch.setattr(SQLiteStore, "get_taskruns", spy)
    flow = write_flow(
        """
        id: loop
        namespace: company.team
        tasks:
          - id: each
            type: io.kestra.plugin.core.flow.ForEach
            values: "{{ range(1, 40) }}"
            tasks:
              - id: r
                type: io.kestra.plugin.core.debug.Return
                format: "v{{ taskrun.value }}"
              - id: odd
                type: io.kestra.plugin.core.execution.Fail
                allowFailure: true
                condition: "{{ taskrun.value == '7' }}"
        """
    )
    text = invoke("run", str(flow)).stdout
    assert reads and all(limit is not None or with_error for limit, with_error in reads)
    assert re.search(r"^\s+r +1 +SUCCESS +value +v1$", text, re.M)
    assert "odd[7] (allowed to fail)" in text  # the failed run, read on its own
    assert re.search(r"[\d,]+ more task runs not shown", text)
