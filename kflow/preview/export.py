"""``kflow preview --to jsonl|csv|json``: a file's records as text for other tools, streamed
(a batch of records at a time), values as Kestra's JSON mapper writes them."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from kflow.preview.read import Item, PreviewError, Source, as_record, columns_of

FORMATS = ("jsonl", "csv", "json")
BATCH = 1000  # records per write; CSV columns are those of the first batch


class Export:
    """Iterate to get the text, batch by batch; afterwards ``end`` is the offset after the
    last record written and ``more`` whether records remain (a ``limit`` was reached).
    ``dropped`` names CSV columns that appeared only after the header was written."""

    def __init__(self, source: Source, to: str, limit: int | None) -> None:
        if to not in FORMATS:
            raise PreviewError(f"--to must be jsonl, csv or json, not {to!r}")
        if source.kind == "binary":
            raise PreviewError(
                f"{source.name} is a {source.description}: it has no rows to export",
                hint="kflow download copies it as it is",
            )
        self.source = source
        self.to = to
        self.limit = limit
        self.end = source.offset
        self.more = False
        self.dropped: list[str] = []

    def _items(self) -> Iterator[Item]:
        shown = 0
        for item in self.source.items:
            if self.limit is not None and shown >= self.limit:
                if item is not None:
                    self.more = True
                    return
                continue
            self.end += 1
            if item is not None:
                shown += 1
                yield item

    def __iter__(self) -> Iterator[str]:
        from kflow.expr.values import to_json

        items = self._items()
        head = list(itertools.islice(items, BATCH))
        if self.source.kind == "text":
            columns = ["line"]
        else:
            columns = self.source.columns or columns_of([i.value for i in head])

        def record(item: Item) -> Any:
            if self.source.kind == "text":
                return {"line": item.value}
            return as_record(item, columns)

        batches = itertools.chain([head], iter(lambda: list(itertools.islice(items, BATCH)), []))
        if self.to == "csv":
            yield from self._csv(batches, columns, record)
            return
        first = True
        for batch in batches:
            if not batch:
                continue
            if self.to == "jsonl":
                yield "".join(to_json(record(i)) + "\n" for i in batch)
            else:
                lead = "[\n" if first else ",\n"
                yield lead + ",\n".join(to_json(record(i)) for i in batch)
            first = False
        if self.to == "json":
            yield "[]\n" if first else "\n]\n"

    def _csv(
        self, batches: Iterator[list[Item]], columns: list[str], record: Callable[[Item], Any]
    ) -> Iterator[str]:
        from kflow.expr.values import to_string

        def cell(value: Any) -> str:
            return "" if value is None else to_string(value)

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        known = set(columns)
        for batch in batches:
            for item in batch:
                rec = record(item)
                if isinstance(rec, dict):
                    for key in rec:
                        if key not in known:
                            known.add(key)
                            self.dropped.append(str(key))
                    writer.writerow([cell(rec.get(c)) for c in columns])
                else:
                    writer.writerow([cell(rec)])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        if buf.getvalue():
            yield buf.getvalue()
