"""``io.kestra.core.tasks.scripts.Node`` (removed in Kestra 0.10): see :mod:`legacy_base`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext
from kflow.tasks.scripts.legacy_base import LEGACY_PROPERTIES, LegacyScript

_KESTRA_JS = """\
// kflow's stand-in for Kestra's kestra.js: print ::{...}:: lines
function send(map) { console.log('::' + JSON.stringify(map) + '::'); }
function metric(name, type, value, tags) {
  send({metrics: [{name: name, type: type, value: value, tags: tags || {}}]});
}
module.exports = {
  outputs: function (outputs) { send({outputs: outputs}); },
  counter: function (name, value, tags) { metric(name, 'counter', value, tags); },
  timer: function (name, duration, tags) {
    if (typeof duration === 'function') {
      var start = Date.now();
      duration(function () { metric(name, 'timer', (Date.now() - start) / 1000, tags); });
    } else { metric(name, 'timer', duration, tags); }
  },
};
"""


class Node(LegacyScript):
    """``io.kestra.core.tasks.scripts.Node``: ``main.js`` (from ``inputFiles``) run by
    ``node`` after ``npm i`` when a ``package.json`` is given. Needs ``node`` on PATH."""

    type: ClassVar[str] = "io.kestra.core.tasks.scripts.Node"
    deprecated = "use io.kestra.plugin.scripts.node.Script or Commands (kflow still runs it)"
    properties: ClassVar[Mapping[str, Prop]] = {
        **LEGACY_PROPERTIES,
        "nodePath": Prop(kind="string", default="node", doc="the node program"),
        "npmPath": Prop(kind="string", default="npm", doc="the npm program"),
        "args": Prop(kind="list", doc="arguments given to main.js"),
    }
    helper_files: ClassVar[Mapping[str, str]] = {"kestra.js": _KESTRA_JS}

    @classmethod
    def required_programs(cls, spec: Any) -> tuple[str, ...]:
        node = spec.props.get("nodePath", "node")
        return (node,) if isinstance(node, str) and "{{" not in node else ()

    def script(self, ctx: RunContext, workdir: Path, extra: Mapping[str, Any],
               inputs: Mapping[str, Any], env: dict[str, str]) -> list[str]:  # fmt: skip
        if "main.js" not in inputs:
            raise TaskError(
                "Invalid input files structure, expecting inputFiles property to contain at "
                "least a main.js key with javascript code value."
            )
        node = str(self.rendered(ctx, "nodePath"))
        npm = str(self.rendered(ctx, "npmPath"))
        if shutil.which(node) is None:
            raise TaskError(f"the Node task needs the program '{node}', which is not on PATH")
        args = self.string_list(ctx, "args")
        parent = os.path.dirname(shutil.which(node) or node)
        return [
            f'PATH="$PATH:{parent}"',
            f"{npm} i > /dev/null" if "package.json" in inputs else "",
            f"{node} main.js" + (" " + " ".join(args) if args else ""),
        ]
