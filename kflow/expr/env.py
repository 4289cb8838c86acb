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
from kflow.expr.paths import Reference as Reference  # re-exported: references() gives them
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
        from kflow.expr.interpret import interpret  # text and paths: no Python generated

        fast = interpret(_parsed(source, state))  # the tree references() read at load
        if fast is not None:
            return fast
        # code generation changes the tree it compiles: a tree of its own
        return self.generate_root(PebbleParser(self, source, None, None, state).parse())

    def compile_node(self, node: Any) -> Callable[..., Any]:
        from kflow.expr.interpret import interpret  # text and paths: no Python generated

        fast = interpret(node)  # (paths it takes are ones flatten() leaves as they are)
        if fast is not None:
            return fast
        return self.generate_root(node)

    def generate_root(self, node: Any) -> Callable[..., Any]:
        """Python code generated for ``node`` (which it changes), compiled."""
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
        from jinja2 import nodes

        from kflow.expr.interpret import interpret

        single = _single_expression(list(_parsed(text, None).body))
        if single is not None:
            fast = interpret(nodes.Template([KReturn(single, lineno=1)], lineno=1))
            if fast is not None:  # the shared tree is read, never changed
                return Compiled(fast, raw, True)
            node = PebbleParser(env, text).parse()  # compiled: a tree of its own
            node.body = [KReturn(_single_expression(list(node.body)), lineno=1)]
            return Compiled(env.generate_root(node), raw, True)
    return Compiled(env.compile_root(text), raw, False)


@lru_cache(maxsize=CACHE_SIZE)
def _parsed(text: str, state: str | None) -> Any:
    """The parse tree of ``text``, shared by :func:`references` (the load-time checks) and
    the renderer's tree walker, so that a flow's template is parsed once per run, not
    twice. Readers only: code generation parses its own copy, since it changes the tree."""
    if state is None:
        tree = _path_template(text)
        if tree is not None:
            return tree
    return PebbleParser(get_environment(), text, None, None, state).parse()


def _path_template(text: str) -> Any:
    """The tree the parser would build for a template made only of text and ``{{ path }}``
    blocks of plain dotted names (:func:`kflow.expr.paths.split`), built directly (about
    five times faster than lexing and parsing it); None for anything else, which goes to
    the parser. The nodes, their ``lineno``, ``pos`` and ``path`` are the parser's (a test
    compares the two on generated templates)."""
    from jinja2 import nodes

    from kflow.expr import nodes as k
    from kflow.expr.paths import Text, split

    found = split(text)
    if found is None:
        return None
    parts: list[Any] = []
    paths: list[Any] = []  # the outermost node of each path, for references()
    for part in found:
        line = text.count("\n", 0, part.start) + 1
        if isinstance(part, Text):
            data: Any = nodes.TemplateData(part.data, lineno=line)
            data.pos = part.start
            parts.append(data)
            continue
        names = part.names
        at = part.name_start
        node: Any = k.KVar(names[0], lineno=line)
        node.path = names[0]
        node.pos = at
        for name in names[1:]:
            at += len(node.path.rsplit(".", 1)[-1]) + 1
            new: Any = k.KGetAttr(node, name, None, lineno=line)
            new.path = f"{node.path}.{name}"
            new.pos = at
            node = new
        parts.append(node)
        paths.append(node)
    tpl: Any = nodes.Template([nodes.Output(parts, lineno=1)], lineno=1)
    tpl.macros = []
    tpl.blocks = []
    tpl.dynamic = False
    tpl.set_environment(get_environment())
    tpl.kflow_paths = paths
    return tpl


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


def _decorate(
    err: ExpressionError, template: str, context: Mapping[str, Any] | None = None
) -> ExpressionError:
    """Kestra's message: the template and the line of the bad part; then, for a missing
    ``outputs...`` path, why it is missing (see :func:`runtime.explain_undefined`)."""
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
        missing = getattr(err, "missing", None)
        why = (
            runtime.explain_undefined(missing, context)
            if isinstance(missing, str) and context is not None
            else None
        )
        if why is not None:
            message = f"{message}: {why[0]}"
            err.hint = why[1]
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
        raise _decorate(e, template, context) from None
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


@lru_cache(maxsize=CACHE_SIZE)
def references(template: str) -> tuple[Reference, ...]:
    """The filters, functions, tests and ``inputs.*`` paths ``template`` names (parse only:
    nothing compiled or rendered); raises :class:`ExpressionSyntaxError` when it does not
    parse (:func:`check_syntax` gives the full message).

    Conservative on purpose, for a check that must not refuse a good flow: calls to a
    macro of the template are not functions, and ``inputs`` paths are left out when the
    template can rebind ``inputs`` (``set``, ``for``, macro parameters) or inside a macro
    (which sees only its arguments)."""
    if "{" not in template:
        return ()
    from kflow.expr import nodes as k

    text, _ = _protect_raw(template)
    try:
        root = _parsed(text, None)
    except RecursionError:
        raise _too_deep(template, "too many nested parentheses, operators or tags") from None
    paths = getattr(root, "kflow_paths", None)
    if paths is not None:  # text and dotted paths only: each path is one whole chain
        return _path_references(paths)
    macros = {m.name for m in root.macros}
    rebound: set[str] = set()
    for node, _in_macro in _walk_scoped(root):
        if isinstance(node, k.KSet | k.KFor):
            rebound.add(node.name if isinstance(node, k.KSet) else node.target)
        elif isinstance(node, k.KMacro):
            rebound.update(p.name for p in node.params)
    shadowed = "inputs" in rebound
    found: list[Reference] = []
    inputs: dict[int | None, Reference] = {}
    outputs: dict[int, Reference] = {}  # by the id of the chain's `outputs` node
    hatched: set[str] = set()  # tasks whose outputs the template also tests (?? default...)
    for node, unchecked in _walk_scoped(root):
        if "outputs" not in rebound and isinstance(node, k.KGetAttr | k.KGetItem):
            chain = _outputs_path(node)
            if chain is not None and unchecked:
                hatched.add(chain[1].name)
            elif chain is not None and len(chain[1].path) >= len(
                getattr(outputs.get(chain[0]), "path", ())
            ):
                outputs[chain[0]] = chain[1]
        pos = getattr(node, "pos", None)
        if isinstance(node, k.KFilter | k.KFilterCall) and node.name != "default":
            found.append(Reference("filter", node.name, pos))
        elif isinstance(node, k.KTest) and node.name != "defined":
            found.append(Reference("test", node.name, pos))
        elif isinstance(node, k.KCall) and node.name != "block" and node.name not in macros:
            found.append(Reference("function", node.name, pos))
        elif not shadowed and not unchecked and isinstance(node, k.KGetAttr | k.KGetItem):
            path = _inputs_path(node)
            # inputs.a.b also holds inputs.a: keep the longest path of each chain
            if path is not None and len(path[0]) > len(getattr(inputs.get(path[1]), "name", "")):
                inputs[path[1]] = Reference("input", path[0], path[1])
    found.extend(inputs.values())
    # a task tested anywhere in the template (`outputs.t.x is defined ? outputs.t.x : ...`)
    # is left out everywhere in it
    found.extend(r for r in outputs.values() if r.name not in hatched)
    found.sort(key=lambda r: (r.position is None, r.position or 0))
    return tuple(found)


def secret_names(template: str) -> list[str]:
    """The names of the secrets ``template`` reads with a literal name (``secret('KEY')``,
    ``secret(key='KEY')``), in order, each once; a computed name is not known before the
    run and is left out. Raises :class:`ExpressionSyntaxError` when it does not parse."""
    if "secret" not in template:
        return []
    from kflow.expr import nodes as k

    text, _ = _protect_raw(template)
    try:
        root = _parsed(text, None)
    except RecursionError:
        raise _too_deep(template, "too many nested parentheses, operators or tags") from None
    found: list[tuple[int, str]] = []
    for node, _unchecked in _walk_scoped(root):
        if isinstance(node, k.KCall) and node.name == "secret":
            arg = node.args[0] if node.args else next(
                (kw.value for kw in node.kwargs if kw.key == "key"), None
            )
            if isinstance(arg, k.KConst) and isinstance(arg.value, str):
                found.append((getattr(node, "pos", None) or 0, arg.value))
    return list(dict.fromkeys(name for _, name in sorted(found)))


def _path_references(paths: list[Any]) -> tuple[Reference, ...]:
    """:func:`references` of a template built by :func:`_path_template`: no filter, test,
    call, macro, ``set`` or escape hatch, so each path is an ``inputs`` or ``outputs``
    chain or nothing, and its outermost node carries the whole of it (what the general
    walk keeps as the longest path of each chain)."""
    found: list[Reference] = []
    for node in paths:
        chain = _outputs_path(node)
        if chain is not None:
            found.append(chain[1])
            continue
        path = _inputs_path(node)
        if path is not None:
            found.append(Reference("input", path[0], path[1]))
    found.sort(key=lambda r: (r.position is None, r.position or 0))
    return tuple(found)


def _walk_scoped(root: Any) -> Any:
    """(node, unchecked) for every node of the template and of its macros, iteratively
    (Pebble chains nest without limit). ``unchecked`` is true inside a macro (which sees
    only its arguments) and under an escape hatch (``x ?? y``, ``x | default(y)``,
    ``x is defined``), where a missing value is expected."""
    from kflow.expr import nodes as k

    stack: list[tuple[Any, bool]] = [(root, False), *((m, True) for m in root.macros)]
    while stack:
        node, unchecked = stack.pop()
        yield node, unchecked
        hatch = None
        if isinstance(node, k.KCoalesce):
            hatch = node.left
        elif (isinstance(node, k.KFilter) and node.name == "default") or (
            isinstance(node, k.KTest) and node.name == "defined"
        ):
            hatch = node.node
        for child in node.iter_child_nodes():
            stack.append((child, unchecked or child is hatch or isinstance(node, k.KMacro)))


def _inputs_path(node: Any) -> tuple[str, int | None] | None:
    """``inputs.a.b`` / ``inputs['a'].b`` → ("a.b", offset of ``a``) when ``node`` is the
    outermost attribute of such a chain of plain names; else None."""
    from kflow.expr import nodes as k

    names: list[tuple[str, int | None]] = []
    cur = node
    while True:
        if isinstance(cur, k.KGetAttr) and cur.args is None:
            names.append((cur.name, getattr(cur, "pos", None)))
        elif (
            isinstance(cur, k.KGetItem)
            and isinstance(cur.key, k.KConst)
            and isinstance(cur.key.value, str)
        ):
            names.append((cur.key.value, getattr(cur.key, "pos", None)))
        elif isinstance(cur, k.KVar) and cur.name == "inputs" and names:
            names.reverse()
            return ".".join(n for n, _ in names), names[0][1]
        else:
            return None
        cur = cur.node


def _outputs_path(node: Any) -> tuple[int, Reference] | None:
    """``outputs.t.a[x].b`` → (id of the ``outputs`` node, Reference("output", "t", offset
    of ``t``, ("a", None, "b"))) when ``node`` ends such a chain and ``t`` is a literal name;
    else None. A key computed by an expression is None in the path."""
    from kflow.expr import nodes as k

    keys: list[tuple[str | None, int | None]] = []
    cur = node
    while True:
        if isinstance(cur, k.KGetAttr) and cur.args is None:
            keys.append((cur.name, getattr(cur, "pos", None)))
        elif isinstance(cur, k.KGetItem):
            key = cur.key
            literal = isinstance(key, k.KConst) and isinstance(key.value, str)
            keys.append((key.value if isinstance(key, k.KConst) and literal else None,
                         getattr(key, "pos", None)))  # fmt: skip
        elif isinstance(cur, k.KVar) and cur.name == "outputs" and keys:
            keys.reverse()
            task, pos = keys[0]
            if task is None:
                return None
            return id(cur), Reference("output", task, pos, tuple(n for n, _ in keys[1:]))
        else:
            return None
        cur = cur.node


def clear_cache() -> None:
    """Forget compiled templates (tests; after the filter registry changes)."""
    global _env
    _compile.cache_clear()
    references.cache_clear()
    _parsed.cache_clear()
    _env = None


__all__ = [
    "KestraEnvironment",
    "Reference",
    "check_syntax",
    "clear_cache",
    "evaluate",
    "get_environment",
    "references",
    "render",
    "render_typed",
    "render_value",
    "secret_names",
]
