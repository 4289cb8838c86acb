"""Open a file for preview: what it is (a table, text or a binary file), its records from
``--offset`` on, read lazily so that a page of a 1 GB file costs a page.

Tables: CSV and TSV (the first record is the header), JSON lines, Ion (one value per line,
as Kestra writes it), a JSON array of objects, Parquet (pyarrow), Avro (fastavro) and
Excel (python-calamine or openpyxl). Anything else that decodes is text; a file with NUL
bytes (or mostly control bytes) is binary and only described.

Skipping to an offset never holds the file: CSV, Ion, JSON lines and text skip records in
1 MB chunks of raw bytes (:func:`kflow.preview.text.skip_records`), Parquet skips whole
row groups from its footer, Avro whole blocks from their headers.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from kflow.errors import UsageError
from kflow.preview import text as _text

DEFAULT_ROWS = 100
# a JSON document that is not an array of objects is pretty-printed only up to this size
# (it has to be parsed whole); a larger one is shown as its own lines
MAX_PRETTY_JSON = 32 * 1000 * 1000

EXTRAS = {"parquet": "pyarrow", "avro": "fastavro", "excel": "python-calamine or openpyxl"}
_FORMAT_NAMES = {"parquet": "Parquet", "avro": "Avro", "excel": "Excel"}
EXCEL = ("xlsx", "xlsm", "xls", "xlsb", "ods")

# syntax highlighting on a terminal, by extension (Pygments lexer names)
SYNTAX = {
    "py": "python", "pyi": "python", "sh": "bash", "bash": "bash", "zsh": "bash",
    "sql": "sql", "yml": "yaml", "yaml": "yaml", "json": "json", "toml": "toml",
    "js": "javascript", "mjs": "javascript", "cjs": "javascript", "ts": "typescript",
    "xml": "xml", "html": "html", "htm": "html", "css": "css", "ini": "ini", "cfg": "ini",
    "conf": "ini", "properties": "properties", "java": "java", "kt": "kotlin",
    "scala": "scala", "groovy": "groovy", "go": "go", "rs": "rust", "rb": "ruby",
    "r": "r", "c": "c", "h": "c", "cpp": "cpp", "hpp": "cpp", "cs": "csharp",
    "php": "php", "pl": "perl", "lua": "lua", "ps1": "powershell", "bat": "batch",
    "tf": "terraform", "hcl": "terraform", "dockerfile": "docker", "peb": "jinja",
    "j2": "jinja", "jinja": "jinja", "diff": "diff", "patch": "diff", "graphql": "graphql",
}  # fmt: skip
MARKDOWN = ("md", "markdown")


class PreviewError(UsageError):
    """A file kflow cannot preview: unreadable data, a missing optional library."""


@dataclass
class Item:
    """One record: ``value`` its data as JSON values (a dict, a CSV or Excel row as a list
    of cells, a text line), ``raw`` its own text where it has one (a CSV record, a JSON
    line, a text line), printed as is in a pipe."""

    value: Any
    raw: str | None = None


@dataclass
class Source:
    """An opened file, positioned at ``offset``. ``items`` yields its records from there,
    ``None`` for a blank line (counted, as ``--offset`` counts it, but not shown)."""

    name: str
    kind: str  # "table", "text" or "binary"
    format: str  # csv, tsv, jsonl, ion, json, parquet, avro, excel, text, binary
    items: Iterator[Item | None] = field(default_factory=lambda: iter(()))
    offset: int = 0
    columns: list[str] = field(default_factory=list)  # known before reading rows
    total: int | None = None  # records in the file, when known without reading it
    encoding: str | None = None
    syntax: str | None = None  # a Pygments lexer name, or "markdown"
    description: str = ""  # a binary file: "binary file, 12.3 kB, application/zip"
    sheet: str | None = None  # Excel: the sheet shown (the first)
    raw_header: str | None = None  # CSV: the header record's own text

    @property
    def unit(self) -> str:
        return "lines" if self.kind == "text" else "rows"


@dataclass
class Preview:
    """A page of a file: the records shown, from ``source.offset`` on. ``end`` is the
    offset after the last record read (blank lines counted), ``more`` whether records
    remain after it."""

    source: Source
    items: list[Item]
    end: int
    more: bool
    columns: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def truncated(self) -> bool:
        return self.more

    @property
    def rows(self) -> list[list[Any]]:
        """The table's cells, one list per record, in :attr:`columns` order."""
        return [table_row(item.value, self.columns, self.source) for item in self.items]

    @property
    def lines(self) -> list[str]:
        return [item.raw if item.raw is not None else str(item.value) for item in self.items]


def extension(name: str) -> str:
    base = name.rstrip("/").rsplit("/", 1)[-1]
    if base.lower() == "dockerfile":
        return "dockerfile"
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def table_row(value: Any, columns: list[str], source: Source) -> list[Any]:
    if isinstance(value, dict):
        return [value.get(c) for c in columns]
    if isinstance(value, list) and source.format in ("csv", "tsv", "excel"):
        # cells beyond the header are left out of the table (--to keeps them)
        return (list(value) + [None] * len(columns))[: len(columns)]
    return [None] * (len(columns) - 1) + [value] if columns else [value]


def columns_of(values: list[Any]) -> list[str]:
    """Every key of the dict records, in order of appearance; ``value`` for the others."""
    columns: dict[str, None] = {}
    plain = False
    for value in values:
        if isinstance(value, dict):
            columns.update(dict.fromkeys(str(k) for k in value))
        else:
            plain = True
    return [*columns, *(["value"] if plain or not columns else [])]


def as_record(item: Item, columns: list[str]) -> Any:
    """A record as one JSON value: CSV and Excel rows become objects keyed by the header."""
    value = item.value
    if isinstance(value, list) and columns:
        record = {c: (value[i] if i < len(value) else None) for i, c in enumerate(columns)}
        for i in range(len(columns), len(value)):  # cells beyond the header
            record[f"column{i + 1}"] = value[i]
        return record
    return value


# ------------------------------------------------------------------------ reading a page


def read_preview(
    name: str,
    fh: BinaryIO,
    rows: int | None = DEFAULT_ROWS,
    offset: int = 0,
    encoding: str | None = None,
    size: int | None = None,
) -> Preview:
    """The records of ``fh`` from ``offset`` on, at most ``rows`` of them (None: all).
    A JSON-lines or Ion file whose page does not parse is shown as text, as Kestra does."""
    source = open_source(name, fh, offset=offset, encoding=encoding, size=size)
    try:
        return take(source, rows)
    except PreviewError:
        if source.format not in ("jsonl", "ion") or not fh.seekable():
            raise
    fh.seek(0)
    return take(open_source(name, fh, offset=offset, encoding=encoding, size=size,
                            as_text=True), rows)  # fmt: skip


def take(source: Source, rows: int | None) -> Preview:
    shown: list[Item] = []
    end = source.offset
    more = False
    for item in source.items:
        if rows is not None and len(shown) >= rows:
            if item is not None:
                more = True
                break
            continue  # blank lines at the end of the page: not "more"
        end += 1
        if item is not None:
            shown.append(item)
    if source.kind == "table":
        columns = source.columns or columns_of([i.value for i in shown])
    else:
        columns = []
    if not more and source.total is None:
        source.total = end
    return Preview(source, shown, end, more, columns)


def open_source(
    name: str,
    fh: BinaryIO,
    *,
    offset: int = 0,
    encoding: str | None = None,
    size: int | None = None,
    as_text: bool = False,
) -> Source:
    """``fh`` positioned at ``offset`` records (lines for text), ready to be read lazily.
    Raises :class:`PreviewError` for a bad ``encoding`` or a file kflow cannot read."""
    if offset < 0:
        raise PreviewError(f"--offset must be 0 or more, not {offset}")
    if encoding is not None:
        try:
            encoding = _text.check_encoding(encoding)
        except LookupError:
            raise PreviewError(
                f"unknown encoding {encoding!r}",
                hint="e.g. --encoding utf-8, latin-1, cp1252, utf-16",
            ) from None
    ext = extension(name)
    label = name.rstrip("/").rsplit("/", 1)[-1]
    sample = fh.read(_text.SAMPLE)
    if not as_text:
        if ext in ("parquet", "parq") or sample.startswith(b"PAR1"):
            return _parquet(label, _seekable(sample, fh), offset)
        if ext == "avro" or sample.startswith(b"Obj\x01"):
            return _avro(label, _seekable(sample, fh), offset)
        if ext in EXCEL:
            return _excel(label, _seekable(sample, fh), offset, ext)
    if encoding is None:
        if _binary(sample):
            return Source(label, "binary", "binary", description=_describe(name, sample, fh, size))
        encoding = _text.detect_encoding(sample)
    stream = _text.prefixed(sample, fh)
    if not as_text:
        if ext in ("csv", "tsv", "tab"):
            return _csv(label, stream, sample, offset, encoding, "\t" if ext != "csv" else ",")
        if ext in ("jsonl", "ndjson"):
            return _jsonl(label, stream, offset, encoding)
        if ext == "ion":
            return _ion(label, stream, sample, offset, encoding)
        if ext == "json":
            source = _json(label, stream, offset, encoding, size)
            if source is not None:
                return source
            # too big, or not valid JSON: its own lines, from the start again
            if fh.seekable():
                fh.seek(0)
                stream = _text.prefixed(b"", fh)
            else:
                stream = _text.prefixed(sample, io.BytesIO())
    syntax = "markdown" if ext in MARKDOWN else SYNTAX.get(ext)
    return _text_source(label, stream, offset, encoding, syntax)


def _seekable(sample: bytes, fh: BinaryIO) -> BinaryIO:
    """A seekable stream of the whole file (Parquet and Excel read their end first): ``fh``
    rewound, or a copy spooled to a temporary file."""
    if fh.seekable():
        fh.seek(0)
        return fh
    import shutil
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)
    spool.write(sample)
    shutil.copyfileobj(fh, spool, 1 << 20)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _binary(sample: bytes) -> bool:
    if _text.bom_encoding(sample) is not None:
        return False
    head = sample[:8192]
    if b"\x00" in head:
        return True
    control = sum(
        head.count(bytes([b])) for b in (*range(0, 8), 11, *range(14, 27), *range(28, 32))
    )
    return len(head) > 0 and control / len(head) > 0.1


_MAGIC = (
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"%PDF", "application/pdf"),
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ", "application/x-xz"),
    (b"SQLite format 3", "application/vnd.sqlite3"),
)


def _describe(name: str, sample: bytes, fh: BinaryIO, size: int | None) -> str:
    import mimetypes

    if size is None:
        try:
            size = os.fstat(fh.fileno()).st_size
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            size = None
    mime = mimetypes.guess_type(name.rstrip("/").rsplit("/", 1)[-1])[0]
    if mime is None:
        mime = next((m for magic, m in _MAGIC if sample.startswith(magic)), None)
    parts = ["binary file"]
    if size is not None:
        parts.append(_text.human_size(size))
    parts.append(mime or "application/octet-stream")
    return ", ".join(parts)


def _decoded(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    # newline="": a CSV field keeps its own line ends; errors="replace": never fails on text
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def _skip_lines(
    stream: BinaryIO, offset: int, encoding: str, quote: str | None
) -> tuple[io.TextIOWrapper, int | None]:
    """The decoded stream after ``offset`` records (lines, or CSV records with ``quote``),
    and the number of records in the file when it ended before ``offset``."""
    if offset == 0:
        return _decoded(stream, encoding), None
    if _text.ascii_compatible(encoding):
        skipped, rest = _text.skip_records(stream, offset, quote.encode() if quote else None)
        total = skipped if skipped < offset else None
        return _decoded(_text.prefixed(rest, stream), encoding), total
    decoded = _decoded(stream, encoding)
    skipped = sum(1 for _ in itertools.islice(
        _text.records(iter(decoded.readline, ""), quote), offset))  # fmt: skip
    return decoded, skipped if skipped < offset else None


def _text_source(
    label: str, stream: BinaryIO, offset: int, encoding: str, syntax: str | None
) -> Source:
    decoded, total = _skip_lines(stream, offset, encoding, None)
    items = (Item(line, line) for line in _text.text_lines(decoded))
    return Source(label, "text", "text", items, offset, total=total, encoding=encoding,
                  syntax=syntax)  # fmt: skip


def _csv(
    label: str, stream: BinaryIO, sample: bytes, offset: int, encoding: str, delimiter: str
) -> Source:
    import csv

    fmt = "csv" if delimiter == "," else "tsv"

    def parse(record: str) -> list[str]:
        try:
            return next(csv.reader([record], delimiter=delimiter), [])
        except csv.Error as exc:
            raise PreviewError(f"cannot read {label} as CSV: {exc}") from None

    header_end = None
    if _text.ascii_compatible(encoding):
        probe = io.BytesIO(sample)
        found, rest = _text.skip_records(probe, 1, b'"')
        if found == 1 and (rest or sample.endswith(b"\n")):
            header_end = len(sample) - len(rest)
    first: str | None
    if header_end is not None:
        stream.read(header_end)  # the sample again, through the stream that gives it back
        first = sample[:header_end].decode(encoding, errors="replace")
        header = parse(first)
        decoded, total = _skip_lines(stream, offset, encoding, '"')
    else:
        decoded = _decoded(stream, encoding)
        recs = _text.records(iter(decoded.readline, ""), '"')
        first = next(recs, None)
        header = parse(first) if first is not None else []
        skipped = sum(1 for _ in itertools.islice(recs, offset))
        total = skipped if skipped < offset else None
    raw_header = first.rstrip("\r\n").lstrip("\ufeff") if first is not None else None

    def items() -> Iterator[Item | None]:
        for record in _text.records(iter(decoded.readline, ""), '"'):
            raw = record.rstrip("\r\n")
            yield Item(parse(record), raw) if raw else None

    return Source(label, "table", fmt, items(), offset, header, total=total, encoding=encoding,
                  raw_header=raw_header)  # fmt: skip


def _jsonl(label: str, stream: BinaryIO, offset: int, encoding: str) -> Source:
    decoded, total = _skip_lines(stream, offset, encoding, None)

    def items() -> Iterator[Item | None]:
        for n, line in enumerate(_text.text_lines(decoded), offset + 1):
            if not line.strip():
                yield None
                continue
            try:
                yield Item(json.loads(line), line)
            except ValueError as exc:
                raise PreviewError(f"{label} line {n} is not JSON: {exc}") from None

    return Source(label, "table", "jsonl", items(), offset, total=total, encoding=encoding)


def _ion(label: str, stream: BinaryIO, sample: bytes, offset: int, encoding: str) -> Source:
    from kflow import ion

    def value(v: Any) -> Item:
        return Item(ion.to_jsonable(v))

    lined = offset > 0 and _one_value_per_line(sample, encoding)
    if lined or offset == 0:
        decoded, total = _skip_lines(stream, offset, encoding, None)
    else:  # values spanning lines: count them by reading them
        decoded, total = _decoded(stream, encoding), None

    def items() -> Iterator[Item | None]:
        rows = ion.read_rows(decoded)
        try:
            if offset and not lined:
                skipped = sum(1 for _ in itertools.islice(rows, offset))
                if skipped < offset:
                    src.total = skipped
            for v in rows:
                yield value(v)
        except ValueError as exc:  # IonError
            raise PreviewError(f"cannot read {label} as Ion: {exc}") from None

    src = Source(label, "table", "ion", items(), offset, total=total, encoding=encoding)
    return src


def _one_value_per_line(sample: bytes, encoding: str) -> bool:
    """Whether the file's head holds one Ion value on each line, as Kestra writes Ion:
    then ``--offset`` skips lines without parsing them."""
    from kflow import ion

    lines = sample.decode(encoding, errors="replace").split("\n")[:-1][:200]
    try:
        for line in lines:
            if line.strip():
                ion.loads(line)
    except ValueError:  # IonError
        return False
    return True


def _json(
    label: str, stream: BinaryIO, offset: int, encoding: str, size: int | None
) -> Source | None:
    """An array of objects as a table, another document pretty-printed; None when it is
    too big to pretty-print or not valid JSON."""
    decoded = _decoded(stream, encoding)
    head = decoded.read(_text.SAMPLE)
    start = len(head) - len(head.lstrip("\ufeff \t\r\n"))
    if head[start : start + 1] == "[":
        chunks: list[str] = []
        values = _json_array(decoded, head, start + 1, label, chunks)
        first = next(values, _END)
        if first is _END or isinstance(first, dict):
            chain = values if first is _END else itertools.chain([first], values)
            skipped = sum(1 for _ in itertools.islice(chain, offset))
            total = skipped if skipped < offset else None
            items = (Item(v) for v in chain)
            return Source(label, "table", "json", items, offset, total=total, encoding=encoding)
        head += "".join(chunks)
    rest = decoded.read(MAX_PRETTY_JSON) if (size is None or size <= MAX_PRETTY_JSON) else None
    if rest is not None and not decoded.read(1):
        try:
            doc = json.loads(head + rest)
        except ValueError:
            doc = _END
        if doc is not _END:
            lines = json.dumps(doc, indent=2, ensure_ascii=False).split("\n")
            total = len(lines) if offset > len(lines) else None
            items = (Item(line, line) for line in lines[offset:])
            return Source(label, "text", "json", items, offset, total=total, encoding=encoding,
                          syntax="json")  # fmt: skip
    decoded.detach()  # the caller reads the file again: closing this must not close it
    return None


_END: Any = object()


def _json_array(
    decoded: io.TextIOWrapper, buf: str, pos: int, label: str, chunks: list[str]
) -> Iterator[Any]:
    """The items of a JSON array, one at a time, reading 64 kB at a time (each chunk read
    is appended to ``chunks``)."""
    decoder = json.JSONDecoder()
    eof = False

    def ws(i: int) -> int:
        while i < len(buf) and buf[i] in " \t\r\n":
            i += 1
        return i

    def more() -> None:
        nonlocal buf, pos, eof
        chunk = decoded.read(_text.SAMPLE)
        chunks.append(chunk)
        eof = not chunk
        buf = buf[pos:] + chunk
        pos = 0

    first = True
    while True:
        pos = ws(pos)
        if pos >= len(buf):
            if eof:
                raise PreviewError(f"{label}: the JSON array is not closed")
            more()
            continue
        if first and buf[pos] == "]":
            return
        try:
            value, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if eof:
                raise PreviewError(f"{label} is not valid JSON: {exc}") from None
            more()
            continue
        after = ws(end)
        if after >= len(buf) and not eof:
            more()  # a number cut at the end of the buffer: decode it again, whole
            continue
        yield value
        first = False
        if after < len(buf) and buf[after] == ",":
            pos = after + 1
        elif after < len(buf) and buf[after] == "]":
            return
        else:
            raise PreviewError(f"{label} is not valid JSON: expected , or ] after item")


def _missing(fmt: str) -> PreviewError:
    return PreviewError(
        f"previewing {_FORMAT_NAMES[fmt]} files needs {EXTRAS[fmt]}: pip install 'kflow[{fmt}]'"
    )


def _parquet(label: str, fh: BinaryIO, offset: int) -> Source:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise _missing("parquet") from None
    from kflow.ion import to_jsonable

    try:
        pf = pq.ParquetFile(fh)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...: all mean unreadable
        raise PreviewError(f"cannot read {label} as Parquet: {exc}") from None
    meta = pf.metadata
    total = meta.num_rows
    group = skipped = 0
    while group < meta.num_row_groups and skipped + meta.row_group(group).num_rows <= offset:
        skipped += meta.row_group(group).num_rows
        group += 1

    def items() -> Iterator[Item | None]:
        left = offset - skipped
        if group >= meta.num_row_groups:
            return
        try:
            batches = pf.iter_batches(batch_size=1000, row_groups=range(group, meta.num_row_groups))
            for batch in batches:
                if left >= batch.num_rows:
                    left -= batch.num_rows
                    continue
                if left:
                    batch, left = batch.slice(left), 0
                for record in batch.to_pylist():
                    yield Item(to_jsonable(record))
        except Exception as exc:
            raise PreviewError(f"cannot read {label} as Parquet: {exc}") from None

    return Source(label, "table", "parquet", items(), offset, list(pf.schema_arrow.names),
                  total=total)  # fmt: skip


def _avro(label: str, fh: BinaryIO, offset: int) -> Source:
    try:
        import fastavro
    except ImportError:
        raise _missing("avro") from None
    from kflow.ion import to_jsonable

    try:
        blocks = fastavro.block_reader(fh)
        schema = blocks.writer_schema
    except Exception as exc:  # fastavro raises ValueError, EOFError, its own errors...
        raise PreviewError(f"cannot read {label} as Avro: {exc}") from None
    fields = schema.get("fields") if isinstance(schema, dict) else None
    columns = [str(f["name"]) for f in fields] if isinstance(fields, list) else []
    src = Source(label, "table", "avro", iter(()), offset, columns)

    def items() -> Iterator[Item | None]:
        skipped = 0
        try:
            for block in blocks:
                if skipped + block.num_records <= offset:
                    skipped += block.num_records
                    continue
                for record in itertools.islice(
                    block, offset - skipped if skipped < offset else 0, None
                ):
                    yield Item(to_jsonable(record))
                skipped = offset
        except Exception as exc:
            raise PreviewError(f"cannot read {label} as Avro: {exc}") from None
        if skipped < offset:
            src.total = skipped

    src.items = items()
    return src


def _excel(label: str, fh: BinaryIO, offset: int, ext: str) -> Source:
    from kflow.ion import to_jsonable

    rows: Iterator[Any]
    try:
        from python_calamine import CalamineWorkbook  # type: ignore[import-not-found,unused-ignore]

        try:
            book = CalamineWorkbook.from_filelike(fh)
            sheet = book.sheet_names[0]
            rows = iter(book.get_sheet_by_index(0).iter_rows())
        except Exception as exc:
            raise PreviewError(f"cannot read {label} as Excel: {exc}") from None
    except ImportError:
        if ext not in ("xlsx", "xlsm"):
            raise _missing("excel") from None
        try:
            import openpyxl  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise _missing("excel") from None
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            ws = wb.worksheets[0]
            sheet = ws.title
            rows = iter(ws.iter_rows(values_only=True))
        except Exception as exc:
            raise PreviewError(f"cannot read {label} as Excel: {exc}") from None
    head = next(rows, None) or []
    columns = [str(v) if v not in (None, "") else f"column{i + 1}" for i, v in enumerate(head)]
    skipped = sum(1 for _ in itertools.islice(rows, offset))
    items = (Item([to_jsonable(v) for v in row]) for row in rows)
    return Source(label, "table", "excel", items, offset, columns,
                  total=skipped if skipped < offset else None, sheet=sheet)  # fmt: skip
