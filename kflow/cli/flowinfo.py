"""``kflow inputs FLOW``: what a flow asks for, before running it.

A user who gets a flow from a colleague wants its inputs (ids, types, defaults, allowed
values) without reading the YAML; Kestra shows the same in its Execute dialog.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# A SECRET input's default is a secret written in the flow file: never echoed.
MASK = "******"
_CHOICES = ("ENUM", "SELECT", "MULTISELECT")


def describe_inputs(flow: Any) -> list[dict[str, Any]]:
    """One dict per declared input, in flow order, with Kestra's key names (``defaults``
    absent when the input has none; ``values`` only for ENUM, SELECT and MULTISELECT)."""
    from kflow.flow.model import MISSING

    rows = []
    for spec in flow.inputs:
        row: dict[str, Any] = {"id": spec.id, "type": spec.type, "required": spec.required}
        if spec.defaults is not MISSING:
            row["defaults"] = MASK if spec.type == "SECRET" else spec.defaults
        row["description"] = spec.description
        if spec.type in _CHOICES:
            values = spec.props.get("values", spec.props.get("options"))
            if values is None and "expression" in spec.props:
                values = spec.props["expression"]
            row["values"] = values
        rows.append(row)
    return rows


def inputs_command(flow_path: Path, as_json: bool) -> None:
    from kflow.api import load_flow

    flow = load_flow(flow_path)
    rows = describe_inputs(flow)
    if as_json:
        from kflow.cli.jsonout import dumps

        sys.stdout.write(dumps(rows) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    from kflow.cli.render import console, cut, show_value

    out = console()
    if not rows:
        out.print(Text(f"flow {flow.namespace}.{flow.id} declares no inputs"))
        return
    table = Table(title=Text(f"inputs of {flow.namespace}.{flow.id}"), title_justify="left")
    for col in ("id", "type", "required", "default", "description"):
        table.add_column(col)
    for row in rows:
        type_ = row["type"]
        if "values" in row:
            values = row["values"]
            shown = ", ".join(map(show_value, values)) if isinstance(values, list) else values
            type_ += f" ({shown})"
        table.add_row(
            Text(cut(row["id"])),
            Text(cut(type_)),
            "yes" if row["required"] else "no",
            Text(cut(show_value(row["defaults"]), 60)) if "defaults" in row else "",
            Text(cut(row["description"] or "")),
        )
    out.print(table)
    example = " ".join(_example(row) for row in rows if row["required"] and "defaults" not in row)
    if example:
        out.print(Text(f"run it: kflow run {flow_path} {example}", style="dim"))


def _example(row: dict[str, Any]) -> str:
    if row["type"] == "FILE":
        return f"-i {row['id']}=@PATH"
    return f"-i {row['id']}=VALUE"
