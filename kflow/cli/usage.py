"""Typer command classes whose help and usage errors speak the user's language.

Two things Typer does not do on its own:

* An unknown option (``kflow logs --lvl``) only gets click's difflib guesses among the
  *long* options, so it usually says nothing useful (``--level`` on a command without it
  is "close" to ``--help``, hence "Possible options: --help"). :class:`KflowCommand` says
  "Did you mean ...?" when a guess exists and always lists the command's real options.
* Help shows Python type names (``<list[str]>``, ``<bool>``) for options without a
  ``metavar`` and ``{flow}`` for arguments. Commands give their own metavars; here flags
  (and ``--help``) show no value at all, and the usage line shows arguments the classic
  way: ``FLOW``, ``[FLOWS]...``.
"""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any

from typer._click import Context
from typer._click.exceptions import NoSuchOption
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def option_names(params: list[Any]) -> list[str]:
    """Each visible option of a command as users write it: ``-i/--input``, ``--json``."""
    names = []
    for param in params:
        if isinstance(param, TyperOption) and not param.hidden:
            names.append("/".join(sorted([*param.opts, *param.secondary_opts], key=len)))
    return names


def _unknown_option(exc: NoSuchOption, ctx: Context, params: list[Any]) -> NoSuchOption:
    """The same error, naming the closest real options and then all of them."""
    real = option_names(params)
    flat = [name for group in real for name in group.split("/")]
    typed = exc.option_name
    close = get_close_matches(typed, flat) or get_close_matches(typed.lower(), flat)
    message = exc.message.rstrip(".")
    if close:
        message += f". Did you mean {' or '.join(close)}?"
    message += f"\nOptions of '{ctx.command_path}': {', '.join(real) or 'none'}"
    return NoSuchOption(typed, message=message, ctx=ctx)


class _Readable:
    """Mixin for Typer's command and group classes (see the module docstring)."""

    def get_params(self, ctx: Context) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.metavar is None:
                # an empty metavar is printed as is: a flag shows no <bool>
                param.metavar = "" if param.is_flag else _plain_type(param, ctx)
            elif isinstance(param, TyperArgument) and type(param) is TyperArgument:
                # the name column already shows the metavar (FLOW): no <path> beside it
                param.__class__ = _Argument
        return params

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces: list[str] = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        args = [p for p in self.get_params(ctx) if isinstance(p, TyperArgument)]
        classic = [_usage_piece(p) for p in args]
        typer_style = [p._usage_display_name() for p in args]
        return [classic[typer_style.index(p)] if p in typer_style else p for p in pieces]

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            rest: list[str] = super().parse_args(ctx, args)  # type: ignore[misc]
        except NoSuchOption as exc:
            raise _unknown_option(exc, ctx, self.get_params(ctx)) from None
        return rest


_PLAIN = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "bool": ""}


def _plain_type(param: TyperOption, ctx: Context) -> str:
    """``<list[str]>`` → ``TEXT``, ``<int>`` → ``INTEGER``, ``<a|b>`` → ``a|b``: for an
    option whose command gave no metavar of its own."""
    label = param.display_type(ctx).strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    return _PLAIN.get(label.lower(), label if "|" in label else label.upper())


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Context) -> str | None:
        return None


def _usage_piece(arg: TyperArgument) -> str:
    name = arg.metavar or (arg.name or "").upper()
    if not arg.required:
        name = f"[{name}]"
    # "URI|PATH|EXEC TASK FILE" already spells out its parts: no "..." after it
    return name + ("..." if arg.nargs != 1 and " " not in name else "")


class KflowCommand(_Readable, TyperCommand):
    """Every ``kflow`` subcommand."""


class KflowGroup(_Readable, TyperGroup):
    """The ``kflow`` group itself (``kflow --versoin``)."""


__all__ = ["KflowCommand", "KflowGroup", "option_names"]
