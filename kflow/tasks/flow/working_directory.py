"""``io.kestra.plugin.core.flow.WorkingDirectory``: runnable tasks one after another in one
shared directory (``ctx.working_dir()`` and ``{{ workingDir }}`` are the same for all).

In Kestra's order (``Worker.handleTask``): before the first child the cache archive is
restored, then namespace files and ``inputFiles`` are written; the children run in order
(a FAILED child without ``allowFailure`` stops the rest); after the last one ``outputFiles``
are stored (the output ``outputFiles``: relative path → URI, only when a file matched) and
the cache archive is written again if a cached file changed.

The cache lives in the kflow home: ``cache/<namespace>/<flow>/<task id>[/<taskrun value>]/
cache.zip``; older than ``ttl`` (by its modification time) it is deleted, not restored.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kflow.errors import TaskError
from kflow.states import State
from kflow.tasks.base import (
    ChildGroup,
    Children,
    FlowablePlan,
    FlowableTask,
    Output,
    Prop,
    RunContext,
    SubKey,
    as_text,
)
from kflow.tasks.scripts.files import (
    compile_output_patterns,
    copy_namespace_files,
    find_output_files,
    inside,
    parse_input_files,
    upload_output_files,
    write_input_files,
)

_SUBFLOW = "io.kestra.plugin.core.flow.Subflow"


class WorkingDirectory(FlowableTask):
    type = "io.kestra.plugin.core.flow.WorkingDirectory"
    aliases = (
        "io.kestra.core.tasks.flows.WorkingDirectory",
        "io.kestra.core.tasks.flows.Worker",
    )
    outputs = {
        "outputFiles": Output(
            "MAP", "Relative path → kestra:/// URI of each file kept (outputFiles)", dynamic=True
        ),
    }
    properties = {
        "tasks": Prop(required=True, kind="tasks", doc="Runnable tasks sharing the directory"),
        "inputFiles": Prop(kind="any", doc="File name → text or kestra:// URI, written first"),
        "outputFiles": Prop(kind="list", doc="Globs of files to store after the last task"),
        "namespaceFiles": Prop(
            kind="map",
            keys={
                "enabled": SubKey(),
                "include": SubKey(),
                "exclude": SubKey(),
                "namespaces": SubKey(),
                "folderPerNamespace": SubKey(),
                "ifExists": SubKey(allowed=("OVERWRITE", "FAIL", "WARN", "IGNORE")),
            },
            doc="{enabled, include, exclude, namespaces, folderPerNamespace, ifExists}: "
            "namespace files copied in first",
        ),
        "cache": Prop(
            kind="map",
            keys={"patterns": SubKey(), "ttl": SubKey()},
            doc="{patterns, ttl}: files kept from one run to the next",
        ),
    }

    @classmethod
    def check(cls, spec: Any) -> list[str]:
        problems: list[str] = []
        for child in spec.props.get("tasks") or ():
            if child.task_class.flowable or child.type == _SUBFLOW:
                problems.append(
                    "Only runnable tasks are allowed as children of a WorkingDirectory task "
                    f"('{child.id}' is a {child.type.rsplit('.', 1)[-1]})"
                )
        cache = spec.props.get("cache")
        if isinstance(cache, Mapping):
            if not cache.get("patterns"):
                problems.append("'cache' needs 'patterns' (a list of globs)")
            ttl = cache.get("ttl")
            if isinstance(ttl, str) and "{" not in ttl:
                from kflow.java.duration import parse_duration

                if parse_duration(ttl) is None:
                    problems.append(f"cache 'ttl' {ttl!r} is not a duration such as PT1H")
        return problems

    def plan(self, ctx: RunContext) -> FlowablePlan:
        tasks = tuple(self.prop("tasks"))
        workdir = ctx.working_dir()
        extra = {"workingDir": str(workdir)}
        cache = _Cache(self, ctx) if self.prop("cache") is not None else None
        restored_at = cache.restore(workdir) if cache is not None else 0.0
        namespace_files = self.rendered(ctx, "namespaceFiles", **extra)
        if namespace_files is not None:
            copy_namespace_files(ctx, workdir, namespace_files)
        self._write_input_files(ctx, workdir, extra)

        def drive(children: Children) -> set[State]:
            states = children.run(tasks)
            patterns = compile_output_patterns(workdir, self.string_list(ctx, "outputFiles", extra))
            files = upload_output_files(ctx, workdir, find_output_files(workdir, patterns))
            if files:  # Kestra keeps no outputs when nothing matched
                children.set_outputs({"outputFiles": files})
            if cache is not None:
                cache.save(workdir, restored_at)
            return states

        return FlowablePlan(groups=[ChildGroup(tasks)], drive=drive, workdir=workdir)

    def _write_input_files(self, ctx: RunContext, workdir: Path, extra: dict[str, Any]) -> None:
        """``inputFiles`` (Kestra's ``FilesService.inputFiles``): names and values rendered;
        a ``kestra://`` value is copied from storage, a null one makes an empty file."""
        value = self.prop("inputFiles")
        if value is None:
            return
        if isinstance(value, Mapping):
            rendered: Any = {
                as_text(ctx.render(k, **extra)): None if v is None else ctx.render(v, **extra)
                for k, v in value.items()
            }
        else:
            rendered = ctx.render_typed(value, **extra)
        files = parse_input_files(rendered)
        for name, content in files.items():
            if content is None:
                target = inside(workdir, name, "inputFiles entry")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
        write_input_files(ctx, workdir, {k: v for k, v in files.items() if v is not None})


class _Cache:
    """The ``cache`` archive of one WorkingDirectory run (``WorkingDirectory.Cache``)."""

    def __init__(self, task: WorkingDirectory, ctx: RunContext) -> None:
        from kflow.java.duration import parse_duration

        config = task.prop("cache")
        if not isinstance(config, Mapping):
            raise TaskError("'cache' must be a mapping with 'patterns' and 'ttl'")
        patterns = config.get("patterns") or []
        self.patterns = [patterns] if isinstance(patterns, str) else [str(p) for p in patterns]
        ttl = config.get("ttl")
        self.ttl: float | None = None
        if ttl is not None:
            self.ttl = parse_duration(str(ttl))
            if self.ttl is None:
                raise TaskError(f"cache 'ttl' {ttl!r} is not a duration such as PT1H")
        # keyed as Kestra's StorageContext.getCacheURI: flow, task id, then the loop value
        from kflow.storage.base import namespace_path, slugify

        folder = ctx.home / "cache" / namespace_path(ctx.namespace) / slugify(ctx.flow_id)
        folder = folder / ctx.task_id
        if ctx.value is not None:
            folder = folder / slugify(ctx.value)
        self.path = folder / "cache.zip"
        self.ctx = ctx

    def restore(self, workdir: Path) -> float:
        """Unpack the archive into ``workdir``; returns when (epoch seconds), or 0 when
        there was none or it had expired (then it is deleted)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return 0.0
        if self.ttl is not None and mtime + self.ttl < time.time():
            self.ctx.log("DEBUG", f"Cache expired (ttl {self.ttl:g}s), deleting it")
            self.path.unlink(missing_ok=True)
            return 0.0
        self.ctx.log("DEBUG", "Cache exist, downloading it")
        try:
            with zipfile.ZipFile(self.path) as archive:
                for entry in archive.infolist():
                    if entry.is_dir():
                        continue
                    target = inside(workdir, entry.filename, "cache entry")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(entry))
        except (OSError, zipfile.BadZipFile) as exc:
            raise TaskError(f"cannot restore the cache {self.path}: {exc}") from exc
        return time.time()

    def save(self, workdir: Path, restored_at: float) -> None:
        """Write the archive again when a cached file changed since it was restored."""
        try:
            found = find_output_files(workdir, compile_output_patterns(workdir, self.patterns))
        except TaskError as exc:
            raise TaskError(exc.message.replace("outputFiles", "cache")) from exc
        if not any(p.stat().st_mtime > restored_at for p in found):
            self.ctx.log("DEBUG", "Cache files didn't change, skip updating it")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".zip.part")
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in found:
                    archive.write(path, path.relative_to(workdir).as_posix())
            partial.replace(self.path)
        except OSError as exc:  # as in Kestra, a cache that cannot be written is logged
            partial.unlink(missing_ok=True)
            self.ctx.log("ERROR", f"Unable to write the cache {self.path}: {exc}")
            return
        self.ctx.log("DEBUG", f"Caching in {self.path}")
