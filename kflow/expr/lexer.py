"""Pebble's lexer, ported to produce a Jinja2 ``TokenStream``.

Jinja2's own lexer cannot be bent into Pebble's: it normalises line endings, unescapes
strings the Python way, treats ``{{-1}}`` as whitespace control and knows neither ``?``,
``??``, ``..``, word operators nor ``#{}`` interpolation. This module is a port of
``io.pebbletemplates.pebble.lexer.LexerImpl`` (Pebble 3.2.2) whose tokens feed the Jinja2
``TokenStream`` that :mod:`kflow.expr.parser` consumes. Every token also carries ``pos``,
its 0-based offset in the template, so errors can point at the bad part.

Token types are Pebble's names (``TEXT``, ``PRINT_START``, ``NAME``, ``OPERATOR``…) so
parser messages read like Pebble's; the end of input is Jinja2's ``TOKEN_EOF``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jinja2.lexer import TOKEN_EOF, Lexer, Token, TokenStream

from kflow.errors import ExpressionSyntaxError

TEXT = "TEXT"
PRINT_START = "PRINT_START"
PRINT_END = "PRINT_END"
EXECUTE_START = "EXECUTE_START"
EXECUTE_END = "EXECUTE_END"
NAME = "NAME"
NUMBER = "NUMBER"
LONG = "LONG"
STRING = "STRING"
OPERATOR = "OPERATOR"
PUNCTUATION = "PUNCTUATION"
INTERP_START = "STRING_INTERPOLATION_START"
INTERP_END = "STRING_INTERPOLATION_END"
EOF = TOKEN_EOF

UNARY_OPERATORS = ("not", "+", "-")
BINARY_OPERATORS = (
    "or", "and", "is", "is not", "contains", "isIn", "notIn", "==", "equals", "!=", "<", ">",
    "<=", ">=",
    "+", "-", "*", "/", "%", "|", "~", "..", "??", "???",
)  # fmt: skip


def _operator_regex() -> re.Pattern[str]:
    ops = sorted(set(UNARY_OPERATORS + BINARY_OPERATORS), key=len, reverse=True)
    parts = []
    for op in ops:
        part = re.escape(op)
        if op[-1].isalpha():
            part += "(?![a-zA-Z0-9_])"
        parts.append(part)
    return re.compile("|".join(parts))


_OPERATORS = _operator_regex()
# Java's \s is ASCII only; Character.isWhitespace is used for trimming
_JWS = " \t\n\x0b\f\r"
_START_DELIMITERS = re.compile(r"\{\{|\{%|\{#")
_LEADING_TRIM = re.compile(r"-[ \t\n\x0b\f\r]+")
_TRAILING_TRIM = re.compile(r"[ \t\n\x0b\f\r]*-(?:\}\}|%\}|#\})")
_PRINT_CLOSE = re.compile(r"[ \t\n\x0b\f\r]*-?\}\}")
_EXECUTE_CLOSE = re.compile(r"[ \t\n\x0b\f\r]*-?%\}")
_COMMENT_CLOSE = re.compile(r"#\}")
_VERBATIM_START = re.compile(r"[ \t\n\x0b\f\r]*(verbatim|raw)[ \t\n\x0b\f\r]*(-)?%\}")
_VERBATIM_END = {
    "verbatim": re.compile(r"\{%(-)?[ \t\n\x0b\f\r]*endverbatim[ \t\n\x0b\f\r]*(-)?%\}"),
    "raw": re.compile(r"\{%(-)?[ \t\n\x0b\f\r]*endraw[ \t\n\x0b\f\r]*(-)?%\}"),
}
_INTERP_OPEN = "#{"
_INTERP_CLOSE = re.compile(r"[ \t\n\x0b\f\r]*\}")
_LONG = re.compile(r"[0-9]+L")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_STRING_PLAIN = re.compile(
    r"\"([^#\"\\]*(?:\\.[^#\"\\]*)*)\"|'([^'\\]*(?:\\.[^'\\]*)*)'", re.DOTALL
)
_STRING_PART = re.compile(r"[^#\"\\]*(?:(?:\\.|#(?!\{))[^#\"\\]*)*", re.DOTALL)
_PUNCTUATION = "()[]{}?:.,|="
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_NEWLINES = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def is_java_whitespace(ch: str) -> bool:
    """``Character.isWhitespace``: Unicode spaces except no-break ones, plus controls."""
    if ch in "\t\n\x0b\f\r\x1c\x1d\x1e\x1f":
        return True
    return ch.isspace() and ch not in "\xa0\u2007\u202f\x85"


def ltrim(s: str) -> str:
    """Pebble ``StringUtils.ltrim``."""
    i = 0
    while i < len(s) and is_java_whitespace(s[i]):
        i += 1
    return s[i:]


def rtrim(s: str) -> str:
    """Pebble ``StringUtils.rtrim``."""
    i = len(s)
    while i > 0 and is_java_whitespace(s[i - 1]):
        i -= 1
    return s[:i]


class PToken(Token):
    """A Jinja2 token that also knows its offset in the template (``pos``)."""

    pos: int

    def __new__(cls, lineno: int, type: str, value: str, pos: int) -> PToken:
        tok = super().__new__(cls, lineno, type, value)
        tok.pos = pos
        return tok

    @property
    def pebble_value(self) -> str:
        """The value Pebble shows: delimiters and the end have none (``null``)."""
        return "null" if self.type in _VALUELESS else self.value

    def describe(self) -> str:
        """``value "x" and type T`` as Pebble words it."""
        return f'value "{self.pebble_value}" and type {pebble_type(self.type)}'


_VALUELESS = {EOF, PRINT_START, EXECUTE_START, INTERP_START, INTERP_END}


def pebble_type(type_: str) -> str:
    """The Pebble name of a token type (Jinja2 calls the end ``eof``)."""
    return "EOF" if type_ == EOF else type_


class LineMap:
    """Offset → line number, counting newlines the way Pebble's ``TemplateSource`` does."""

    __slots__ = ("starts",)

    def __init__(self, source: str) -> None:
        self.starts = [0] + [m.end() for m in _NEWLINES.finditer(source)]

    def line(self, pos: int) -> int:
        from bisect import bisect_right

        return bisect_right(self.starts, pos)


class PebbleLexer(Lexer):
    """Tokenizes Pebble templates (see the module docstring).

    ``tokenize(source, state="expression")`` lexes a bare expression (no delimiters), used
    by :func:`kflow.expr.evaluate`.
    """

    def tokenize(
        self,
        source: str,
        name: str | None = None,
        filename: str | None = None,
        state: str | None = None,
    ) -> TokenStream:
        tokens = _Scanner(source, expression=state == "expression").run()
        return TokenStream(iter(tokens), name, filename)


class _Scanner:
    """One pass of Pebble's lexer state machine over a template."""

    def __init__(self, source: str, expression: bool = False) -> None:
        self.src = source
        self.n = len(source)
        self.i = 0
        self.tokens: list[PToken] = []
        self.brackets: list[tuple[str, int]] = []
        self.states: list[str] = ["EXPRESSION" if expression else "DATA"]
        self.trim_next = False
        self.lines = LineMap(source)

    # -- helpers

    def fail(self, message: str, pos: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, template=self.src, position=pos)

    def push(self, type_: str, value: str, pos: int) -> PToken | None:
        if type_ == TEXT and not value:
            return None
        tok = PToken(self.lines.line(pos), type_, value, pos)
        self.tokens.append(tok)
        return tok

    def skip_ws(self) -> None:
        src, i, n = self.src, self.i, self.n
        while i < n and is_java_whitespace(src[i]):
            i += 1
        self.i = i

    # -- main loop

    def run(self) -> list[PToken]:
        while self.i < self.n:
            state = self.states[-1]
            if state == "DATA":
                self.data()
            elif state in ("PRINT", "EXECUTE"):
                self.between_delimiters(state)
            elif state == "COMMENT":
                self.comment()
            elif state == "STRING":
                self.string()
            elif state == "INTERP":
                self.interpolation()
            else:  # a bare expression
                self.skip_ws()
                if self.i < self.n:
                    self.expression()
        if self.brackets:
            opener, pos = self.brackets[-1]
            if opener == '"':
                raise self.fail('Unclosed """', pos)
            raise self.fail(f'Unclosed "{opener}"', pos)
        self.tokens.append(PToken(self.lines.line(self.n), EOF, "", self.n))
        return self.tokens

    def data(self) -> None:
        src = self.src
        m = _START_DELIMITERS.search(src, self.i)
        start = self.i
        if m is None:
            text = src[start:]
            self.i = self.n
        else:
            text = src[start : m.start()]
            self.i = m.end()
        if self.trim_next:
            text = ltrim(text)
            self.trim_next = False
        text_token = self.push(TEXT, text, start)
        if m is None:
            return
        delim = m.group()
        # leading whitespace trim: "{{-" followed by at least one whitespace character
        lm = _LEADING_TRIM.match(src, self.i)
        if lm:
            if text_token is not None:  # always the last token pushed
                trimmed = rtrim(text_token.value)
                if trimmed:
                    self.tokens[-1] = PToken(text_token.lineno, TEXT, trimmed, text_token.pos)
                else:
                    self.tokens.pop()
            self.i = lm.end()
        if delim == "{#":
            self.states.append("COMMENT")
        elif delim == "{{":
            self.push(PRINT_START, "{{", m.start())
            self.states.append("PRINT")
        else:
            vm = _VERBATIM_START.match(src, self.i)
            if vm:
                self.verbatim(vm)
            else:
                self.push(EXECUTE_START, "{%", m.start())
                self.states.append("EXECUTE")

    def verbatim(self, vm: re.Match[str]) -> None:
        # `{% raw %}` (newer Kestra's RawTokenParser) is lexed like Pebble's verbatim
        start = vm.end()
        end_re = _VERBATIM_END[vm.group(1)]
        em = end_re.search(self.src, start)
        if em is None:
            raise self.fail(f"Unclosed {vm.group(1)} tag.", vm.start())
        text = self.src[start : em.start()]
        # Pebble tests `group(0) != null`, always true: verbatim text is always left-trimmed
        text = ltrim(text)
        if em.group(1) is not None:
            text = rtrim(text)
        if em.group(2) is not None:
            self.trim_next = True
        self.i = em.end()
        self.push(TEXT, text, start)

    def between_delimiters(self, state: str) -> None:
        if _TRAILING_TRIM.match(self.src, self.i):
            self.trim_next = True
        close = _PRINT_CLOSE if state == "PRINT" else _EXECUTE_CLOSE
        m = close.match(self.src, self.i)
        if not self.brackets and m:
            if state == "PRINT":
                self.push(PRINT_END, "}}", m.end() - 2)
            else:
                self.push(EXECUTE_END, "%}", m.end() - 2)
            self.i = m.end()
            self.states.pop()
        else:
            self.expression()

    def comment(self) -> None:
        m = _COMMENT_CLOSE.search(self.src, self.i)
        if m is None:
            raise self.fail("Unclosed comment.", self.i)
        body = self.src[self.i : m.start()]
        # "-#}" trims the following text only when whitespace precedes the "-"
        if len(body) >= 2 and body[-1] == "-" and body[-2] in _JWS:
            self.trim_next = True
        self.i = m.end()
        self.states.pop()

    def string(self) -> None:
        src, i = self.src, self.i
        if src.startswith(_INTERP_OPEN, i):
            self.brackets.append((_INTERP_OPEN, i))
            self.push(INTERP_START, _INTERP_OPEN, i)
            self.i = i + 2
            self.states.append("INTERP")
            return
        m = _STRING_PART.match(src, i)
        if m and m.end() > i:
            self.push(STRING, m.group(), i)
            self.i = m.end()
            return
        if src.startswith('"', i):
            self.brackets.pop()
            self.states.pop()
            self.i = i + 1
            return
        raise self.fail('Unclosed """', self.brackets[-1][1] if self.brackets else i)

    def interpolation(self) -> None:
        m = _INTERP_CLOSE.match(self.src, self.i)
        if self.brackets and self.brackets[-1][0] == _INTERP_OPEN and m:
            self.brackets.pop()
            self.push(INTERP_END, "}", m.end() - 1)
            self.i = m.end()
            self.states.pop()
        else:
            self.expression()

    def expression(self) -> None:
        self.skip_ws()
        src, i = self.src, self.i
        if i >= self.n:
            return
        m = _OPERATORS.match(src, i)
        if m:
            self.push(OPERATOR, m.group(), i)
            self.i = m.end()
            return
        ch = src[i]
        if ch == "_" or ch.isalpha():
            j = i + 1
            while j < self.n and (src[j] == "_" or src[j].isalpha() or src[j].isdecimal()):
                j += 1
            self.push(NAME, src[i:j], i)
            self.i = j
            return
        m = _LONG.match(src, i)
        if m:
            self.push(LONG, m.group()[:-1], i)
            self.i = m.end()
            return
        m = _NUMBER.match(src, i)
        if m:
            self.push(NUMBER, m.group(), i)
            self.i = m.end()
            return
        if ch in _PUNCTUATION:
            if ch in "([{":
                self.brackets.append((ch, i))
            elif ch in ")]}":
                if not self.brackets:
                    raise self.fail(f'Unexpected "{ch}"', i)
                opener, _ = self.brackets.pop()
                expected = _PAIRS.get(opener)
                if expected != ch:
                    raise self.fail(f'Unclosed "{expected}"', i)
            self.push(PUNCTUATION, ch, i)
            self.i = i + 1
            return
        m = _STRING_PLAIN.match(src, i)
        if m:
            raw = m.group()
            quote = raw[0]
            value = raw[1:-1].replace("\\" + quote, quote)
            self.push(STRING, value, i)
            self.i = m.end()
            return
        if ch == '"':
            self.brackets.append(('"', i))
            self.states.append("STRING")
            self.i = i + 1
            return
        raise self.fail(f"Unexpected character [{ch}]", i)


def iter_tokens(source: str) -> Iterator[PToken]:
    """All tokens of ``source`` (for debugging and tests)."""
    return iter(_Scanner(source).run())
