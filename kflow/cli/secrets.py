"""``kflow secrets``: which secrets a flow reads, and whether this machine has them.

``secret('NAME')`` reads ``SECRET_NAME`` (base64, as Kestra OSS) or a ``kflow run
--secrets FILE`` file. ``kflow secrets check`` finds every ``secret()`` with a literal name
in a flow, then says which are present, never printing a value. Like a linter in CI: exit
0 when all are present, 1 when some are missing (a finding), 2 for bad input (a flow or
secrets file that cannot be read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from kflow.cli.usage import KflowCommand, KflowGroup

app = typer.Typer(
    name="secrets",
    help="Check the secrets a flow reads with secret().",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=KflowGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("check", cls=KflowCommand)
def check(
    flow: Annotated[
        Path, typer.Argument(metavar="FLOW", help="The flow file (YAML).", show_default=False)
    ],
    secrets_file: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads the annotation at runtime
        typer.Option(
            "--secrets",
            metavar="FILE",
            help="Secrets as kflow run --secrets takes them: .env (NAME=BASE64) or .yml (plain values).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the secrets a flow reads (secret('NAME') with a literal name) and which are missing; values are never shown.

    Exit code: 0 all present, 1 some missing, 2 invalid flow or secrets file.

    Example: kflow secrets check flow.yml --secrets .env
    """
    from kflow.cli import _guard

    _guard(check_command, flow, secrets_file, as_json)


def flow_secret_names(source: str) -> list[str]:
    """Every literal ``secret('NAME')`` of a flow's templates, in the order written."""
    from kflow.errors import ExpressionError
    from kflow.expr.env import secret_names
    from kflow.flow.yamlio import BoundedSafeLoader, load_bounded

    found: list[str] = []
    stack: list[Any] = [load_bounded(source, BoundedSafeLoader)]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, str) and "secret" in node:
            try:
                found.extend(secret_names(node))
            except (ExpressionError, RecursionError):
                continue  # a template that does not parse: kflow validate reports it
    return list(dict.fromkeys(found))


def _status(name: str, from_file: dict[str, str] | None) -> tuple[bool, str]:
    """(present, where it comes from or why it is missing): a file's value wins over the
    environment, as in kflow run."""
    import base64
    import os

    if from_file is not None and name in from_file:
        return True, "secrets file"
    raw = os.environ.get(f"SECRET_{name}")
    if raw is None:
        return False, f"no SECRET_{name}" + ("" if from_file is None else " and not in the file")
    try:
        base64.b64decode(raw).decode("utf-8")
    except ValueError:
        return False, f"SECRET_{name} is not base64"
    return True, f"SECRET_{name}"


def check_command(flow_path: Path, secrets_file: Path | None, as_json: bool) -> None:
    from kflow.api import load_flow
    from kflow.secrets import read_secrets_file

    flow = load_flow(flow_path)
    from_file = read_secrets_file(secrets_file) if secrets_file is not None else None
    rows: list[dict[str, Any]] = []
    for name in flow_secret_names(flow.source):
        present, where = _status(name, from_file)
        rows.append({"name": name, "present": present, "source": where})
    missing = [str(r["name"]) for r in rows if not r["present"]]
    if as_json:
        from kflow.cli.jsonout import dumps
        from kflow.cli.pipes import write_stdout

        write_stdout(dumps({"flow": str(flow_path), "secrets": rows, "missing": missing}) + "\n")
    else:
        _print(flow_path, rows, missing)
    if missing:
        raise typer.Exit(1)


def _print(flow_path: Path, rows: list[dict[str, Any]], missing: list[str]) -> None:
    from rich.table import Table
    from rich.text import Text

    from kflow.cli.render import console

    out = console()
    if not rows:
        out.print(f"{flow_path} reads no secret", markup=False)
        return
    table = Table()
    for col in ("secret", "status", "from"):
        table.add_column(col)
    for r in rows:
        status = Text("present", style="green") if r["present"] else Text("missing", style="red")
        table.add_row(Text(str(r["name"])), status, Text(str(r["source"])))
    out.print(table)
    if missing:
        out.print(
            f"{len(missing)} of {len(rows)} secrets missing: {', '.join(missing)}. Set "
            "SECRET_<NAME> to the base64 of the value, or give them with --secrets FILE",
            markup=False,
        )
    else:
        out.print(f"all {len(rows)} secrets present", markup=False)


def use_secrets_file(path: Path) -> None:
    """``kflow run --secrets FILE``: the file's secrets for this run (never printed)."""
    from kflow.secrets import read_secrets_file, use_secrets

    use_secrets(read_secrets_file(path))
