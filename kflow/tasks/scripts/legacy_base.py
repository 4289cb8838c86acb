"""What the pre-0.10 script tasks share: ``io.kestra.core.tasks.scripts.Bash``, ``Python`` and ``Node``.

Kestra removed them (replaced by ``io.kestra.plugin.scripts.shell.Commands``,
``io.kestra.plugin.scripts.python.Script``/``Commands`` and the Node plugin); kflow still
runs them the way they ran (Kestra ``core/tasks/scripts/AbstractBash.java``, commit
1112b9d1b^), on the modern tasks' process and file helpers:

1. a fresh working directory; each ``outputFiles``/``outputsFiles``/``files`` *key* gets an
   empty file ``<key>_<random>.tmp`` (``{{ outputFiles.key }}``, also ``{{ temp.key }}``),
   each ``outputDirs`` key a directory (``{{ outputDirs.key }}``); then ``inputFiles``;
2. ``interpreter + interpreterArgs + [script]`` where the script is ``set -o errexit``
   (``exitOnFailed``) and the rendered commands, one a line;
3. stdout lines logged at INFO, stderr at WARN, ``::{...}::`` lines read as outputs/metrics;
4. outputs ``exitCode``, ``stdOutLineCount``, ``stdErrLineCount``, ``vars``, ``outputFiles``
   and its deprecated copy ``files`` (key → URI; ``<dir key>/<path>`` for outputDirs).
   A non-zero exit fails with ``Command failed with code N``; stderr lines with
   ``warningOnStdErr`` (default true) end the task WARNING.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.errors import TaskError
from kflow.ids import new_id
from kflow.states import State
from kflow.tasks.base import Output, Prop, RunContext, Task, TaskResult, as_text
from kflow.tasks.scripts.files import parse_input_files, stored_name, write_input_files
from kflow.tasks.scripts.process import run_streaming
from kflow.tasks.scripts.protocol import LineSink

# MAX_ARG_STRLEN: a longer script goes through a file, as Kestra's BashService does
_MAX_ARG = 131072

LEGACY_PROPERTIES: dict[str, Prop] = {
    "runner": Prop(
        kind="string",
        default="PROCESS",
        allowed=("PROCESS",),
        refused="kflow runs scripts on this machine (runner PROCESS)",
    ),
    "dockerOptions": Prop(
        kind="map", ignored="kflow runs scripts on this machine, not in a container"
    ),
    "interpreter": Prop(kind="string", default="/bin/sh", doc="the program running the script"),
    "interpreterArgs": Prop(kind="list", default=["-c"], doc="its arguments before the script"),
    "exitOnFailed": Prop(kind="bool", default=True, doc="prepend `set -o errexit`"),
    "outputFiles": Prop(
        kind="list", doc="keys of files to create and keep ({{ outputFiles.key }})"
    ),
    "outputsFiles": Prop(kind="list", doc="deprecated: outputFiles"),
    "files": Prop(kind="list", doc="deprecated: outputFiles"),
    "outputDirs": Prop(kind="list", doc="keys of directories whose files are kept"),
    "inputFiles": Prop(kind="any", doc="file name → content or kestra:// URI (map or JSON)"),
    "env": Prop(kind="map", doc="extra environment variables"),
    "warningOnStdErr": Prop(kind="bool", default=True, doc="stderr output → WARNING"),
}

LEGACY_OUTPUTS = {
    "exitCode": Output("INTEGER", "The exit code of the script"),
    "stdOutLineCount": Output("INTEGER", "Lines written to standard output"),
    "stdErrLineCount": Output("INTEGER", "Lines written to standard error"),
    "vars": Output("MAP", 'Values reported with ::{"outputs": {...}}::', dynamic=True),
    "outputFiles": Output("MAP", "Key → kestra:/// URI of each kept file", dynamic=True),
    "files": Output("MAP", "Deprecated copy of outputFiles", dynamic=True),
}


class _CountingSink(LineSink):
    """Kestra's legacy log threads: stdout at INFO, stderr at WARN, every line counted."""

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx, stdout_level="INFO", stderr_level="WARN")
        self.stdout_count = 0

    def __call__(self, line: str, is_stderr: bool) -> None:
        if not is_stderr:
            self.stdout_count += 1
        super().__call__(line, is_stderr)


def _temp_name(key: str, suffix: str) -> str:
    return f"{key}_{new_id()[:10]}{suffix}"


def _valid_key(key: str, what: str) -> None:
    if key.startswith(("./", "..", "/")):
        raise TaskError(f"Invalid {what} (only relative path is supported) for path '{key}'")


class LegacyScript(Task):
    """What Bash, Python and Node share; subclasses build the script text."""

    properties: ClassVar[Mapping[str, Prop]] = LEGACY_PROPERTIES
    outputs = LEGACY_OUTPUTS
    default_env: ClassVar[Mapping[str, str]] = {}
    # Files every run gets (Python's kestra.py, Node's kestra.js)
    helper_files: ClassVar[Mapping[str, str]] = {}

    def script(self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any],
               inputs: Mapping[str, Any], env: dict[str, str]) -> list[str]:  # fmt: skip
        """The rendered script lines (after ``set -o errexit``)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def prepared(self, ctx: RunContext, workdir: Path, env: dict[str, str]) -> Iterator[None]:
        """Set up what the script runs in (Python's virtualenv)."""
        yield

    def _keys(self, ctx: RunContext, *names: str) -> list[str]:
        keys: list[str] = []
        for name in names:
            keys.extend(self.string_list(ctx, name))
        return keys

    def _env(self, ctx: RunContext) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.default_env)
        declared = self.prop("env")
        if declared is not None:
            declared = ctx.render(declared)
            if not isinstance(declared, Mapping):
                raise TaskError(f"env must be a map of strings, got {type(declared).__name__}")
            for key, value in declared.items():
                env[str(key)] = "" if value is None else as_text(value)
        return env

    def _inputs(self, ctx: RunContext, extra: Mapping[str, Any]) -> dict[str, Any]:
        value = self.prop("inputFiles")
        if isinstance(value, Mapping):
            files = {
                as_text(ctx.render(k)): None if v is None else ctx.render(v, **extra)
                for k, v in value.items()
            }
        else:
            files = parse_input_files(None if value is None else ctx.render(value, **extra))
        for name in files:
            _valid_key(name, "inputFile")
        return {**files, **self.helper_files}

    def summary(self, outputs: Mapping[str, Any], duration_ms: float) -> dict[str, Any]:
        files = outputs.get("outputFiles")
        return {"exit_code": outputs.get("exitCode"),
                "file_count": len(files) if isinstance(files, Mapping) else 0}  # fmt: skip

    def run(self, ctx: RunContext) -> TaskResult:
        """Run the script; see the module docstring."""
        workdir = ctx.working_dir()
        extra: dict[str, Any] = {"workingDir": str(workdir)}
        out_files: dict[str, Path] = {}
        for key in self._keys(ctx, "outputFiles", "outputsFiles", "files"):
            _valid_key(key, "outputFile")
            path = workdir / _temp_name(key, ".tmp")
            path.touch()
            out_files[key] = path
        out_dirs: dict[str, Path] = {}
        for key in self._keys(ctx, "outputDirs"):
            _valid_key(key, "outputFile")
            path = workdir / _temp_name(key, "")
            path.mkdir()
            out_dirs[key] = path
        if out_files:
            extra["outputFiles"] = extra["temp"] = {k: str(p) for k, p in out_files.items()}
        if out_dirs:
            extra["outputDirs"] = {k: str(p) for k, p in out_dirs.items()}

        inputs = self._inputs(ctx, extra)
        write_input_files(ctx, workdir, inputs)
        env = self._env(ctx)
        interpreter = str(ctx.render(self.prop("interpreter") or "/bin/sh"))
        args = self.string_list(ctx, "interpreterArgs")
        sink = _CountingSink(ctx)
        with self.prepared(ctx, workdir, env):
            lines = ["set -o errexit"] if self.flag(ctx, "exitOnFailed") else []
            text = "\n".join(lines + self.script(ctx, workdir, extra, inputs, env))
            if len(text) > _MAX_ARG:
                script_file = workdir / _temp_name("bash", ".sh")
                script_file.write_text(text, encoding="utf-8")
                argv = [interpreter, str(script_file)]
            else:
                argv = [interpreter, *args, text]
            try:
                result = run_streaming(
                    argv, cwd=workdir, env=env, on_line=sink, cancelled=ctx.cancelled
                )
            except OSError as exc:
                raise TaskError(
                    f"cannot start the interpreter {interpreter!r}: {exc.strerror or exc}"
                ) from exc

        outputs: dict[str, Any] = {
            "exitCode": result.exit_code,
            "stdOutLineCount": sink.stdout_count,
            "stdErrLineCount": sink.stderr_count,
            "vars": sink.vars,
        }
        if result.killed:
            raise TaskError(
                f"Command killed after {result.duration:.1f}s (task timeout or kill)",
                outputs=outputs,
            )
        if result.exit_code != 0:
            raise TaskError(f"Command failed with code {result.exit_code}", outputs=outputs)
        uploaded: dict[str, str] = {}
        for key, path in out_files.items():
            uploaded[key] = ctx.put_file(path, stored_name(path))
        for key, directory in out_dirs.items():
            for path in sorted(directory.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    name = f"{key}/{path.relative_to(directory).as_posix()}"
                    uploaded[name] = ctx.put_file(path, stored_name(path))
        outputs["outputFiles"] = uploaded
        outputs["files"] = dict(uploaded)
        state = State.WARNING if self.flag(ctx, "warningOnStdErr") and sink.stderr_count else None
        return TaskResult(outputs=outputs, state=state)


__all__ = ["LEGACY_OUTPUTS", "LEGACY_PROPERTIES", "LegacyScript"]
