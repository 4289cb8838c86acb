"""Pebble's grammar on top of Jinja2's ``Parser``.

Jinja2's expression chain (``parse_or → parse_and → parse_not → …``) hard-codes Python
precedences; Pebble uses precedence climbing over one table (``not`` binds tighter than
``==``, ``~`` tighter than ``|``, ``??`` tighter than ``~``). This module ports
``io.pebbletemplates.pebble.parser.ExpressionParser`` and the token parsers Kestra keeps
(``set``, ``if``, ``for``, ``macro``, ``filter``, ``block``; ``verbatim``/``raw`` are
lexed), producing the nodes of :mod:`kflow.expr.nodes`. Error messages are Pebble's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import nodes
from jinja2.parser import Parser

from kflow.errors import ExpressionSyntaxError
from kflow.expr import nodes as k
from kflow.expr.lexer import (
    EOF,
    EXECUTE_END,
    EXECUTE_START,
    INTERP_END,
    INTERP_START,
    LONG,
    NAME,
    NUMBER,
    OPERATOR,
    PRINT_END,
    PRINT_START,
    PUNCTUATION,
    STRING,
    TEXT,
    PToken,
    pebble_type,
)

if TYPE_CHECKING:
    from jinja2 import Environment

UNARY = {"not": 500, "+": 500, "-": 500}
BINARY = {
    "or": 10, "and": 15,
    "is": 20, "is not": 20, "contains": 20,
    # Kestra's newer isIn/notIn (InExpression); precedence not in Kestra's docs: that of the
    # other membership operator, contains
    "isIn": 20, "notIn": 20,
    "==": 30, "equals": 30, "!=": 30, "<": 30, ">": 30, "<=": 30, ">=": 30,
    "+": 40, "-": 40,
    "*": 60, "/": 60, "%": 60,
    "|": 100,
    "~": 110,
    "..": 120, "??": 120, "???": 120,
}  # fmt: skip
RESERVED = {"true", "false", "null", "none"}
TAGS = ("set", "if", "for", "macro", "filter", "block")


class PebbleParser(Parser):
    """Parses a Pebble template (or a bare expression with ``state="expression"``)."""

    def __init__(
        self,
        environment: Environment,
        source: str,
        name: str | None = None,
        filename: str | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(environment, source, name, filename, state)
        self.source = source
        self.state = state
        self.macros: list[k.KMacro] = []
        self.blocks: list[k.KBlock] = []
        self.dynamic = False

    # -- errors and token helpers

    def error(self, message: str, token: Any = None) -> ExpressionSyntaxError:
        """A syntax error positioned at ``token`` (default: the current token)."""
        tok = token if token is not None else self.stream.current
        pos = getattr(tok, "pos", len(self.source))
        return ExpressionSyntaxError(message, template=self.source, position=pos)

    @property
    def cur(self) -> PToken:
        return self.stream.current  # type: ignore[return-value]

    def test(self, type_: str, value: str | None = None) -> bool:
        tok = self.stream.current
        return tok.type == type_ and (value is None or tok.value == value)

    def expect(self, type_: str, value: str | None = None) -> PToken:
        """Pebble's ``TokenStream.expect`` with its message."""
        tok = self.cur
        if tok.type != type_ or (value is not None and tok.value != value):
            raise self.error(
                f"Unexpected token of {tok.describe()}, "
                f"expected token of type {pebble_type(type_)}",
                tok,
            )
        next(self.stream)
        return tok

    def fail(self, msg: str, lineno: int | None = None, exc: Any = None) -> Any:
        raise self.error(msg)

    # -- template structure

    def parse(self) -> Any:
        """The template (or, in expression state, one :class:`KReturn`)."""
        if self.state == "expression":
            start = self.cur
            if start.type == EOF:
                raise self.error("Unexpected end of expression", start)
            expr = self.parse_expression()
            if self.cur.type != EOF:
                raise self.error(
                    f"Unexpected token of {self.cur.describe()}, expected token of type EOF"
                )
            body: list[nodes.Node] = [k.at(k.KReturn(expr), start.pos)]
        else:
            body = self.subparse_pebble(None)
        # a plain Template (Jinja2's symbol tracking dispatches on the class name) with the
        # attributes documented on kflow.expr.nodes.KTemplate
        tpl: Any = nodes.Template(body, lineno=1)
        tpl.macros = self.macros
        tpl.blocks = self.blocks
        tpl.dynamic = self.dynamic
        tpl.set_environment(self.environment)
        return tpl

    def subparse_pebble(self, stop: tuple[str, ...] | None) -> list[nodes.Node]:
        """Pebble's ``ParserImpl.subparse``: text, prints and tags until a stop tag name."""
        body: list[nodes.Node] = []
        data: list[nodes.Expr] = []

        def flush() -> None:
            if data:
                body.append(nodes.Output(list(data), lineno=data[0].lineno))
                del data[:]

        stream = self.stream
        while stream.current.type != EOF:
            tok = self.cur
            if tok.type == TEXT:
                data.append(k.at(nodes.TemplateData(tok.value, lineno=tok.lineno), tok.pos))
                next(stream)
            elif tok.type == PRINT_START:
                next(stream)
                expr = self.parse_expression()
                data.append(expr)
                self.expect(PRINT_END)
            elif tok.type == EXECUTE_START:
                next(stream)
                tag = self.cur
                if tag.type != NAME:
                    raise self.error("A block must start with a tag name.", tag)
                if stop is not None and tag.value in stop:
                    flush()
                    return body
                flush()
                node = self.parse_tag(tag)
                if node is not None:
                    body.append(node)
            else:  # pragma: no cover - the lexer yields nothing else here
                raise self.error("Parser ended in undefined state.", tok)
        flush()
        return body

    def parse_tag(self, tag: PToken) -> nodes.Node | None:
        name = tag.value
        if name not in TAGS:
            raise self.error(f'Unexpected tag name "{name}"', tag)
        return getattr(self, f"parse_tag_{name}")(tag)  # type: ignore[no-any-return]

    def parse_tag_set(self, tag: PToken) -> Any:
        next(self.stream)
        name = self.parse_new_variable_name()
        self.expect(PUNCTUATION, "=")
        value = self.parse_expression()
        self.expect(EXECUTE_END)
        self.dynamic = True
        return k.at(k.KSet(name, value, lineno=tag.lineno), tag.pos)

    def parse_tag_if(self, tag: PToken) -> Any:
        next(self.stream)
        test = self.parse_expression()
        self.expect(EXECUTE_END)
        body = self.subparse_pebble(("elseif", "else", "endif"))
        root = node = nodes.If(k.at(k.KTruth(test), test.pos), body, [], [], lineno=tag.lineno)
        while True:
            cur = self.cur
            if cur.type == EOF:
                raise self.error(
                    'Unexpected end of template. Pebble was looking for the "endif" tag', cur
                )
            if cur.value == "else":
                next(self.stream)
                self.expect(EXECUTE_END)
                node.else_ = self.subparse_pebble(("endif",))
            elif cur.value == "elseif":
                next(self.stream)
                test = self.parse_expression()
                self.expect(EXECUTE_END)
                body = self.subparse_pebble(("elseif", "else", "endif"))
                root.elif_.append(
                    nodes.If(k.at(k.KTruth(test), test.pos), body, [], [], lineno=cur.lineno)
                )
            elif cur.value == "endif":
                next(self.stream)
                break
            else:
                raise self.error(
                    "Unexpected end of template. Pebble was looking for the following tags "
                    '"else", "elseif", or "endif"',
                    cur,
                )
        self.expect(EXECUTE_END)
        return root

    def parse_tag_for(self, tag: PToken) -> Any:
        next(self.stream)
        target = self.parse_new_variable_name()
        self.expect(NAME, "in")
        iterable = self.parse_expression()
        self.expect(EXECUTE_END)
        body = self.subparse_pebble(("else", "endfor"))
        else_: list[nodes.Node] = []
        if self.test(NAME, "else"):
            next(self.stream)
            self.expect(EXECUTE_END)
            else_ = self.subparse_pebble(("endfor",))
        if self.cur.type == EOF:
            raise self.error(
                'Unexpected end of template. Pebble was looking for the "endfor" tag', self.cur
            )
        next(self.stream)
        self.expect(EXECUTE_END)
        self.dynamic = True
        return k.at(k.KFor(target, iterable, body, else_, lineno=tag.lineno), tag.pos)

    def parse_tag_macro(self, tag: PToken) -> Any:
        next(self.stream)
        name = self.expect(NAME).value
        params: list[k.KParam] = []
        self.expect(PUNCTUATION, "(")
        while not self.test(PUNCTUATION, ")"):
            if params:
                self.expect(PUNCTUATION, ",")
            pname = self.parse_new_variable_name()
            default = None
            if self.test(PUNCTUATION, "="):
                next(self.stream)
                default = self.parse_expression()
            params.append(k.KParam(pname, default))
        self.expect(PUNCTUATION, ")")
        self.expect(EXECUTE_END)
        body = self.subparse_pebble(("endmacro",))
        if self.cur.type == EOF:
            raise self.error(
                'Unexpected end of template. Pebble was looking for the "endmacro" tag',
                self.cur,
            )
        next(self.stream)
        self.expect(EXECUTE_END)
        if any(m.name == name for m in self.macros):
            raise self.error(f"More than one macro can not share the same name: {name}", tag)
        self.macros.append(k.at(k.KMacro(name, params, body, lineno=tag.lineno), tag.pos))
        self.dynamic = True
        return None

    def parse_tag_filter(self, tag: PToken) -> Any:
        next(self.stream)
        filters = [self.parse_filter_call()]
        while self.test(OPERATOR, "|"):
            next(self.stream)
            filters.append(self.parse_filter_call())
        self.expect(EXECUTE_END)
        body = self.subparse_pebble(("endfilter",))
        if self.cur.type == EOF:
            raise self.error(
                'Unexpected end of template. Pebble was looking for the "endfilter" tag',
                self.cur,
            )
        next(self.stream)
        self.expect(EXECUTE_END)
        return k.at(k.KFilterBlock(filters, body, lineno=tag.lineno), tag.pos)

    def parse_filter_call(self) -> Any:
        tok = self.expect(NAME)
        args, kwargs = self.parse_arguments() if self.test(PUNCTUATION, "(") else ([], [])
        return k.at(k.KFilterCall(tok.value, args, kwargs), tok.pos)

    def parse_tag_block(self, tag: PToken) -> Any:
        name_tok = next(self.stream)
        name_tok = self.cur
        if name_tok.type not in (NAME, STRING):
            self.expect(NAME)
        name = name_tok.value
        next(self.stream)
        self.expect(EXECUTE_END)
        body = self.subparse_pebble(("endblock",))
        if not self.test(NAME, "endblock"):
            raise self.error(
                "endblock tag should be present with block tag starting line number ", tag
            )
        next(self.stream)
        if self.cur.type in (NAME, STRING) and self.cur.value == name:
            next(self.stream)
        self.expect(EXECUTE_END)
        # a second block of the same name replaces the first everywhere (Pebble's registry)
        block = k.at(k.KBlock(name, body, lineno=tag.lineno), tag.pos)
        self.blocks.append(block)
        return block

    def parse_new_variable_name(self) -> str:
        tok = self.expect(NAME)
        if tok.value in RESERVED:
            raise self.error(f"Can not assign a value to {tok.value}", tok)
        return tok.value

    # -- expressions (Pebble's ExpressionParser)

    def parse_expression(self, min_precedence: int = 0) -> Any:
        """Precedence climbing over Pebble's operator table."""
        tok = self.cur
        if tok.type == OPERATOR and tok.value in UNARY:
            next(self.stream)
            operand = self.parse_expression(UNARY[tok.value])
            if tok.value == "not":
                expr: Any = k.at(k.KNot(operand, lineno=tok.lineno), tok.pos)
            else:
                expr = k.at(k.KUnary(tok.value, operand, lineno=tok.lineno), tok.pos)
        elif tok.type == PUNCTUATION and tok.value == "(":
            # a run of "(((" is read with a loop, not one recursion per parenthesis: Pebble
            # reads 1,000 nested parentheses, Python's recursion limit would stop at ~300
            opened = 0
            while self.test(PUNCTUATION, "("):
                next(self.stream)
                opened += 1
            expr = self.parse_expression()
            for level in range(opened, 0, -1):
                self.expect(PUNCTUATION, ")")
                expr = self.parse_postfix(expr)
                if level > 1:
                    expr = self.parse_operators(expr, 0)
        elif tok.type == PUNCTUATION and tok.value == "[":
            expr = self.parse_list()
        elif tok.type == PUNCTUATION and tok.value == "{":
            expr = self.parse_map()
        else:
            expr = self.parse_pebble_primary()

        return self.parse_operators(expr, min_precedence)

    def parse_operators(self, expr: Any, min_precedence: int) -> Any:
        """The binary operators (and a ternary) that follow the operand ``expr``."""
        tok = self.cur
        while tok.type == OPERATOR and tok.value in BINARY and BINARY[tok.value] >= min_precedence:
            op = tok.value
            next(self.stream)
            if op == "|":
                expr = self.parse_filter_call_expr(expr)
            elif op in ("is", "is not"):
                expr = self.parse_test_call(expr, negate=op == "is not")
            else:
                right = self.parse_expression(BINARY[op] + 1)
                expr = self.make_binary(op, expr, right, tok)
            tok = self.cur

        if min_precedence == 0 and self.test(PUNCTUATION, "?"):
            qtok = self.cur
            next(self.stream)
            expr1 = self.parse_expression()
            self.expect(PUNCTUATION, ":")
            expr2 = self.parse_expression()
            expr = k.at(k.KCond(expr, expr1, expr2, lineno=qtok.lineno), qtok.pos)
        return expr

    def make_binary(self, op: str, left: Any, right: Any, tok: PToken) -> Any:
        if op == "and":
            node: Any = k.KAnd(left, right, lineno=tok.lineno)
        elif op == "or":
            node = k.KOr(left, right, lineno=tok.lineno)
        elif op in ("??", "???"):
            node = k.KCoalesce(op, left, right, lineno=tok.lineno)
        else:
            node = k.KBinary("==" if op == "equals" else op, left, right, lineno=tok.lineno)
        return k.at(node, tok.pos)

    def parse_filter_call_expr(self, node: Any) -> Any:
        tok = self.expect(NAME)
        args, kwargs = self.parse_arguments() if self.test(PUNCTUATION, "(") else ([], [])
        return k.at(k.KFilter(node, tok.value, args, kwargs, lineno=tok.lineno), tok.pos)

    def parse_test_call(self, node: Any, negate: bool) -> Any:
        tok = self.expect(NAME)
        args, kwargs = self.parse_arguments() if self.test(PUNCTUATION, "(") else ([], [])
        return k.at(k.KTest(node, tok.value, args, kwargs, negate, lineno=tok.lineno), tok.pos)

    def parse_pebble_primary(self) -> Any:
        tok = self.cur
        if tok.type == NAME:
            value = tok.value
            if value in ("true", "TRUE"):
                node: Any = k.KConst(True, lineno=tok.lineno)
                next(self.stream)
            elif value in ("false", "FALSE"):
                node = k.KConst(False, lineno=tok.lineno)
                next(self.stream)
            elif value in ("none", "NONE", "null", "NULL"):
                node = k.KConst(None, lineno=tok.lineno)
                next(self.stream)
            elif self.stream.look().type == PUNCTUATION and self.stream.look().value == "(":
                next(self.stream)
                args, kwargs = self.parse_arguments()
                node = k.KCall(value, args, kwargs, lineno=tok.lineno)
            else:
                node = k.KVar(value, lineno=tok.lineno)
                node.path = value
                next(self.stream)
            k.at(node, tok.pos)
        elif tok.type == LONG:
            node = k.at(k.KLong(_java_long(tok.value, self, tok), lineno=tok.lineno), tok.pos)
            next(self.stream)
        elif tok.type == NUMBER:
            if "." in tok.value:
                node = k.KConst(float(tok.value), lineno=tok.lineno)
            else:
                node = k.KLong(_java_long(tok.value, self, tok), lineno=tok.lineno)
            k.at(node, tok.pos)
            next(self.stream)
        elif tok.type in (STRING, INTERP_START):
            node = self.parse_string()
        else:
            raise self.error(
                f'Unexpected token "{pebble_type(tok.type)}" of value "{tok.pebble_value}"', tok
            )
        return self.parse_postfix(node)

    def parse_string(self) -> Any:
        parts: list[Any] = []
        previous = None
        first = self.cur
        while True:
            tok = self.cur
            if tok.type == STRING and previous != STRING:
                parts.append(k.at(k.KConst(tok.value, lineno=tok.lineno), tok.pos))
                next(self.stream)
                previous = STRING
            elif tok.type == INTERP_START:
                next(self.stream)
                parts.append(self.parse_expression())
                self.expect(INTERP_END)
                previous = INTERP_END
            else:
                break
        node = parts[0]
        # "a#{b}c" is a ~ (b ~ c): Pebble nests to the right
        if len(parts) > 1:
            node = parts[-1]
            for part in reversed(parts[:-1]):
                node = k.at(k.KBinary("~", part, node, lineno=first.lineno), first.pos)
        return node

    def parse_postfix(self, node: Any) -> Any:
        if not hasattr(node, "path"):
            # error messages name the missing path by its source text ('abc'.foo, (x).y)
            start = getattr(node, "pos", self.cur.pos)
            node.path = self.source[start : self.cur.pos].strip()
        while True:
            tok = self.cur
            if tok.type == PUNCTUATION and tok.value == ".":
                next(self.stream)
                name_tok = self.expect(NAME)
                args = None
                if self.test(PUNCTUATION, "("):
                    args, kwargs = self.parse_arguments()
                    if kwargs:
                        raise self.error("Can not use named arguments when calling a bean method")
                new: Any = k.KGetAttr(node, name_tok.value, args, lineno=name_tok.lineno)
                new.path = f"{getattr(node, 'path', '')}.{name_tok.value}"
                node = k.at(new, name_tok.pos)
            elif tok.type == PUNCTUATION and tok.value == "[":
                next(self.stream)
                key = self.parse_expression()
                end = self.expect(PUNCTUATION, "]")
                new = k.KGetItem(node, key, lineno=tok.lineno)
                new.path = getattr(node, "path", "") + self.source[tok.pos : end.pos + 1]
                node = k.at(new, tok.pos)
            elif tok.type == PUNCTUATION and tok.value == "(":
                # Pebble casts the callee to a function name node: only names are callable
                raise self.error(
                    f"Unexpected token of {tok.describe()}, expected token of type "
                    f"{pebble_type(PRINT_END if self.state != 'expression' else EOF)}",
                    tok,
                )
            else:
                return node

    def parse_arguments(self) -> tuple[list[Any], list[k.KKeyword]]:
        """``(a, b, name=c)``: positional arguments first."""
        args: list[Any] = []
        kwargs: list[k.KKeyword] = []
        self.expect(PUNCTUATION, "(")
        while not self.test(PUNCTUATION, ")"):
            if args or kwargs:
                self.expect(PUNCTUATION, ",")
            look = self.stream.look()
            if self.cur.type == NAME and look.type == PUNCTUATION and look.value == "=":
                name_tok = self.cur
                name = self.parse_new_variable_name()
                self.expect(PUNCTUATION, "=")
                kwargs.append(k.at(k.KKeyword(name, self.parse_expression()), name_tok.pos))
            else:
                start = self.cur
                value = self.parse_expression()
                if kwargs:
                    raise self.error(
                        "Positional arguments must be declared before any named arguments.",
                        start,
                    )
                args.append(value)
        self.expect(PUNCTUATION, ")")
        return args, kwargs

    def parse_list(self) -> Any:
        start = self.expect(PUNCTUATION, "[")
        items: list[Any] = []
        if self.test(PUNCTUATION, "]"):
            next(self.stream)
        else:
            while True:
                items.append(self.parse_expression())
                if self.test(PUNCTUATION, "]"):
                    break
                self.expect(PUNCTUATION, ",")
            self.expect(PUNCTUATION, "]")
        return k.at(k.KList(items, lineno=start.lineno), start.pos)

    def parse_map(self) -> Any:
        start = self.expect(PUNCTUATION, "{")
        keys: list[Any] = []
        values: list[Any] = []
        if self.test(PUNCTUATION, "}"):
            next(self.stream)
        else:
            while True:
                keys.append(self.parse_expression())
                self.expect(PUNCTUATION, ":")
                values.append(self.parse_expression())
                if self.test(PUNCTUATION, "}"):
                    break
                self.expect(PUNCTUATION, ",")
            self.expect(PUNCTUATION, "}")
        return k.at(k.KMap(keys, values, lineno=start.lineno), start.pos)


def _java_long(text: str, parser: PebbleParser, tok: PToken) -> int:
    # past 19 significant digits it is no Long (and int() refuses 4,300 digits)
    value = int(text.lstrip("0") or "0") if len(text.lstrip("0")) <= 19 else 2**63
    if value > 2**63 - 1:
        raise parser.error(f'For input string: "{text}"', tok)
    return value


__all__ = ["BINARY", "UNARY", "PebbleParser"]
