"""``io.kestra.plugin.core.namespace.PurgeFiles``: delete namespace files across namespaces
(``outputs.t.size``).

As Kestra: the namespaces are ``namespaces`` (with their children unless
``includeChildNamespaces: false``), or those matching ``namespacePattern``, or all; only
files whose path (``dir/file.sql``) matches the ``filePattern`` glob are considered. Kestra
keeps versions of each file and ``behavior: {type: version}`` says which go: ``keepAmount``
(default 1) newest versions are kept, or, with ``before``, the versions older than that date
except the last one go. kflow keeps one version of each file, so only ``keepAmount: 0`` or a
behavior with neither ``keepAmount`` nor ``before`` deletes files; the default deletes none.
Kestra looks namespaces up among its flows, kflow among the namespaces that hold files,
which purges the same files. ``size`` counts the files deleted (Kestra's count also takes
in the folder entries it keeps and kflow does not).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from kflow.errors import TaskError
from kflow.storage.namespace import NamespaceFiles, namespaces_with_files
from kflow.tasks.base import Output, Prop, RunContext, SubKey, Task
from kflow.tasks.kv.common import text
from kflow.tasks.kv.purge_kv import find_namespaces, wildcard
from kflow.tasks.namespace.common import as_task_error


def _java_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


class PurgeFiles(Task):
    type = "io.kestra.plugin.core.namespace.PurgeFiles"
    outputs = {"size": Output("INTEGER", "The number of purged namespace file versions")}
    properties = {
        "filePattern": Prop(kind="string", doc="Only files whose path matches this glob (AI_*)"),
        "namespaces": Prop(kind="list", doc="Namespaces to purge (not with namespacePattern)"),
        "namespacePattern": Prop(kind="string", doc="Glob of the namespaces to purge"),
        "behavior": Prop(
            kind="map",
            doc="{type: version, keepAmount: 1} (default), or {type: version, before: date}",
            keys={
                "type": SubKey(allowed=("VERSION",), refused="not a PurgeFiles behavior"),
                "before": SubKey(),
                "keepAmount": SubKey(),
            },
        ),
        "includeChildNamespaces": Prop(
            default=True, kind="bool", doc="With namespaces: their child namespaces too"
        ),
    }

    def _purges_files(self, ctx: RunContext) -> bool:
        """Whether the behavior purges the one version kflow keeps of each file."""
        behavior = ctx.render(self.prop("behavior") or {"type": "version", "keepAmount": 1})
        if not isinstance(behavior, dict):
            raise TaskError("behavior must be a map such as {type: version, keepAmount: 1}")
        kind = str(behavior.get("type", "version")).lower()
        if kind != "version":
            raise TaskError(f"behavior type '{kind}' is unknown: use version")
        before, keep = behavior.get("before"), behavior.get("keepAmount")
        if before is not None and keep is not None:
            raise TaskError("behavior: Cannot set both 'before' and 'keepAmount' properties")
        if before is not None:
            return False  # only versions older than the last one: kflow has none
        if keep is None:
            return True
        try:
            amount = int(keep)
        except (TypeError, ValueError):
            raise TaskError(f"behavior: keepAmount {keep!r} is not a number") from None
        if amount < 0:
            raise TaskError(f"behavior: keepAmount {amount} must be positive or zero")
        return amount == 0

    def run(self, ctx: RunContext) -> dict[str, Any]:
        home_files: NamespaceFiles = ctx.namespace_files(ctx.namespace)
        known = namespaces_with_files(home_files.storage)
        namespaces = find_namespaces(self, ctx, known)
        ctx.log("INFO", f"purging {len(namespaces)} namespaces: {_java_list(namespaces)}")
        purge = self._purges_files(ctx)
        pattern = text(self, ctx, "filePattern")
        glob = wildcard(pattern) if pattern and pattern.strip() else None
        count = 0
        for namespace in namespaces if purge else []:
            files: NamespaceFiles = ctx.namespace_files(namespace)
            for path in as_task_error("PurgeFiles", files.all):
                if glob is not None and not glob.fullmatch(path.lstrip("/")):
                    continue
                if as_task_error(f"cannot delete {path!r}", partial(files.delete, path)):
                    count += 1
        ctx.log("INFO", f"purged {count} files")
        return {"size": count}
