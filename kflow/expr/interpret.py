"""Renders the simplest templates by walking their tree instead of compiling Python.

Generating and compiling Python for a template (:mod:`kflow.expr.compiler`) costs about
0.6 ms, many times its render; a flow whose tasks each render a different template (a
chain where every task reads the previous output) pays that once per task. Templates made
only of text and paths (``{{ outputs.t41.value }}+1``, ``{{ inputs.name }}``,
``{{ outputs.each['a'].value }}``) are the common case, so for them :func:`interpret`
builds closures that call the very runtime helpers the generated code calls (``k_var``,
``k_attr``, ``k_item``, ``k_str``) with the same arguments: same values, same errors.
Anything else (filters, operators, tags, calls...) returns None and is compiled as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import nodes

from kflow.expr import nodes as k
from kflow.expr.compiler import CHAIN_LIMIT
from kflow.expr.runtime import k_attr, k_item, k_str, k_var
from kflow.expr.values import Long

Evaluator = Callable[[Any], Any]


def _site(node: nodes.Node) -> tuple[str, int]:
    """The ``(path, position)`` the compiler passes to the helpers (its ``_site``)."""
    return (getattr(node, "path", "?"), getattr(node, "pos", 0))


def _key(node: nodes.Node) -> Evaluator | None:
    """A literal subscript: the value the compiler would write for it."""
    if isinstance(node, k.KConst):
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):
            return None  # rare: left to the compiler
        return lambda _c: value
    if isinstance(node, k.KLong):
        long = Long(int(node.value))
        return lambda _c: long
    return None


def _expr(node: nodes.Node, links: int = 0) -> Evaluator | None:
    """An evaluator for a path (variable, ``.name``, ``[literal]``), or None. A path longer
    than the compiler's CHAIN_LIMIT is left to it (it lays such chains out flat, and the
    nested closures here would recurse once per link)."""
    if links > CHAIN_LIMIT:
        return None
    if isinstance(node, k.KVar):
        name, site = node.name, _site(node)
        # k_var refuses the services key itself (as the compiler's k_novar does), and a
        # template without tags has no `set` overlay, so it equals the static lookup
        return lambda c: k_var(c, name, site)
    if isinstance(node, k.KGetAttr) and node.args is None:
        found = _expr(node.node, links + 1)
        if found is None:
            return None
        inner: Evaluator = found
        attr, site = node.name, _site(node)
        return lambda c: k_attr(inner(c), attr, site)
    if isinstance(node, k.KGetItem):
        obj, key = _expr(node.node, links + 1), _key(node.key)
        if obj is None or key is None:
            return None
        get_obj: Evaluator = obj
        get_key: Evaluator = key
        site = _site(node)
        return lambda c: k_item(get_obj(c), get_key(c), site)
    return None


def interpret(tree: nodes.Template) -> Callable[[Any], Iterator[Any]] | None:
    """A ``root(context)`` equivalent to the compiled one, or None if ``tree`` is more than
    text and paths."""
    if getattr(tree, "macros", None) or getattr(tree, "blocks", None):
        return None
    body = tree.body
    if len(body) == 1 and isinstance(body[0], k.KReturn):  # a typed single expression
        only = _expr(body[0].node)
        if only is None:
            return None
        value_of = only

        def typed(context: Any) -> Iterator[Any]:
            yield value_of(context)

        return typed
    parts: list[str | Evaluator] = []
    for stmt in body:
        if not isinstance(stmt, nodes.Output):
            return None
        for child in stmt.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
                continue
            ev = _expr(child)
            if ev is None:
                return None
            parts.append(ev)

    def root(context: Any) -> Iterator[Any]:
        for part in parts:
            yield part if part.__class__ is str else k_str(part(context))  # type: ignore[operator]

    return root
