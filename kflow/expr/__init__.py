"""Kestra expressions (Pebble templates) for kflow, compiled with Jinja2.

The executor and CLI use five functions::

    render(template, context) -> str            # a property, like Kestra's VariableRenderer
    render_value(value, context) -> Any         # str / dict / list, recursively
    render_typed(template, context) -> Any      # native value of a lone "{{ expr }}"
    evaluate(expression, context) -> Any        # value of a bare expression (conditions)
    check_syntax(template) -> None              # ExpressionSyntaxError without rendering

The context is plain data (dicts, lists, str, int, float, bool, None); the ``_kflow`` key
may hold the services object of :mod:`kflow.expr.services`, which templates cannot name.
Errors are :class:`kflow.errors.ExpressionError` (``ExpressionSyntaxError``,
``UndefinedVariableError``) carrying ``template`` and ``position``.

Jinja2 and the compiler are imported on the first string that holds a ``{`` and is more
than text and ``{{ a.b.c }}`` paths (those are rendered by :mod:`kflow.expr.paths`): a flow
whose properties are plain text or such paths never pays for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["check_syntax", "evaluate", "render", "render_typed", "render_value"]


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render a template to a string (a string without ``{`` is returned untouched)."""
    if isinstance(template, str):
        if "{" not in template:
            return template
        from kflow.expr import paths

        out = paths.render(template, context)
        if out is not paths.NOT_HERE:
            return out  # type: ignore[no-any-return]
    from kflow.expr.env import render as _render

    return _render(template, context)


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Kestra's ``render(Map)``: strings rendered, maps and lists item by item."""
    if isinstance(value, str):
        return render(value, context)
    if not _has_template(value):
        return _copy(value)
    from kflow.expr.env import render_value as _render_value

    return _render_value(value, context)


def render_typed(template: str, context: Mapping[str, Any]) -> Any:
    """The native value of a lone ``{{ expr }}``; else the rendered string."""
    if isinstance(template, str):
        if "{" not in template:
            return template
        from kflow.expr import paths

        out = paths.render_typed(template, context)
        if out is not paths.NOT_HERE:
            return out
    from kflow.expr.env import render_typed as _render_typed

    return _render_typed(template, context)


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of a bare expression (no braces)."""
    from kflow.expr.env import evaluate as _evaluate

    return _evaluate(expression, context)


def check_syntax(template: str) -> None:
    """Parse only; raises ExpressionSyntaxError with the offset of the bad part."""
    if isinstance(template, str):
        if "{" not in template:
            return
        from kflow.expr import paths

        if paths.split(template) is not None:
            return  # text and plain paths: valid by construction
    from kflow.expr.env import check_syntax as _check

    _check(template)
