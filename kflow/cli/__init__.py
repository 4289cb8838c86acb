"""The ``kflow`` command line. Commands import the engine lazily: ``--help`` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from kflow.cli.usage import KflowCommand, KflowGroup

app = typer.Typer(
    name="kflow",
    help="Run Kestra flows locally: no server, every output kept, expressions evaluated.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=KflowGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _guard(fn: Any, *args: Any) -> None:
    """Run a command; a KflowError becomes one message and its exit code."""
    from kflow.errors import KflowError

    try:
        fn(*args)
    except KflowError as exc:
        from kflow.cli.errors import report

        raise typer.Exit(report(exc)) from None
    except KeyboardInterrupt as exc:
        from kflow.cli.errors import Terminated

        typer.echo("interrupted", err=True)
        raise typer.Exit(143 if isinstance(exc, Terminated) else 130) from None


def _version(value: bool) -> None:
    if value:
        from kflow import __version__

        typer.echo(f"kflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback for unexpected errors.")
    ] = False,
    org: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--org", metavar="ORG", help="Organisation of runs and records (KFLOW_ORG; default: local)."),
    ] = None,
    db: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--db", metavar="URL", help="Execution store: postgresql://... for a shared one (KFLOW_DB; default: SQLite in the kflow home)."),
    ] = None,
) -> None:
    import os

    from kflow.cli import errors

    errors.DEBUG = debug
    if org is not None:  # the engine reads them where the store is opened (kflow.home)
        os.environ["KFLOW_ORG"] = org
    if db is not None:
        os.environ["KFLOW_DB"] = db


@app.command()
def run(
    flow: Annotated[
        Path, typer.Argument(metavar="FLOW", help="The flow file (YAML).", show_default=False)
    ],
    inputs: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer needs Optional here
        typer.Option(
            "-i", "--input", metavar="KEY=VALUE", help="KEY=VALUE, or KEY=@PATH to read a file."
        ),
    ] = None,
    inputs_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--inputs", metavar="FILE", help="A JSON or YAML file mapping input ids to values."
        ),
    ] = None,
    secrets_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--secrets", metavar="FILE",
            help="Values for secret(): a .env file of NAME=BASE64 lines (as SECRET_ variables) or a YAML mapping of plain values.",
        ),
    ] = None,
    labels: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--label", metavar="KEY=VALUE", help="KEY=VALUE label on the execution."),
    ] = None,
    flows_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--flows", metavar="DIR", help="Where subflows are looked up (default: the flow's dir)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the execution as one JSON object.")
    ] = False,
    output: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--output", metavar="ID", help="Print only this flow output's raw value."),
    ] = None,
    wait_on_pause: Annotated[
        bool,
        typer.Option(
            "--wait-on-pause",
            help="At a Pause, wait for kflow resume from another shell (or answer on the terminal) instead of exiting.",
        ),
    ] = False,
    trigger_items: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--trigger", metavar="KEY=VALUE", help="A trigger.KEY variable (a JSON object or array VALUE is parsed)."),
    ] = None,
    trigger_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--trigger-file", metavar="FILE", help="A JSON or YAML file mapping trigger variables to values."),
    ] = None,
    trigger_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--trigger-id", metavar="ID", help="Run as the flow's trigger ID would start it: Schedule date/next/previous, Webhook body/headers/parameters."),
    ] = None,
    namespace_files: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--namespace-files", metavar="[NAMESPACE=]DIR", help="The folder of the flow namespace's files (read(), namespaceFiles, UploadFiles), or of NAMESPACE's; default: the _files/NAMESPACE/ folders beside the flow."),
    ] = None,
) -> None:
    """Run a flow and show its task states, outputs and flow outputs.

    Exit code: 0 SUCCESS or WARNING, 1 FAILED, KILLED or CANCELLED, 2 invalid flow or
    inputs, 4 PAUSED (continue it with kflow resume EXEC).

    Example: kflow run flow.yml -i name=World -i data=@data.csv
    Example: kflow run flow.yml --trigger-id daily   (trigger.date of its last tick)
    Example: kflow run flow.yml --namespace-files ./scripts   (read('q.sql') reads ./scripts/q.sql)
    """
    if secrets_file is not None:
        from kflow.cli.secrets import use_secrets_file

        _guard(use_secrets_file, secrets_file)
    from kflow.cli.run import run_command

    _guard(run_command, flow, inputs or [], inputs_file, labels or [], flows_dir, as_json,
           output, wait_on_pause, trigger_items or [], trigger_file, trigger_id,
           namespace_files or [])  # fmt: skip


@app.command()
def resume(
    execution: Annotated[
        str,
        typer.Argument(metavar="EXEC", help="A PAUSED execution's id (or a prefix, or 'last').", show_default=False),
    ],
    inputs: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("-i", "--input", metavar="KEY=VALUE", help="An onResume input of the Pause: KEY=VALUE, or KEY=@PATH."),
    ] = None,
    inputs_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--inputs", metavar="FILE", help="A JSON or YAML file mapping onResume input ids to values."),
    ] = None,
    flows_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--flows", metavar="DIR", help="Where subflows are looked up (default: the current dir)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the execution as one JSON object.")
    ] = False,
    output: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--output", metavar="ID", help="Print only this flow output's raw value."),
    ] = None,
    wait_on_pause: Annotated[
        bool,
        typer.Option("--wait-on-pause", help="At the next Pause, wait for a resume instead of exiting."),
    ] = False,
) -> None:
    """Resume a PAUSED execution and run it here to its end (or its next pause).

    The -i values are the onResume inputs of the Pause, typed and checked like flow
    inputs; tasks after the Pause read them as outputs.PAUSE_ID.onResume.ID. When a
    process waits on the execution (kflow run --wait-on-pause, a Pause with a
    pauseDuration), that process goes on and this one follows it.

    Exit code: as kflow run; 2 when the execution is not PAUSED or an input is refused.

    Example: kflow resume last -i approved=true -i reason="looks good"
    """
    from kflow.cli.resume import resume_command

    _guard(resume_command, execution, inputs or [], inputs_file, flows_dir, as_json, output,
           wait_on_pause)  # fmt: skip


@app.command()
def outputs(
    args: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            metavar="EXEC",
            help="An execution id (or a prefix, or 'last'): its task runs. Without it: task-output records across runs, newest first. With --delete: record ids.",
            show_default=False,
        ),
    ] = None,
    task: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--task", metavar="TASK", help="Only this task's runs (its records, without EXEC)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Records as JSON lines, streamed (all of them unless --limit).")
    ] = False,
    flow: Annotated[Optional[str], typer.Option("--flow", metavar="FLOW", help="Records of this flow id.")] = None,  # noqa: UP045
    namespace: Annotated[Optional[str], typer.Option("--namespace", metavar="NS", help="Records of this namespace.")] = None,  # noqa: UP045
    status: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--status", metavar="STATUS", help="queued, running, completed, failed, deleted or stale."),
    ] = None,
    tag: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--tag", metavar="K=V", help="Records with this tag (labels, type=TASK_TYPE, state=STATE); repeatable."),
    ] = None,
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--since", metavar="WHEN", help="Created at or after: a date, a date-time, or a duration back (2h, PT2H)."),
    ] = None,
    until: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--until", metavar="WHEN", help="Created before: a date, a date-time, or a duration back."),
    ] = None,
    limit: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--limit", metavar="N", help="Records per page (default 50)."),
    ] = None,
    after: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--after", metavar="ID", help="The next page: records after this record id."),
    ] = None,
    include_deleted: Annotated[
        bool, typer.Option("--include-deleted", help="List soft-deleted records too.")
    ] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Soft-delete the records whose ids are given (kept for audit).")
    ] = False,
    delete_execution: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--delete-execution", metavar="EXEC", help="Soft-delete every record of this execution."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    preview: Annotated[
        bool, typer.Option("--preview", help="With EXEC: the first rows or lines of each output file.")
    ] = False,
) -> None:
    """Show an execution's task runs and outputs, or list task-output records across runs.

    Each row carries the expression that reaches the value; kflow eval --exec EXEC takes it as printed.

    Examples: kflow outputs last --task produce_output | kflow outputs last --preview | kflow outputs --task fetch --since 2h --limit 20 | kflow outputs --jsonl > records.jsonl
    """
    from kflow.cli.records import Listing, delete_command, list_command

    items = list(args or [])
    if preview and (not items or as_json or delete or delete_execution is not None):
        _usage("--preview shows the output files of one execution on the terminal",
               "kflow outputs EXEC --preview (without --json; --json prints their URIs)")  # fmt: skip
    listing = Listing(flow, namespace, task, status, list(tag or []), since, until, limit,
                      after, include_deleted)  # fmt: skip
    if delete or delete_execution is not None:
        if delete and delete_execution is not None:
            _usage("--delete and --delete-execution cannot be used together", "pick one")
        if delete and not items:
            _usage("--delete needs the ids of the records to delete",
                   "e.g. kflow outputs --delete ID1 ID2 (kflow outputs lists ids)")  # fmt: skip
        if delete_execution is not None and items:
            _usage("--delete-execution takes the execution itself, not other arguments",
                   "e.g. kflow outputs --delete-execution last")  # fmt: skip
        _guard(delete_command, items, delete_execution, yes)
        return
    if items:
        if len(items) > 1:
            _usage(f"one execution at a time, not {len(items)}",
                   "kflow outputs EXEC, or kflow outputs without EXEC for records across runs")  # fmt: skip
        filters = [name for name, given in (
            ("--flow", flow), ("--namespace", namespace), ("--status", status), ("--tag", tag),
            ("--since", since), ("--until", until), ("--limit", limit), ("--after", after),
        ) if given] + (["--include-deleted"] if include_deleted else []) + (
            ["--jsonl"] if as_jsonl else [])  # fmt: skip
        if filters:
            _usage(f"{', '.join(filters)} filter the records across runs, not one execution",
                   "drop EXEC to list records: kflow outputs --task ID --since 2h")  # fmt: skip
        from kflow.cli.inspect import outputs_command

        _guard(outputs_command, items[0], task, as_json, preview)
        return
    _guard(list_command, listing, as_json, as_jsonl)


@app.command()
def purge(
    older_than: Annotated[
        str,
        typer.Option("--older-than", metavar="DURATION", help="Executions that ended longer ago than this (7d, 12h, P30D)."),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove old executions' stored files; their task-output records are marked stale (kept).

    Example: kflow purge --older-than 30d --yes
    """
    from kflow.cli.records import purge_command

    _guard(purge_command, older_than, yes)


def _usage(message: str, hint: str) -> None:
    """A usage error from the options (exit 2)."""
    from kflow.errors import UsageError

    _guard(_raise, UsageError(message, hint=hint))


def _raise(exc: Exception) -> None:
    raise exc


@app.command("eval")
def eval_(
    expression: Annotated[
        str, typer.Argument(metavar="EXPRESSION", help="A Pebble expression, e.g. '{{ 1 + 1 }}'.")
    ],
    execution: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--exec", metavar="EXEC", help="Render against this execution ('last' = newest)."
        ),
    ] = None,
    context_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--context", metavar="FILE", help="A JSON or YAML mapping of variables."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    decrypt: Annotated[
        bool,
        typer.Option(
            "--decrypt",
            help="Show SECRET inputs and encrypted outputs in clear text (needs the key they were encrypted with).",
        ),
    ] = False,
) -> None:
    """Render an expression, like Kestra's Debug Expression.

    As in Kestra, SECRET inputs and encrypted outputs stay encrypted
    ({"type":"io.kestra.datatype:aes_encrypted","value":"..."}); --decrypt shows them.

    Example: kflow eval --exec last '{{ outputs.sample_json.value | jq(".data") | first }}'
    """
    from kflow.cli.inspect import eval_command

    _guard(eval_command, expression, execution, context_file, as_json, decrypt)


@app.command()
def validate(
    flows: Annotated[list[Path], typer.Argument(metavar="FLOW", help="Flow files to check.")],
) -> None:
    """Check flow files without running them (exit 0 when all are valid, 2 otherwise).

    Example: kflow validate flows/*.yml
    """
    from kflow.cli.inspect import validate_command

    _guard(validate_command, flows)


@app.command("inputs")
def inputs_(
    flow: Annotated[
        Path, typer.Argument(metavar="FLOW", help="The flow file (YAML).", show_default=False)
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list, one object per input.")
    ] = False,
) -> None:
    """List a flow's inputs: id, type, required, default, description (and the allowed values of ENUM and SELECT inputs).

    Example: kflow inputs flow.yml
    """
    from kflow.cli.flowinfo import inputs_command

    _guard(inputs_command, flow, as_json)


@app.command()
def executions(
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", help="How many, newest first.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the executions kept in this kflow home.

    Example: kflow executions --limit 5
    """
    from kflow.cli.inspect import executions_command

    _guard(executions_command, limit, as_json)


@app.command()
def logs(
    execution: Annotated[
        str, typer.Argument(metavar="EXEC", help="Execution id (or a prefix), or 'last'.")
    ],
    task: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--task", metavar="TASK", help="Only this task's logs."),
    ] = None,
    level: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--level",
            metavar="LEVEL",
            help="Only lines at this level or above: TRACE, DEBUG, INFO, WARN or ERROR.",
        ),
    ] = None,
) -> None:
    """Show the log lines of an execution (script output included).

    Lines of a task inside a loop are labelled with the iteration value: count[eu].
    --level WARN shows WARN and ERROR lines, as Kestra's log filter does.

    Example: kflow logs last --task rename --level WARN
    """
    from kflow.cli.inspect import logs_command

    _guard(logs_command, execution, task, level)


@app.command()
def preview(
    source: Annotated[
        list[str],
        typer.Argument(
            metavar="URI|PATH|EXEC TASK FILE",
            help="A kestra:/// URI, a local file, or an execution ('last' or an id prefix), "
            "a task id and the name of one of its output files.",
            show_default=False,
        ),
    ],
    rows: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--rows", metavar="N", help="How many rows or lines (default 100; --to: all).", show_default=False),
    ] = None,
    offset: Annotated[
        int, typer.Option("--offset", metavar="K", help="Skip the first K rows or lines.")
    ] = 0,
    all_rows: Annotated[bool, typer.Option("--all", help="Every row, however many.")] = False,
    encoding: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--encoding", metavar="E", help="The text encoding (default: detected)."),
    ] = None,
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--to", metavar="jsonl|csv|json", help="Export to stdout in this format: every row from --offset, or --rows N of them."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="auto|table|text",
            help="auto (a table on a terminal, text in a pipe), table or text.",
        ),
    ] = "auto",
) -> None:
    """Show a file, a page at a time: a table for CSV, TSV, JSON lines, Ion, a JSON array of objects, Parquet, Avro and Excel; text otherwise.

    The file is a stored kestra:/// URI, a local file, or a task's output file named by EXEC TASK FILE. It shows 100 rows (--rows N, --offset K, --all), reading only those, and says under them which rows it showed and whether more remain. Code and config files are highlighted and Markdown is rendered on a terminal; a binary file gets one line (its size and type). The encoding is detected (--encoding to force one).

    In a pipe, CSV and text print as their own lines and other rows as one JSON object each; the footer goes to stderr, and only when rows were left out. --to jsonl|csv|json exports every row from --offset K (or --rows N of them), streamed, for other tools.

    Parquet, Avro and Excel need pyarrow, fastavro, python-calamine or openpyxl: pip install 'kflow\\[parquet]' (or kflow\\[avro], kflow\\[excel]).

    Examples: kflow preview last rename output.tmp | kflow preview ./data.csv --offset 100 | kflow preview data.parquet --to jsonl | jq .id
    """
    from kflow.cli.preview import preview_command

    _guard(preview_command, source, rows, fmt, offset, all_rows, encoding, to)


@app.command()
def download(
    source: Annotated[
        list[str],
        typer.Argument(metavar="URI | EXEC TASK FILE", help="A kestra:/// URI, or an execution, a task and an output file name."),
    ],
    output: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--output", "-o", metavar="PATH", help="Where to write it: a file, a directory, or - for stdout (default: its name, here)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Copy a stored file out of the internal storage (streamed; never overwrites without --force).

    Examples: kflow download kestra:///company/team/flow/executions/ID/tasks/t/RUN/out.csv | kflow download last rename output.tmp -o data/
    """
    from kflow.cli.download import download_command

    _guard(download_command, source, output, force)


@app.command()
def plugins(
    task_type: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
        typer.Argument(metavar="TYPE", help="A task type: show its properties and outputs."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the task types kflow can run (built-in and from installed plugins), or describe one.

    With TYPE: its properties (kind, required, default, doc) and the outputs a run produces.

    Examples: kflow plugins | kflow plugins io.kestra.plugin.core.debug.Return
    """
    from kflow.cli.inspect import plugins_command

    _guard(plugins_command, task_type, as_json)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0: any free one).")] = 8080,
    token: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--token", metavar="TOKEN", envvar="KFLOW_TOKEN", show_envvar=False,
                     help="Bearer token every request must carry (KFLOW_TOKEN). On a loopback address one is generated when none is given."),
    ] = None,
) -> None:
    """Serve task-output records, executions and stored files as a read-only JSON API.

    Needs the server extra: pip install 'kflow\\[server]'. OpenAPI document at /openapi.json.

    Example: kflow serve --port 8080   then   curl -H "Authorization: Bearer $TOKEN" localhost:8080/task-outputs
    """
    from kflow.cli.serve import serve_command

    _guard(serve_command, host, port, token)


@app.command("test")
def test_(
    paths: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Argument(metavar="PATH", help="Test suite files or folders (default: the current folder).", show_default=False),
    ] = None,
    flows_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--flows", metavar="DIR", help="Where the tested flows are (default: among the PATHs)."),
    ] = None,
    cases: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--case", metavar="ID", help="Run only this test case (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as one JSON object.")] = False,
    exitfirst: Annotated[bool, typer.Option("-x", "--exitfirst", help="Stop at the first failed or errored case.")] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the executions in the kflow home (default: a temporary one).")
    ] = False,
) -> None:
    """Run Kestra test suites: each test case runs its flow with its fixtures and checks its assertions.

    A test suite is Kestra's YAML (id, namespace, flowId, testCases); its flow is found by
    namespace and id among the PATHs (or under --flows). Tasks with a fixture do not run.

    Exit code: 0 all cases passed, 1 a case failed or errored, 2 an invalid suite.

    Example: kflow test tests/ --flows flows/ --case extract_should_return_data
    """
    from kflow.cli.test import run_tests_command

    _guard(run_tests_command, paths or [], flows_dir, cases or [], as_json, exitfirst, keep)


# Command groups: kflow kv ..., kflow secrets ...
from kflow.cli import kv as _kv  # noqa: E402
from kflow.cli import secrets as _secrets  # noqa: E402

app.add_typer(_kv.app, name="kv")
app.add_typer(_secrets.app, name="secrets")

# Every command (also those added later) gets readable help and usage errors: see usage.py.
for _info in app.registered_commands:
    if _info.cls in (None, typer.core.TyperCommand):
        _info.cls = KflowCommand


# Root options that take a value: what follows them is not the command's name.
_ROOT_VALUE_OPTIONS = ("--org", "--db")


def _invoked_command(argv: list[str]) -> str | None:
    """The command ``argv`` names (``run`` in ``kflow --db URL run f.yml``), or None when it
    names none (``--help``, ``--version``, nothing)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _ROOT_VALUE_OPTIONS:
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        return arg
    return None


def narrow_to(name: str | None) -> None:
    """Keep only command ``name`` in the app, when it is one of its commands.

    Typer builds the Click command of every registered command (parameters, annotations)
    each time ``kflow`` starts; with some thirty commands that was most of the start-up
    above Typer's own. A process runs one command, so only that one is built. Help
    (``kflow --help``) and an unknown name (which lists close matches) keep them all."""
    if name is None:
        return
    from typer.main import get_command_name

    commands = [c for c in app.registered_commands
                if (c.name or get_command_name(getattr(c.callback, "__name__", ""))) == name]  # fmt: skip
    groups = [g for g in app.registered_groups if g.name == name]
    if commands or groups:
        app.registered_commands[:] = commands
        app.registered_groups[:] = groups


def main() -> None:
    """Console-script entry point: one clear line per error, never a traceback."""
    import sys

    from kflow.cli.errors import exit_now, run_app

    narrow_to(_invoked_command(sys.argv[1:]))
    try:
        run_app(app)
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)
