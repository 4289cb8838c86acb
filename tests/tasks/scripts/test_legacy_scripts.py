"""The pre-0.10 ``io.kestra.core.tasks.scripts.Bash``/``Python``/``Node`` tasks."""

from __future__ import annotations

import shutil

import pytest

from kflow.flow.validate import parse_flow


def _by_id(ex, task_id):
    (run,) = [tr for tr in ex.task_runs if tr.task_id == task_id]
    return run


def test_bash_commands_output_files_and_vars(run_yaml):
    ex = run_yaml(
        """
        id: legacy
        namespace: company.team
        tasks:
          - id: bash
            type: io.kestra.core.tasks.scripts.Bash
            outputFiles: [first]
            outputDirs: [dir]
            inputFiles:
              data.txt: "hello {{ flow.id }}"
            commands:
              - cat data.txt > {{ outputFiles.first }}
              - echo two > {{ outputDirs.dir }}/b.txt
              - 'echo ''::{"outputs": {"n": 3}}::'''
              - echo done
          - id: read
            type: io.kestra.plugin.core.debug.Return
            format: "{{ read(outputs.bash.outputFiles.first) }}|{{ outputs.bash.vars.n }}"
        """
    )
    assert ex.state.current.value == "SUCCESS"
    bash = _by_id(ex, "bash").outputs
    assert bash["exitCode"] == 0
    assert bash["stdOutLineCount"] == 2
    assert bash["stdErrLineCount"] == 0
    assert bash["vars"] == {"n": 3}
    assert sorted(bash["outputFiles"]) == ["dir/b.txt", "first"]
    assert bash["files"] == bash["outputFiles"]
    assert _by_id(ex, "read").outputs == {"value": "hello legacy|3"}


def test_bash_failure_stderr_and_exit_on_failed(run_yaml):
    ex = run_yaml(
        """
        id: legacy
        namespace: n
        tasks:
          - id: fails
            type: io.kestra.core.tasks.scripts.Bash
            commands: ["false", "echo never"]
        """
    )
    assert ex.state.current.value == "FAILED"
    run = _by_id(ex, "fails")
    assert run.outputs["exitCode"] == 1
    assert run.outputs["stdOutLineCount"] == 0

    ex = run_yaml(
        """
        id: legacy
        namespace: n
        tasks:
          - id: warns
            type: io.kestra.core.tasks.scripts.Bash
            exitOnFailed: false
            commands: ["false", "echo oops >&2"]
          - id: quiet
            type: io.kestra.core.tasks.scripts.Bash
            warningOnStdErr: false
            interpreter: /bin/bash
            commands: ["echo oops >&2"]
        """
    )
    assert _by_id(ex, "warns").state.current.value == "WARNING"
    assert _by_id(ex, "warns").outputs["stdErrLineCount"] == 1
    assert _by_id(ex, "quiet").state.current.value == "SUCCESS"


def test_validate_warns_deprecated_and_refuses_docker_runner():
    flow = parse_flow(
        "id: f\nnamespace: n\ntasks:\n"
        "  - {id: b, type: io.kestra.core.tasks.scripts.Bash, commands: [echo]}\n"
    )
    (notice,) = [w for w in flow.warnings if w.code == "deprecated-type"]
    assert notice.message == (
        "task 'b': io.kestra.core.tasks.scripts.Bash is deprecated in Kestra; "
        "use io.kestra.plugin.scripts.shell.Commands (kflow still runs it)"
    )
    with pytest.raises(
        Exception, match="runner 'DOCKER' is not supported by kflow|not supported by kflow"
    ):
        parse_flow(
            "id: f\nnamespace: n\ntasks:\n"
            "  - {id: b, type: io.kestra.core.tasks.scripts.Bash, runner: DOCKER, commands: [echo]}\n"
        )


def test_python_main_py_in_a_virtualenv(run_yaml):
    ex = run_yaml(
        """
        id: legacy
        namespace: n
        tasks:
          - id: py
            type: io.kestra.core.tasks.scripts.Python
            args: ["a b"]
            inputFiles:
              main.py: |
                import sys
                from kestra import Kestra
                Kestra.outputs({"args": sys.argv[1:], "venv": len(sys.prefix != sys.base_prefix and "x" or "")})
        """
    )
    assert ex.state.current.value == "SUCCESS", [tr.state for tr in ex.task_runs]
    assert _by_id(ex, "py").outputs["vars"] == {"args": ["a", "b"], "venv": 1}


def test_python_needs_main_py(run_yaml):
    ex = run_yaml(
        "id: f\nnamespace: n\ntasks:\n"
        "  - {id: py, type: io.kestra.core.tasks.scripts.Python, virtualEnv: false}\n"
    )
    assert ex.state.current.value == "FAILED"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_node_main_js(run_yaml):
    ex = run_yaml(
        """
        id: legacy
        namespace: n
        tasks:
          - id: js
            type: io.kestra.core.tasks.scripts.Node
            args: ["x"]
            inputFiles:
              main.js: |
                const Kestra = require('./kestra');
                Kestra.outputs({arg: process.argv[2], sum: 1 + 2});
        """
    )
    assert ex.state.current.value == "SUCCESS"
    assert _by_id(ex, "js").outputs["vars"] == {"arg": "x", "sum": 3}


def test_node_without_node_is_refused_before_running(run_yaml):
    flow = parse_flow(
        "id: f\nnamespace: n\ntasks:\n"
        "  - {id: js, type: io.kestra.core.tasks.scripts.Node, nodePath: no-such-node-binary,"
        " inputFiles: {main.js: ''}}\n"
    )
    (notice,) = [w for w in flow.warnings if w.code == "missing-extra"]
    assert "needs the program 'no-such-node-binary', which is not on PATH" in notice.message
    with pytest.raises(Exception, match="needs the program 'no-such-node-binary'"):
        run_yaml(
            "id: f\nnamespace: n\ntasks:\n"
            "  - {id: js, type: io.kestra.core.tasks.scripts.Node, nodePath: no-such-node-binary,"
            " inputFiles: {main.js: ''}}\n"
        )
