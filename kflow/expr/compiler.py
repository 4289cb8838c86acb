"""Compiles Pebble nodes to Python with Jinja2's ``CodeGenerator``.

Jinja2 keeps the template machinery (the generated ``root`` generator, buffers for macro
and ``{% filter %}`` bodies, ``If``, output of template data, compilation and the
``Template`` object); every Pebble expression becomes a call of a ``k_*`` helper of
:mod:`kflow.expr.runtime` with Java semantics. Escape hatches (``??``, ``???``,
``| default``, ``is defined``) and ``if`` conditions compile their operand to a
``lambda`` evaluated under ``try``.
"""

from __future__ import annotations

import math
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame

from kflow.expr import nodes as k
from kflow.expr.runtime import SERVICES_KEY

HELPERS = (
    "k_add", "k_sub", "k_mul", "k_div", "k_mod", "k_eq", "k_ne", "k_lt", "k_gt", "k_le",
    "k_ge", "k_concat", "k_contains", "k_is_in", "k_not_in", "k_range_op", "k_neg", "k_pos", "k_bool", "k_if",
    "k_coalesce", "k_undefined_coalesce", "k_guard", "k_defined", "k_default", "k_map",
    "k_var", "k_novar", "k_set", "k_iter", "k_attr", "k_item", "k_method", "k_call",
    "k_filter", "k_test", "k_block_call", "k_str", "k_plain", "Loop",
)  # fmt: skip

_BINARY = {
    "+": "k_add", "-": "k_sub", "*": "k_mul", "/": "k_div", "%": "k_mod",
    "==": "k_eq", "!=": "k_ne", "<": "k_lt", ">": "k_gt", "<=": "k_le", ">=": "k_ge",
    "~": "k_concat", "contains": "k_contains", "..": "k_range_op",
    "isIn": "k_is_in", "notIn": "k_not_in",
}  # fmt: skip

# Pebble wraps these in `catch (Exception)`: a missing operand is not a missing value any more
_WRAPPED = {
    "+": "addition",
    "-": "subtraction",
    "*": "multiplication",
    "/": "division",
    "%": "greater modulus",
    "==": "equals comparison",
    "!=": "not equals comparison",
}


# chains longer than this are laid out flat (see flatten); shorter ones keep the nested
# calls, which read better in generated code and cost one name binding less per step
CHAIN_LIMIT = 16


def _spine(node: nodes.Node) -> str | None:
    """The field of ``node`` that is evaluated first and eagerly, through which a chain runs
    (``left`` of ``a ~ b``, ``node`` of ``x | f``); None for an escape hatch (``??``,
    ``| default``, ``is defined``), whose operand must stay inside its guard."""
    if isinstance(node, k.KBinary | k.KAnd | k.KOr):
        return "left"
    if isinstance(node, k.KGetAttr | k.KGetItem | k.KNot | k.KUnary):
        return "node"
    if isinstance(node, k.KFilter):
        return None if node.name == "default" else "node"
    if isinstance(node, k.KTest):
        return None if node.name == "defined" else "node"
    return None


def _linearize(top: nodes.Node) -> nodes.Node:
    chain: list[tuple[nodes.Node, str]] = []
    node = top
    while (field := _spine(node)) is not None:
        chain.append((node, field))
        node = getattr(node, field)
    if len(chain) <= max(CHAIN_LIMIT, 1) or isinstance(node, k.KPrev):  # short, or laid out
        return top
    # the innermost operator keeps its own operand: inside an escape hatch, a guarded
    # operator (`missing == 1`) must see the operand fail within its guard
    steps: list[nodes.Expr] = [chain[-1][0]]  # type: ignore[list-item]
    for link, field in reversed(chain[:-1]):
        setattr(link, field, k.at(k.KPrev(lineno=link.lineno), _pos(link)))
        steps.append(link)  # type: ignore[arg-type]
    seq = k.at(k.KSeq(steps, lineno=top.lineno), _pos(top))
    if hasattr(top, "path"):
        seq.path = top.path
    return seq  # type: ignore[no-any-return]


def flatten(tree: nodes.Node) -> nodes.Node:
    """Rewrite every chain of more than ``CHAIN_LIMIT`` operators into a :class:`KSeq`, so
    that a 200-operand ``~`` chain compiles (Python allows 200 nested parentheses and the
    code generator recurses once per level). Evaluation order is unchanged. Iterative: the
    tree may be deeper than Python's recursion limit."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for field in node.fields:
            value = getattr(node, field, None)
            if isinstance(value, nodes.Node):
                new = _linearize(value)
                if new is not value:
                    setattr(node, field, new)
                todo.append(new)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, nodes.Node):
                        new = _linearize(item)
                        value[i] = new
                        todo.append(new)
    return tree


class KPrologue(k.KStmt):
    """First statement of ``root``: context aliases, hoisted macros and blocks."""

    fields = ()


def _pos(node: nodes.Node) -> int:
    return getattr(node, "pos", 0)


def _site(node: nodes.Node) -> str:
    return repr((getattr(node, "path", "?"), _pos(node)))


class PebbleCodeGenerator(CodeGenerator):
    """Jinja2's code generator taught Pebble's nodes (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._k_consts: dict[tuple[type, Any], str] = {}
        self._k_hatch = 0
        self._k_plain = 0
        self._k_dynamic = True
        self._k_template: Any = None
        self._k_prev: str | None = None

    # -- module structure

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        self._k_template = node
        self._k_dynamic = getattr(node, "dynamic", True)
        self.writeline("from kflow.expr.runtime import " + ", ".join(HELPERS))
        self.writeline("from kflow.expr.values import Long as k_long, TemplateList as k_list")
        node.body.insert(0, KPrologue(lineno=1))
        super().visit_Template(node, frame)
        for (_, value), name in self._k_consts.items():
            self.writeline(f"{name} = k_long({int(value)!r})")

    def visit_KPrologue(self, node: KPrologue, frame: Frame) -> None:
        tpl = self._k_template
        assert tpl is not None
        if not self._k_dynamic:
            self.writeline("k_u = context.user")
        for macro in getattr(tpl, "macros", ()):
            self._macro_def(macro, frame)
        for block in getattr(tpl, "blocks", ()):
            self._block_def(block, frame)

    def _printer(self) -> str:
        return "k_plain" if self._k_plain else "k_str"

    def _emit(self, frame: Frame, code: str | None, node: nodes.Node | None = None) -> None:
        """Write one ``yield`` (or buffer append) of an expression node or literal code."""
        if frame.buffer is None:
            self.writeline("yield ")
        else:
            self.writeline(f"{frame.buffer}.append(")
        if node is not None:
            self.write(f"{self._printer()}(")
            self.visit(node, frame)
            self.write(")")
        else:
            self.write(code or "''")
        if frame.buffer is not None:
            self.write(")")

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                self._emit(frame, repr(child.data))
            else:
                self._emit(frame, None, child)

    # -- statements

    def visit_KReturn(self, node: k.KReturn, frame: Frame) -> None:
        self.writeline("yield ")
        self.visit(node.node, frame)

    def visit_KSet(self, node: k.KSet, frame: Frame) -> None:
        self.writeline(f"k_set(context, {node.name!r}, ")
        self.visit(node.value, frame)
        self.write(")")

    def visit_KFor(self, node: k.KFor, frame: Frame) -> None:
        seq = self.temporary_identifier()
        scope = self.temporary_identifier()
        size = self.temporary_identifier()
        idx = self.temporary_identifier()
        item = self.temporary_identifier()
        self.writeline(f"{seq} = k_iter(")
        self.visit(node.iter, frame)
        self.write(f", {_pos(node.iter)!r})")
        self.writeline(f"if {seq}:")
        self.indent()
        self.writeline(f"{scope} = context.push()")
        self.writeline(f"{size} = {scope}['loop'] = Loop(len({seq}))")
        self.writeline(f"for {idx}, {item} in enumerate({seq}):")
        self.indent()
        self.writeline(f"{size}.index = {idx}")
        self.writeline(f"{scope}['loop'] = {size}")
        self.writeline(f"{scope}[{node.target!r}] = {item}")
        self.blockvisit(node.body, frame.soft())
        self.outdent()
        self.writeline("context.pop()")
        self.outdent()
        if node.else_:
            self.writeline(f"elif {seq} is not None:")
            self.indent()
            self.blockvisit(node.else_, frame.soft())
            self.outdent()

    def visit_KMacro(self, node: k.KMacro, frame: Frame) -> None:
        """Hoisted by the prologue: nothing to render where the tag stands."""

    def _macro_def(self, node: k.KMacro, frame: Frame) -> None:
        func = self.temporary_identifier()
        saved = self.temporary_identifier()
        buf = self.temporary_identifier()
        params = tuple(p.name for p in node.params)
        self.writeline(f"def {func}(k_args, k_kwargs, k_site):")
        self.indent()
        self.writeline(
            f"{saved} = context.macro_enter({node.name!r}, {params!r}, k_args, k_kwargs, k_site)"
        )
        self.writeline("try:")
        self.indent()
        inner = frame.inner()
        inner.buffer = buf
        inner.toplevel = inner.rootlevel = False
        for param in node.params:
            if param.default is not None:
                self.writeline(f"context.local[{param.name!r}] = ")
                self.visit(param.default, inner)
        self.writeline(f"{buf} = []")
        self._k_plain += 1
        self.blockvisit(node.body, inner)
        self._k_plain -= 1
        self.writeline(f"return concat({buf})")
        self.outdent()
        self.writeline("finally:")
        self.indent()
        self.writeline(f"context.macro_leave({saved})")
        self.outdent()
        self.outdent()
        self.writeline(f"context.macros[{node.name!r}] = {func}")

    def _block_def(self, node: k.KBlock, frame: Frame) -> None:
        func = self.temporary_identifier()
        buf = self.temporary_identifier()
        self.writeline(f"def {func}(k_plain_mode):")
        self.indent()
        inner = frame.inner()
        inner.buffer = buf
        inner.toplevel = inner.rootlevel = False
        self.writeline(f"{buf} = []")
        self.writeline("if k_plain_mode:")
        self.indent()
        saved = self._k_plain
        self._k_plain = 1
        self.blockvisit(node.body, inner)
        self.outdent()
        self.writeline("else:")
        self.indent()
        self._k_plain = 0
        self.blockvisit(node.body, inner)
        self._k_plain = saved
        self.outdent()
        self.writeline(f"return concat({buf})")
        self.outdent()
        self.writeline(f"context.blocks[{node.name!r}] = {func}")

    def visit_KBlock(self, node: k.KBlock, frame: Frame) -> None:
        mode = "True" if self._k_plain else "False"
        self._emit(frame, f"context.blocks[{node.name!r}]({mode})")

    def visit_KFilterBlock(self, node: k.KFilterBlock, frame: Frame) -> None:
        buf = self.temporary_identifier()
        inner = frame.soft()
        inner.buffer = buf
        self.writeline(f"{buf} = []")
        self._k_plain += 1
        self.blockvisit(node.body, inner)
        self._k_plain -= 1
        # printer(fN(...f1(concat(buf), args1)..., argsN)), written inside out
        if frame.buffer is None:
            self.writeline("yield ")
        else:
            self.writeline(f"{frame.buffer}.append(")
        self.write(f"{self._printer()}(")
        for call in reversed(node.filters):
            self.write(f"k_filter(context, {call.name!r}, {_pos(call)!r}, ")
        self.write(f"concat({buf})")
        for call in node.filters:
            self.write(", ")
            self._args(call.args, frame)
            self.write(", ")
            self._kwargs(call.kwargs, frame)
            self.write(")")
        self.write(")")
        if frame.buffer is not None:
            self.write(")")

    # -- expressions

    def _args(self, args: list[nodes.Expr] | None, frame: Frame) -> None:
        self.write("(")
        for arg in args or ():
            self.visit(arg, frame)
            self.write(", ")
        self.write(")")

    def _kwargs(self, kwargs: list[k.KKeyword], frame: Frame) -> None:
        if not kwargs:
            self.write("None")
            return
        self.write("{")
        for kw in kwargs:
            self.write(f"{kw.key!r}: ")
            self.visit(kw.value, frame)
            self.write(", ")
        self.write("}")

    def _thunk(self, node: nodes.Expr, frame: Frame, hatch: bool = False) -> None:
        self.write("(lambda: ")
        if hatch:
            self._k_hatch += 1
        self.visit(node, frame)
        if hatch:
            self._k_hatch -= 1
        self.write(")")

    def visit_KSeq(self, node: k.KSeq, frame: Frame) -> None:
        # (t1 := first, t2 := step(t1), …)[-1]: one level of parentheses for any length
        saved = self._k_prev
        self.write("(")
        for step in node.steps:
            name = self.temporary_identifier()
            self.write(f"{name} := ")
            self.visit(step, frame)
            self.write(", ")
            self._k_prev = name
        self.write(")[-1]")
        self._k_prev = saved

    def visit_KPrev(self, node: k.KPrev, frame: Frame) -> None:
        assert self._k_prev is not None, "KPrev outside a KSeq"
        self.write(self._k_prev)

    def visit_KConst(self, node: k.KConst, frame: Frame) -> None:
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):
            self.write(f"float({repr(value)!r})")
        else:
            self.write(repr(value))

    def visit_KLong(self, node: k.KLong, frame: Frame) -> None:
        key = (int, node.value)
        name = self._k_consts.get(key)
        if name is None:
            name = self._k_consts[key] = f"k_c{len(self._k_consts)}"
        self.write(name)

    def visit_KList(self, node: k.KList, frame: Frame) -> None:
        self.write("k_list(")
        self._args(node.items, frame)
        self.write(")")

    def visit_KMap(self, node: k.KMap, frame: Frame) -> None:
        self.write("k_map((")
        for key, value in zip(node.keys, node.values, strict=True):
            self.write("(")
            self.visit(key, frame)
            self.write(", ")
            self.visit(value, frame)
            self.write("), ")
        self.write("))")

    def visit_KVar(self, node: k.KVar, frame: Frame) -> None:
        name = node.name
        site = _site(node)
        if name == SERVICES_KEY:
            self.write(f"k_novar(context, {name!r}, {site})")
        elif self._k_dynamic:
            self.write(f"k_var(context, {name!r}, {site})")
        else:
            self.write(
                f"(k_u[{name!r}] if {name!r} in k_u else k_novar(context, {name!r}, {site}))"
            )

    def visit_KGetAttr(self, node: k.KGetAttr, frame: Frame) -> None:
        if node.args is None:
            self.write("k_attr(")
            self.visit(node.node, frame)
            self.write(f", {node.name!r}, {_site(node)})")
        else:
            self.write("k_method(")
            self.visit(node.node, frame)
            self.write(f", {node.name!r}, ")
            self._args(node.args, frame)
            self.write(f", {_site(node)})")

    def visit_KGetItem(self, node: k.KGetItem, frame: Frame) -> None:
        self.write("k_item(")
        self.visit(node.node, frame)
        self.write(", ")
        self.visit(node.key, frame)
        self.write(f", {_site(node)})")

    def visit_KCall(self, node: k.KCall, frame: Frame) -> None:
        if node.name == "block":
            self.write("k_block_call(context, ")
            self._args(node.args, frame)
            self.write(f", {_pos(node)!r})")
            return
        self.write(f"k_call(context, {node.name!r}, {_pos(node)!r}, ")
        self._args(node.args, frame)
        self.write(", ")
        self._kwargs(node.kwargs, frame)
        self.write(")")

    def visit_KFilter(self, node: k.KFilter, frame: Frame) -> None:
        if node.name == "default":
            self.write("k_default(")
            self._thunk(node.node, frame, hatch=True)
            self.write(", ")
            self._args(node.args, frame)
            self.write(", ")
            self._kwargs(node.kwargs, frame)
            self.write(f", {_pos(node)!r})")
            return
        self.write(f"k_filter(context, {node.name!r}, {_pos(node)!r}, ")
        self.visit(node.node, frame)
        self.write(", ")
        self._args(node.args, frame)
        self.write(", ")
        self._kwargs(node.kwargs, frame)
        self.write(")")

    def visit_KTest(self, node: k.KTest, frame: Frame) -> None:
        if node.negate:
            self.write("(not ")
        if node.name == "defined":
            self.write("k_defined(")
            self._thunk(node.node, frame, hatch=True)
            self.write(")")
        else:
            self.write(f"k_test(context, {node.name!r}, {_pos(node)!r}, ")
            self.visit(node.node, frame)
            self.write(", ")
            self._args(node.args, frame)
            self.write(", ")
            self._kwargs(node.kwargs, frame)
            self.write(")")
        if node.negate:
            self.write(")")

    def visit_KBinary(self, node: k.KBinary, frame: Frame) -> None:
        helper = _BINARY[node.op]
        pos = _pos(node)
        if self._k_hatch and node.op in _WRAPPED:
            self.write(f"k_guard({helper}, {_WRAPPED[node.op]!r}, {pos!r}, ")
            self._thunk(node.left, frame)
            self.write(", ")
            self._thunk(node.right, frame)
            self.write(")")
            return
        self.write(f"{helper}(")
        self.visit(node.left, frame)
        self.write(", ")
        if node.op == "contains":
            self._thunk(node.right, frame)
        else:
            self.visit(node.right, frame)
        self.write(f", {pos!r})")

    def _bool(self, node: nodes.Expr, where: str, pos: int, frame: Frame) -> None:
        self.write("k_bool(")
        self.visit(node, frame)
        self.write(f", {where!r}, {pos!r})")

    def visit_KAnd(self, node: k.KAnd, frame: Frame) -> None:
        self.write("(")
        self._bool(node.left, "and", _pos(node), frame)
        self.write(" and ")
        self._bool(node.right, "and", _pos(node), frame)
        self.write(")")

    def visit_KOr(self, node: k.KOr, frame: Frame) -> None:
        self.write("(")
        self._bool(node.left, "or", _pos(node), frame)
        self.write(" or ")
        self._bool(node.right, "or", _pos(node), frame)
        self.write(")")

    def visit_KNot(self, node: k.KNot, frame: Frame) -> None:
        self.write("(not ")
        self._bool(node.node, "not", _pos(node), frame)
        self.write(")")

    def visit_KUnary(self, node: k.KUnary, frame: Frame) -> None:
        self.write("k_neg(" if node.op == "-" else "k_pos(")
        self.visit(node.node, frame)
        self.write(f", {_pos(node)!r})")

    def visit_KCond(self, node: k.KCond, frame: Frame) -> None:
        self.write("(")
        self.visit(node.expr1, frame)
        self.write(" if ")
        self._bool(node.test, "ternary", _pos(node), frame)
        self.write(" else ")
        self.visit(node.expr2, frame)
        self.write(")")

    def visit_KCoalesce(self, node: k.KCoalesce, frame: Frame) -> None:
        self.write("k_coalesce(" if node.op == "??" else "k_undefined_coalesce(")
        self._thunk(node.left, frame, hatch=True)
        self.write(", ")
        self._thunk(node.right, frame)
        self.write(")")

    def visit_KTruth(self, node: k.KTruth, frame: Frame) -> None:
        self.write("k_if(")
        self._thunk(node.node, frame)
        self.write(f", {_pos(node)!r})")


__all__ = ["CHAIN_LIMIT", "PebbleCodeGenerator", "flatten"]
