"""Kestra's core storage task types (``io.kestra.plugin.core.storage.*``), one module each."""
