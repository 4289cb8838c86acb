"""``io.kestra.plugin.scripts.python.Script``: an inline Python script."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.tasks.base import Prop, RunContext, as_text
from kflow.tasks.scripts.files import StorageLocalizer, temp_file
from kflow.tasks.scripts.python_base import PYTHON_PROPERTIES, PythonTask

# Pebble prints booleans and nulls as JSON (`true`, `null`); these names let a rendered
# literal such as `data = {{ outputs.api.body }}` run as Python (as Kestra 2026 does).
JSON_LITERALS = "true, false, null = True, False, None\n"
_FUTURE_IMPORT = re.compile(r"^from\s+__future__\s+import\b.*$", re.MULTILINE)


def with_json_literals(script: str) -> str:
    """``script`` with the JSON literal names defined, after any ``__future__`` import."""
    matches = list(_FUTURE_IMPORT.finditer(script))
    if not matches:
        return JSON_LITERALS + script
    end = matches[-1].end()
    return script[:end] + "\n" + JSON_LITERALS + script[end:].lstrip("\n")


class PythonScript(PythonTask):
    """Write the rendered ``script`` to ``<random>.py`` in the working dir and run it with
    the virtualenv's ``python``."""

    type: ClassVar[str] = "io.kestra.plugin.scripts.python.Script"
    properties: ClassVar[Mapping[str, Prop]] = {
        **PYTHON_PROPERTIES,
        "script": Prop(required=True, kind="string", doc="The Python script"),
    }

    def main_commands(
        self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any], localize: StorageLocalizer
    ) -> list[str]:
        rendered = self.rendered(ctx, "script", **extra)
        script = localize("" if rendered is None else as_text(rendered))
        path = temp_file(workdir, ".py")
        path.write_text(with_json_literals(script), encoding="utf-8")
        return [f"python {shlex.quote(str(path))}"]
