"""Run-time resolution: provided values and ``defaults`` typed in ``dependsOn`` order,
``expression`` and default templates rendered, errors worded as Kestra's
(``Invalid input for `x`, <reason>, but received `<raw>```), FILE inputs stored last, and
the flow's ``outputs`` typed (:func:`resolve_outputs`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kflow.errors import InputError, KflowError
from kflow.flow.inputs.types import (
    PendingFile,
    fix_hint,
    java_str,
    java_type_name,
    problem_text,
    read_as_false,
    stored_value,
    typed_value,
)
from kflow.flow.model import MISSING, InputSpec, OutputSpec
from kflow.notices import Notice
from kflow.secrets import decrypt_tree


def _accepts_inputs(render: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(render).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "inputs" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _render(render: Callable[..., Any], value: Any, inputs: Mapping[str, Any]) -> Any:
    if _accepts_inputs(render):
        return render(value, inputs=inputs)
    return render(value)


def _render_tree(render: Callable[..., Any], value: Any, inputs: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return _render(render, value, inputs)
    if isinstance(value, Mapping):
        return {k: _render_tree(render, v, inputs) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render_tree(render, v, inputs) for v in value]
    return value


@dataclass
class _State:
    enabled: bool = True
    value: Any = None
    raw: Any = None
    problem: str | None = None
    hint: str | None = None  # how to write the value, when it did not parse


def input_notices(specs: Sequence[InputSpec], provided: Mapping[str, Any]) -> list[Notice]:
    """Warnings about provided values Kestra accepts but reads otherwise than written: a
    BOOLEAN input given anything but true/false (``yes``, ``1``, ``on``) is *false*
    (``Boolean.parseBoolean``), never an error."""
    notices: list[Notice] = []
    for spec in specs:
        raw = provided.get(spec.id)
        if spec.type in ("BOOLEAN", "BOOL") and read_as_false(raw):
            notices.append(
                Notice(
                    f"input `{spec.id}` is BOOLEAN and {raw!r} is neither true nor false: "
                    "Kestra reads it as false",
                    hint=f"give {spec.id}=true or {spec.id}=false",
                    code="boolean-input",
                )
            )
    return notices


def resolve_inputs(
    specs: Sequence[InputSpec],
    provided: Mapping[str, Any],
    *,
    render: Callable[..., Any] | None = None,
    store_file: Callable[[str, Path], str] | None = None,
) -> dict[str, Any]:
    """Type, check and store the inputs of a new execution, as Kestra does before creating it.

    Follows ``FlowInputOutput.resolveInputs``: declaration order with ``dependsOn`` inputs
    first, provided value else ``defaults`` (rendered when ``render`` is given, as in 1.x),
    required check, parse, validate; dotted ids become nested maps. Every problem is
    collected and raised together as one :class:`InputError`; FILE inputs are uploaded with
    ``store_file`` only once everything is valid. ``render(value)`` renders a template; if it
    accepts an ``inputs=`` keyword it also receives the dependencies' values, which
    ``dependsOn.condition`` and ``defaults`` expressions may use.
    """
    specs = list(specs)
    by_id: dict[str, InputSpec] = {}
    for spec in specs:
        by_id.setdefault(spec.id, spec)
    states: dict[str, _State] = {}
    busy: set[str] = set()

    def resolve(spec: InputSpec) -> _State:
        if spec.id in states:
            return states[spec.id]
        busy.add(spec.id)
        state = _resolve_one(spec, provided, render, deps_of(spec))
        if store_file is None and state.problem is None and _has_pending(state.value):
            reason = "a local file needs a storage to be uploaded to (no store_file given)"
            state.problem = problem_text("input", spec.id, reason, spec.type, state.raw)
        busy.discard(spec.id)
        states[spec.id] = state
        return state

    def deps_of(spec: InputSpec) -> dict[str, _State]:
        depends = spec.props.get("dependsOn")
        ids = depends.get("inputs") if isinstance(depends, Mapping) else None
        # Unknown ids are ignored, as Kestra does; a cycle (refused at load) is cut here.
        return {
            d: resolve(by_id[d])
            for d in ids or []
            if isinstance(d, str) and d != spec.id and d in by_id and d not in busy
        }

    for spec in by_id.values():
        resolve(spec)

    enabled = {i: states[i] for i in by_id if states[i].enabled}  # declaration order
    problems = [s.problem for s in enabled.values() if s.problem]
    nested, conflicts = _nest({i: s.value for i, s in enabled.items()})
    problems += conflicts
    if problems:
        hints = [s.hint for s in enabled.values() if s.problem and s.hint]
        raise _input_error(
            "input", problems, [by_id[i] for i, s in enabled.items() if s.problem], hints
        )
    # Only now: encrypt SECRETs, then upload files (nothing is stored for a refused run).
    result: dict[str, Any] = _store_files(_stored_tree(nested), "", store_file)
    return result


def _resolve_one(
    spec: InputSpec,
    provided: Mapping[str, Any],
    render: Callable[..., Any] | None,
    deps: Mapping[str, _State],
) -> _State:
    depends = spec.props.get("dependsOn")
    condition = depends.get("condition") if isinstance(depends, Mapping) else None
    context, _ = _nest({i: _context_value(s) for i, s in deps.items() if s.enabled})
    if not all(s.enabled for s in deps.values()):
        return _State(enabled=False)
    if isinstance(condition, str) and render is not None:
        try:
            result = _render(render, condition, context)
        except KflowError:
            # Kestra records the error but drops it with the disabled input.
            return _State(enabled=False)
        if not (result is True or (isinstance(result, str) and result.strip().lower() == "true")):
            return _State(enabled=False)

    props = dict(spec.props)
    expression = props.get("expression")
    if spec.type in ("SELECT", "MULTISELECT") and isinstance(expression, str):
        values, problem = _expression_values(spec.id, expression, render, context)
        if problem:
            return _State(problem=problem)
        props["values"] = values
        props.pop("options", None)

    raw = provided.get(spec.id)
    if raw is None and spec.defaults is not MISSING and spec.defaults is not None:
        raw = spec.defaults
        if render is not None:
            try:
                raw = _render_tree(render, raw, context)
            except KflowError as exc:
                reason = f"unable to render `defaults`: {exc.message}"
                return _State(
                    raw=spec.defaults,
                    problem=problem_text("input", spec.id, reason, spec.type, spec.defaults),
                )
    if raw is None:
        if spec.required:
            return _State(
                problem=problem_text("input", spec.id, "missing required input", spec.type, None)
            )
        return _State(value=None)
    value, problem = typed_value(
        "input", spec.id, spec.type, props, raw, spec.required, validate=True, store=True
    )
    hint = fix_hint(spec.id, spec.type, raw, props) if problem else None
    return _State(value=value, raw=raw, problem=problem, hint=hint)


def _has_pending(value: Any) -> bool:
    if isinstance(value, PendingFile):
        return True
    return isinstance(value, list) and any(_has_pending(v) for v in value)


def _stored_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stored_tree(v) for k, v in value.items()}
    return stored_value(value)


def _context_value(state: _State) -> Any:
    if state.problem:
        return state.raw
    return stored_value(state.value, plain=True)


def _expression_values(
    id_: str, expression: str, render: Callable[..., Any] | None, context: Mapping[str, Any]
) -> tuple[list[str], str | None]:
    """``SelectInput.render``: the ``expression`` must give a list (its items as texts)."""
    if render is None:
        return [], f"Invalid input for `{id_}`, Cannot render 'expression'. Cause: no renderer"
    try:
        result = _render(render, expression, context)
    except KflowError as exc:
        return [], f"Invalid input for `{id_}`, Cannot render 'expression'. Cause: {exc.message}"
    if isinstance(result, str) and result.lstrip().startswith("["):
        try:  # a renderer that only returns text: the list comes back as JSON
            result = json.loads(result)
        except ValueError:
            pass
    if not isinstance(result, (list, tuple)):
        reason = f"Expected a list of strings, but received {java_type_name(result)}"
        return [], f"Invalid input for `{id_}`, Invalid expression result. {reason}"
    return [java_str(v) for v in result if v is not None], None


def _nest(flat: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``MapUtils.flattenToNestedMap``: ``a.b`` → ``{"a": {"b": ...}}``, keys sorted."""
    result: dict[str, Any] = {}
    made: set[int] = {id(result)}
    problems: list[str] = []
    for key in sorted(flat):
        parts = key.split(".")
        current = result
        for n, part in enumerate(parts[:-1]):
            if part not in current:
                current[part] = {}
                made.add(id(current[part]))
            elif id(current[part]) not in made:
                prefix = ".".join(parts[: n + 1])
                problems.append(f"Invalid input for `{key}`, Conflict at key: '{prefix}'")
                break
            current = current[part]
        else:
            if parts[-1] in current:
                problems.append(f"Invalid input for `{key}`, Conflict at key: '{parts[-1]}'")
            else:
                current[parts[-1]] = flat[key]
    return result, problems


def _store_files(value: Any, input_id: str, store_file: Callable[[str, Path], str] | None) -> Any:
    if isinstance(value, PendingFile):
        assert store_file is not None  # refused earlier without a storage
        return store_file(input_id, value.path)
    if isinstance(value, dict):
        return {
            k: _store_files(v, f"{input_id}.{k}" if input_id else k, store_file)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_store_files(v, input_id, store_file) for v in value]
    return value


def _input_error(
    kind: str, problems: list[str], specs: Sequence[Any], hints: Sequence[str] = ()
) -> InputError:
    if len(problems) == 1:
        message = problems[0]
    else:
        message = f"{len(problems)} invalid {kind}s: " + "; ".join(problems)
    parts = list(hints)
    if any("missing required input" in p for p in problems):
        parts.append("give a value with -i ID=VALUE (or declare `defaults:` in the flow)")
    hint = "; ".join(parts) or None
    loc = specs[0].location if len(problems) == 1 and len(specs) == 1 else None
    return InputError(
        message,
        problems=problems,
        hint=hint,
        path=loc.path if loc else None,
        line=loc.line if loc else None,
        column=loc.column if loc else None,
    )


def input_context(values: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as expressions see them (RunVariables): SECRETs decrypted, the rest as stored."""
    result: dict[str, Any] = decrypt_tree(dict(values))
    return result


def resolve_outputs(specs: Sequence[OutputSpec], rendered: Mapping[str, Any]) -> dict[str, Any]:
    """Type the rendered flow outputs (``FlowInputOutput.typedOutputs``).

    Each value goes through the same parsing as an input (no min/max: outputs have no such
    rules); SECRET becomes the encrypted value; an optional output left null stays null.
    Every failure is collected into one :class:`InputError` (Kestra then fails the run).
    """
    result: dict[str, Any] = {}
    problems: list[str] = []
    bad: list[OutputSpec] = []
    for spec in specs:
        raw = rendered.get(spec.id)
        if raw is None:
            if spec.required:
                problems.append(
                    problem_text("output", spec.id, "missing required output", spec.type, None)
                )
                bad.append(spec)
            else:
                result[spec.id] = None
            continue
        value, problem = typed_value(
            "output",
            spec.id,
            spec.type,
            spec.props,
            raw,
            spec.required,
            validate=False,
            store=False,
        )
        if problem:
            problems.append(problem)
            bad.append(spec)
        else:
            result[spec.id] = stored_value(value)
    if problems:
        raise _input_error("output", problems, bad)
    return result
