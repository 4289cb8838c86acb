"""The command line, through Typer's runner and as a real subprocess: exit codes, --json
shape, bad input giving one clear message and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kflow.cli import app

runner = CliRunner()

SIMPLE = """
id: simple
namespace: company.team
tasks:
  - id: hello
    type: io.kestra.plugin.core.debug.Return
    format: "hello {{ flow.id }}"
outputs:
  - id: greeting
    type: STRING
    value: "{{ outputs.hello.value }}"
"""


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["outputs"], ["eval"], ["validate"], ["executions"], ["logs"], ["preview"], ["plugins"]],
)
def test_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("kflow ")


def test_run_json_shape_and_outputs(write_flow):
    path = write_flow(SIMPLE)
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= {"id", "namespace", "flowId", "state", "inputs", "outputs", "taskRunList"}
    assert doc["state"]["current"] == "SUCCESS"
    assert [h["state"] for h in doc["state"]["histories"]] == ["CREATED", "RUNNING", "SUCCESS"]
    assert doc["outputs"] == {"greeting": "hello simple"}
    run = doc["taskRunList"][0]
    assert run["taskId"] == "hello" and run["outputs"] == {"value": "hello simple"}
    assert "parentTaskRunId" not in run and run["state"]["current"] == "SUCCESS"


def test_run_output_prints_raw_value(write_flow):
    path = write_flow(SIMPLE)
    result = runner.invoke(app, ["run", str(path), "--output", "greeting"])
    assert result.exit_code == 0
    assert result.stdout == "hello simple\n"


def test_run_summary_then_outputs_eval_executions_logs(write_flow):
    path = write_flow(SIMPLE)
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.stdout and "hello simple" in result.stdout
    out = runner.invoke(app, ["outputs", "last", "--json"])
    assert out.exit_code == 0
    doc = json.loads(out.stdout)
    assert doc["taskRuns"][0]["outputs"] == {"value": "hello simple"}
    table = runner.invoke(app, ["outputs", "last"])
    assert table.exit_code == 0 and "hello simple" in table.stdout
    ev = runner.invoke(app, ["eval", "--exec", "last", "{{ outputs.hello.value | upper }}"])
    assert ev.exit_code == 0 and ev.stdout == "HELLO SIMPLE\n"
    listing = runner.invoke(app, ["executions", "--json"])
    assert json.loads(listing.stdout)[0]["flowId"] == "simple"
    assert runner.invoke(app, ["logs", "last"]).exit_code == 0


def test_failed_run_exits_1(write_flow):
    path = write_flow(
        "id: f\nnamespace: n\ntasks:\n  - {id: x, type: io.kestra.plugin.core.execution.Fail}\n"
    )
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["state"]["current"] == "FAILED"


def test_eval_with_context_file_and_without_context(tmp_path):
    ctx = tmp_path / "ctx.yaml"
    ctx.write_text("name: kflow\nitems: [1, 2]\n")
    result = runner.invoke(app, ["eval", "{{ name ~ '!' }} {{ items }}", "--context", str(ctx)])
    assert result.exit_code == 0 and result.stdout == "kflow! [1,2]\n"
    assert runner.invoke(app, ["eval", "{{ 7 / 2 }}"]).stdout == "3\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "missing.yml"], "not found"),
        (["eval", "{{ missing_variable }}"], "missing_variable"),
        (["eval", "{{ 1 + }}"], "^"),
        (["outputs", "nope"], "no execution"),
        (["eval", "--exec", "nope", "{{ 1 }}"], "no execution"),
    ],
)
def test_bad_input_exit_2_without_traceback(args, needle):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output


def test_input_without_equals_is_usage_error(write_flow):
    path = write_flow(SIMPLE)
    result = runner.invoke(app, ["run", str(path), "-i", "novalue"])
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.output


def test_bad_flows_exit_2_with_location(write_flow):
    cases = {
        "list.yml": "- a\n- b\n",
        "notype.yml": "id: f\nnamespace: n\ntasks:\n  - id: a\n",
        "syntax.yml": "id: f\nnamespace: n\ntasks:\n  - id: [a\n",
    }
    for name, text in cases.items():
        path = write_flow(text, name)
        result = runner.invoke(app, ["run", str(path)])
        assert result.exit_code == 2, (name, result.output)
        assert f"{name}:" in result.output
        assert "Traceback" not in result.output


def test_validate(write_flow):
    good = write_flow(SIMPLE, "good.yml")
    bad = write_flow("id: f\nnamespace: n\ntasks:\n  - {id: a, type: io.kestra.plugin.core.debug.Return, format: '{{ 1 + }}'}\n", "bad.yml")
    ok = runner.invoke(app, ["validate", str(good)])
    assert ok.exit_code == 0 and "good.yml" in ok.output
    ko = runner.invoke(app, ["validate", str(good), str(bad)])
    assert ko.exit_code == 2 and "bad.yml:4" in ko.output


def test_nothing_half_written_on_refused_run(write_flow, kflow_home):
    path = write_flow(
        "id: f\nnamespace: n\ninputs:\n  - {id: name, type: STRING}\ntasks:\n"
        "  - {id: a, type: io.kestra.plugin.core.debug.Return, format: x}\n"
    )
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 2
    assert "name" in result.output
    listing = runner.invoke(app, ["executions", "--json"])
    assert json.loads(listing.stdout) == []


def test_real_subprocess_run_and_eval(cli, write_flow, tmp_path):
    path = write_flow(SIMPLE)
    proc = cli("run", str(path), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    ev = cli("eval", "--exec", doc["id"], "{{ outputs.hello.value }}", cwd=tmp_path)
    assert ev.returncode == 0 and ev.stdout == "hello simple\n"
    bad = cli("eval", "{{ nope }}", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stdout == ""


def test_help_does_not_import_heavy_libraries(cli):
    import subprocess
    import sys

    code = (
        "import sys\nsys.argv=['kflow','--help']\n"
        "from kflow.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy=[m for m in ('jq','duckdb','httpx','jinja2','yaml','sqlite3','cryptography') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in proc.stderr


def test_preview_table_or_text(write_flow, tmp_path):
    path = write_flow(
        """
        id: files
        namespace: company.team
        inputs:
          - {id: csv, type: FILE}
        tasks:
          - {id: noop, type: io.kestra.plugin.core.debug.Return, format: x}
        """
    )
    data = tmp_path / "people.csv"
    data.write_text("name,age\nAda,36\nLinus,28\n")
    doc = json.loads(runner.invoke(app, ["run", str(path), "-i", f"csv=@{data}", "--json"]).stdout)
    uri = doc["inputs"]["csv"]
    text = runner.invoke(app, ["preview", uri])  # not a terminal: the file's own lines
    assert text.exit_code == 0 and text.stdout == "name,age\nAda,36\nLinus,28\n"
    table = runner.invoke(app, ["preview", uri, "--format", "table", "--rows", "1"])
    assert "Ada" in table.stdout and "Linus" not in table.stdout and "--rows" in table.stdout
    bad = runner.invoke(app, ["preview", "kestra:///company/../../etc/passwd"])
    assert bad.exit_code == 2 and "outside" in bad.output


def test_several_runs_at_once_into_one_home(write_flow, tmp_path):
    import subprocess
    import sys

    children = "\n".join(
        f"  - {{id: t{i}, type: io.kestra.plugin.core.debug.Return, format: '{{{{ execution.id }}}}-{i}'}}"
        for i in range(30)
    )
    path = write_flow(f"id: many\nnamespace: company.team\ntasks:\n{children}\n")
    procs = [
        subprocess.Popen([sys.executable, "-m", "kflow", "run", str(path), "--json"],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=120)
            outs.append((p.returncode, out))
    finally:  # a failure here must not leave processes behind for later tests
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [code for code, _ in outs] == [0, 0, 0, 0]
    ids = [json.loads(out)["id"] for _, out in outs]
    for eid in ids:
        doc = json.loads(runner.invoke(app, ["outputs", eid, "--json"]).stdout)
        assert len(doc["taskRuns"]) == 30
        assert doc["taskRuns"][29]["outputs"] == {"value": f"{eid}-29"}


def _loaded_after(argv: list[str], modules: tuple[str, ...], home: Path) -> list[str]:
    """Which of ``modules`` a ``kflow`` command imported, stdout to a pipe."""
    import os
    import subprocess
    import sys

    code = (
        f"import sys\nsys.argv={['kflow', *argv]!r}\n"
        "from kflow.cli import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', [m for m in {modules!r} if m in sys.modules], file=sys.stderr)\n"
    )
    env = dict(os.environ, KFLOW_HOME=str(home))
    for key in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED"))
    return list(json.loads(line.removeprefix("LOADED ").replace("'", '"')))


def test_run_in_a_pipe_does_not_load_rich(write_flow, tmp_path):
    """Start-up is most of a short run: a pipe gets plain text, and Rich is not loaded."""
    path = write_flow(
        "id: one\nnamespace: company.team\ntasks:\n"
        "  - {id: a, type: io.kestra.plugin.core.debug.Return, format: hi}\n"
        "  - {id: b, type: io.kestra.plugin.core.debug.Return, format: '{{ outputs.a.value }}!'}\n"
    )
    loaded = _loaded_after(["run", str(path)], ("rich",), tmp_path / "h")
    assert loaded == []



def test_eval_without_a_context_file_does_not_load_yaml_or_rich(tmp_path):
    loaded = _loaded_after(["eval", "{{ 1 + 1 }}"], ("yaml", "rich", "kflow.java.time"),
                           tmp_path / "h")  # fmt: skip
    assert loaded == []


def test_the_fast_exit_keeps_every_byte_and_the_status(tmp_path):
    """``main()`` ends with os._exit: stdout is flushed first, the status is kept, a
    message code is printed, and a thread still at work gets the normal, waiting exit."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, KFLOW_HOME=str(tmp_path / "h"))
    big = subprocess.run([sys.executable, "-m", "kflow", "eval", "{{ range(1, 100000) | join(',') }}"],
                         capture_output=True, text=True, env=env)  # fmt: skip
    assert big.returncode == 0
    assert big.stdout == ",".join(str(i) for i in range(1, 100001)) + "\n"
    bad = subprocess.run([sys.executable, "-m", "kflow", "eval", "{{ nope }}"],
                         capture_output=True, text=True, env=env)  # fmt: skip
    assert bad.returncode == 2 and "nope" in bad.stderr
    marker = tmp_path / "thread-done"
    code = (
        "import threading, time, atexit\n"
        "from kflow.cli.errors import exit_now\n"
        f"atexit.register(lambda: print('atexit ran', flush=True))\n"
        f"def work():\n    time.sleep(0.3)\n    open({str(marker)!r}, 'w').close()\n"
        "threading.Thread(target=work).start()\n"
        "exit_now('a message')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1 and "a message" in proc.stderr
    assert marker.exists() and "atexit ran" in proc.stdout
    quick = subprocess.run(
        [sys.executable, "-c", "import atexit\nfrom kflow.cli.errors import exit_now\n"
         "atexit.register(lambda: print('atexit ran', flush=True))\nprint('out')\nexit_now(7)"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert (quick.returncode, quick.stdout) == (7, "out\natexit ran\n")
