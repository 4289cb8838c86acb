"""Templates made only of text and ``{{ a.b.c }}`` blocks, recognised and rendered without
Jinja2.

Most templates in flows are text and plain dotted paths (``{{ outputs.t41.value }}+1``,
``{{ inputs.name }}``). Importing Jinja2 and building the Kestra environment costs about
60 ms of a process's life, and parsing each distinct template into a tree costs more than
rendering it; a chain of tasks that each read the previous output pays both. This module
is the one recogniser of such templates: :func:`split` finds their parts (the parser's
tree for them is built from it in :mod:`kflow.expr.env`), and :func:`render` /
:func:`render_typed` look each path up with the runtime helpers the compiled code calls
(``k_var``, ``k_attr``, ``to_string``), so values and printing are the same. On any error
they answer :data:`NOT_HERE` and the caller renders through the full environment, which
raises the error with Kestra's message (rendering a path has no side effects).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from kflow.errors import ExpressionError
from kflow.expr.runtime import RenderContext, k_attr, k_var
from kflow.expr.values import to_string

CACHE_SIZE = 1000

# `{{ a.b.c }}` with plain names and spaces only
_PATH_BLOCK = re.compile(r"\{\{( *)([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) *\}\}")
# names the lexer reads as operators or the parser as literals
_NOT_A_NAME = frozenset(
    {"not", "or", "and", "is", "contains", "isIn", "notIn", "equals", "true", "TRUE", "false", "FALSE",
     "none", "NONE", "null", "NULL"}
)  # fmt: skip


class Text(NamedTuple):
    """Literal text between blocks, at offset ``start`` of the template."""

    start: int
    data: str


class Path(NamedTuple):
    """One ``{{ a.b.c }}`` block: the block starts at ``start``, its first name at
    ``name_start``."""

    start: int
    name_start: int
    names: tuple[str, ...]


Part = Text | Path

# answered when a template is not text and paths, or its render failed: use the full route
NOT_HERE: Any = object()


def _text(template: str, start: int, end: int, parts: list[Part]) -> bool:
    data = template[start:end]
    if "{" in data or "}" in data:
        return False
    if data:
        parts.append(Text(start, data))
    return True


@lru_cache(maxsize=CACHE_SIZE)
def split(template: str) -> tuple[Part, ...] | None:
    """The parts of a template made only of text (no brace) and ``{{ path }}`` blocks of
    plain dotted names, at least one part; None for anything else (left to the parser).
    Templates with a carriage return are left to the parser too (its line counting)."""
    if "\r" in template or "{%" in template or "{#" in template:
        return None
    parts: list[Part] = []
    last = 0
    for m in _PATH_BLOCK.finditer(template):
        if not _text(template, last, m.start(), parts):
            return None
        names = tuple(m.group(2).split("."))
        if any(name in _NOT_A_NAME for name in names):
            return None
        parts.append(Path(m.start(), m.start(2), names))
        last = m.end()
    if not parts or not _text(template, last, len(template), parts):
        return None
    return tuple(parts)


class Reference:
    """A name a template uses: a ``filter``, ``function`` or ``test`` name, an ``input``
    path (``name`` is ``a.b`` for ``inputs.a.b``), or an ``output`` of a task (``name`` is
    the task id, ``path`` the keys after it, None for a key computed by an expression:
    ``outputs.t[taskrun.value].value`` → ``t``, ``(None, "value")``); ``position`` is its
    offset in the template. Load-time checks compare them with the registries, the flow's
    inputs and the outputs its tasks declare."""

    __slots__ = ("kind", "name", "path", "position")

    def __init__(
        self, kind: str, name: str, position: int | None, path: tuple[str | None, ...] = ()
    ) -> None:
        self.kind = kind
        self.name = name
        self.position = position
        self.path = path

    def __repr__(self) -> str:
        return f"Reference({self.kind!r}, {self.name!r}, {self.position!r})"


@lru_cache(maxsize=CACHE_SIZE)
def references(template: str) -> tuple[Reference, ...] | None:
    """``kflow.expr.env.references`` of a template of text and paths, without Jinja2 (the
    load-time checks of ``kflow run`` then never load it for such flows); None for any
    other template. Each ``outputs.t.k...`` path names task ``t`` (offset of ``t``, then
    the keys), each ``inputs.a.b`` path the input ``a.b``; other roots name nothing."""
    parts = split(template)
    if parts is None:
        return None
    found: list[Reference] = []
    for part in parts:
        if not isinstance(part, Path) or len(part.names) < 2:
            continue
        root, *rest = part.names
        at = part.name_start + len(root) + 1  # offset of the name after the root
        if root == "outputs":
            found.append(Reference("output", rest[0], at, tuple(rest[1:])))
        elif root == "inputs":
            found.append(Reference("input", ".".join(rest), at))
    return tuple(found)


def _value(path: Path, c: RenderContext) -> Any:
    names = path.names
    value = k_var(c, names[0], (names[0], path.name_start))
    for name in names[1:]:
        value = k_attr(value, name, (name, path.name_start))
    return value


def render(template: str, context: Mapping[str, Any]) -> Any:
    """The rendered string, or :data:`NOT_HERE`. Output holding ``raw`` is left to the full
    route too (Kestra strips ``{% raw %}`` tags from rendered text)."""
    parts = split(template)
    if parts is None:
        return NOT_HERE
    c = RenderContext(None, context, 0)
    out: list[str] = []
    try:
        for part in parts:
            out.append(part.data if isinstance(part, Text) else to_string(_value(part, c)))
    except (ExpressionError, RecursionError):
        return NOT_HERE
    text = "".join(out)
    return NOT_HERE if "raw" in text else text


def render_typed(template: str, context: Mapping[str, Any]) -> Any:
    """The native value of a template that is exactly ``{{ path }}``, the string of one
    that is text and paths, or :data:`NOT_HERE` (whitespace around a lone path, errors)."""
    parts = split(template)
    if parts is None:
        return NOT_HERE
    only = parts[0]
    if len(parts) == 1 and isinstance(only, Path):
        try:
            return _value(only, RenderContext(None, context, 0))
        except (ExpressionError, RecursionError):
            return NOT_HERE
    paths = [p for p in parts if isinstance(p, Path)]
    if len(paths) == 1 and all(p.data.strip() == "" for p in parts if isinstance(p, Text)):
        return NOT_HERE  # a lone path with whitespace around is typed: the full route
    return render(template, context)
