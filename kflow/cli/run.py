"""``kflow run``: parse inputs, run with a live view, print the summary or the JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kflow.errors import UsageError

if TYPE_CHECKING:
    from kflow.notices import Notice


def parse_pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` strings → pairs; a missing ``=`` is a usage error."""
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            extra = " (or name=@file to read a file)" if what == "-i" else ""
            raise UsageError(
                f"{what} {item!r} is not KEY=VALUE",
                hint=f"write {what} name=value{extra}",
            )
        pairs.append((key.strip(), value))
    return pairs


def read_mapping_file(path: Path, what: str) -> dict[str, Any]:
    """A JSON or YAML file holding a mapping (for --inputs and --context). YAML is read by
    the bounded reader of flows (at most 50 aliases, as Kestra's parser), so an alias bomb
    is refused instead of taking minutes and gigabytes."""
    import yaml

    from kflow.errors import NotFoundError
    from kflow.flow.loader import TOO_DEEP
    from kflow.flow.yamlio import YamlDataLoader, load_bounded

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{what} file not found: {path}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise NotFoundError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else load_bounded(text, YamlDataLoader)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} file is not valid JSON: {exc.msg}", path=str(path),
                         line=exc.lineno, column=exc.colno) from None  # fmt: skip
    except RecursionError:  # json.loads of thousands of nested [ or {
        raise UsageError(f"{what} file {path} is not valid JSON: {TOO_DEEP}") from None
    except ValueError as exc:  # json.loads of an integer of more than 4,300 digits
        raise UsageError(
            f"{what} file {path} is not valid JSON: {str(exc).split(';')[0]}"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "<stream end>" in str(exc.problem):
            mark = exc.context_mark
        raise UsageError(
            f"{what} file is not valid YAML: {exc.problem or exc}",
            path=str(path),
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="expand the repeated values instead of nesting aliases"
            if str(exc.problem or "").startswith("more than")
            else None,
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{what} file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{what} file {path} must hold a mapping of names to values")
    return data


def collect_inputs(flow: Any, items: list[str], inputs_file: Path | None) -> dict[str, Any]:
    """Inputs from --inputs FILE, then -i pairs (later wins). ``@PATH`` reads a file: a FILE
    input gets the path itself (copied into storage), any other input the file's text."""
    from kflow.errors import NotFoundError

    provided: dict[str, Any] = {}
    if inputs_file is not None:
        provided.update(read_mapping_file(inputs_file, "inputs"))
    types = {spec.id: spec.type for spec in flow.inputs}
    for key, value in parse_pairs(items, "-i"):
        if value.startswith("@"):
            path = Path(value[1:]).expanduser()
            if types.get(key) == "FILE":
                provided[key] = path
                continue
            try:
                provided[key] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise UsageError(
                    f"-i {key}=@{value[1:]}: {path} is not UTF-8 text",
                    hint="binary data goes through a FILE input",
                ) from None
            except OSError:
                raise NotFoundError(f"-i {key}=@{value[1:]}: cannot read {path}") from None
        else:
            provided[key] = value
    return provided


def collect_trigger(
    flow: Any, items: list[str], trigger_file: Path | None, trigger_id: str | None
) -> dict[str, Any] | None:
    """The execution's trigger from --trigger-file, then --trigger pairs (later wins), and
    --trigger-id: the variables a declared trigger gives (kflow.flow.triggers)."""
    from kflow.flow.triggers import trigger_for_run

    given: dict[str, Any] = {}
    if trigger_file is not None:
        given.update(read_mapping_file(trigger_file, "trigger"))
    for key, value in parse_pairs(items, "--trigger"):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                given[key] = json.loads(text)
                continue
            except ValueError:
                pass
        given[key] = value
    return trigger_for_run(flow, trigger_id, given)


def undeclared_inputs(flow: Any, provided: dict[str, Any]) -> list[Notice]:
    """A warning for each provided input the flow does not declare: Kestra ignores such
    inputs, so a typo (``-i nmae=Bob``) would otherwise run with the default silently."""
    from difflib import get_close_matches

    from kflow.notices import Notice

    declared = [spec.id for spec in flow.inputs]
    notices: list[Notice] = []
    for key in provided:
        if key in declared:
            continue
        close = get_close_matches(key, declared, n=1)
        listed = ", ".join(declared) if declared else "none"
        hint = f"did you mean {close[0]!r}? " if close else ""
        notices.append(
            Notice(
                f"input {key!r} is not declared by flow {flow.id}: it is ignored",
                hint=f"{hint}declared inputs: {listed} (kflow inputs FLOW lists them)",
                code="undeclared-input",
            )
        )
    return notices


@contextmanager
def _file_input_hint(flow: Any, provided: dict[str, Any]) -> Iterator[None]:
    """A missing FILE input's error says how to give a file (``-i data=@PATH``); the
    message itself comes from the engine, which knows nothing of the command line."""
    from kflow.errors import InputError
    from kflow.flow.model import MISSING

    try:
        yield
    except InputError as exc:
        missing = [
            spec.id
            for spec in flow.inputs
            if spec.type == "FILE"
            and spec.defaults is MISSING
            and provided.get(spec.id) is None
            and any(f"`{spec.id}`" in p and "missing required input" in p for p in exc.problems)
        ]
        if missing:
            files = " ".join(f"-i {i}=@PATH" for i in missing)
            others = sum("missing required input" in p for p in exc.problems) > len(missing)
            exc.hint = f"give the file with {files}" + (
                " and the other inputs with -i ID=VALUE" if others else ""
            )
        raise


def run_command(
    flow_path: Path,
    input_items: list[str],
    inputs_file: Path | None,
    label_items: list[str],
    flows_dir: Path | None,
    as_json: bool,
    output: str | None,
    wait_on_pause: bool = False,
    trigger_items: list[str] | None = None,
    trigger_file: Path | None = None,
    trigger_id: str | None = None,
    namespace_files: list[str] | None = None,
) -> None:
    from kflow.api import load_flow, open_home, run_flow
    from kflow.cli.namespace_files import parse_namespace_files

    folders = parse_namespace_files(namespace_files or [])

    if flows_dir is not None and not flows_dir.is_dir():
        raise UsageError(
            f"--flows {flows_dir}: not a directory",
            hint="give the directory that holds the subflows' YAML files",
        )
    flow = load_flow(flow_path)
    from kflow.flow.validate import check_expressions, refuse_missing_extras

    refuse_missing_extras(flow)  # before its warning is printed: run refuses, validate warns
    # unknown filters/functions refused, undeclared inputs.X warned about: before any task
    expression_notices = check_expressions(flow)
    if flow.warnings:  # before the run starts; never changes the exit code
        from kflow.cli.notices import print_notices

        print_notices(flow.warnings)
    trigger = collect_trigger(flow, trigger_items or [], trigger_file, trigger_id)
    from kflow.flow.triggers import trigger_inputs

    provided = {**trigger_inputs(flow, trigger), **collect_inputs(flow, input_items, inputs_file)}
    notices = [*expression_notices, *undeclared_inputs(flow, provided)]
    if flow.inputs:  # the input types (java.time, regexes) load only for a flow that has some
        from kflow.flow.inputs import input_notices

        notices += input_notices(flow.inputs, provided)
    if notices:  # never changes the exit code
        from kflow.cli.notices import print_notices

        print_notices(notices)
    labels = dict(parse_pairs(label_items, "--label"))
    if output is not None and output not in {o.id for o in flow.outputs}:
        known = ", ".join(o.id for o in flow.outputs) or "none"
        raise UsageError(f"flow {flow.id} has no output {output!r} (outputs: {known})")
    quiet = as_json or output is not None
    with open_home() as home, _file_input_hint(flow, provided):
        if quiet:  # no Rich at all: --json and --output are for scripts
            execution = run_flow(flow, provided, labels=labels, flows_dir=flows_dir, home=home,
                                 trigger=trigger, namespace_files=folders)  # fmt: skip
        else:
            view = make_view()
            with view:
                execution = run_flow(
                    flow, provided, labels=labels, flows_dir=flows_dir, home=home,
                    on_event=view.on_event, trigger=trigger, namespace_files=folders,
                )
        if wait_on_pause:
            from kflow.cli.resume import wait_on_pause as wait

            execution = wait(execution, flow, home, flows_dir, quiet)
        show_result(execution, flow, home, [*flow.warnings, *notices], as_json, output)


def make_view() -> Any:
    """The live display of a run: plain lines for a pipe or CI log, Rich on a terminal."""
    from kflow.cli.views import PlainView, plain_output

    if plain_output():
        return PlainView()
    from kflow.cli.render import LiveView

    return LiveView()


def show_result(
    execution: Any,
    flow: Any,
    home: Any,
    warnings: list[Notice],
    as_json: bool,
    output: str | None,
) -> None:
    """Print how a run ended (summary, ``--json`` or one ``--output``) and end with its
    exit code: 0 SUCCESS/WARNING, 1 FAILED/KILLED/CANCELLED, PAUSED_EXIT when paused."""
    import typer

    from kflow.cli.pipes import drop_stdout, write_stdout
    from kflow.cli.views import plain_output
    from kflow.secrets import mask_tree
    from kflow.states import State

    plain = plain_output()
    failed = execution.state.current in (State.FAILED, State.KILLED, State.CANCELLED)
    if as_json:
        # encrypted values stay in their encrypted form, as in Kestra's API
        doc = execution.to_dict()
        doc["warnings"] = [w.to_dict() for w in warnings]  # always present
        from kflow.cli.jsonout import dumps

        write_stdout(dumps(doc) + "\n")
    elif output is not None:
        from kflow.expr.values import to_string

        if output in execution.outputs:
            write_stdout(to_string(mask_tree(execution.outputs[output])) + "\n")
        else:
            sys.stderr.write(
                f"error: output {output!r} was not produced "
                f"(execution {execution.id} ended {execution.state.current.value})\n"
            )
            failed = True
    else:
        try:
            if plain:
                from kflow.cli.views import plain_summary

                write_stdout(plain_summary(execution, home))
            else:
                from kflow.cli.render import print_summary

                print_summary(execution, home)
        except BrokenPipeError:  # the exit code still tells how the run ended
            drop_stdout()
    if execution.state.current is State.PAUSED:
        from kflow.cli.resume import PAUSED_EXIT, paused_line

        sys.stderr.write(paused_line(execution, flow) + "\n")
        raise typer.Exit(PAUSED_EXIT)
    if failed:
        raise typer.Exit(1)
