"""The YAML readers themselves (PyYAML): loaders, limits, and the flow parser.

Split from :mod:`kflow.flow.loader` so that importing PyYAML (about 10 ms, most of it a
regular expression compiled when ``yaml.reader`` loads) happens only when a text is really
parsed: a flow read again unchanged comes from the parse cache.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from kflow.errors import FlowSyntaxError
from kflow.flow.loader import MAX_ALIASES, TOO_DEEP, LineDict, LineList, too_long_number

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """The fast (C) safe loader, for documents without anchors."""


class BoundedSafeLoader(yaml.SafeLoader):
    """The safe loader every YAML reader of kflow derives from (flows, ``--inputs``,
    ``--context``, YAML inputs, the ``yaml()`` function): it counts aliases and refuses
    "billion laughs" documents past ``MAX_ALIASES``, as SnakeYAML does, so that a few bytes
    cannot expand into gigabytes. The C composer cannot be hooked, hence pure Python; a
    document without ``&`` cannot have an alias and may use the C loader."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases = getattr(self, "_aliases", 0) + 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_ALIASES} aliases (*name) in one file",
                    event.start_mark,
                )
        return super().compose_node(parent, index)


class _AnchorLoader(BoundedSafeLoader):
    """Flows with anchors: the bounded pure-Python loader with the flow constructors."""


class YamlDataLoader(BoundedSafeLoader):
    """YAML data as Kestra's Jackson reads it (``--inputs``/``--context`` files, YAML
    inputs): only true/false are booleans, dates stay strings; plain dicts and lists."""


def load_bounded(text: str, loader: type[BoundedSafeLoader]) -> Any:
    """The first document of ``text`` read with ``loader`` (a :class:`BoundedSafeLoader`).

    Raises ``yaml.YAMLError`` (a ``MarkedYAMLError`` with the position when known); a
    document nested deeper than Python's recursion allows is one such error too."""
    if not issubclass(loader, BoundedSafeLoader):  # pragma: no cover - a programming error
        raise TypeError(f"{loader.__name__} is not a BoundedSafeLoader")
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - safe loader subclasses
    except RecursionError:
        raise yaml.YAMLError(TOO_DEEP) from None
    except ValueError as exc:  # int(): Python refuses integers of more than 4,300 digits
        raise yaml.YAMLError(too_long_number(exc)) from None


# Only true/false are booleans (Jackson), and dates stay strings.
_RESOLVERS = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _cls in (_Loader, _AnchorLoader, YamlDataLoader):
    _cls.yaml_implicit_resolvers = {k: list(v) for k, v in _RESOLVERS.items()}
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.column = node.start_mark.column + 1
    result.key_marks = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from exc
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    return result


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.column = node.start_mark.column + 1
    result.item_marks = [(c.start_mark.line + 1, c.start_mark.column + 1) for c in node.value]
    return result


for _cls in (_Loader, _AnchorLoader):
    _cls.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    _cls.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def parse_yaml(text: str, path: str | None = None) -> Any:
    """Parse YAML text; a syntax error becomes a :class:`FlowSyntaxError` with file:line:col.
    (:func:`kflow.flow.loader.parse_yaml` first looks in the parse cache.)"""
    try:
        if "&" in text:
            return load_bounded(text, _AnchorLoader)
        try:
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - no '&': no alias to expand
        except RecursionError:
            raise yaml.YAMLError(TOO_DEEP) from None
        except ValueError as exc:
            raise yaml.YAMLError(too_long_number(exc)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "<stream end>" in str(exc.problem):
            mark = exc.context_mark  # where the unclosed thing started
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        hint = (
            "check the indentation and quoting on that line "
            "(a value starting with '{{' or '*' must be quoted)"
        )
        line_text = ""
        if mark is not None:
            lines = text.splitlines()
            line_text = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in line_text[: (mark.column + 1) if mark else 0] or "found character '\\t'" in problem:
            problem = "a tab character in the indentation (YAML indents with spaces only)"
            hint = "replace the tab(s) at the start of that line with spaces"
        elif problem.startswith("duplicate key"):
            hint = "a key may appear once per mapping: remove or rename one of the two"
        elif problem.startswith("more than"):
            hint = "expand the repeated values instead of nesting aliases"
        raise FlowSyntaxError(
            f"YAML syntax error: {problem}",
            path=path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint=hint,
        ) from None
    except yaml.YAMLError as exc:
        raise FlowSyntaxError(f"YAML error: {exc}", path=path) from None
