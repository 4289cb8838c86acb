"""Kestra's serdes plugin (io.kestra.plugin.serdes): conversions to and from Ion, streamed row by row."""
