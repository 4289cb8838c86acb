"""``io.kestra.plugin.core.kv.PurgeKV``: delete keys across namespaces (``outputs.t.size``).

As Kestra: the namespaces are ``namespaces`` (with their children unless
``includeChildNamespaces: false``), or those matching ``namespacePattern``, or all;
``keyPattern`` keeps the matching keys; ``behavior: {type: key, expiredOnly: true}``
(the default) deletes expired keys only, ``expiredOnly: false`` every matching key. The
deprecated ``expiredOnly`` property overrides ``behavior``. Kestra looks namespaces up
among its flows; kflow among the namespaces that hold keys, which purges the same keys.
``behavior: {type: version}`` purges nothing: kflow keeps one version of each key.
"""

from __future__ import annotations

import re
from typing import Any

from kflow.errors import TaskError
from kflow.kv import NamespaceKV, is_expired
from kflow.records import now
from kflow.taskoutputs import fixed_instant
from kflow.tasks.base import Output, Prop, RunContext, SubKey, Task
from kflow.tasks.kv.common import kv_store, text


def wildcard(pattern: str) -> re.Pattern[str]:
    """Commons IO ``FilenameUtils.wildcardMatch``: ``*`` any text, ``?`` one character,
    case-sensitive, the whole name."""
    parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _java_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def find_namespaces(task: Task, ctx: RunContext, known: list[str]) -> list[str]:
    """Kestra's ``PurgeTask.findNamespaces`` over ``known`` (the namespaces that hold keys,
    or files): ``namespaces`` (with their children unless ``includeChildNamespaces`` is
    false) or ``namespacePattern``, else all. PurgeKV and PurgeFiles share it."""
    wanted = task.string_list(ctx, "namespaces")
    pattern = text(task, ctx, "namespacePattern")
    if wanted and pattern and pattern.strip():
        raise TaskError(
            "Properties `namespaces` and `namespacePattern` can't be used at the same "
            "time — use one or the other."
        )
    if pattern and pattern.strip():
        glob = wildcard(pattern)
        return [ns for ns in known if glob.fullmatch(ns)]
    if not wanted:
        return list(known)
    if task.flag(ctx, "includeChildNamespaces"):
        found = [ns for ns in known if any(ns.startswith(w) for w in wanted)]
    else:
        found = [ns for ns in known if ns in wanted]
    return found + [ns for ns in dict.fromkeys(wanted) if ns not in found]


class PurgeKV(Task):
    type = "io.kestra.plugin.core.kv.PurgeKV"
    outputs = {"size": Output("INTEGER", "How many KV pairs were deleted")}
    properties = {
        "keyPattern": Prop(kind="string", doc="Only keys matching this glob (AI_*)"),
        "namespaces": Prop(kind="list", doc="Namespaces to purge (not with namespacePattern)"),
        "namespacePattern": Prop(kind="string", doc="Glob of the namespaces to purge"),
        "behavior": Prop(
            kind="map",
            doc="{type: key, expiredOnly: true} (default) or {type: version}",
            keys={
                "type": SubKey(allowed=("KEY", "VERSION"), refused="not a PurgeKV behavior"),
                "expiredOnly": SubKey(),
                "before": SubKey(),
                "keepAmount": SubKey(),
            },
        ),
        "includeChildNamespaces": Prop(
            default=True, kind="bool", doc="With namespaces: their child namespaces too"
        ),
        "expiredOnly": Prop(kind="bool", doc="Deprecated: overrides behavior.expiredOnly"),
    }

    def _expired_only(self, ctx: RunContext) -> bool | None:
        """True/False for the key behaviour, None for the version one."""
        if self.prop("expiredOnly") is not None:
            return self.flag(ctx, "expiredOnly")
        behavior = ctx.render(self.prop("behavior") or {})
        if not isinstance(behavior, dict):
            raise TaskError("behavior must be a map such as {type: key, expiredOnly: true}")
        kind = str(behavior.get("type", "key")).lower()
        if kind == "version":
            if behavior.get("before") is not None and behavior.get("keepAmount") is not None:
                raise TaskError("behavior: Cannot set both 'before' and 'keepAmount' properties")
            return None
        if kind != "key":
            raise TaskError(f"behavior type '{kind}' is unknown: use key or version")
        flag = behavior.get("expiredOnly", True)
        return flag if isinstance(flag, bool) else str(flag).strip().lower() == "true"

    def run(self, ctx: RunContext) -> dict[str, Any]:
        store = kv_store(ctx)
        known = list(dict.fromkeys(row.namespace for row in store.kv_list(None)))
        namespaces = find_namespaces(self, ctx, known)
        ctx.log("INFO", f"purging {len(namespaces)} namespaces: {_java_list(namespaces)}")
        expired_only = self._expired_only(ctx)
        pattern = text(self, ctx, "keyPattern")
        glob = wildcard(pattern) if pattern and pattern.strip() else None
        moment = fixed_instant(now())
        count = 0
        for namespace in namespaces:
            if expired_only is None:
                break  # one version per key: no older version to purge
            kv = NamespaceKV(store, namespace)
            keys = [
                row.key
                for row in kv.entries(include_expired=True)
                if (not expired_only or is_expired(row, moment))
                and (glob is None or glob.fullmatch(row.key))
            ]
            count += kv.purge(keys)
        ctx.log("INFO", f"purged {count} keys")
        return {"size": count}
