"""Load-time checks of input and output declarations: keys, types, ids, ``dependsOn``
cycles, declared ``min``/``max``/``values`` and defaults. They return messages
(``kflow validate`` prints them with their line) and resolve nothing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kflow.flow.inputs.types import (
    INPUT_TYPES,
    ArgError,
    ParseError,
    declared_value,
    fix_hint,
    java_str,
    parse_value,
    typed_value,
)
from kflow.flow.model import MISSING, InputSpec, OutputSpec
from kflow.java.exceptions import DateTimeParseError
from kflow.java.regex import java_regex

ID_RE = re.compile(r"[a-zA-Z0-9][.a-zA-Z0-9_-]*")


_COMMON_KEYS = frozenset(
    {"id", "name", "type", "description", "dependsOn", "required", "defaults", "prefill",
     "displayName"}
)  # fmt: skip


_TYPE_KEYS: dict[str, frozenset[str]] = {
    "STRING": frozenset({"validator"}),
    "SECRET": frozenset({"validator"}),
    "INT": frozenset({"min", "max"}),
    "FLOAT": frozenset({"min", "max"}),
    "DURATION": frozenset({"min", "max"}),
    "DATE": frozenset({"after", "before"}),
    "TIME": frozenset({"after", "before"}),
    "DATETIME": frozenset({"after", "before"}),
    "FILE": frozenset({"extension", "allowedFileExtensions"}),
    "ENUM": frozenset({"values"}),
    "SELECT": frozenset({"values", "expression", "allowCustomValue", "isRadio", "autoSelectFirst"}),
    "MULTISELECT": frozenset(
        {"values", "options", "expression", "itemType", "allowCustomValue", "autoSelectFirst"}
    ),
    "ARRAY": frozenset({"itemType"}),
}


_OUTPUT_KEYS = frozenset({"id", "type", "value", "description", "displayName", "required"})


def _close(name: str, candidates: Sequence[str]) -> str:
    upper = [c for c in candidates if c.lower() == name.lower()]
    matches = upper or difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(m) for m in matches)}?)" if matches else ""


def _type_problem(what: str, type_: Any) -> str:
    return f"{what}: unknown type {java_str(type_)!r}{_close(java_str(type_), sorted(INPUT_TYPES))}"


def _is_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_is_template(k) or _is_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_is_template(v) for v in value)
    return False


def check_input_spec(spec: InputSpec) -> list[str]:
    """Load-time problems of one input declaration, as Kestra refuses them when saving a flow.

    Kestra fails deserialisation on unknown keys or bad property types, and its validators
    add the ARRAY/FILE rules; kflow reports all of them at once, each naming the input.
    """
    where = f"input {spec.id!r}"
    if spec.type not in INPUT_TYPES:
        return [_type_problem(where, spec.type)]
    problems: list[str] = []
    props = spec.props
    allowed = _COMMON_KEYS | _TYPE_KEYS.get(spec.type, frozenset())
    for key in props:
        if key not in allowed:
            hint = _close(str(key), sorted(allowed))
            problems.append(f"{where}: unknown property {key!r} for type {spec.type}{hint}")
    if "required" in props and not isinstance(props["required"], bool):
        problems.append(f"{where}: 'required' must be true or false")
    name = props.get("displayName")
    if name is not None and (not isinstance(name, str) or len(name) > 64):
        problems.append(f"{where}: 'displayName' must be a text of at most 64 characters")
    problems += _check_depends_on(where, props.get("dependsOn"))

    for key in ("min", "max", "after", "before"):
        if key in props and key in _TYPE_KEYS.get(spec.type, frozenset()):
            try:
                declared_value(spec.type, key, props[key])
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
    if "validator" in props and spec.type in ("STRING", "SECRET"):
        validator = props["validator"]
        if not isinstance(validator, str):
            problems.append(f"{where}: 'validator' must be a regular expression text")
        else:
            try:
                java_regex(validator)
            except re.error as exc:
                problems.append(f"{where}: invalid 'validator' regex `{validator}`: {exc}")
    problems += _check_choices(where, spec.type, props)
    if spec.type == "ARRAY":
        item = props.get("itemType")
        if item is None:
            problems.append(
                f"{where}: 'itemType' is required for inputs of type ARRAY (e.g. itemType: STRING)"
            )
        elif item == "ARRAY":
            problems.append(f"{where}: `itemType` cannot be `ARRAY`")
        elif item not in INPUT_TYPES:
            problems.append(_type_problem(f"{where}: itemType", item))
    for key in ("allowCustomValue", "isRadio", "autoSelectFirst"):
        if key in props and key in allowed and not isinstance(props[key], bool):
            problems.append(f"{where}: {key!r} must be true or false")
    if spec.type == "FILE" and spec.defaults is not MISSING:
        problems.append(f"{where}: no `defaults` can be set for inputs of type 'FILE'")
    elif (
        spec.defaults is not MISSING
        and spec.defaults is not None
        and spec.type != "SECRET"
        and not _is_template(spec.defaults)
    ):
        try:
            parse_value(spec.type, spec.defaults, props, store=False)
        except (ArgError, ParseError, DateTimeParseError) as exc:
            problems.append(f"{where}: invalid `defaults` for type {spec.type}: {exc}")
    return problems


def _check_depends_on(where: str, depends: Any) -> list[str]:
    if depends is None:
        return []
    if not isinstance(depends, Mapping):
        return [f"{where}: 'dependsOn' must be a mapping with 'inputs' and/or 'condition'"]
    keys = ["inputs", "condition"]
    problems = [
        f"{where}: unknown property {key!r} in 'dependsOn'{_close(str(key), keys)}"
        for key in depends
        if key not in keys
    ]
    inputs = depends.get("inputs")
    if inputs is not None and (
        not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs)
    ):
        problems.append(f"{where}: 'dependsOn.inputs' must be a list of input ids")
    if depends.get("condition") is not None and not isinstance(depends["condition"], str):
        problems.append(f"{where}: 'dependsOn.condition' must be an expression text")
    return problems


def _check_choices(where: str, type_: str, props: Mapping[str, Any]) -> list[str]:
    if type_ not in ("ENUM", "SELECT", "MULTISELECT"):
        return []
    problems: list[str] = []
    for key in ("values", "options"):
        if key in props and not (
            isinstance(props[key], list)
            and all(not isinstance(v, (list, Mapping)) and v is not None for v in props[key])
        ):
            problems.append(f"{where}: {key!r} must be a list of texts")
    if "expression" in props and not isinstance(props["expression"], str):
        problems.append(f"{where}: 'expression' must be an expression text")
    has_values = "values" in props or (type_ == "MULTISELECT" and "options" in props)
    if type_ == "ENUM" and "values" not in props:
        problems.append(f"{where}: 'values' is required for inputs of type ENUM")
    elif type_ != "ENUM" and not has_values and "expression" not in props:
        problems.append(
            f"{where}: 'values' (or 'expression') is required for inputs of type {type_}"
        )
    if type_ == "MULTISELECT":
        if "values" in props and "options" in props:
            problems.append(f"{where}: you can't define both `values` and `options`")
        item = props.get("itemType")
        if item in ("ARRAY", "MULTISELECT"):
            problems.append(f"{where}: `itemType` cannot be `ARRAY` nor `MULTISELECT`")
        elif item is not None and item not in INPUT_TYPES:
            problems.append(_type_problem(f"{where}: itemType", item))
    return problems


def check_output_spec(spec: OutputSpec) -> list[str]:
    """Load-time problems of one flow output declaration (``Output.java``)."""
    where = f"flow output {spec.id!r}"
    problems: list[str] = []
    if not ID_RE.fullmatch(spec.id):
        problems.append(f"{where}: the id must match ^[a-zA-Z0-9][.a-zA-Z0-9_-]*")
    if spec.type not in INPUT_TYPES:
        problems.append(_type_problem(where, spec.type))
    for key in spec.props:
        if key not in _OUTPUT_KEYS:
            problems.append(
                f"{where}: unknown property {key!r}{_close(str(key), sorted(_OUTPUT_KEYS))}"
            )
    if "required" in spec.props and not isinstance(spec.props["required"], bool):
        problems.append(f"{where}: 'required' must be true or false")
    return problems


def _has_template(value: Any) -> bool:
    """Whether Pebble would find a tag in ``value`` (``{bad`` renders as itself)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value or "{#" in value
    if isinstance(value, Mapping):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_template(v) for v in value)
    return False


def check_output_value(spec: OutputSpec) -> tuple[str, str | None] | None:
    """A flow output whose ``value`` is a literal (no template) that its ``type`` refuses
    (``type: INT`` with ``value: abc``): (Kestra's message, a hint), found at load instead
    of failing the run once every task is done. Templates are typed after the run; FILE
    values need the run's storage; a null value is the run's business (``required``)."""
    value = spec.value
    if value is None or spec.type not in INPUT_TYPES or spec.type == "FILE":
        return None
    if _has_template(value):
        return None
    _, problem = typed_value(
        "output", spec.id, spec.type, spec.props, value, spec.required,
        validate=False, store=False,
    )  # fmt: skip
    if problem is None:
        return None
    hint = fix_hint(spec.id, spec.type, value, spec.props)
    return problem, hint.replace(" input ", " output ") if hint else None


def check_input_ids(specs: Sequence[InputSpec]) -> list[str]:
    """Problems across the input list: duplicates, bad ids, dotted-id clashes, dependsOn.

    Mirrors ``FlowValidator`` (duplicates, unknown dependencies, cycles) and the id
    ``@Pattern``; a dotted id nests (``a.b`` → ``inputs.a.b``), so ``a`` and ``a.b`` cannot
    both exist (``MapUtils.flattenToNestedMap`` would fail at run time).
    """
    specs = list(specs)
    ids = [s.id for s in specs]
    problems: list[str] = []
    dupes = list(dict.fromkeys(i for i in ids if ids.count(i) > 1))
    if dupes:
        problems.append(f"Duplicate input with name [{', '.join(dupes)}]")
    known = set(ids)
    for iid in dict.fromkeys(ids):
        if not ID_RE.fullmatch(iid):
            problems.append(f"input {iid!r}: the id must match ^[a-zA-Z0-9][.a-zA-Z0-9_-]*")
        elif "" in iid.split("."):
            problems.append(f"input {iid!r}: a dotted id cannot have an empty part")
        parts = iid.split(".")
        for n in range(1, len(parts)):
            prefix = ".".join(parts[:n])
            if prefix in known:
                problems.append(
                    f"input {iid!r} conflicts with input {prefix!r}: '{prefix}' cannot be both "
                    f"a value and the parent of '{iid}'"
                )
    graph: dict[str, list[str]] = {}
    for spec in specs:
        deps = spec.props.get("dependsOn")
        deps = deps.get("inputs") if isinstance(deps, Mapping) else None
        graph.setdefault(spec.id, []).extend(d for d in deps or [] if isinstance(d, str))
    for key, deps in graph.items():
        for dep in deps:
            if dep not in graph:
                problems.append(f"Input with id '{key}' depends on a non-existent input '{dep}'.")
        cycle = _find_cycle(key, graph, set(), set(), [])
        if cycle:
            problems.append(
                f"Cycle dependency detected for input with id '{key}': [{', '.join(cycle)}]"
            )
    return problems


def _find_cycle(
    node: str,
    graph: Mapping[str, list[str]],
    visiting: set[str],
    visited: set[str],
    path: list[str],
) -> list[str] | None:
    if node in visiting:
        return path[path.index(node) :]
    if node in visited:
        return None
    visiting.add(node)
    path.append(node)
    for dep in graph.get(node, []):
        cycle = _find_cycle(dep, graph, visiting, visited, path)
        if cycle:
            return cycle
    visiting.discard(node)
    visited.add(node)
    path.pop()
    return None
