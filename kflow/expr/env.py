"""The Jinja2 environment for Pebble templates and Kestra's ``VariableRenderer``.

``KestraEnvironment`` is a Jinja2 ``Environment`` with Pebble's lexer
(:mod:`kflow.expr.lexer`), parser (:mod:`kflow.expr.parser`) and code generator
(:mod:`kflow.expr.compiler`); Jinja2's built-in filters, tests and globals are removed and
only the Kestra set is registered. The module-level functions reproduce
``VariableRenderer``: the no-``{`` short-circuit, the single-line ``{% raw %}`` pre-pass,
no recursion, an LRU cache of compiled templates keyed by source.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, StrictUndefined

from kflow.errors import ExpressionError, ExpressionSyntaxError, UndefinedVariableError
from kflow.expr import runtime
from kflow.expr.compiler import PebbleCodeGenerator, flatten
from kflow.expr.lexer import LineMap, PebbleLexer
from kflow.expr.nodes import KReturn
from kflow.expr.parser import PebbleParser
from kflow.expr.runtime import MAX_RENDERING_AMOUNT, RenderContext
from kflow.expr.values import to_string

CACHE_SIZE = 1000

# VariableRenderer.RAW_PATTERN; Java's `.` stops at any line terminator and `\s` is ASCII
_WS = r"[ \t\n\x0b\f\r]"
_NOT_EOL = r"[^\n\r\x85\u2028\u2029]"
_RAW = re.compile(rf"(\{{%-*{_WS}*raw{_WS}*-*%\}}({_NOT_EOL}*?)\{{%-*{_WS}*endraw{_WS}*-*%\}})")


class KestraUndefined(StrictUndefined):
    """Strict but chainable undefined, for any code path of Jinja2 itself.

    Pebble lookups never produce one: they raise :class:`UndefinedVariableError` at the
    lookup, and the four escape hatches are compiled as guarded thunks (see
    :mod:`kflow.expr.runtime`), which also covers ``missing.x | upper | default('d')``.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> Any:
        return self

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        name = self._undefined_name or "?"
        raise UndefinedVariableError(f"Unable to find `{name}`")

    __str__ = __iter__ = __len__ = __bool__ = __eq__ = __ne__ = __hash__ = __contains__ = (
        _fail_with_undefined_error
    )
    __add__ = __radd__ = __sub__ = __mul__ = __truediv__ = __mod__ = _fail_with_undefined_error


class KestraEnvironment(Environment):
    """Jinja2 environment speaking Pebble (see the module docstring)."""

    code_generator_class = PebbleCodeGenerator

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=False,
            lstrip_blocks=False,
            finalize=to_string,
            undefined=KestraUndefined,
            optimized=False,
            cache_size=0,
        )
        self.filters.clear()
        self.tests.clear()
        self.globals.clear()
        self._pebble_lexer = PebbleLexer(self)
        filters, tests, functions = _load_registries()
        filters["default"] = runtime.filter_default
        for name, test in runtime.CORE_TESTS.items():
            tests.setdefault(name, test)
        functions.setdefault("range", runtime.fn_range)
        functions["render"] = runtime.fn_render
        functions["renderOnce"] = runtime.fn_render_once
        self.filters.update(filters)
        self.tests.update(tests)
        self.globals.update(functions)
        # the dicts compiled templates look names up in
        self.k_filters: dict[str, Any] = self.filters
        self.k_tests: dict[str, Any] = self.tests
        self.k_functions: dict[str, Any] = self.globals

    @property
    def lexer(self) -> PebbleLexer:
        return self._pebble_lexer

    def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
        return PebbleParser(self, source, name, filename).parse()

    def compile_root(self, source: str, state: str | None = None) -> Callable[..., Any]:
        """Parse and compile ``source``; returns the generated ``root`` render function."""
        node = PebbleParser(self, source, None, None, state).parse()
        return self.compile_node(node)

    def compile_node(self, node: Any) -> Callable[..., Any]:
        flatten(node)
        node.set_environment(self)
        code = self._generate(node, None, "<template>")
        compiled = self._compile(code, "<template>")
        tmpl = self.template_class.from_code(self, compiled, self.make_globals(None), None)
        return tmpl.root_render_func


def _load_registries() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The Kestra filters, tests and functions of the sibling modules (empty if absent)."""
    filters: dict[str, Any] = {}
    tests: dict[str, Any] = {}
    functions: dict[str, Any] = {}
    try:
        from kflow.expr import filters as filters_module
    except ImportError:
        pass
    else:
        filters.update(getattr(filters_module, "FILTERS", {}))
        tests.update(getattr(filters_module, "TESTS", {}))
    try:
        from kflow.expr import functions as functions_module
    except ImportError:
        pass
    else:
        functions.update(getattr(functions_module, "FUNCTIONS", {}))
    return filters, tests, functions


_env: KestraEnvironment | None = None
_env_lock = threading.Lock()


def get_environment() -> KestraEnvironment:
    """The shared environment, built on first use (so the registries load lazily)."""
    global _env
    if _env is None:
        with _env_lock:
            if _env is None:
                _env = KestraEnvironment()
    return _env


class Compiled:
    """A compiled template: its ``root`` function and the raw blocks to put back."""

    __slots__ = ("root", "raw", "typed")

    def __init__(self, root: Callable[..., Any], raw: tuple[tuple[str, str], ...], typed: bool):
        self.root = root
        self.raw = raw
        self.typed = typed


def _protect_raw(source: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Kestra's raw pre-pass, with placeholders of the same length (offsets stay exact)."""
    if "raw" not in source:
        return source, ()
    blocks: list[tuple[str, str]] = []

    def placeholder(m: re.Match[str]) -> str:
        tag = f"\ue000{len(blocks)}\ue001"
        ph = tag + "\ue002" * (len(m.group(1)) - len(tag))
        blocks.append((ph, m.group(1)))
        return ph

    return _RAW.sub(placeholder, source), tuple(blocks)


def _too_deep(source: str, detail: str) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(
        f"the template is nested too deeply for kflow to compile ({detail})",
        template=source,
        hint="split it into smaller templates, e.g. compute parts with {% set %} "
        "or in an earlier task",
    )


@lru_cache(maxsize=CACHE_SIZE)
def _compile(source: str, kind: str) -> Compiled:
    """Parse and compile ``source``. Pebble nests without limit, Python does not: past
    Python's limits (20 nested loops, 100 indentation levels, 200 nested parentheses, the
    recursion limit) the template is refused with one clear syntax error, never a crash."""
    try:
        return _compile_unchecked(source, kind)
    except RecursionError:
        raise _too_deep(source, "too many nested parentheses, operators or tags") from None
    except MemoryError:
        raise _too_deep(source, "out of memory while compiling") from None
    except SyntaxError as e:  # Python's compile() of the generated code
        raise _too_deep(source, f"Python's compiler says: {e.msg}") from None


def _compile_unchecked(source: str, kind: str) -> Compiled:
    env = get_environment()
    if kind == "expression":
        return Compiled(env.compile_root(source, "expression"), (), True)
    text, raw = _protect_raw(source)
    if kind == "typed":
        parser = PebbleParser(env, text)
        node = parser.parse()
        body = [n for n in node.body]
        single = _single_expression(body)
        if single is not None:
            node.body = [KReturn(single, lineno=1)]
            return Compiled(env.compile_node(node), raw, True)
    return Compiled(env.compile_root(text), raw, False)


def _single_expression(body: list[Any]) -> Any:
    """The expression of a template that is exactly one ``{{ expr }}`` (whitespace around)."""
    from jinja2 import nodes

    if len(body) != 1 or not isinstance(body[0], nodes.Output):
        return None
    exprs = [n for n in body[0].nodes if not isinstance(n, nodes.TemplateData)]
    data = [n for n in body[0].nodes if isinstance(n, nodes.TemplateData)]
    if len(exprs) != 1 or any(d.data.strip() for d in data):
        return None
    return exprs[0]


def _decorate(err: ExpressionError, template: str) -> ExpressionError:
    """Kestra's message: the template and the line of the bad part."""
    if getattr(err, "_kflow_decorated", None) is not None:
        # decorated already (by this template, or by a nested render() whose message
        # names the inner template): the message is not suffixed again
        if err.template is None:
            err.template = template
        return err
    pos = err.position
    line = LineMap(template).line(pos) if pos is not None else 1
    if isinstance(err, UndefinedVariableError):
        message = f"{err.message} used in the expression `{template}` at line {line}"
        if err.hint is None:
            err.hint = (
                "use `?? 'default'`, `| default('…')` or `is defined` for a value "
                "that may be missing"
            )
    else:
        message = f"{err.message} ({template}:{line})"
    err.message = message
    err.args = (message,)
    err.template = template
    err._kflow_decorated = template  # type: ignore[attr-defined]
    return err


def _run(comp: Compiled, template: str, context: Mapping[str, Any], depth: int) -> Any:
    ctx = RenderContext(get_environment(), context, depth)
    try:
        if comp.typed:
            return next(comp.root(ctx))
        out = "".join(comp.root(ctx))
    except ExpressionError as e:
        raise _decorate(e, template) from None
    except RecursionError:
        raise _decorate(ExpressionError("Too deep recursion while rendering"), template) from None
    for ph, original in comp.raw:
        out = out.replace(ph, original)
    return out


def _compile_checked(template: str, kind: str) -> Compiled:
    try:
        return _compile(template, kind)
    except ExpressionSyntaxError as e:
        raise _decorate(e, template) from None


def render_once(template: str, context: Mapping[str, Any], depth: int = 0) -> str:
    """One pass of ``VariableRenderer.renderOnce`` (raw blocks kept with their tags)."""
    return _run(_compile_checked(template, "template"), template, context, depth)  # type: ignore[no-any-return]


def _strip_raw(text: str) -> str:
    return _RAW.sub(r"\2", text) if "raw" in text else text


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render a Pebble template to a string, exactly like Kestra's ``VariableRenderer``."""
    if "{" not in template:
        return template
    comp = _compile_checked(template, "template")
    out: str = _run(comp, template, context, 0)
    return _strip_raw(out) if "raw" in out else out


def render_recursive(template: str, context: Mapping[str, Any], depth: int = 0) -> str:
    """``renderRecursively``: render until the text stops changing (max 100 passes)."""
    current = template
    for _ in range(MAX_RENDERING_AMOUNT + 1):
        result = render_once(current, context, depth)
        if result == current:
            return result
        current = result
    raise ExpressionError("Too many rendering attempts", template=template)


def render_nested(value: Any, context: Mapping[str, Any], recursive: bool, depth: int) -> Any:
    """The ``render()``/``renderOnce()`` functions: a string, or each string of a map/list."""
    if isinstance(value, str):
        if recursive:
            return render_recursive(value, context, depth)
        return render_once(value, context, depth)
    if isinstance(value, Mapping):
        return {
            render_nested(k, context, recursive, depth): render_nested(v, context, recursive, depth)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [render_nested(v, context, recursive, depth) for v in value]
    return value


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Kestra ``render(Map)``/``renderList``: strings rendered, maps (keys and values) and
    lists rendered recursively, anything else returned unchanged."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = render(k, context) if isinstance(k, str) else k
            if key not in out:  # putIfAbsent: the first of two keys rendering alike wins
                out[key] = render_value(v, context)
        return out
    if isinstance(value, list | tuple):
        return [render_value(v, context) for v in value]
    if isinstance(value, set | frozenset):
        return {render_value(v, context) for v in value}
    return value


def render_typed(template: str, context: Mapping[str, Any]) -> Any:
    """``TypedObjectWriter``: the native value of a template that is one ``{{ expr }}``
    (whitespace around allowed), else the rendered string."""
    if "{" not in template:
        return template
    comp = _compile_checked(template, "typed")
    if not comp.typed:
        out: str = _run(comp, template, context, 0)
        return _strip_raw(out)
    return _run(comp, template, context, 0)


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The native value of a bare expression (``outputs.t.value == 'ok'``, no braces)."""
    comp = _compile_checked(expression, "expression")
    return _run(comp, expression, context, 0)


def check_syntax(template: str) -> None:
    """Raise :class:`ExpressionSyntaxError` if ``template`` does not parse (no rendering)."""
    if "{" not in template:
        return
    _compile_checked(template, "template")


def clear_cache() -> None:
    """Forget compiled templates (tests; after the filter registry changes)."""
    global _env
    _compile.cache_clear()
    _env = None


__all__ = [
    "KestraEnvironment",
    "check_syntax",
    "clear_cache",
    "evaluate",
    "get_environment",
    "render",
    "render_typed",
    "render_value",
]
