"""What reaches a terminal is safe, and ``--json`` is JSON (issue: hardening, item 6).

A value, a log line or an iteration value may hold control characters (a flow can output
anything): every table, tree and log view shows them escaped, so an output cannot clear
the screen or set the window title. ``--json`` writes NaN and infinities as Kestra's
Jackson does, as strings, never as bare ``NaN`` that JSON parsers refuse.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kflow.cli.jsonout import dumps
from kflow.cli.render import safe

HOSTILE_FLOW = r'''id: hostile
namespace: company.team
tasks:
  - id: loop
    type: io.kestra.plugin.core.flow.ForEach
    values: ["v\e[2J"]
    tasks:
      - id: inner
        type: io.kestra.plugin.core.debug.Return
        format: "x"
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "a\e]0;pwned\ab\e[2Jc\rd"
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "log \e[31mred\e[0m \x9b"
'''

NAN_FLOW = """id: nan
namespace: company.team
outputs:
  - id: out
    type: JSON
    value: "{{ outputs.sh.vars }}"
tasks:
  - id: sh
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - echo '::{"outputs":{"x":NaN,"y":Infinity,"z":-Infinity,"w":[1.5]}}::'
"""


def kflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kflow", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_safe_escapes_control_characters_and_keeps_newlines() -> None:
    assert safe("a\x1b]0;t\x07b\r\nc\td\x9b\x7f") == "a\\x1b]0;t\\x07b\\r\nc\td\\x9b\\x7f"
    assert safe("plain text, é and 漢字") == "plain text, é and 漢字"


def test_views_escape_control_characters(tmp_path: Path) -> None:
    (tmp_path / "flow.yml").write_text(HOSTILE_FLOW, encoding="utf-8")
    views = [
        kflow("run", "flow.yml", cwd=tmp_path),
        kflow("outputs", "last", cwd=tmp_path),
        kflow("outputs", "last", "--task", "ret", cwd=tmp_path),
        kflow("logs", "last", cwd=tmp_path),
    ]
    for proc in views:
        assert proc.returncode == 0, proc.stderr
        assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout, proc.args
        assert "\r" not in proc.stdout and "\x9b" not in proc.stdout, proc.args
    run, outputs, _, logs = views
    assert "\\x1b[2J" in run.stdout  # the value and the loop's iteration value, escaped
    assert "a\\x1b]0;pwned\\x07b" in outputs.stdout
    assert "v\\x1b[2J" in outputs.stdout
    assert "log \\x1b[31mred\\x1b[0m \\x9b" in logs.stdout
    # the data itself is untouched: --json and eval give what the task produced
    doc = json.loads(kflow("outputs", "last", "--json", cwd=tmp_path).stdout)
    ret = next(r for r in doc["taskRuns"] if r["taskId"] == "ret")
    assert ret["outputs"]["value"] == "a\x1b]0;pwned\x07b\x1b[2Jc\rd"


def test_json_never_prints_bare_nan(tmp_path: Path) -> None:
    (tmp_path / "flow.yml").write_text(NAN_FLOW, encoding="utf-8")
    run = kflow("run", "flow.yml", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for text in (run.stdout, kflow("outputs", "last", "--json", cwd=tmp_path).stdout):

        def strict(token: str) -> None:
            raise AssertionError(f"bare {token} in --json output")

        doc = json.loads(text, parse_constant=strict)
        assert '"x": "NaN", "y": "Infinity", "z": "-Infinity", "w": [1.5]' in json.dumps(doc)


def test_dumps_writes_non_finite_numbers_as_jackson_does() -> None:
    doc = {"a": float("nan"), "b": [float("inf"), -float("inf"), 1.0], "c": "NaN"}
    assert dumps(doc) == '{"a": "NaN", "b": ["Infinity", "-Infinity", 1.0], "c": "NaN"}'
    assert dumps({"k": 1}) == '{"k": 1}'


def test_error_messages_and_warnings_escape_control_characters(tmp_path: Path) -> None:
    (tmp_path / "flow.yml").write_text(
        "id: typed\nnamespace: company.team\ninputs:\n  - id: age\n    type: INT\n"
        "tasks:\n  - id: r\n    type: io.kestra.plugin.core.debug.Return\n"
        "    format: '{{ inputs.age }}'\n",
        encoding="utf-8",
    )
    refused = kflow("run", "flow.yml", "-i", "age=\x1b]0;pwned\x07", cwd=tmp_path)
    assert refused.returncode == 2
    assert "\x1b" not in refused.stderr and "\x07" not in refused.stderr
    assert "\\x1b]0;pwned\\x07" in refused.stderr
    warned = kflow("run", "flow.yml", "-i", "age=1", "-i", "n\x1b[2Jme=x", "--json", cwd=tmp_path)
    assert warned.returncode == 0, warned.stderr
    assert "\x1b" not in warned.stderr and "n\\x1b[2Jme" in warned.stderr
