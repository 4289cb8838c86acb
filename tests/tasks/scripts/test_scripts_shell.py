"""Shell script tasks: files in and out, the output protocol, failures, states, runners."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from kflow.errors import TaskError
from kflow.ids import id_from
from kflow.secrets import decrypt, is_encrypted
from kflow.states import State
from kflow.tasks.scripts import runners
from kflow.tasks.scripts.shell_commands import ShellCommands
from kflow.tasks.scripts.shell_script import ShellScript

PREFIX = "kestra:///company/team/flow/executions/exec1/tasks/task/tr1/"


def test_bash_with_files(ctx, run_task):
    """Seed 000 `bash_with_files`: the FILE input renamed and returned as output.tmp."""
    uri = ctx.store(
        "company/team/flow/executions/exec1/inputs/file/data.txt", b"hello from an uploaded file"
    )
    ctx.set_vars(inputs={"file": uri})
    result = run_task(
        ShellCommands,
        ctx,
        commands=["mv file.tmp output.tmp"],
        inputFiles={"file.tmp": "{{ inputs.file }}"},
        outputFiles=["*.tmp"],
    )
    assert result.state is None
    assert result.outputs["exitCode"] == 0
    assert result.outputs["vars"] == {}
    assert list(result.outputs["outputFiles"]) == ["output.tmp"]
    out_uri = result.outputs["outputFiles"]["output.tmp"]
    workdir = ctx.workdirs[0].resolve()
    assert out_uri == PREFIX + id_from(str(workdir / "output.tmp")) + "-output.tmp"
    assert ctx.read(out_uri) == "hello from an uploaded file"


def test_encrypted_output(ctx, run_task):
    """Seed 000 `encryped_output`: plaintext in clear, encrypted value stored encrypted."""
    result = run_task(
        ShellScript,
        ctx,
        script=(
            'echo \'::{"outputs":{"plaintext":"plaintext_value"}}::\'\n'
            'echo \'::{"encryptedOutputs":{"encrypted":"my secret value"}}::\'\n'
            "echo 'leak: my secret value'\n"
        ),
    )
    vars_ = result.outputs["vars"]
    assert vars_["plaintext"] == "plaintext_value"
    assert is_encrypted(vars_["encrypted"])
    assert "my secret value" not in str(vars_["encrypted"])
    assert decrypt(vars_["encrypted"]) == "my secret value"
    assert ctx.secrets == ["my secret value"]
    # protocol lines are never logged; the secret is masked in ordinary lines
    assert ctx.lines() == ["leak: ******"]


def test_outputs_always_present(ctx, run_task):
    result = run_task(ShellCommands, ctx, commands=["true"])
    assert result.outputs == {"exitCode": 0, "vars": {}, "outputFiles": {}}
    assert result.state is None


def test_commands_joined_after_set_e(ctx, run_task):
    with pytest.raises(TaskError) as err:
        run_task(ShellCommands, ctx, commands=["false", "echo after"])
    assert err.value.outputs["exitCode"] == 1
    assert "after" not in ctx.lines()

    other = ctx.__class__(ctx.root.parent / "other")
    result = run_task(ShellCommands, other, commands=["false", "echo after"], failFast=False)
    assert other.lines() == ["after"]
    assert result.outputs["exitCode"] == 0


def test_before_commands_env_and_working_dir(ctx, run_task):
    ctx.set_vars(inputs={"name": "kflow"})
    result = run_task(
        ShellCommands,
        ctx,
        beforeCommands=["export GREETING=hello", "cd sub"],
        inputFiles={"sub/x.txt": "x"},
        env={"WHO": "{{ inputs.name }}", "NUM": 3},
        commands=[
            "echo $GREETING $WHO $NUM",
            "pwd",
            'test "$WORKING_DIR" = "{{ workingDir }}" && echo same',
        ],
    )
    workdir = str(ctx.workdirs[0].resolve())
    assert ctx.lines("INFO") == ["hello kflow 3", workdir + "/sub", "same"]
    assert result.outputs["exitCode"] == 0


def test_inherits_environment(ctx, run_task, monkeypatch):
    monkeypatch.setenv("KFLOW_TEST_INHERITED", "yes")
    run_task(ShellCommands, ctx, commands=["echo $KFLOW_TEST_INHERITED"])
    assert ctx.lines() == ["yes"]


def test_failure_message_has_exit_code_and_stderr_tail(ctx, run_task):
    script = "\n".join(
        [
            'echo \'::{"outputs":{"step":1}}::\'',
            "echo partial > out.txt",
            "for i in $(seq 1 12); do echo err$i >&2; done",
            "exit 3",
        ]
    )
    with pytest.raises(TaskError) as err:
        run_task(ShellScript, ctx, script=script, outputFiles=["out.txt"])
    message = err.value.message
    assert message.startswith("Command failed with exit code 3")
    assert message.splitlines()[1:] == [f"err{i}" for i in range(3, 13)]
    outputs = err.value.outputs
    assert outputs["exitCode"] == 3
    assert outputs["vars"] == {"step": 1}
    assert ctx.read(outputs["outputFiles"]["out.txt"]) == "partial\n"
    assert ctx.lines("ERROR") == [f"err{i}" for i in range(1, 13)]


def test_cancel_kills_process_group(ctx, run_task, tmp_path):
    pid_file = tmp_path / "child.pid"
    timer = threading.Timer(0.5, ctx.cancelled.set)
    timer.start()
    started = time.monotonic()
    with pytest.raises(TaskError) as err:
        run_task(
            ShellCommands,
            ctx,
            commands=[f"sleep 60 & echo $! > {pid_file}", "echo started", "wait"],
        )
    elapsed = time.monotonic() - started
    timer.cancel()
    assert "killed" in err.value.message
    assert elapsed < 10
    assert ctx.lines() == ["started"]
    child = int(pid_file.read_text())
    for _ in range(50):  # the background sleep got the signal too
        if not _alive(child):
            break
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): look at its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_background_child_does_not_hang_the_task(ctx, run_task):
    started = time.monotonic()
    result = run_task(ShellCommands, ctx, commands=["(sleep 30 &)", "echo done"])
    assert result.outputs["exitCode"] == 0
    assert ctx.lines() == ["done"]
    assert time.monotonic() - started < 10


def test_warning_on_stderr(ctx, run_task, make_ctx):
    result = run_task(ShellCommands, ctx, commands=["echo to-out", "echo to-err >&2"])
    assert result.state is State.WARNING
    assert ctx.logs == [("INFO", "to-out"), ("ERROR", "to-err")]

    quiet = make_ctx()
    result = run_task(ShellCommands, quiet, commands=["echo to-err >&2"], warningOnStdErr=False)
    assert result.state is None

    # a protocol line on stderr still counts as stderr output
    proto = make_ctx()
    result = run_task(ShellCommands, proto, commands=['echo \'::{"outputs":{"a":1}}::\' >&2'])
    assert result.state is State.WARNING
    assert proto.logs == []
    assert result.outputs["vars"] == {"a": 1}


def test_protocol_metrics_logs_and_invalid_lines(ctx, run_task):
    script = "\n".join(
        [
            'echo \'::{"outputs":{"a":1,"b":{"x":1}}}::\'',
            'echo \'::{"outputs":{"b":{"y":2},"c":[1,2]}}::\'',
            'echo \'::{"metrics":[{"name":"rows","type":"counter","value":5,'
            '"tags":{"table":"t"}},{"name":"load","type":"timer","value":1.5}]}::\'',
            'echo \'::{"logs":[{"level":"WARN","message":"careful"},'
            '{"level":"DEBUG","message":"details"}]}::\'',
            "echo '::{not json}::'",
            'echo \'text ::{"outputs":{"z":1}}::\'',
            'echo \'::{"outputs":{"z":1}}:: trailing\'',
        ]
    )
    result = run_task(ShellScript, ctx, script=script)
    assert result.outputs["vars"] == {"a": 1, "b": {"y": 2}, "c": [1, 2]}
    assert ctx.metrics == [("rows", "counter", 5.0, {"table": "t"}), ("load", "timer", 1.5, {})]
    assert ctx.logs[:2] == [("WARN", "careful"), ("DEBUG", "details")]
    assert ctx.logs[2][0] == "WARN" and ctx.logs[2][1].startswith("Invalid outputs '")
    assert ctx.logs[3:] == [
        ("INFO", 'text ::{"outputs":{"z":1}}::'),
        ("INFO", '::{"outputs":{"z":1}}:: trailing'),
    ]


def test_storage_uris_in_commands_are_downloaded(ctx, run_task):
    uri = ctx.store("company/team/flow/executions/exec1/tasks/dl/t0/data.csv", b"a,b\n1,2\n")
    ctx.set_vars(outputs={"dl": {"uri": uri}})
    run_task(ShellCommands, ctx, commands=["cat {{ outputs.dl.uri }}", "echo {{ outputs.dl.uri }}"])
    lines = ctx.lines()
    assert lines[:2] == ["a,b", "1,2"]
    local = Path(lines[2])
    assert local.parent == ctx.workdirs[0].resolve()
    assert local.suffix == ".csv" and local.stem.isdigit()


def test_missing_storage_uri_names_it(ctx, run_task):
    with pytest.raises(TaskError, match="kestra:///company/team/nope.txt"):
        run_task(ShellCommands, ctx, commands=["cat kestra:///company/team/nope.txt"])


def test_input_files_json_string_null_and_nested(ctx, run_task):
    ctx.set_vars(files='{"a.txt": "A", "sub/dir/b.txt": "B", "skip.txt": null}')
    run_task(
        ShellCommands,
        ctx,
        inputFiles="{{ files }}",
        commands=["cat a.txt sub/dir/b.txt; echo", "test ! -e skip.txt && echo skipped"],
    )
    assert ctx.lines() == ["AB", "skipped"]


def test_input_files_keys_and_values_see_working_dir(ctx, run_task):
    run_task(
        ShellCommands,
        ctx,
        inputFiles={"where.txt": "{{ workingDir }}"},
        commands=["cat where.txt; echo"],
    )
    assert ctx.lines() == [str(ctx.workdirs[0].resolve())]


@pytest.mark.parametrize(
    "name", ["../escape.txt", "/tmp/kflow-abs.txt", "a/../../escape.txt", "sub/../../x"]
)
def test_hostile_input_file_names_are_refused(ctx, run_task, name):
    with pytest.raises(TaskError) as err:
        run_task(ShellCommands, ctx, inputFiles={name: "x"}, commands=["true"])
    assert repr(name) in err.value.message
    assert not (ctx.root.parent / "escape.txt").exists()


def test_input_file_through_symlink_is_refused(ctx, run_task, tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    real = ctx.working_dir

    def with_link() -> Path:
        path = real()
        (path / "link").symlink_to(outside)
        return path

    monkeypatch.setattr(ctx, "working_dir", with_link)
    with pytest.raises(TaskError, match="'link/x.txt' would be written outside"):
        run_task(ShellCommands, ctx, inputFiles={"link/x.txt": "x"}, commands=["true"])
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("pattern", ["../*.txt", "/etc/passwd", "sub/../../x"])
def test_hostile_output_patterns_are_refused(ctx, run_task, pattern):
    with pytest.raises(TaskError) as err:
        run_task(ShellCommands, ctx, commands=["true"], outputFiles=[pattern])
    assert repr(pattern) in err.value.message


def test_output_symlink_pointing_out_is_refused(ctx, run_task, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    with pytest.raises(TaskError) as err:
        run_task(
            ShellCommands,
            ctx,
            commands=[f"ln -s {secret} leak.txt", "echo ok > fine.txt"],
            outputFiles=["*.txt"],
        )
    assert "'leak.txt' is a symbolic link" in err.value.message
    assert not any("secret" in p for p in ctx.stored)


def test_output_symlink_inside_is_skipped(ctx, run_task):
    result = run_task(
        ShellCommands,
        ctx,
        commands=["echo ok > real.txt", "ln -s real.txt alias.txt"],
        outputFiles=["*.txt"],
    )
    assert list(result.outputs["outputFiles"]) == ["real.txt"]


def test_output_globs_follow_java_rules(ctx, run_task):
    workdir_files = ["a.csv", "b.txt", "sub/c.csv", "sub/deep/d.csv", "my file.csv"]
    commands = ["mkdir -p sub/deep"] + [f"echo x > '{f}'" for f in workdir_files]
    result = run_task(
        ShellCommands,
        ctx,
        commands=commands,
        outputFiles=["*.csv", "sub/**.csv", "{{ workingDir }}/b.txt", "nothing*.json"],
    )
    files = result.outputs["outputFiles"]
    assert sorted(files) == ["a.csv", "b.txt", "my file.csv", "sub/c.csv", "sub/deep/d.csv"]
    workdir = ctx.workdirs[0].resolve()
    assert files["my file.csv"] == PREFIX + id_from(str(workdir / "my file.csv")) + "-my+file.csv"

    only_nested = ctx.__class__(ctx.root.parent / "nested")
    result = run_task(ShellCommands, only_nested, commands=commands, outputFiles=["**/*.csv"])
    assert sorted(result.outputs["outputFiles"]) == ["sub/c.csv", "sub/deep/d.csv"]


def test_output_directory(ctx, run_task):
    result = run_task(
        ShellCommands,
        ctx,
        outputDirectory=True,
        commands=['echo hi > "$OUTPUT_DIR/a.txt"', "echo there > {{ outputDir }}/b.txt"],
    )
    files = result.outputs["outputFiles"]
    assert sorted(files) == ["a.txt", "b.txt"]
    assert ctx.read(files["b.txt"]) == "there\n"


def test_namespace_files_are_copied(ctx, run_task):
    ctx.store("company/team/_files/scripts/hello.sh", b"echo hello from ns")
    ctx.store("company/team/_files/data/skip.txt", b"no")
    run_task(
        ShellCommands,
        ctx,
        namespaceFiles={"enabled": True, "include": ["scripts/*.sh"]},
        commands=["sh scripts/hello.sh", "test ! -e data/skip.txt && echo excluded"],
    )
    loaded, *lines = ctx.lines()  # Kestra logs what it loaded (NamespaceFilesUtils)
    assert loaded.startswith("Loaded 1 namespace files from 'company.team' in 00:00:")
    assert lines == ["hello from ns", "excluded"]


def test_shell_script_is_inline(ctx, run_task):
    run_task(ShellScript, ctx, script="for i in 1 2; do\n  echo line$i\ndone\nls | wc -l")
    # the working dir holds only {{ outputDir }} (always created, as Kestra's runner does)
    assert ctx.lines() == ["line1", "line2", "1"]


def test_custom_interpreter(ctx, run_task):
    run_task(
        ShellCommands, ctx, interpreter=["/bin/bash", "-c"], commands=["echo ${BASH_VERSION:+bash}"]
    )
    assert ctx.lines() == ["bash"]


def test_missing_interpreter_fails_clearly(ctx, run_task):
    with pytest.raises(TaskError, match="cannot start the interpreter '/nonexistent/sh'"):
        run_task(ShellCommands, ctx, interpreter=["/nonexistent/sh", "-c"], commands=["true"])


def test_utf8_and_partial_last_line(ctx, run_task):
    run_task(ShellCommands, ctx, commands=["printf 'h\\303\\251llo\\nno newline'"])
    assert ctx.lines() == ["héllo", "no newline"]


# --------------------------------------------------------------------------- runners


def test_container_image_without_docker_runs_with_process(ctx, run_task, monkeypatch):
    monkeypatch.setattr(runners, "_ask_docker", lambda: False)
    run_task(ShellCommands, ctx, containerImage="ubuntu:22.04", commands=["echo ran"])
    assert ctx.logs == [
        (
            "WARN",
            "containerImage 'ubuntu:22.04' ignored: no Docker engine; "
            "running with the Process runner",
        ),
        ("INFO", "ran"),
    ]


def test_container_notice_once_per_execution_and_task(ctx, run_task, monkeypatch, make_ctx):
    monkeypatch.setattr(runners, "_ask_docker", lambda: False)
    for _ in range(3):  # e.g. ForEach iterations of one task in one execution
        run_task(ShellCommands, ctx, containerImage="ubuntu", commands=["true"])
    assert len(ctx.lines("WARN")) == 1
    other_execution = make_ctx()
    run_task(ShellCommands, other_execution, runner="DOCKER", commands=["true"])
    assert other_execution.lines("WARN") == [
        "the Docker runner ignored: no Docker engine; running with the Process runner"
    ]


def test_explicit_process_runner_is_silent(ctx, run_task):
    run_task(
        ShellCommands,
        ctx,
        taskRunner={"type": "io.kestra.plugin.core.runner.Process"},
        containerImage="ubuntu",
        commands=["echo ran"],
    )
    assert ctx.logs == [("INFO", "ran")]


def test_explicit_docker_runner_without_engine_fails(ctx, run_task, monkeypatch):
    monkeypatch.setattr(runners, "_ask_docker", lambda: False)
    with pytest.raises(TaskError) as err:
        run_task(
            ShellCommands,
            ctx,
            taskRunner={"type": "io.kestra.plugin.scripts.runner.docker.Docker"},
            commands=["echo never"],
        )
    assert "needs a Docker engine" in err.value.message
    assert "io.kestra.plugin.core.runner.Process" in err.value.message
    assert "start Docker" in err.value.message
    assert ctx.logs == []


def test_explicit_docker_runner_with_engine_is_not_supported(ctx, run_task, monkeypatch):
    monkeypatch.setattr(runners, "_ask_docker", lambda: True)
    with pytest.raises(TaskError, match="Docker task runner is not supported by kflow yet"):
        run_task(
            ShellCommands,
            ctx,
            taskRunner={"type": "io.kestra.plugin.scripts.runner.docker.Docker"},
            commands=["echo never"],
        )


def test_docker_answer_is_cached(monkeypatch):
    calls = []
    monkeypatch.setattr(runners, "_ask_docker", lambda: calls.append(1) or False)
    assert runners.docker_available() is False
    assert runners.docker_available() is False
    assert calls == [1]


def test_unknown_task_runner_fails(ctx, run_task):
    with pytest.raises(TaskError, match="taskRunner type 'io.kestra.plugin.ee.k8s.Kubernetes'"):
        run_task(
            ShellCommands,
            ctx,
            taskRunner={"type": "io.kestra.plugin.ee.k8s.Kubernetes"},
            commands=["true"],
        )
