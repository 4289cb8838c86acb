"""What every script task shares (Kestra's ``AbstractExecScript``), run with the Process runner.

One run, in Kestra's order (reference §3.13):

1. a fresh working directory; namespace files, then ``inputFiles`` written into it;
2. commands rendered with ``workingDir`` (and ``outputDir``), every ``kestra://`` URI in
   them downloaded and replaced by its local path;
3. ``interpreter + ["set -e\\n" + beforeCommands + commands]`` run with the inherited
   environment plus ``env`` and ``WORKING_DIR``; each output line streamed to the task log
   or, for ``::{...}::`` lines, into ``vars``/metrics/logs;
4. ``outputFiles`` stored (also after a failure); outputs ``exitCode``, ``vars``,
   ``outputFiles``. A non-zero exit fails the task with those outputs attached; stderr
   output with exit 0 makes it WARNING unless ``warningOnStdErr: false``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.errors import TaskError
from kflow.ids import new_id
from kflow.states import State
from kflow.tasks.base import Output, Prop, RunContext, Task, TaskResult, as_text
from kflow.tasks.scripts.files import (
    StorageLocalizer,
    compile_output_patterns,
    copy_namespace_files,
    find_output_files,
    parse_input_files,
    upload_output_files,
    write_input_files,
)
from kflow.tasks.scripts.process import run_streaming
from kflow.tasks.scripts.protocol import LineSink
from kflow.tasks.scripts.runners import check_runner

__all__ = ["SCRIPT_PROPERTIES", "ScriptTask", "as_text"]  # as_text: kept for old imports

DEFAULT_INTERPRETER = ("/bin/sh", "-c")

SCRIPT_PROPERTIES: dict[str, Prop] = {
    "taskRunner": Prop(
        kind="map",
        doc="Task runner; kflow runs io.kestra.plugin.core.runner.Process (Kestra: Docker)",
    ),
    "containerImage": Prop(kind="string", doc="Image for container runners; ignored by kflow"),
    "beforeCommands": Prop(kind="list", doc="Commands run before the main ones"),
    "interpreter": Prop(kind="list", default=list(DEFAULT_INTERPRETER), doc="argv prefix"),
    "failFast": Prop(kind="bool", default=True, doc="Prepend `set -e`"),
    "env": Prop(kind="map", doc="Extra environment variables"),
    "warningOnStdErr": Prop(kind="bool", default=True, doc="stderr output → WARNING"),
    "inputFiles": Prop(kind="any", doc="File name → content or kestra:// URI (map or JSON)"),
    "outputFiles": Prop(kind="list", doc="Globs of files to keep, relative to workingDir"),
    "namespaceFiles": Prop(
        kind="map",
        doc="{enabled, include, exclude, namespaces, folderPerNamespace, ifExists}",
    ),
    "targetOS": Prop(
        kind="string",
        default="AUTO",
        doc="AUTO | LINUX | WINDOWS",
        allowed=("AUTO", "LINUX"),
        refused="kflow runs scripts on this machine with a POSIX shell (targetOS AUTO or LINUX)",
    ),
    "outputDirectory": Prop(kind="bool", default=False, doc="Deprecated: {{ outputDir }}"),
    "docker": Prop(kind="map", doc="Deprecated Docker options"),
    "runner": Prop(kind="string", doc="Deprecated: PROCESS | DOCKER"),
}


class ScriptTask(Task):
    """Base of the shell and Python script tasks; subclasses provide the main commands."""

    properties: ClassVar[Mapping[str, Prop]] = SCRIPT_PROPERTIES
    outputs = {
        "exitCode": Output("INTEGER", "The exit code of the commands"),
        "vars": Output(
            "MAP", 'Values the script reported with ::{"outputs": {...}}::', dynamic=True
        ),
        "outputFiles": Output("MAP", "File name → kestra:/// URI of each kept file", dynamic=True),
    }
    # Environment variables the task type always sets (Python: PYTHONUNBUFFERED...).
    default_env: ClassVar[Mapping[str, str]] = {}

    # ----------------------------------------------------------------- subclass hooks
    def main_commands(
        self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any], localize: StorageLocalizer
    ) -> list[str]:
        """The rendered main commands (``commands``, or the script)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def prepared(
        self, ctx: RunContext, workdir: Path, before: list[str], env: dict[str, str]
    ) -> Iterator[list[str]]:
        """Prepare what the commands run in (may change ``env``); yields the beforeCommands
        still to run in the script."""
        yield before

    def _input_files(self, ctx: RunContext, extra: Mapping[str, Any]) -> Any:
        """``inputFiles`` rendered, keys included (both see ``workingDir``)."""
        value = self.prop("inputFiles")
        if isinstance(value, Mapping):
            return {
                as_text(ctx.render(k, **extra)): None if v is None else ctx.render(v, **extra)
                for k, v in value.items()
            }
        return None if value is None else ctx.render(value, **extra)

    def _env(self, ctx: RunContext, workdir: Path, output_dir: Path | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.default_env)
        declared = self.prop("env")
        if isinstance(declared, str):
            declared = ctx.render_typed(declared)
            if isinstance(declared, str):
                try:
                    declared = json.loads(declared) if declared.strip() else {}
                except ValueError as exc:
                    raise TaskError(f"env must be a map of strings: {exc}") from exc
        elif declared is not None:
            declared = ctx.render(declared)  # without workingDir, as Kestra does
        if declared is not None and not isinstance(declared, Mapping):
            raise TaskError(f"env must be a map of strings, got {type(declared).__name__}")
        for key, value in (declared or {}).items():
            env[str(key)] = "" if value is None else as_text(value)
        env["WORKING_DIR"] = str(workdir)
        if output_dir is not None:
            env["OUTPUT_DIR"] = str(output_dir)
        return env

    # ----------------------------------------------------------------- the run
    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        """A script's exit code and how many files it produced."""
        files = outputs.get("outputFiles")
        return {"exit_code": outputs.get("exitCode"),
                "file_count": len(files) if isinstance(files, Mapping) else 0}  # fmt: skip

    def run(self, ctx: RunContext) -> TaskResult:
        """Run the script with the Process runner; see the module docstring."""
        check_runner(
            ctx,
            self.rendered(ctx, "taskRunner"),
            self.rendered(ctx, "containerImage"),
            self.rendered(ctx, "docker"),
            self.rendered(ctx, "runner"),
        )
        workdir = ctx.working_dir()
        extra: dict[str, Any] = {"workingDir": str(workdir)}
        # {{ outputDir }} is always there in current Kestra (the task runner makes it; the
        # outputDirectory flag is deprecated): files written there become outputFiles
        output_dir: Path | None = workdir / new_id()
        assert output_dir is not None
        output_dir.mkdir()
        extra["outputDir"] = str(output_dir)
        # {{ outputFiles.<name> }}: where a declared output file is expected (plugin-scripts
        # ScriptTest.outputFilesPebbleExpression)
        declared = self.string_list(ctx, "outputFiles", extra)
        extra["outputFiles"] = {name: str(workdir / name) for name in declared}

        namespace_files = self.rendered(ctx, "namespaceFiles", **extra)
        if namespace_files is not None:
            copy_namespace_files(ctx, workdir, namespace_files)
        write_input_files(ctx, workdir, parse_input_files(self._input_files(ctx, extra)))

        localize = StorageLocalizer(ctx, workdir)
        interpreter = self.string_list(ctx, "interpreter", extra) or list(DEFAULT_INTERPRETER)
        before = self.string_list(ctx, "beforeCommands", extra)
        commands = self.main_commands(ctx, workdir, extra, localize)
        patterns = compile_output_patterns(workdir, self.string_list(ctx, "outputFiles", extra))
        env = self._env(ctx, workdir, output_dir)
        fail_fast = self.flag(ctx, "failFast")
        warning_on_stderr = self.flag(ctx, "warningOnStdErr")

        sink = LineSink(ctx)
        with self.prepared(ctx, workdir, before, env) as run_before:
            lines = (["set -e"] if fail_fast else []) + run_before + commands
            argv = [*interpreter, localize("\n".join(lines))]
            try:
                result = run_streaming(
                    argv, cwd=workdir, env=env, on_line=sink, cancelled=ctx.cancelled
                )
            except OSError as exc:
                raise TaskError(
                    f"cannot start the interpreter {interpreter[0]!r}: {exc.strerror or exc}",
                    outputs={"vars": sink.vars, "outputFiles": {}},
                ) from exc

        outputs: dict[str, Any] = {
            "exitCode": result.exit_code,
            "vars": sink.vars,
            "outputFiles": {},
        }
        if result.killed:
            raise TaskError(
                f"Command killed after {result.duration:.1f}s (task timeout or kill); "
                "the whole process group was stopped",
                outputs=outputs,
            )
        outputs["outputFiles"] = self._collect(ctx, workdir, patterns, output_dir)
        if result.exit_code != 0:
            message = f"Command failed with exit code {result.exit_code}"
            if sink.stderr_tail:
                message += ", last lines of stderr:\n" + "\n".join(sink.stderr_tail)
            raise TaskError(message, outputs=outputs)
        state = State.WARNING if warning_on_stderr and sink.stderr_count else None
        return TaskResult(outputs=outputs, state=state)

    def _collect(
        self, ctx: RunContext, workdir: Path, patterns: list[Any], output_dir: Path | None
    ) -> dict[str, str]:
        files = upload_output_files(ctx, workdir, find_output_files(workdir, patterns))
        if output_dir is not None:
            produced = [
                p for p in sorted(output_dir.rglob("*")) if p.is_file() and not p.is_symlink()
            ]
            files.update(upload_output_files(ctx, workdir, produced, base=output_dir))
        return files
