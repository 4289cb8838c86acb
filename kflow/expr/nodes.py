"""Jinja2 AST nodes for Pebble constructs (compiled by :mod:`kflow.expr.compiler`).

Every node may carry ``pos``, the 0-based offset of its token in the template, so that
runtime errors can point at the bad part. Plain Jinja2 nodes (``Template``, ``Output``,
``TemplateData``, ``If``) are used where their semantics are Pebble's.
"""

from __future__ import annotations

from typing import Any

from jinja2 import nodes


class _KNodeType(nodes.NodeType):
    """Jinja2 seals ``NodeType`` after defining its own nodes ("can't create custom node
    types"); this metaclass redoes its field/attribute merging so that Pebble's nodes can be
    proper ``jinja2.nodes.Node`` subclasses visited by ``CodeGenerator``."""

    def __new__(mcs, name: str, bases: tuple[type, ...], d: dict[str, Any]) -> Any:
        for attr in ("fields", "attributes"):
            storage: list[str] = list(getattr(bases[0] if bases else object, attr, ()))
            storage.extend(d.get(attr, ()))
            d[attr] = tuple(storage)
        d.setdefault("abstract", False)
        return type.__new__(mcs, name, bases, d)


def at(node: nodes.Node, pos: int) -> Any:
    """Attach a template offset to ``node`` and return it."""
    node.pos = pos  # type: ignore[attr-defined]
    return node


class KHelper(nodes.Helper, metaclass=_KNodeType):
    """Base of helper nodes (arguments, parameters)."""

    abstract = True


class KExpr(nodes.Expr, metaclass=_KNodeType):
    """Base of Pebble expression nodes."""

    abstract = True


class KConst(KExpr):
    """A literal with a Python repr: str, float, bool, None."""

    fields = ("value",)
    value: Any


class KLong(KExpr):
    """An integer literal: a ``java.lang.Long``."""

    fields = ("value",)
    value: int


class KList(KExpr):
    """``[a, b]``: a new ``ArrayList`` on each evaluation."""

    fields = ("items",)
    items: list[nodes.Expr]


class KMap(KExpr):
    """``{k: v}``: a new ``HashMap`` (Java hash order) on each evaluation."""

    fields = ("keys", "values")
    keys: list[nodes.Expr]
    values: list[nodes.Expr]


class KVar(KExpr):
    """A context variable; ``path`` is its source text, for error messages."""

    fields = ("name",)
    name: str


class KGetAttr(KExpr):
    """``obj.name`` (``args`` None) or the Java method call ``obj.name(args)``."""

    fields = ("node", "name", "args")
    node: nodes.Expr
    name: str
    args: list[nodes.Expr] | None


class KGetItem(KExpr):
    """``obj[key]``."""

    fields = ("node", "key")
    node: nodes.Expr
    key: nodes.Expr


class KKeyword(KHelper):
    """A named argument ``name=value``."""

    fields = ("key", "value")
    key: str
    value: nodes.Expr


class KCall(KExpr):
    """``name(args)``: a function, else a macro of the template."""

    fields = ("name", "args", "kwargs")
    name: str
    args: list[nodes.Expr]
    kwargs: list[KKeyword]


class KFilter(KExpr):
    """``node | name(args)``."""

    fields = ("node", "name", "args", "kwargs")
    node: nodes.Expr
    name: str
    args: list[nodes.Expr]
    kwargs: list[KKeyword]


class KTest(KExpr):
    """``node is [not] name(args)``."""

    fields = ("node", "name", "args", "kwargs", "negate")
    node: nodes.Expr
    name: str
    args: list[nodes.Expr]
    kwargs: list[KKeyword]
    negate: bool


class KBinary(KExpr):
    """A binary operator with Java semantics (arithmetic, comparison, ``~``, ``..``…)."""

    fields = ("op", "left", "right")
    op: str
    left: nodes.Expr
    right: nodes.Expr


class KAnd(KExpr):
    """``a and b``: short-circuit, returns a Boolean."""

    fields = ("left", "right")
    left: nodes.Expr
    right: nodes.Expr


class KOr(KExpr):
    """``a or b``: short-circuit, returns a Boolean."""

    fields = ("left", "right")
    left: nodes.Expr
    right: nodes.Expr


class KNot(KExpr):
    """``not a``."""

    fields = ("node",)
    node: nodes.Expr


class KUnary(KExpr):
    """Unary ``-`` / ``+`` (``multiply(±1, x)`` in Pebble)."""

    fields = ("op", "node")
    op: str
    node: nodes.Expr


class KCond(KExpr):
    """``test ? a : b``; a null test takes ``b``."""

    fields = ("test", "expr1", "expr2")
    test: nodes.Expr
    expr1: nodes.Expr
    expr2: nodes.Expr


class KCoalesce(KExpr):
    """``a ?? b`` (missing or null) and ``a ??? b`` (missing only)."""

    fields = ("op", "left", "right")
    op: str
    left: nodes.Expr
    right: nodes.Expr


class KTruth(KExpr):
    """Pebble's Boolean conversion of an ``if``/``elseif`` condition."""

    fields = ("node",)
    node: nodes.Expr


class KSeq(KExpr):
    """A long left-leaning chain (``a ~ b ~ … ~ z``, ``x | f | g …``, ``a.b.c…``) laid out
    flat: ``steps[0]`` is evaluated first and each later step holds one :class:`KPrev`
    standing for the value of the step before it. Pebble nests without limit; Python's
    compiler refuses 200 nested parentheses and its recursion limit stops the visitors, so
    :func:`kflow.expr.compiler.flatten` rewrites such chains before code generation."""

    fields = ("steps",)
    steps: list[nodes.Expr]


class KPrev(KExpr):
    """The value of the previous step of the enclosing :class:`KSeq`."""


class KStmt(nodes.Stmt, metaclass=_KNodeType):
    """Base of Pebble statement nodes."""

    abstract = True


class KParam(KHelper):
    """A macro parameter with its optional default expression."""

    fields = ("name", "default")
    name: str
    default: nodes.Expr | None


class KFor(KStmt):
    """``{% for target in iter %}body{% else %}else_{% endfor %}``."""

    fields = ("target", "iter", "body", "else_")
    target: str
    iter: nodes.Expr
    body: list[nodes.Node]
    else_: list[nodes.Node]


class KSet(KStmt):
    """``{% set name = value %}`` (writes the nearest scope holding ``name``)."""

    fields = ("name", "value")
    name: str
    value: nodes.Expr


class KMacro(KStmt):
    """``{% macro name(params) %}``: hoisted, renders nothing where it stands."""

    fields = ("name", "params", "body")
    name: str
    params: list[KParam]
    body: list[nodes.Node]


class KFilterCall(KHelper):
    """One filter of a ``{% filter a | b %}`` tag."""

    fields = ("name", "args", "kwargs")
    name: str
    args: list[nodes.Expr]
    kwargs: list[KKeyword]


class KFilterBlock(KStmt):
    """``{% filter f | g %}body{% endfilter %}``."""

    fields = ("filters", "body")
    filters: list[KFilterCall]
    body: list[nodes.Node]


class KBlock(KStmt):
    """``{% block name %}body{% endblock %}``: rendered in place and by ``block()``."""

    fields = ("name", "body")
    name: str
    body: list[nodes.Node]


class KReturn(KStmt):
    """Yield the native value of an expression (typed rendering, ``evaluate``)."""

    fields = ("node",)
    node: nodes.Expr


class KTemplate:
    """What the parser sets on the root ``jinja2.nodes.Template`` (a plain ``Template``,
    because Jinja2's symbol tracking dispatches on the class name): ``macros`` and ``blocks``,
    hoisted; ``dynamic``, whether any ``set``/``for``/macro can add variables (if not,
    names resolve straight from the context)."""

    macros: list[KMacro]
    blocks: list[KBlock]
    dynamic: bool
