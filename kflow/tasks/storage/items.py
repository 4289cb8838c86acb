"""Reading a stored Ion file item by item, and rendering an expression against one item:
what ``FilterItems`` and ``DeduplicateItems`` share.

Each line of the file is one Ion value (as Kestra's FileSerde writes them); an item's
fields become top-level variables of the expression, over the task's own context, as
Kestra renders ``filterCondition``/``expr`` with the item as extra variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kflow.errors import TaskError
from kflow.tasks.base import RunContext


def items(ctx: RunContext, uri: str) -> Iterator[tuple[str, Any]]:
    """Each non-empty line of a stored file (without its line end) with the Ion value it
    holds, read as a stream."""
    from kflow import ion

    with ctx.open_file(uri) as fh:
        for number, raw in enumerate(fh, 1):
            line = raw.decode("utf-8").rstrip("\r\n")
            if not line.strip():
                continue
            try:
                yield line, ion.loads(line)
            except ion.IonError as exc:
                raise TaskError(f"{uri}: line {number} is not an Ion value: {exc}") from None


def render_on(ctx: RunContext, template: str, item: Any) -> str:
    """``template`` rendered with the item's fields as top-level variables."""
    from kflow import expr, ion

    context = dict(ctx.variables)
    value = ion.to_jsonable(item)
    if isinstance(value, dict):
        context.update(value)
    rendered: str = expr.render(template, context)
    return rendered
