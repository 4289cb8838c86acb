"""Kestra's KV store tasks (``io.kestra.plugin.core.kv``): Set, Get, Delete, GetKeys,
PurgeKV, over the store of :mod:`kflow.kv`."""
