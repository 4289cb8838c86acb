"""Kestra's compress plugin (io.kestra.plugin.compress): archives and compressed files with the standard library."""
