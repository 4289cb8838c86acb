"""``kflow run``: parse inputs, run with a live view, print the summary or the JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from kflow.errors import UsageError


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
    """A JSON or YAML file holding a mapping (for --inputs and --context)."""
    import yaml

    from kflow.errors import NotFoundError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{what} file not found: {path}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise NotFoundError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} file is not valid JSON: {exc.msg}", path=str(path),
                         line=exc.lineno, column=exc.colno) from None  # fmt: skip
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "<stream end>" in str(exc.problem):
            mark = exc.context_mark
        raise UsageError(
            f"{what} file is not valid YAML: {exc.problem or exc}",
            path=str(path),
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
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


def run_command(
    flow_path: Path,
    input_items: list[str],
    inputs_file: Path | None,
    label_items: list[str],
    flows_dir: Path | None,
    as_json: bool,
    output: str | None,
) -> None:
    import typer

    from kflow.api import load_flow, open_home, run_flow
    from kflow.secrets import mask_tree
    from kflow.states import State

    if flows_dir is not None and not flows_dir.is_dir():
        raise UsageError(
            f"--flows {flows_dir}: not a directory",
            hint="give the directory that holds the subflows' YAML files",
        )
    flow = load_flow(flow_path)
    provided = collect_inputs(flow, input_items, inputs_file)
    labels = dict(parse_pairs(label_items, "--label"))
    if output is not None and output not in {o.id for o in flow.outputs}:
        known = ", ".join(o.id for o in flow.outputs) or "none"
        raise UsageError(f"flow {flow.id} has no output {output!r} (outputs: {known})")
    quiet = as_json or output is not None
    with open_home() as home:
        if quiet:  # no Rich at all: --json and --output are for scripts
            execution = run_flow(flow, provided, labels=labels, flows_dir=flows_dir, home=home)
        else:
            from kflow.cli.render import LiveView

            with LiveView() as view:
                execution = run_flow(
                    flow, provided, labels=labels, flows_dir=flows_dir, home=home,
                    on_event=view.on_event,
                )
        failed = execution.state.current in (State.FAILED, State.KILLED)
        if as_json:
            # encrypted values stay in their encrypted form, as in Kestra's API
            doc = execution.to_dict()
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
        elif output is not None:
            from kflow.expr.values import to_string

            if output in execution.outputs:
                sys.stdout.write(to_string(mask_tree(execution.outputs[output])) + "\n")
            else:
                sys.stderr.write(
                    f"error: output {output!r} was not produced "
                    f"(execution {execution.id} ended {execution.state.current.value})\n"
                )
                failed = True
        else:
            from kflow.cli.render import print_summary

            print_summary(execution, home)
    if failed:
        raise typer.Exit(1)
