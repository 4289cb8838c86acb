"""Runtime support called by compiled templates: lookups, operators, scopes, calls.

Compiled templates (see :mod:`kflow.expr.compiler`) call the ``k_*`` helpers below, which
carry Pebble 3.2.2 / Kestra semantics:

* strict lookups raise :class:`UndefinedVariableError` *at the lookup*, like Pebble's
  ``AttributeNotFoundException``; the four escape hatches (``??``, ``???``,
  ``| default``, ``is defined``) are compiled as thunks evaluated under ``try``, so they
  swallow a missing value anywhere in their left operand (``missing.x | upper |
  default('d')`` → ``d``) and nothing else does;
* arithmetic with Java's widening (Integer → Long → Float → Double → BigDecimal), 32/64
  bit wrap-around, truncating ``/`` and ``%`` with the dividend's sign;
* Pebble's ``ScopeChain``: ``set`` writes the nearest scope that holds the name (so a
  ``for`` body updates a variable set before the loop), ``for`` pushes one scope for the
  whole loop, macros see only their arguments. The caller's context is never mutated: a
  ``set`` of one of its names goes to a template-level overlay that shadows it.

``site`` arguments are compile-time constants: an ``int`` offset in the template, or a
``(path, offset)`` pair for lookups, so errors name the missing path and point at it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Context as DecimalContext
from decimal import Decimal, InvalidOperation
from typing import Any

from kflow.errors import ExpressionError, UndefinedVariableError
from kflow.expr.values import (
    INT_MAX,
    INT_MIN,
    BigInteger,
    Char,
    Entry,
    Float,
    HashMap,
    Long,
    SafeString,
    TemplateList,
    hash_map,
    is_java_string,
    is_number,
    java_class_name,
    java_float,
    java_to_string,
    to_string,
    truthy,
    wrap_int,
    wrap_long,
)

SERVICES_KEY = "_kflow"
MAX_RENDERING_AMOUNT = 100
_DECIMAL128 = DecimalContext(prec=34)

Site = Any  # int | tuple[str, int]


# ---------------------------------------------------------------------------------------------
# errors


def _pos(site: Site) -> int | None:
    if isinstance(site, tuple):
        pos: int = site[1]
        return pos
    return site if isinstance(site, int) else None


def undefined(site: Site, detail: str) -> UndefinedVariableError:
    """A missing variable/key/index: ``detail`` is Pebble's own wording."""
    path = site[0] if isinstance(site, tuple) else "?"
    err = UndefinedVariableError(f"Unable to find `{path}`", position=_pos(site))
    err.kestra_detail = detail  # type: ignore[attr-defined]
    err.missing = path  # type: ignore[attr-defined]
    return err


_PATH_PART = re.compile(r"""\.([A-Za-z_$][\w$]*)|\[\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\]""")


def _path_parts(path: str) -> list[str] | None:
    """``outputs.t['x'].y`` → ["outputs", "t", "x", "y"]; None for any other form
    (a computed key, a method call): no guessing about what it names."""
    head = re.match(r"[A-Za-z_$][\w$]*", path)
    if head is None:
        return None
    parts = [head.group(0)]
    pos = head.end()
    while pos < len(path):
        m = _PATH_PART.match(path, pos)
        if m is None:
            return None
        parts.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
    return parts


def _listed(names: Iterable[Any], limit: int = 10) -> str:
    items = [str(n) for n in names]
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _is_iterated(entry: Any) -> bool:
    """``tasks.<id>`` of a task that ran once per iteration value: ``{value: {state}}``."""
    return isinstance(entry, Mapping) and bool(entry) and "state" not in entry


def explain_undefined(missing: str, context: Mapping[str, Any]) -> tuple[str, str] | None:
    """Why ``outputs.<task>...`` (or ``trigger``) is missing, from the ``outputs`` and
    ``tasks`` maps of the context: (an explanation to append to Pebble's message, a hint),
    or None.

    A skipped task has no outputs (suggest ``??``); a task run once per iteration value
    has its outputs keyed by those values (list them); a misspelt output name gets its
    task's output names (did you mean...)."""
    parts = _path_parts(missing)
    if parts == ["trigger"] and "trigger" not in context:
        return (
            "this execution was not started by a trigger; give its variables with kflow run "
            "--trigger-id ID (as a trigger the flow declares would), --trigger KEY=VALUE or "
            "--trigger-file FILE",
            "kflow run FLOW --trigger-id ID fills trigger.date/next/previous (Schedule) or "
            "trigger.body/headers/parameters (Webhook); write `trigger.x ?? 'default'` to run "
            "without one",
        )
    if not parts or parts[0] != "outputs" or len(parts) < 2:
        return None
    outputs = context.get("outputs")
    tasks = context.get("tasks")
    if not isinstance(outputs, Mapping):
        return None
    tasks = tasks if isinstance(tasks, Mapping) else {}
    tid = parts[1]
    entry = tasks.get(tid)
    if tid not in outputs:
        state = entry.get("state") if isinstance(entry, Mapping) else None
        runs = list(entry.values()) if isinstance(entry, Mapping) and _is_iterated(entry) else []
        if state == "SKIPPED" or (
            runs and all(isinstance(e, Mapping) and e.get("state") == "SKIPPED" for e in runs)
        ):
            example = f"{missing}.<output> ?? 'none'" if len(parts) == 2 else f"{missing} ?? 'none'"
            return (
                f"task '{tid}' was SKIPPED (its runIf was false, or it is disabled), so it "
                f"has no outputs; give a default with ?? (`{example}`)",
                f"write `{example}` (or test `{missing} is defined`) where the task may be "
                "skipped",
            )
        if state in ("CREATED", "QUEUED", "RUNNING", "PAUSED"):
            return (f"task '{tid}' has not finished (it is {state}), so it has no outputs yet",
                    "use the outputs of a task in a later task, or of a child task")  # fmt: skip
        if isinstance(state, str):
            return (f"task '{tid}' ended {state} without outputs",
                    f"write `{missing} ?? 'default'` if it may have none")  # fmt: skip
        known = [str(k) for k in outputs]
        close = difflib.get_close_matches(tid, known, n=1, cutoff=0.75)
        have = "no task has outputs yet"
        if known:
            have = f"tasks with outputs so far: {_listed(known)}"
        hint = f"did you mean outputs.{close[0]}?" if close else (
            "a task's outputs exist once it has run: check the task id and that the task "
            "comes before this one")  # fmt: skip
        return f"no task '{tid}' has outputs here ({have})", hint
    node: Any = outputs[tid]
    for depth, key in enumerate(parts[2:]):
        if not isinstance(node, Mapping):
            return None
        if key in node:
            node = node[key]
            continue
        if depth == 0 and _is_iterated(entry):
            values = _listed(repr(str(v)) for v in node)
            first = next(iter(node), "value")
            fix = (f"write outputs.{tid}['{first}'].{key} (or outputs.{tid}[taskrun.value]."
                   f"{key} inside the same loop)")  # fmt: skip
            return (
                f"task '{tid}' ran once per iteration value, so its outputs are keyed by "
                f"those values: {values}; {fix}",
                fix,
            )
        names = [str(n) for n in node]
        where = f"task '{tid}'" if depth == 0 else f"`{'.'.join(parts[: depth + 2])}`"
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        listed = _listed(names) if names else "none"
        head = f"{where} has outputs: {listed}" if depth == 0 else f"{where} has keys: {listed}"
        if close:
            return f"{head} (did you mean {close[0]}?)", f"did you mean {close[0]}?"
        return head, "use one of the names listed"
    return None


def unknown_name_hint(kind: str, name: str, env: Any) -> str:
    """How to fix a ``filter``, ``function`` or ``test`` name that does not exist: the other
    form when the name exists as one (``x | fromJson`` → ``fromJson(x)``), else a close
    name, else where the names are listed."""
    filters, functions, tests = env.k_filters, env.k_functions, env.k_tests
    if kind == "filter" and name in functions:
        return f"{name} is a function, not a filter: write {name}(value) instead of value | {name}"
    if kind == "function" and name in filters:
        return f"{name} is a filter, not a function: write value | {name} instead of {name}(value)"
    if kind != "test" and name in tests:
        return f"{name} is a test, not a {kind}: write value is {name}"
    if kind == "test" and name in filters:
        return f"{name} is a filter, not a test: write value | {name}"
    known = {"filter": filters, "function": functions, "test": tests}[kind]
    names = [str(n) for n in known]
    folded = [n for n in names if n.lower() == name.lower()]
    close = folded[:1] or difflib.get_close_matches(name, names, n=3, cutoff=0.75)
    if close:
        return f"did you mean {', '.join(close)}?"
    return f"check the {kind} name against https://kestra.io/docs/expressions"


def _unknown(kind: str, message: str, name: str, c: Any, site: Site) -> ExpressionError:
    err = fail(message, site)
    err.hint = unknown_name_hint(kind, name, c.env)
    return err


def fail(message: str, site: Site = None) -> ExpressionError:
    """Any other evaluation error (Pebble's ``PebbleException``)."""
    return ExpressionError(message, position=_pos(site))


# ---------------------------------------------------------------------------------------------
# render context and scopes


class Loop:
    """Pebble's ``ForNode.LoopVariables``: ``index`` is 0-based. One object per loop,
    updated at each pass (a ``{% set x = loop %}`` sees later passes, as in Pebble)."""

    __slots__ = ("index", "length")

    def __init__(self, length: int) -> None:
        self.index = 0
        self.length = length

    def java_bean(self) -> dict[str, Any]:
        """The properties Jackson serialises (field order of ``LoopVariables``)."""
        return {
            "first": self.index == 0,
            "last": self.index == self.length - 1,
            "length": self.length,
            "index": self.index,
            "revindex": self.length - self.index - 1,
        }

    def attr(self, name: str) -> Any:
        if name == "index":
            return self.index
        if name == "revindex":
            return self.length - self.index - 1
        if name == "first":
            return self.index == 0
        if name == "last":
            return self.index == self.length - 1
        if name == "length":
            return self.length
        raise KeyError(name)

    def __str__(self) -> str:
        return (
            f"{{last={java_to_string(self.index == self.length - 1)}, length={self.length}, "
            f"index={self.index}, revindex={self.length - self.index - 1}, "
            f"first={java_to_string(self.index == 0)}}}"
        )


class GlobalContext:
    """Pebble's ``_context``: only ``_context.get('name')`` works under strict variables."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def get(self, name: Any) -> Any:
        key = java_to_string(name)
        if key == SERVICES_KEY:
            return None
        for scope in self.ctx.rchain:
            if key in scope:
                return scope[key]
        return None

    def __str__(self) -> str:
        return "io.pebbletemplates.pebble.template.GlobalContext"


class ContextView(Mapping[str, Any]):
    """The variables visible at a call site, handed to ``needs_context`` functions.

    Iteration and ``len`` hide the ``_kflow`` services key (so ``printContext`` never shows
    it) while ``view["_kflow"]`` still reaches it.
    """

    def __init__(self, ctx: RenderContext) -> None:
        self._ctx = ctx

    def _flat(self) -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for scope in reversed(self._ctx.rchain):
            flat.update(scope)
        return flat

    def __getitem__(self, key: str) -> Any:
        for scope in self._ctx.rchain:
            if key in scope:
                return scope[key]
        if key == SERVICES_KEY:
            services = self._ctx.services
            if services is not None:
                return services
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Any:
        return (k for k in self._flat() if k != SERVICES_KEY)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def flatten(self) -> dict[str, Any]:
        """All visible variables, ``_kflow`` included (used by ``render()``)."""
        flat = self._flat()
        if SERVICES_KEY not in flat and self._ctx.services is not None:
            flat[SERVICES_KEY] = self._ctx.services
        return flat


class RenderContext:
    """Per-render state passed to a compiled template as its ``context``."""

    __slots__ = (
        "env",
        "user",
        "overlay",
        "rchain",
        "local",
        "macros",
        "blocks",
        "services",
        "depth",
        "resolve_or_missing",
    )

    def __init__(self, env: Any, user: Mapping[str, Any], depth: int = 0) -> None:
        self.env = env
        self.user = user
        self.overlay: dict[str, Any] = {}
        # innermost scope first: the overlay (top-level `set`s) shadows the caller's context
        self.rchain: list[Any] = [self.overlay, user]
        self.local: dict[str, Any] | None = None
        self.macros: dict[str, Callable[..., str]] = {}
        self.blocks: dict[str, Callable[[bool], str]] = {}
        self.services = user.get(SERVICES_KEY) if isinstance(user, Mapping) else None
        self.depth = depth
        self.resolve_or_missing = None  # read (unused) by Jinja2's generated prologue

    # -- scope chain

    def push(self) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        self.rchain.insert(0, scope)
        return scope

    def pop(self) -> None:
        del self.rchain[0]

    def macro_enter(
        self, name: str, params: tuple[str, ...], args: tuple[Any, ...], kwargs: Any, site: Site
    ) -> tuple[list[Any], dict[str, Any] | None]:
        """Isolate the chain for a macro call: ``[arguments, defaults]``."""
        bound: dict[str, Any] = {}
        for i, value in enumerate(args):
            if i >= len(params):
                raise fail(
                    f"The argument at position {i + 1} is not allowed. "
                    f"Only {len(params)} argument(s) are allowed.",
                    site,
                )
            bound[params[i]] = value
        if kwargs:
            for key, value in kwargs.items():
                if key not in params:
                    raise fail(f"The following named argument does not exist: {key}", site)
                bound[key] = value
        saved = (self.rchain, self.local)
        defaults = dict.fromkeys(params)
        self.rchain = [bound, defaults]
        self.local = defaults
        return saved

    def macro_leave(self, saved: tuple[list[Any], dict[str, Any] | None]) -> None:
        self.rchain, self.local = saved


_GLOBAL_NAMES = {"locale": "en"}


def k_var(c: RenderContext, name: str, site: Site) -> Any:
    """A variable through the scope chain (``ScopeChain.get`` + strict check)."""
    for scope in c.rchain:
        if name in scope:
            if name == SERVICES_KEY:
                break
            return scope[name]
    return k_novar(c, name, site)


def k_novar(c: RenderContext, name: str, site: Site) -> Any:
    """A name not in the context: Pebble's globals, else a missing root attribute."""
    if c.local is None:
        if name in _GLOBAL_NAMES:
            return _GLOBAL_NAMES[name]
        if name == "_context":
            return GlobalContext(c)
    raise undefined(
        site,
        f"Root attribute [{name}] does not exist or can not be accessed and strict "
        "variables is set to true.",
    )


def k_set(c: RenderContext, name: str, value: Any) -> None:
    """``ScopeChain.set``: the nearest scope holding ``name`` (or the macro's local one)."""
    for scope in c.rchain:
        if name in scope or scope is c.local:
            if scope is c.user:
                scope = c.overlay
            scope[name] = value
            return
    c.rchain[0][name] = value


def k_iter(value: Any, site: Site) -> list[Any] | None:
    """What ``{% for %}`` iterates: None renders nothing, maps yield entries."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, Mapping):
        return [Entry(k, v) for k, v in value.items()]
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise fail(f"Not an iterable object. Value = [{java_to_string(value)}]", site)
    return list(value)


# ---------------------------------------------------------------------------------------------
# attribute access


def k_attr(obj: Any, name: str, site: Site) -> Any:
    """``obj.name`` (no call): map key, list index, Java getter (``size``, ``key``…)."""
    if obj.__class__ is dict:
        try:
            return obj[name]
        except KeyError:
            pass
    return _attr(obj, name, name, None, site)


def k_item(obj: Any, key: Any, site: Site) -> Any:
    """``obj[key]``."""
    if obj.__class__ is dict and key.__class__ is str:
        try:
            return obj[key]
        except KeyError:
            pass
    return _attr(obj, key, java_to_string(key), None, site)


def k_method(obj: Any, name: str, args: tuple[Any, ...], site: Site) -> Any:
    """``obj.name(args)``: one of the emulated Java methods."""
    return _attr(obj, name, name, args, site)


def _null_attr(site: Site) -> UndefinedVariableError:
    """``x.y`` with ``x`` null: Pebble's RootAttributeNotFoundException, naming the whole
    path (``outputs.t.value.x``) and saying which part is null."""
    path = site[0] if isinstance(site, tuple) else "?"
    parent = _parent_path(path)
    err = undefined(
        site, "Attempt to get attribute of null object and strict variables is set to true."
    )
    err.hint = f"`{parent}` is null; use `??` or `is defined` when it may be missing or null"
    return err


def _parent_path(path: str) -> str:
    m = re.match(r"^(.*?)(\.[^.\[]+|\[[^\]]*\])$", path)
    return m.group(1) if m else path


def _attr(obj: Any, key: Any, name: str, args: tuple[Any, ...] | None, site: Site) -> Any:
    if obj is None:
        raise _null_attr(site)
    if args is None:
        if isinstance(obj, Mapping):
            lookup = key
            if is_number(key) and obj:
                first = next(iter(obj))
                if isinstance(first, str):
                    raise fail(
                        f"type class java.lang.String not supported for key {java_to_string(key)}",
                        site,
                    )
            if lookup in obj:
                return obj[lookup]
            raise undefined(site, _not_found(name, obj))
        if isinstance(obj, list | tuple):
            try:
                index = _parse_int(name)
            except ValueError:
                index = None
            if index is not None:
                if 0 <= index < len(obj):
                    return obj[index]
                raise undefined(
                    site, "Index out of bounds while accessing array with strict variables on."
                )
        if isinstance(obj, Loop):
            try:
                return obj.attr(name)
            except KeyError:
                pass
    found, value = _java_member(obj, name, args, site)
    if found:
        return value
    raise undefined(site, _not_found(name, obj))


def _not_found(name: str, obj: Any) -> str:
    return (
        f"Attribute [{name}] of [{java_class_name(obj)}] does not exist or can not be "
        "accessed and strict variables is set to true."
    )


def _parse_int(text: str) -> int:
    """``Integer.parseInt``."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(text)
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(text)
    return value


# Java methods reachable from templates: (receiver kind, name, arity) → implementation.
# Parameters typed `int` accept only an Integer (a context int), as Pebble's reflection does:
# a Long literal does not match, so `'abc'.substring(1)` fails like in Kestra.
_INT = "int"
_OBJ = "obj"
_STR = "str"


def _is_java_int(v: Any) -> bool:
    return type(v) is int and INT_MIN <= v <= INT_MAX


def _arg_ok(kind: str, v: Any) -> bool:
    if v is None:
        return kind != _INT
    if kind == _INT:
        return _is_java_int(v)
    if kind == _STR:
        return isinstance(v, str)
    return True


def _java_split(s: str, regex: str, limit: int = 0) -> list[str]:
    from kflow.java.regex import java_split

    return java_split(s, regex, limit)


def _substring(s: str, begin: int, end: int | None = None) -> str:
    end = len(s) if end is None else end
    if begin < 0 or end > len(s) or begin > end:
        raise fail(f"Could not call substring: begin {begin}, end {end}, length {len(s)}")
    return s[begin:end]


def _char_at(s: str, i: int) -> str:
    if not 0 <= i < len(s):
        raise fail(f"Could not call charAt: Index {i} out of bounds for length {len(s)}")
    return Char(s[i])


def _list_get(xs: list[Any], i: int) -> Any:
    if not 0 <= i < len(xs):
        raise fail(f"Could not call get: Index {i} out of bounds for length {len(xs)}")
    return xs[i]


def _index_of(xs: list[Any], v: Any) -> int:
    for i, x in enumerate(xs):
        if java_equals(x, v):
            return i
    return -1


_STRING_METHODS: dict[tuple[str, int], tuple[tuple[str, ...], Callable[..., Any]]] = {
    ("length", 0): ((), len),
    ("isEmpty", 0): ((), lambda s: s == ""),
    ("isBlank", 0): ((), lambda s: s.strip() == ""),
    ("toUpperCase", 0): ((), lambda s: s.upper()),
    ("toLowerCase", 0): ((), lambda s: s.lower()),
    ("trim", 0): ((), lambda s: s.strip("".join(chr(i) for i in range(33)))),
    ("strip", 0): ((), lambda s: s.strip()),
    ("toString", 0): ((), lambda s: s),
    ("startsWith", 1): ((_STR,), lambda s, p: s.startswith(p)),
    ("endsWith", 1): ((_STR,), lambda s, p: s.endswith(p)),
    ("equals", 1): ((_OBJ,), lambda s, o: isinstance(o, str) and s == o),
    ("equalsIgnoreCase", 1): ((_STR,), lambda s, o: o is not None and s.lower() == o.lower()),
    ("concat", 1): ((_STR,), lambda s, o: s + o),
    ("indexOf", 1): ((_STR,), lambda s, o: s.find(o)),
    ("lastIndexOf", 1): ((_STR,), lambda s, o: s.rfind(o)),
    ("substring", 1): ((_INT,), _substring),
    ("substring", 2): ((_INT, _INT), _substring),
    ("charAt", 1): ((_INT,), _char_at),
    ("replace", 2): ((_STR, _STR), lambda s, a, b: s.replace(a, b)),
    ("split", 1): ((_STR,), _java_split),
    ("split", 2): ((_STR, _INT), _java_split),
    ("matches", 1): ((_STR,), lambda s, r: _java_matches(s, r)),
    ("repeat", 1): ((_INT,), lambda s, n: s * n),
}

_LIST_METHODS: dict[tuple[str, int], tuple[tuple[str, ...], Callable[..., Any]]] = {
    ("size", 0): ((), len),
    ("isEmpty", 0): ((), lambda xs: len(xs) == 0),
    ("get", 1): ((_INT,), _list_get),
    ("indexOf", 1): ((_OBJ,), _index_of),
    ("toString", 0): ((), java_to_string),
}

_MAP_METHODS: dict[tuple[str, int], tuple[tuple[str, ...], Callable[..., Any]]] = {
    ("size", 0): ((), len),
    ("isEmpty", 0): ((), lambda m: len(m) == 0),
    ("get", 1): ((_OBJ,), lambda m, k: m.get(k)),
    ("getOrDefault", 2): ((_OBJ, _OBJ), lambda m, k, d: m.get(k, d)),
    ("containsKey", 1): ((_OBJ,), lambda m, k: k in m),
    ("containsValue", 1): ((_OBJ,), lambda m, v: any(java_equals(x, v) for x in m.values())),
    ("keySet", 0): ((), lambda m: list(m.keys())),
    ("values", 0): ((), lambda m: list(m.values())),
    ("entrySet", 0): ((), lambda m: [Entry(k, v) for k, v in m.items()]),
    ("toString", 0): ((), java_to_string),
}

_ENTRY_METHODS: dict[tuple[str, int], tuple[tuple[str, ...], Callable[..., Any]]] = {
    ("getKey", 0): ((), lambda e: e.key),
    ("getValue", 0): ((), lambda e: e.value),
    ("toString", 0): ((), java_to_string),
}

_NUMBER_METHODS: dict[tuple[str, int], tuple[tuple[str, ...], Callable[..., Any]]] = {
    ("intValue", 0): ((), lambda n: wrap_int(int(n)) if not isinstance(n, float) else _d2i(n)),
    ("longValue", 0): ((), lambda n: Long(int(n)) if not isinstance(n, float) else _d2l(n)),
    ("doubleValue", 0): ((), float),
    ("toString", 0): ((), java_to_string),
}


def _d2i(f: float) -> int:
    if math.isnan(f):
        return 0
    return (
        max(INT_MIN, min(INT_MAX, int(f))) if math.isfinite(f) else (INT_MAX if f > 0 else INT_MIN)
    )


def _d2l(f: float) -> Long:
    if math.isnan(f):
        return Long(0)
    if not math.isfinite(f):
        return Long(2**63 - 1 if f > 0 else -(2**63))
    return Long(max(-(2**63), min(2**63 - 1, int(f))))


def _java_matches(s: str, regex: str) -> bool:
    from kflow.java.regex import java_regex

    return java_regex(regex).fullmatch(s) is not None


def _methods_for(obj: Any) -> dict[tuple[str, int], tuple[tuple[str, ...], Callable[..., Any]]]:
    if isinstance(obj, SafeString | Char):
        return {}
    if isinstance(obj, str):
        return _STRING_METHODS
    if isinstance(obj, Mapping):
        return _MAP_METHODS
    if isinstance(obj, list | tuple):
        return _LIST_METHODS
    if isinstance(obj, Entry):
        return _ENTRY_METHODS
    if is_number(obj):
        return _NUMBER_METHODS
    return {}


def _java_member(obj: Any, name: str, args: tuple[Any, ...] | None, site: Site) -> tuple[bool, Any]:
    """Pebble's reflective lookup: ``getName``, ``isName``, ``hasName``, ``name``."""
    if name in ("getClass", "class", "wait", "notify", "notifyAll"):
        if name == "getClass" or (name == "class" and args is None):
            raise fail(
                "For security reasons access to public final native java.lang.Class "
                "java.lang.Object.getClass() method is denied.",
                site,
            )
    if isinstance(obj, GlobalContext):
        if name == "get" and args is not None and len(args) == 1:
            return True, obj.get(args[0])
        raise fail(f"Could not call {name}: UnsupportedOperationException", site)
    methods = _methods_for(obj)
    call_args = args or ()
    candidates: tuple[str, ...] = (name,)
    if name:
        cap = name[0].upper() + name[1:]
        candidates = (f"get{cap}", f"is{cap}", f"has{cap}", name)
    for candidate in candidates:
        for (mname, arity), (types, impl) in methods.items():
            if arity != len(call_args) or mname.lower() != candidate.lower():
                continue
            if all(_arg_ok(t, a) for t, a in zip(types, call_args, strict=True)):
                if any(a is None for a in call_args) and mname not in ("equals", "get"):
                    raise fail(f"Could not call {mname}: NullPointerException", site)
                try:
                    return True, impl(obj, *call_args)
                except re.error as e:  # a bad regex: Java's PatternSyntaxException
                    raise fail(
                        f"Could not call {mname}: invalid regular expression `{call_args[0]}`: {e}",
                        site,
                    ) from None
    return False, None


# ---------------------------------------------------------------------------------------------
# numbers (OperatorUtils)

_KIND_INT, _KIND_LONG, _KIND_FLOAT, _KIND_DOUBLE, _KIND_DECIMAL = range(5)
_OP_NAMES = {
    "+": ("addition", "ADD"),
    "-": ("subtraction", "SUBTRACT"),
    "*": ("multiplication", "MULTIPLICATION"),
    "/": ("division", "DIVISION"),
    "%": ("greater modulus", "MODULUS"),  # sic: Pebble 3.2.2's message
}


def _kind(v: Any) -> int:
    cls = v.__class__
    if cls is int:
        return _KIND_INT if INT_MIN <= v <= INT_MAX else _KIND_LONG
    if cls is Long or cls is BigInteger:
        return _KIND_LONG
    if cls is float:
        return _KIND_DOUBLE
    if cls is Float:
        return _KIND_FLOAT
    if cls is Decimal:
        return _KIND_DECIMAL
    if isinstance(v, bool):
        return -1
    if isinstance(v, int):
        return _KIND_LONG
    if isinstance(v, float):
        return _KIND_DOUBLE
    return -1


def _ddiv(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _dmod(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)
    except (ValueError, ZeroDivisionError):
        return math.nan


def _double_op(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return _ddiv(a, b)
    return _dmod(a, b)


def _int_op(op: str, a: int, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise ZeroDivisionError("/ by zero")
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    if op == "/":
        return q
    return a - b * q


def _to_decimal(v: Any) -> Decimal:
    # BigDecimal.valueOf(num.doubleValue()) goes through Double.toString
    return Decimal(java_float(float(v)))


def arithmetic(op: str, a: Any, b: Any, site: Site = None) -> Any:
    """``OperatorUtils`` for ``+ - * / %`` on two numbers (Java widening and overflow)."""
    ka, kb = _kind(a), _kind(b)
    if ka < 0 or kb < 0:
        words, enum = _OP_NAMES[op]
        raise fail(
            f"Could not perform {words}: invalid operands for mathematical operation [{enum}]",
            site,
        )
    kind = ka if ka > kb else kb
    try:
        if kind == _KIND_DOUBLE:
            return _double_op(op, float(a), float(b))
        if kind == _KIND_LONG:
            return wrap_long(_int_op(op, wrap_long(int(a)), wrap_long(int(b))))
        if kind == _KIND_INT:
            return Long(wrap_int(_int_op(op, int(a), int(b))))
        if kind == _KIND_FLOAT:
            return Float(_double_op(op, float(Float(a)), float(Float(b))))
        da, db = _to_decimal(a), _to_decimal(b)
        if op == "+":
            return da + db
        if op == "-":
            return da - db
        if op == "*":
            return _DECIMAL128.multiply(da, db)
        if op == "/":
            return _DECIMAL128.divide(da, db)
        return _DECIMAL128.remainder(da, db)
    except (ZeroDivisionError, InvalidOperation, ArithmeticError) as e:
        words, _ = _OP_NAMES[op]
        reason = "/ by zero" if isinstance(e, ZeroDivisionError) else "Division undefined"
        raise fail(f"Could not perform {words}: {reason}", site) from None


def _concatenates(v: Any) -> bool:
    # OperatorUtils.add: a String or a SafeString (not a Character) makes `+` concatenate
    return isinstance(v, str) and not isinstance(v, Char)


def k_add(a: Any, b: Any, site: Site) -> Any:
    """``+``: String concatenation with ``String.valueOf``, list append, or arithmetic."""
    if a.__class__ is str or b.__class__ is str or _concatenates(a) or _concatenates(b):
        return java_to_string(a) + java_to_string(b)
    if isinstance(a, list | tuple):
        target = a if isinstance(a, TemplateList) else TemplateList(a)
        if isinstance(b, list | tuple | set | frozenset):
            target.extend(b)
        else:
            target.append(b)
        return target
    return arithmetic("+", a, b, site)


def k_sub(a: Any, b: Any, site: Site) -> Any:
    """``-``: list removal (first equal item, or every item of a list) or arithmetic."""
    if isinstance(a, list | tuple):
        target = a if isinstance(a, TemplateList) else TemplateList(a)
        if isinstance(b, list | tuple | set | frozenset):
            target[:] = [x for x in target if not any(java_equals(x, y) for y in b)]
        else:
            for i, x in enumerate(target):
                if java_equals(x, b):
                    del target[i]
                    break
        return target
    return arithmetic("-", a, b, site)


def k_mul(a: Any, b: Any, site: Site) -> Any:
    return arithmetic("*", a, b, site)


def k_div(a: Any, b: Any, site: Site) -> Any:
    return arithmetic("/", a, b, site)


def k_mod(a: Any, b: Any, site: Site) -> Any:
    return arithmetic("%", a, b, site)


def k_neg(a: Any, site: Site) -> Any:
    """Unary minus: ``multiply(-1, a)`` (an Integer -1, so an Integer operand wraps at 32 bits)."""
    if _kind(a) < 0:
        raise fail("invalid operands for mathematical operation [MULTIPLICATION]", site)
    return arithmetic("*", -1, a, site)


def k_pos(a: Any, site: Site) -> Any:
    """Unary plus: ``multiply(1, a)``."""
    if _kind(a) < 0:
        raise fail("invalid operands for mathematical operation [MULTIPLICATION]", site)
    return arithmetic("*", 1, a, site)


def java_equals(a: Any, b: Any) -> bool:
    """Java ``Objects.equals``: an Integer never equals a Long, 1 never equals 1.0."""
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        if isinstance(a, SafeString) != isinstance(b, SafeString):
            return False
        if isinstance(a, Char) != isinstance(b, Char):
            return False
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) or is_number(b):
        if not (is_number(a) and is_number(b)):
            return False
        if java_class_name(a) != java_class_name(b):
            return False
        if isinstance(a, float) and math.isnan(a):
            return math.isnan(b)
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if len(a) != len(b):
            return False
        for key, value in a.items():
            if key not in b or not java_equals(value, b[key]):
                return False
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(java_equals(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Entry) and isinstance(b, Entry):
        return java_equals(a.key, b.key) and java_equals(a.value, b.value)
    return bool(a == b)


def k_eq(a: Any, b: Any, site: Site = None) -> bool:
    """``==``/``equals``: two numbers compare as doubles, anything else with Java equals."""
    if is_number(a) and is_number(b):
        return float(a) == float(b)
    return java_equals(a, b)


def k_ne(a: Any, b: Any, site: Site = None) -> bool:
    return not k_eq(a, b)


_CMP_WORDS = {
    "<": ("less than", "LESS_THAN"),
    ">": ("greater than", "GREATER_THAN"),
    "<=": ("less than or equals", "LESS_THAN_EQUALS"),
    ">=": ("greater than or equals", "GREATER_THAN_EQUALS"),
}


def compare(op: str, a: Any, b: Any, site: Site = None) -> bool:
    """``< > <= >=``: two Strings lexicographically (newer Kestra), numbers as doubles,
    null on either side false, anything else an error."""
    if is_java_string(a) and is_java_string(b):
        c = _utf16_compare(a, b)
    elif a is None or b is None:
        return False
    elif is_number(a) and is_number(b):
        x, y = float(a), float(b)
        if op == "<":
            return x < y
        if op == ">":
            return x > y
        if op == "<=":
            return x <= y
        return x >= y
    else:
        words, enum = _CMP_WORDS[op]
        raise fail(
            f"Could not perform {words} comparison: invalid operands for mathematical "
            f"comparison [{enum}]",
            site,
        )
    if op == "<":
        return c < 0
    if op == ">":
        return c > 0
    if op == "<=":
        return c <= 0
    return c >= 0


def _utf16_compare(a: str, b: str) -> int:
    """``String.compareTo`` (UTF-16 code units, not code points)."""
    if a.isascii() and b.isascii():
        return (a > b) - (a < b)
    ea, eb = a.encode("utf-16-be"), b.encode("utf-16-be")
    return (ea > eb) - (ea < eb)


def k_lt(a: Any, b: Any, site: Site) -> bool:
    return compare("<", a, b, site)


def k_gt(a: Any, b: Any, site: Site) -> bool:
    return compare(">", a, b, site)


def k_le(a: Any, b: Any, site: Site) -> bool:
    return compare("<=", a, b, site)


def k_ge(a: Any, b: Any, site: Site) -> bool:
    return compare(">=", a, b, site)


def k_concat(a: Any, b: Any, site: Site = None) -> str:
    """``~``: Java ``toString`` of each side, nulls skipped."""
    if a.__class__ is str and b.__class__ is str:
        return a + b
    left = "" if a is None else java_to_string(a)
    right = "" if b is None else java_to_string(b)
    return left + right


def k_contains(a: Any, right: Callable[[], Any], site: Site) -> bool:
    """``contains``: collections (``containsAll`` for a collection), map keys, substrings.
    The right operand is a thunk: Pebble does not evaluate it when the left one is null."""
    if a is None:
        return False
    b = right()
    if isinstance(a, list | tuple | set | frozenset):
        if isinstance(b, list | tuple | set | frozenset):
            return all(any(java_equals(x, y) for x in a) for y in b)
        return any(java_equals(x, b) for x in a)
    if isinstance(a, Mapping):
        return any(java_equals(k, b) for k in a)
    if is_java_string(a):
        return java_to_string(b) in a
    raise fail(
        "Contains operator can only be used on Collections, Maps and arrays. "
        f"Actual type was: {java_class_name(a)}",
        site,
    )


def k_is_in(a: Any, b: Any, site: Site = None) -> bool:
    """``isIn`` (Kestra's newer ``InExpression``): compares ``toString()`` of the left
    value with each element of a list, or each key and value of a map; null on either
    side, or any other right operand, gives false."""
    if a is None or b is None:
        return False
    text = java_to_string(a)
    if isinstance(b, Mapping):
        return any(
            java_to_string(k) == text or (v is not None and java_to_string(v) == text)
            for k, v in b.items()
        )
    if isinstance(b, list | tuple | set | frozenset):
        return any(x is not None and java_to_string(x) == text for x in b)
    return False


def k_not_in(a: Any, b: Any, site: Site = None) -> bool:
    """``notIn``: the negation of ``isIn`` (Kestra's ``NotInExpression``)."""
    return not k_is_in(a, b, site)


def k_range(start: Any, end: Any, increment: Any = None, site: Site = None) -> TemplateList:
    """Pebble's ``range`` function (``a..b``): inclusive, Longs or characters."""
    if increment is None:
        step = 1
    elif not is_number(increment):
        raise fail(
            f"The increment of the range function must be a number {java_to_string(increment)}",
            site,
        )
    else:
        step = _long_value(increment)
    if step == 0:
        raise fail("The increment of the range function must be different than 0", site)
    out = TemplateList()
    if is_number(start) and is_number(end):
        i, stop = _long_value(start), _long_value(end)
        if step > 0:
            while i <= stop:
                out.append(Long(i))
                i += step
        else:
            while i >= stop:
                out.append(Long(i))
                i += step
        return out
    if isinstance(start, str) and isinstance(end, str):
        if len(start) != 1 or len(end) != 1:
            raise fail(
                "Arguments of range function must be of type Number or String with a length of 1",
                site,
            )
        i, stop = ord(start), ord(end)
        if step > 0:
            while i <= stop:
                out.append(Char(chr(i)))
                i += step
        else:
            while i >= stop:
                out.append(Char(chr(i)))
                i += step
        return out
    raise fail(
        "Arguments of range function must be of type Number or String with a length of 1",
        site,
    )


def _long_value(v: Any) -> int:
    if isinstance(v, float):
        return int(_d2l(v))
    return int(wrap_long(int(v)))


def k_range_op(a: Any, b: Any, site: Site) -> Any:
    return k_range(a, b, None, site)


# ---------------------------------------------------------------------------------------------
# logic


def k_bool(value: Any, where: str, site: Site) -> bool:
    """Pebble's Boolean conversion (see :func:`kflow.expr.values.truthy`)."""
    if value is True or value is False:
        return value
    try:
        return truthy(value, where)
    except ExpressionError as e:
        if e.position is None:
            e.position = _pos(site)
        raise


def k_if(thunk: Callable[[], Any], site: Site) -> bool:
    """An ``if``/``elseif`` condition: errors other than a missing variable are wrapped
    as Pebble does ("Wrong operand(s) type in conditional expression")."""
    try:
        return truthy(thunk(), "if")
    except UndefinedVariableError:
        raise
    except ExpressionError as e:
        raise fail(f"Wrong operand(s) type in conditional expression: {e.message}", site) from None


def k_coalesce(left: Callable[[], Any], right: Callable[[], Any]) -> Any:
    """``a ?? b``: ``b`` when ``a`` is missing or null."""
    try:
        value = left()
    except UndefinedVariableError:
        return right()
    return right() if value is None else value


def k_undefined_coalesce(left: Callable[[], Any], right: Callable[[], Any]) -> Any:
    """``a ??? b``: ``b`` only when ``a`` is missing."""
    try:
        return left()
    except UndefinedVariableError:
        return right()


def k_guard(
    op: Callable[[Any, Any, Site], Any],
    words: str,
    site: Site,
    left: Callable[[], Any],
    right: Callable[[], Any],
) -> Any:
    """An operator Pebble wraps in ``catch (Exception)``: inside an escape hatch, a missing
    operand becomes "Could not perform …", which ``??``/``default`` do not swallow."""
    try:
        a = left()
        b = right()
    except UndefinedVariableError as e:
        raise fail(f"Could not perform {words}: {e.message}", site) from None
    return op(a, b, site)


def k_defined(thunk: Callable[[], Any]) -> bool:
    """``x is defined``: present and not null."""
    try:
        return thunk() is not None
    except UndefinedVariableError:
        return False


def is_empty(value: Any) -> bool:
    """Pebble's ``empty`` test: null, blank string, empty collection or map."""
    if value is None:
        return True
    if is_java_string(value):
        return bool(value.strip(_JAVA_TRIM) == "")
    if isinstance(value, list | tuple | set | frozenset | Mapping):
        return len(value) == 0
    return False


_JAVA_TRIM = "".join(chr(i) for i in range(33))


def k_default(thunk: Callable[[], Any], args: tuple[Any, ...], kwargs: Any, site: Site) -> Any:
    """``x | default(d)``: ``d`` when ``x`` is missing, null, blank or empty."""
    if len(args) > 1:
        raise fail(
            "The argument at position 2 is not allowed. Only 1 argument(s) are allowed.", site
        )
    if kwargs and set(kwargs) - {"default"}:
        bad = next(iter(set(kwargs) - {"default"}))
        raise fail(f"The following named argument does not exist: {bad}", site)
    fallback = args[0] if args else (kwargs or {}).get("default")
    try:
        value = thunk()
    except UndefinedVariableError:
        value = None
    if value.__class__ is SafeString:
        value = str(value)
    return fallback if is_empty(value) else value


# ---------------------------------------------------------------------------------------------
# filters, tests, functions, macros

_USER_ERRORS = (TypeError, ValueError, LookupError, ArithmeticError)


def _invoke(
    kind: str,
    name: str,
    func: Callable[..., Any],
    c: RenderContext,
    site: Site,
    first: tuple[Any, ...],
    args: tuple[Any, ...],
    kwargs: Any,
) -> Any:
    if getattr(func, "needs_render_context", False):
        lead: tuple[Any, ...] = (c,)
    elif getattr(func, "needs_context", False):
        lead = (ContextView(c),)
    else:
        lead = ()
    try:
        return func(*lead, *first, *args, **(kwargs or {}))
    except ExpressionError as e:
        if e.position is None:
            e.position = _pos(site)
        raise
    except _USER_ERRORS as e:
        raise fail(f"{kind} [{name}] failed: {e}", site) from e


def k_filter(
    c: RenderContext, name: str, site: Site, value: Any, args: tuple[Any, ...], kwargs: Any
) -> Any:
    """``value | name(args)``."""
    func = c.env.k_filters.get(name)
    if func is None:
        raise _unknown("filter", f"Filter [{name}] does not exist.", name, c, site)
    if value.__class__ is SafeString:
        value = str(value)
    return _invoke("Filter", name, func, c, site, (value,), args, kwargs)


def k_test(
    c: RenderContext, name: str, site: Site, value: Any, args: tuple[Any, ...], kwargs: Any
) -> bool:
    """``value is name(args)``."""
    func = c.env.k_tests.get(name)
    if func is None:
        raise _unknown("test", f"Test [{name}] does not exist.", name, c, site)
    if (value.__class__ is SafeString or value.__class__ is Char) and name in CORE_TESTS:
        # a macro result is not a java.lang.String: the core tests know, other tests see text
        func = CORE_TESTS[name]
    return bool(_invoke("Test", name, func, c, site, (value,), args, kwargs))


def k_call(c: RenderContext, name: str, site: Site, args: tuple[Any, ...], kwargs: Any) -> Any:
    """``name(args)``: a registered function first, then a macro of the template."""
    func = c.env.k_functions.get(name)
    if func is not None:
        return _invoke("Function", name, func, c, site, (), args, kwargs)
    macro = c.macros.get(name)
    if macro is not None:
        return SafeString(macro(args, kwargs, site))
    raise _unknown("function", f"Function or Macro [{name}] does not exist.", name, c, site)


def k_block_call(c: RenderContext, args: tuple[Any, ...], site: Site) -> str:
    """``block("name")``: render a block again (with a plain writer)."""
    if not args:
        raise fail("The block function expects a block name.", site)
    name = args[0]
    block = c.blocks.get(name) if isinstance(name, str) else None
    # an unknown block renders nothing (Pebble's PebbleTemplateImpl.block)
    return "" if block is None else block(True)


MAX_RENDER_DEPTH = 10


def fn_render(
    c: RenderContext,
    toRender: Any = None,
    recursive: Any = True,
    template: Any = None,
) -> Any:
    """Kestra's ``render(toRender, recursive=true)`` (baseline name: ``template``): render a
    string, or each string of a map/list, with the variables visible here."""
    if toRender is None:
        toRender = template
    if recursive is None:
        recursive = True
    if not isinstance(recursive, bool):
        raise fail(
            "The 'render' function expects an optional argument 'recursive' with type boolean."
        )
    if c.depth >= MAX_RENDER_DEPTH:
        raise fail(
            f"Maximum render() nesting depth ({MAX_RENDER_DEPTH}) exceeded — check for "
            "circular render() calls in your template."
        )
    if toRender is None:
        return None
    from kflow.expr.env import render_nested

    variables = ContextView(c).flatten()
    try:
        return render_nested(toRender, variables, recursive, c.depth + 1)
    except ExpressionError as e:
        # a nested failure is a PebbleException for the outer template, never swallowed;
        # its message already names the inner template, so it is not decorated again
        err = fail(e.message)
        err._kflow_decorated = True  # type: ignore[attr-defined]
        raise err from e


fn_render.needs_render_context = True  # type: ignore[attr-defined]


def fn_render_once(c: RenderContext, toRender: Any = None, template: Any = None) -> Any:
    """Kestra's ``renderOnce(toRender)`` = ``render(toRender, false)``."""
    return fn_render(c, toRender, False, template)


fn_render_once.needs_render_context = True  # type: ignore[attr-defined]


def fn_range(start: Any = None, end: Any = None, increment: Any = None) -> TemplateList:
    """Pebble's ``range(start, end, increment=1)`` (registered if functions.py has none)."""
    return k_range(start, end, increment)


def filter_default(value: Any, default: Any = None) -> Any:
    """The ``default`` filter outside an expression (``{% filter default('x') %}``)."""
    return default if is_empty(value) else value


def _test_null(value: Any) -> bool:
    return value is None


def _test_defined(value: Any) -> bool:
    return value is not None


def _test_even(value: Any) -> bool:
    return _parity(value, "even") % 2 == 0


def _test_odd(value: Any) -> bool:
    return _parity(value, "odd") % 2 != 0


def _parity(value: Any, name: str) -> int:
    if value is None:
        raise fail(f'Can not pass null value to "{name}" test.')
    if _kind(value) not in (_KIND_INT, _KIND_LONG):
        raise fail(f"{java_class_name(value)} cannot be cast to java.lang.Integer")
    return int(value)


def _test_iterable(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


def _test_map(value: Any) -> bool:
    return isinstance(value, Mapping)


CORE_TESTS: dict[str, Callable[..., bool]] = {
    "null": _test_null,
    "defined": _test_defined,
    "empty": is_empty,
    "even": _test_even,
    "odd": _test_odd,
    "iterable": _test_iterable,
    "map": _test_map,
}


# ---------------------------------------------------------------------------------------------
# literals


def k_map(pairs: tuple[tuple[Any, Any], ...]) -> HashMap:
    """A map literal: a ``java.util.HashMap``."""
    return hash_map(pairs)


# ---------------------------------------------------------------------------------------------
# printing


def k_plain(value: Any) -> str:
    """How a value prints inside a macro or ``{% filter %}`` body (a plain writer)."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return java_to_string(value)
    return to_string(value)


k_str = to_string


__all__ = [
    "ContextView",
    "GlobalContext",
    "Loop",
    "RenderContext",
    "arithmetic",
    "compare",
    "is_empty",
    "java_equals",
]
