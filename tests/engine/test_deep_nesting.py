"""Extreme flows: deep nesting runs as in Kestra, absurd durations get a clear message.

Both used to end in "internal error" (exit 3): a RecursionError for 400 nested
Sequential tasks, an OverflowError for ``Sleep`` of ``PT99999999999999999999S``.
"""

from __future__ import annotations

import json
import threading

import pytest

from tests.conftest import kflow_cli


def _nested(depth: int) -> str:
    """A flow of ``depth`` Sequential tasks, each inside the previous one, then a leaf."""
    lines = ["id: deep", "namespace: company.team", "tasks:"]
    indent = "  "
    for level in range(depth):
        lines += [
            f"{indent}- id: level{level}",
            f"{indent}  type: io.kestra.plugin.core.flow.Sequential",
            f"{indent}  tasks:",
        ]
        indent += "    "
    lines += [
        f"{indent}- id: leaf",
        f"{indent}  type: io.kestra.plugin.core.debug.Return",
        f'{indent}  format: "{{{{ task.id }}}} ran"',
    ]
    return "\n".join(lines) + "\n"


def test_400_nested_sequential_validate_and_run(write_flow):
    path = write_flow(_nested(400))
    checked = kflow_cli("validate", str(path))
    assert checked.returncode == 0, checked.stderr
    assert "401 tasks" in checked.stdout
    done = kflow_cli("run", str(path), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["state"]["current"] == "SUCCESS"
    runs = doc["taskRunList"]
    assert len(runs) == 401
    assert {tr["state"]["current"] for tr in runs} == {"SUCCESS"}
    leaf = next(tr for tr in runs if tr["taskId"] == "leaf")
    assert leaf["outputs"] == {"value": "leaf ran"}


def test_deep_nesting_with_the_live_view(write_flow):
    """The plain-text live view and the summary (tree walks) cope as well."""
    done = kflow_cli("run", str(write_flow(_nested(400))))
    assert done.returncode == 0, done.stderr
    assert "leaf SUCCESS" in done.stdout
    assert "internal error" not in done.stderr


def test_deep_nesting_in_process(write_flow):
    """The library raises the recursion limit itself (``kflow.run_flow``), on the main
    thread as on any other."""
    from kflow.api import load_flow, run_flow
    from kflow.engine.executor import allow_deep_flows

    allow_deep_flows()  # as the CLI does before loading: the YAML loader recurses too
    flow = load_flow(write_flow(_nested(400)))
    assert run_flow(flow).state.current.value == "SUCCESS"
    result = []
    worker = threading.Thread(target=lambda: result.append(run_flow(flow)))
    worker.start()
    worker.join()
    assert result[0].state.current.value == "SUCCESS"


SLEEP = """
id: sleepy
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: {duration}
"""


@pytest.mark.parametrize("command", ["validate", "run"])
def test_absurd_literal_sleep_is_an_invalid_flow(write_flow, command):
    path = write_flow(SLEEP.format(duration="PT99999999999999999999S"))
    done = kflow_cli(command, str(path))
    assert done.returncode == 2, done.stderr
    assert "flow.yml:6" in done.stderr
    assert "'PT99999999999999999999S' is out of range" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


def test_absurd_rendered_sleep_fails_the_task(write_flow):
    path = write_flow(SLEEP.format(duration="\"{{ 'PT' ~ '99999999999999999999' ~ 'S' }}\""))
    done = kflow_cli("run", str(path), "--json")
    assert done.returncode == 1, done.stderr
    (run,) = json.loads(done.stdout)["taskRunList"]
    assert run["state"]["current"] == "FAILED"
    logs = kflow_cli("logs", "last").stdout
    assert "'PT99999999999999999999S' is out of range" in logs


def test_huge_timeout_and_retry_interval_do_not_crash(run_yaml):
    """Past Python's longest wait (~292 years) a timeout simply never fires."""
    execution = run_yaml("""
        id: patient
        namespace: company.team
        tasks:
          - id: quick
            type: io.kestra.plugin.core.flow.Sleep
            duration: PT0.01S
            timeout: "{{ 'PT9999999999999999S' }}"
        """)
    assert execution.state.current.value == "SUCCESS"
