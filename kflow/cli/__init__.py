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
) -> None:
    from kflow.cli import errors

    errors.DEBUG = debug


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
) -> None:
    """Run a flow and show its task states, outputs and flow outputs.

    Exit code: 0 SUCCESS or WARNING, 1 FAILED or KILLED, 2 invalid flow or inputs.

    Example: kflow run flow.yml -i name=World -i data=@data.csv
    """
    from kflow.cli.run import run_command

    _guard(run_command, flow, inputs or [], inputs_file, labels or [], flows_dir, as_json, output)


@app.command()
def outputs(
    execution: Annotated[
        str, typer.Argument(metavar="EXEC", help="Execution id (or a prefix), or 'last'.")
    ],
    task: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--task", metavar="TASK", help="Only this task's runs."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show each task run of an execution with its outputs.

    Example: kflow outputs last --task produce_output
    """
    from kflow.cli.inspect import outputs_command

    _guard(outputs_command, execution, task, as_json)


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
    rows: Annotated[int, typer.Option("--rows", metavar="N", help="How many rows or lines.")] = 100,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="auto|table|text",
            help="auto (a table on a terminal, text in a pipe), table or text.",
        ),
    ] = "auto",
) -> None:
    """Show the head of a file: a table for CSV, JSON lines and Ion, else text.

    The file is a stored kestra:/// URI, a local file, or a task's output file named by EXEC TASK FILE.

    In a pipe, CSV prints as its own lines and Ion/JSON lines as one JSON object per row.

    Examples: kflow preview last rename output.tmp | kflow preview ./data.csv | kflow preview kestra:///company/team/flow/executions/ID/tasks/t/RUN/out.csv
    """
    from kflow.cli.inspect import preview_command

    _guard(preview_command, source, rows, fmt)


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


# Every command (also those added later) gets readable help and usage errors: see usage.py.
for _info in app.registered_commands:
    if _info.cls in (None, typer.core.TyperCommand):
        _info.cls = KflowCommand


def main() -> None:
    """Console-script entry point: one clear line per error, never a traceback."""
    from kflow.cli.errors import exit_now, run_app

    try:
        run_app(app)
    except SystemExit as exc:
        exit_now(exc.code)
    exit_now(0)
