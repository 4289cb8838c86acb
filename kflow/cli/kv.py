"""``kflow kv``: read and write the namespace KV store (Kestra's ``kv()`` and KV tasks).

The entries live in the execution store of the kflow home (or of ``--db``), so what a
run's ``io.kestra.plugin.core.kv.Set`` wrote is what ``kflow kv get`` shows, and the
reverse. The engine is :mod:`kflow.kv`; only Typer is imported here until a command runs.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

from kflow.cli.usage import KflowCommand, KflowGroup

app = typer.Typer(
    name="kv",
    help="Read and write the KV store that Kestra's kv() function and KV tasks use.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=KflowGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_JSON = typer.Option("--json", help="Print JSON.")


def _guard(fn: Any, *args: Any) -> None:
    from kflow.cli import _guard as guard

    guard(fn, *args)


@app.command("list", cls=KflowCommand)
def list_(
    namespace: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
        typer.Argument(metavar="NAMESPACE", help="Only this namespace (default: every one)."),
    ] = None,
    expired: Annotated[
        bool, typer.Option("--expired", help="Show expired keys too (not yet purged).")
    ] = False,
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """List the keys of the KV store: namespace, key, type, expiration, description.

    Example: kflow kv list company.team
    """
    _guard(list_command, namespace, expired, as_json)


@app.command("get", cls=KflowCommand)
def get(
    namespace: Annotated[str, typer.Argument(metavar="NAMESPACE", help="The namespace.")],
    key: Annotated[str, typer.Argument(metavar="KEY", help="The key.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {namespace, key, type, value} as JSON.")
    ] = False,
) -> None:
    """Print a key's value: text as it is, other types as JSON. Exit 2 when there is none.

    Example: kflow kv get company.team orders_file
    """
    _guard(get_command, namespace, key, as_json)


@app.command("set", cls=KflowCommand)
def set_(
    namespace: Annotated[str, typer.Argument(metavar="NAMESPACE", help="The namespace.")],
    key: Annotated[str, typer.Argument(metavar="KEY", help="The key.")],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The value, as text.")],
    kv_type: Annotated[
        str,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="Read VALUE as STRING, NUMBER, BOOLEAN, DATETIME, DATE, DURATION or JSON.",
        ),
    ] = "STRING",
    ttl: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--ttl", metavar="DURATION", help="Expire after this long (PT1H, P7D)."),
    ] = None,
    description: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--description", metavar="TEXT", help="A description of the key."),
    ] = None,
    no_overwrite: Annotated[
        bool, typer.Option("--no-overwrite", help="Fail if the key already has a value.")
    ] = False,
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """Set a key (as the Set task does: DATE, like DATETIME, takes an instant).

    Examples: kflow kv set company.team retries 3 --type NUMBER | kflow kv set company token abc --ttl PT1H
    """
    _guard(set_command, namespace, key, value, kv_type, ttl, description, no_overwrite, as_json)


@app.command("delete", cls=KflowCommand)
def delete(
    namespace: Annotated[str, typer.Argument(metavar="NAMESPACE", help="The namespace.")],
    key: Annotated[str, typer.Argument(metavar="KEY", help="The key.")],
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """Delete a key. Exit 2 when there is none.

    Example: kflow kv delete company.team orders_file
    """
    _guard(delete_command, namespace, key, as_json)


# ----------------------------------------------------------------- the commands
def _dump(doc: Any) -> None:
    from kflow.cli.jsonout import dumps
    from kflow.cli.pipes import write_stdout

    write_stdout(dumps(doc) + "\n")


def _entry(row: Any, moment: str) -> dict[str, Any]:
    """A key as Kestra's API lists it (KVEntry), with its namespace and type."""
    from kflow.kv import is_expired

    return {
        "namespace": row.namespace,
        "key": row.key,
        "type": row.type,
        "description": row.description,
        "creationDate": row.created_at,
        "updateDate": row.updated_at,
        "expirationDate": row.expires_at,
        "expired": is_expired(row, moment),
    }


def list_command(namespace: str | None, expired: bool, as_json: bool) -> None:
    from kflow.api import open_home
    from kflow.kv import is_expired, validate_namespace
    from kflow.records import now
    from kflow.taskoutputs import fixed_instant

    if namespace is not None:
        validate_namespace(namespace)
    moment = fixed_instant(now())
    with open_home() as home:
        rows = home.store.kv_list(namespace)
    rows = [r for r in rows if expired or not is_expired(r, moment)]
    if as_json:
        _dump([_entry(r, moment) for r in rows])
        return
    from rich.table import Table
    from rich.text import Text

    from kflow.cli.render import console

    if not rows:
        where = f" in namespace {namespace}" if namespace else ""
        console().print(f"no keys{where}", markup=False)
        return
    table = Table()
    for col in ("namespace", "key", "type", "expires", "description"):
        table.add_column(col)
    for r in rows:
        expires = r.expires_at or "never"
        if is_expired(r, moment):
            expires += " (expired)"
        table.add_row(
            Text(r.namespace), Text(r.key), Text(r.type), Text(expires),
            Text(r.description or ""),
        )  # fmt: skip
    console().print(table)


def _not_found(namespace: str, key: str) -> Exception:
    from kflow.errors import NotFoundError

    return NotFoundError(
        f"no key '{key}' in namespace '{namespace}'",
        hint=f"list the keys with: kflow kv list {namespace}",
    )


def get_command(namespace: str, key: str, as_json: bool) -> None:
    from kflow.api import open_home
    from kflow.cli.pipes import write_stdout
    from kflow.cli.safetext import safe
    from kflow.errors import KVError
    from kflow.kv import EXPIRED, NamespaceKV, kv_type_of, plain

    with open_home() as home:
        try:
            value = NamespaceKV(home.store, namespace).get(key)
        except KeyError:
            raise _not_found(namespace, key) from None
        except KVError as exc:
            if exc.message != EXPIRED:
                raise
            raise KVError(f"key '{key}' in namespace '{namespace}' has expired") from None
    if as_json:
        _dump({"namespace": namespace, "key": key, "type": kv_type_of(value),
               "value": plain(value)})  # fmt: skip
        return
    shown = plain(value)
    if not isinstance(shown, str):
        from kflow.cli.jsonout import dumps

        shown = dumps(shown)
    write_stdout((safe(shown) if _on_terminal() else shown) + "\n")


def _on_terminal() -> bool:
    """A terminal gets control characters escaped; a pipe gets the value as it is."""
    return sys.stdout.isatty()


def set_command(
    namespace: str, key: str, text: str, kv_type: str, ttl: str | None,
    description: str | None, no_overwrite: bool, as_json: bool,
) -> None:  # fmt: skip
    from kflow.api import open_home
    from kflow.kv import NamespaceKV, convert, kv_type_of, parse_ttl

    value = convert(text, kv_type)
    duration = parse_ttl(ttl)
    with open_home() as home:
        NamespaceKV(home.store, namespace).put(
            key, value, ttl=duration, overwrite=not no_overwrite, description=description
        )
        row = home.store.kv_get(namespace, key)
    if as_json:
        _dump({"namespace": namespace, "key": key, "type": kv_type_of(value),
               "expirationDate": row.expires_at if row else None})  # fmt: skip
        return
    from kflow.cli.safetext import safe

    until = f", expires {row.expires_at}" if row and row.expires_at else ""
    typer.echo(safe(f"set {namespace} {key} ({kv_type_of(value)}{until})"))


def delete_command(namespace: str, key: str, as_json: bool) -> None:
    from kflow.api import open_home
    from kflow.kv import NamespaceKV

    with open_home() as home:
        deleted = NamespaceKV(home.store, namespace).delete(key)
    if not deleted:
        raise _not_found(namespace, key)
    if as_json:
        _dump({"namespace": namespace, "key": key, "deleted": True})
        return
    from kflow.cli.safetext import safe

    typer.echo(safe(f"deleted {namespace} {key}"))
