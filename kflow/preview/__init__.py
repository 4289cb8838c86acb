"""Kestra's file preview, without its cap: a page of a stored or local file as rows (CSV,
TSV, JSON lines, Ion, a JSON array of objects, Parquet, Avro, Excel) or text, from any
offset, reading only what it shows; and the output files of a task run, found by name.

The CLI (``kflow preview``, ``kflow outputs --preview``) renders what this returns.
"""

from __future__ import annotations

from kflow.preview.files import _file_name as _file_name  # kflow download names files with it
from kflow.preview.files import find_output_file, stored_files
from kflow.preview.read import (
    DEFAULT_ROWS,
    Item,
    Preview,
    PreviewError,
    Source,
    as_record,
    open_source,
    read_preview,
    take,
)

__all__ = [
    "DEFAULT_ROWS",
    "Item",
    "Preview",
    "PreviewError",
    "Source",
    "as_record",
    "find_output_file",
    "open_source",
    "read_preview",
    "stored_files",
    "take",
]
