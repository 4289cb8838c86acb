"""Help and usage errors in the user's words: metavars such as KEY=VALUE instead of Python
type names, flags with no value, and an unknown option answered with the real options."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from kflow.cli import app
from kflow.cli.usage import option_names

runner = CliRunner()

ROOT = typer.main.get_command(app)
COMMANDS = sorted(ROOT.commands)  # type: ignore[attr-defined]
# what Typer prints for an option or argument without a metavar: <list[str]>, <path>...
TYPE_NAME = re.compile(r"<[A-Za-z_][\w\[\], |.]*>")


def _flat(text: str) -> str:
    """Rich panels wrap lines and draw borders: keep the words only."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_every_command_is_covered():
    assert {"run", "outputs", "eval", "validate", "inputs", "logs", "preview"} <= set(COMMANDS)


@pytest.mark.parametrize(
    "command", [[], *[[c] for c in COMMANDS]], ids=lambda c: c[0] if c else "kflow"
)
def test_help_shows_no_python_type_names(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert not TYPE_NAME.findall(result.output), result.output
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert "{" not in usage, usage  # Typer's {flow}: arguments read FLOW, EXEC...


def test_run_help_metavars():
    out = runner.invoke(app, ["run", "--help"]).output
    assert "kflow run [OPTIONS] FLOW" in out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "--json" in line)
    assert "KEY=VALUE" in next(line for line in lines if "--input" in line)
    # a flag shows no value: only its name and its help (which may wrap to a second line)
    assert _flat(lines[at] + lines[at + 1]).startswith(
        "--json Print only the execution as one JSON object."
    )


def test_validate_usage_shows_repeated_argument():
    out = runner.invoke(app, ["validate", "--help"]).output
    assert "kflow validate [OPTIONS] FLOW..." in out


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_option_lists_the_real_options(command):
    cmd = ROOT.commands[command]  # type: ignore[attr-defined]
    real = option_names(cmd.get_params(typer.Context(cmd)))
    result = runner.invoke(app, [command, "--no-such-option"])
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "No such option: --no-such-option" in out
    assert f"Options of 'kflow {command}':" in out
    for name in real:
        assert name in out, (name, out)
    own = [n for n in real if n != "-h/--help"]
    if own:  # not only --help, as click's guess did ("Possible options: --help")
        assert own[0] in out


def test_unknown_option_suggests_the_close_one():
    result = runner.invoke(app, ["logs", "last", "--lvl", "INFO"])
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "Did you mean --level?" in out
    assert "--task" in out
    assert "Possible options" not in out


def test_unknown_short_option_lists_the_real_options():
    result = runner.invoke(app, ["run", "flow.yml", "-x"])
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "No such option: -x" in out
    assert "-i/--input" in out and "--label" in out


def test_unknown_option_of_kflow_itself():
    result = runner.invoke(app, ["--versoin"])
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "Did you mean --version?" in out
    assert "--debug" in out


def test_unknown_option_in_a_real_process(cli):
    proc = cli("executions", "--limt", "3")
    assert proc.returncode == 2
    err = _flat(proc.stderr)
    assert "Did you mean --limit?" in err
    assert "-n/--limit" in err and "--json" in err
    assert "Traceback" not in proc.stderr
