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
"""

from kflow.expr.env import check_syntax, evaluate, render, render_typed, render_value

__all__ = ["check_syntax", "evaluate", "render", "render_typed", "render_value"]
