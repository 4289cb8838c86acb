"""``taskCache: {enabled, ttl}``: a runnable task's outputs reused while the entry lasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kflow.engine import taskcache
from kflow.flow.validate import parse_flow
from kflow.states import State

FLOW = """
id: cached
namespace: n
inputs:
  - {id: name, type: STRING, defaults: a}
tasks:
  - id: slow
    type: io.kestra.plugin.scripts.shell.Commands
    taskCache: {enabled: true, ttl: PT1H}
    env:
      NAME: "{{ inputs.name }}"
    commands:
      - |
        printf '::{"outputs": {"n": %s, "name": "%s"}}::\\n' "$(date +%s%N)" "$NAME"
"""


def _outputs(ex):
    (run,) = [tr for tr in ex.task_runs if tr.task_id == "slow"]
    return run.outputs["vars"]


def test_outputs_are_reused_for_the_same_rendered_properties(run_yaml):
    first = _outputs(run_yaml(FLOW))
    assert isinstance(first["n"], int) and first["name"] == "a"
    assert _outputs(run_yaml(FLOW)) == first  # taken from the cache: same time stamp
    other = _outputs(run_yaml(FLOW, {"name": "b"}))
    assert other["name"] == "b"  # another input reaching the properties: another entry
    assert _outputs(run_yaml(FLOW.replace("enabled: true", "enabled: false")))["name"] == "a"


def test_entries_expire(kflow_home):
    settings = taskcache.CacheSettings(ttl=60)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    taskcache.store(kflow_home, "k", settings, State.SUCCESS, {"x": 1}, now=now)
    assert taskcache.lookup(kflow_home, "k", now=now + timedelta(seconds=59)) == (
        State.SUCCESS,
        {"x": 1},
    )
    assert taskcache.lookup(kflow_home, "k", now=now + timedelta(seconds=61)) is None
    assert taskcache.lookup(kflow_home, "k", now=now) is None  # removed when found expired


@pytest.mark.parametrize(
    ("cache", "message"),
    [
        ("{enabled: yes please}", "task 't': 'taskCache.enabled' must be true or false"),
        ("{enabled: true, ttl: 1h}", "task 't' taskCache: 'ttl' '1h'"),
        (
            "{enabled: true, size: 3}",
            "task 't': unknown 'taskCache' property 'size' (enabled, ttl)",
        ),
    ],
)
def test_task_cache_is_checked(cache, message):
    with pytest.raises(Exception) as info:
        parse_flow(f"id: f\nnamespace: n\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n"
                   f"    message: hi\n    taskCache: {cache}\n")  # fmt: skip
    assert message in str(info.value)


def test_task_cache_on_a_flowable_is_refused():
    with pytest.raises(
        Exception, match="'taskCache' on a flowable task .* is not supported by kflow"
    ):
        parse_flow(
            "id: f\nnamespace: n\ntasks:\n  - id: s\n    type: io.kestra.plugin.core.flow.Sequential\n"
            "    taskCache: {enabled: true}\n    tasks:\n      - {id: l, type: io.kestra.plugin.core.log.Log, message: x}\n"
        )
