"""``io.kestra.plugin.core.kv.Put``: update a KV pair, deep-merging maps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kflow.errors import KVError, TaskError
from kflow.kv import decode, encode, is_expired, validate_key
from kflow.records import now
from kflow.store.base import KVRow
from kflow.taskoutputs import fixed_instant
from kflow.tasks.base import Prop, RunContext, Task
from kflow.tasks.core.set_variables import deep_merge
from kflow.tasks.kv.common import KEY, NAMESPACE, kv_store, text


class Put(Task):
    """Kestra ``kv/Put.java``: ``value`` (a lone ``{{ expression }}`` keeps its type) is
    written to ``key``, keeping the entry's description and expiration.

    A map merged into an existing map is deep-merged. A list of ``{key, value}`` entries
    sets those fields of the existing JSON value (a dotted key reaches a nested field); a
    single ``{value}`` entry replaces the whole value. Any other value replaces it. A missing
    key is created, unless ``errorOnMissing`` is true (then the task fails)."""

    type = "io.kestra.plugin.core.kv.Put"
    outputs = {}
    properties = {
        "key": KEY,
        "value": Prop(required=True, doc="The value, a map to merge, or a list of {key, value}"),
        "namespace": NAMESPACE,
        "errorOnMissing": Prop(default=False, kind="bool", doc="Fail when the key is absent"),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        store = kv_store(ctx)
        namespace = text(self, ctx, "namespace") or ctx.namespace
        key = validate_key(text(self, ctx, "key") or "")
        value = ctx.render_typed(self.prop("value"))
        row = store.kv_get(namespace, key)
        if row is not None and is_expired(row):
            row = None
        if row is None and self.flag(ctx, "errorOnMissing"):
            raise TaskError(
                f"No value found for key '{key}' in namespace '{namespace}' and "
                "`errorOnMissing` is set to true"
            )
        current = None if row is None else decode(row.type, row.value)
        try:
            merged = merge_values(current, value)
        except ValueError as exc:
            raise TaskError(str(exc)) from None
        kv_type, encoded = encode(merged)
        stamp = fixed_instant(now())
        new_row = KVRow(
            namespace,
            key,
            kv_type,
            encoded,
            row.description if row else None,
            row.created_at if row else stamp,
            stamp,
            row.expires_at if row else None,
        )
        if not store.kv_set(new_row, overwrite=True, now=stamp):  # pragma: no cover
            raise KVError(f"Cannot set value for key '{key}'")
        return {}


def merge_values(current: Any, value: Any) -> Any:
    """The value Put stores; ValueError (Kestra's IllegalArgumentException) for a bad
    entry list."""
    if isinstance(value, list) and _is_entry_list(value):
        return _merge_entries(current, value)
    if isinstance(current, Mapping) and isinstance(value, Mapping):
        return deep_merge(current, value)
    return value


def _is_entry_list(entries: list[Any]) -> bool:
    return bool(entries) and all(
        isinstance(item, Mapping) and "value" in item and set(item) <= {"key", "value"}
        for item in entries
    )


def _merge_entries(current: Any, entries: list[Any]) -> Any:
    updates: dict[str, Any] = {}
    replace = False
    replacement: Any = None
    for entry in entries:
        entry_key = entry.get("key")
        if entry_key is None:
            if replace or updates or len(entries) > 1:
                raise ValueError(
                    "`value` entries without `key` can only be used as a single replacement item."
                )
            replace, replacement = True, entry.get("value")
            continue
        if not isinstance(entry_key, str) or not entry_key.strip():
            raise ValueError("Each keyed `value` entry must have a non-empty string `key`.")
        updates[entry_key] = entry.get("value")
    if replace:
        return replacement
    nested: dict[str, Any] = {}
    for path, item in updates.items():
        *parents, last = path.split(".")
        node = nested
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[last] = item
    if current is None:
        return nested
    if not isinstance(current, Mapping):
        raise ValueError("Cannot apply keyed `value` updates to a non-JSON existing KV value.")
    return deep_merge(current, nested)
