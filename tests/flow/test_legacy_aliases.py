"""Kestra's legacy type names: every one is run as its current type or refused by name.

The table below is derived from Kestra's source (kestra-io/kestra):

- commit 58c1ca2d (2024-12-20): every ``@Plugin(aliases = ...)`` of a task class under
  ``core/src/main/java/io/kestra/plugin/core/`` (``git grep 'aliases *='``; the condition and
  trigger aliases are not task types and are left out);
- commit a31310850^ (2024-05-16, "move plugin classes to a dedicated package"): the task
  classes of ``io.kestra.core.tasks.*`` before the move, which a 0.15/0.16 flow may name
  even where no alias was kept (``executions.Resume``, ``outputs.OutputValues``,
  ``flows.WaitFor``);
- ``core/src/main/java/io/kestra/plugin/core/flow/LoopUntil.java`` (2025):
  ``aliases = "io.kestra.plugin.core.flow.WaitFor"``.
"""

from __future__ import annotations

import pytest

from kflow.errors import FlowValidationError
from kflow.flow.validate import parse_flow
from kflow.tasks import registry

KESTRA_LEGACY_NAMES: dict[str, str] = {
    "io.kestra.core.tasks.debugs.Echo": "io.kestra.plugin.core.debug.Echo",
    "io.kestra.core.tasks.debugs.Return": "io.kestra.plugin.core.debug.Return",
    "io.kestra.core.tasks.executions.Counts": "io.kestra.plugin.core.execution.Count",
    "io.kestra.core.tasks.executions.Fail": "io.kestra.plugin.core.execution.Fail",
    "io.kestra.core.tasks.executions.Labels": "io.kestra.plugin.core.execution.Labels",
    "io.kestra.core.tasks.executions.Resume": "io.kestra.plugin.core.execution.Resume",
    "io.kestra.core.tasks.flows.AllowFailure": "io.kestra.plugin.core.flow.AllowFailure",
    "io.kestra.core.tasks.flows.Dag": "io.kestra.plugin.core.flow.Dag",
    "io.kestra.core.tasks.flows.EachParallel": "io.kestra.plugin.core.flow.EachParallel",
    "io.kestra.core.tasks.flows.EachSequential": "io.kestra.plugin.core.flow.EachSequential",
    "io.kestra.core.tasks.flows.Flow": "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.core.tasks.flows.ForEachItem": "io.kestra.plugin.core.flow.ForEachItem",
    "io.kestra.core.tasks.flows.If": "io.kestra.plugin.core.flow.If",
    "io.kestra.core.tasks.flows.Parallel": "io.kestra.plugin.core.flow.Parallel",
    "io.kestra.core.tasks.flows.Pause": "io.kestra.plugin.core.flow.Pause",
    "io.kestra.core.tasks.flows.Sequential": "io.kestra.plugin.core.flow.Sequential",
    "io.kestra.core.tasks.flows.Subflow": "io.kestra.plugin.core.flow.Subflow",
    "io.kestra.core.tasks.flows.Switch": "io.kestra.plugin.core.flow.Switch",
    "io.kestra.core.tasks.flows.Template": "io.kestra.plugin.core.flow.Template",
    "io.kestra.core.tasks.flows.WaitFor": "io.kestra.plugin.core.flow.LoopUntil",
    "io.kestra.core.tasks.flows.Worker": "io.kestra.plugin.core.flow.WorkingDirectory",
    "io.kestra.core.tasks.flows.WorkingDirectory": "io.kestra.plugin.core.flow.WorkingDirectory",
    "io.kestra.core.tasks.log.Fetch": "io.kestra.plugin.core.log.Fetch",
    "io.kestra.core.tasks.log.Log": "io.kestra.plugin.core.log.Log",
    "io.kestra.core.tasks.outputs.OutputValues": "io.kestra.plugin.core.output.OutputValues",
    "io.kestra.core.tasks.states.Delete": "io.kestra.plugin.core.state.Delete",
    "io.kestra.core.tasks.states.Get": "io.kestra.plugin.core.state.Get",
    "io.kestra.core.tasks.states.Set": "io.kestra.plugin.core.state.Set",
    "io.kestra.core.tasks.storages.Concat": "io.kestra.plugin.core.storage.Concat",
    "io.kestra.core.tasks.storages.DeduplicateItems": "io.kestra.plugin.core.storage.DeduplicateItems",
    "io.kestra.core.tasks.storages.Delete": "io.kestra.plugin.core.storage.Delete",
    "io.kestra.core.tasks.storages.FilterItems": "io.kestra.plugin.core.storage.FilterItems",
    "io.kestra.core.tasks.storages.LocalFiles": "io.kestra.plugin.core.storage.LocalFiles",
    "io.kestra.core.tasks.storages.Purge": "io.kestra.plugin.core.execution.PurgeExecutions",
    "io.kestra.plugin.core.storage.Purge": "io.kestra.plugin.core.execution.PurgeExecutions",
    "io.kestra.core.tasks.storages.PurgeExecution": "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles",
    "io.kestra.plugin.core.storage.PurgeExecution": "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles",
    "io.kestra.core.tasks.storages.Reverse": "io.kestra.plugin.core.storage.Reverse",
    "io.kestra.core.tasks.storages.Size": "io.kestra.plugin.core.storage.Size",
    "io.kestra.core.tasks.storages.Split": "io.kestra.plugin.core.storage.Split",
    "io.kestra.core.tasks.templating.TemplatedTask": "io.kestra.plugin.core.templating.TemplatedTask",
    "io.kestra.core.tasks.trigger.Toggle": "io.kestra.plugin.core.trigger.Toggle",
    "io.kestra.plugin.fs.http.Request": "io.kestra.plugin.core.http.Request",
    "io.kestra.plugin.fs.http.Download": "io.kestra.plugin.core.http.Download",
    "io.kestra.plugin.core.flow.WaitFor": "io.kestra.plugin.core.flow.LoopUntil",
}

# Names Kestra never had, accepted by kflow in the same pattern (earlier kflow releases).
KFLOW_EXTRAS = {
    "io.kestra.core.tasks.storages.PurgeCurrentExecutionFiles": (
        "io.kestra.plugin.core.storage.PurgeCurrentExecutionFiles"
    ),
    "io.kestra.core.tasks.flows.Sleep": "io.kestra.plugin.core.flow.Sleep",
    "io.kestra.core.tasks.storages.Write": "io.kestra.plugin.core.storage.Write",
}

# The pre-0.10 script tasks (Bash, Python, Node; removed in 1112b9d1b) run under their own name.
LEGACY_SCRIPTS = (
    "io.kestra.core.tasks.scripts.Bash",
    "io.kestra.core.tasks.scripts.Python",
    "io.kestra.core.tasks.scripts.Node",
)


def _core_aliases() -> dict[str, str]:
    return {
        name: target
        for name, target in registry.ALIASES.items()
        if name.startswith(("io.kestra.core.", "io.kestra.plugin.core.", "io.kestra.plugin.fs."))
    }


def test_the_alias_table_is_kestras():
    assert _core_aliases() == {**KESTRA_LEGACY_NAMES, **KFLOW_EXTRAS}


def _flow(type_name: str) -> str:
    return f"id: f\nnamespace: n\ntasks:\n  - id: t\n    type: {type_name}\n"


@pytest.mark.parametrize("legacy", sorted(KESTRA_LEGACY_NAMES))
def test_every_legacy_name_runs_as_its_current_type_or_is_refused_by_name(legacy):
    target = KESTRA_LEGACY_NAMES[legacy]
    cls = registry.lookup(legacy)
    if cls is not None:
        assert cls.type == target
        assert legacy in registry.known_types()
        return
    assert legacy not in registry.known_types()
    with pytest.raises(FlowValidationError) as info:
        parse_flow(_flow(legacy))
    message = str(info.value)
    assert (
        f"type {legacy} (Kestra's former name of {target}), which is not supported by kflow"
        in message
    )


@pytest.mark.parametrize("name", LEGACY_SCRIPTS)
def test_the_pre_010_scripts_are_builtins(name):
    assert name in registry.BUILTINS
    assert name not in registry.UNSUPPORTED


def test_a_legacy_name_runs(run_yaml):
    ex = run_yaml(
        "id: f\nnamespace: n\ntasks:\n"
        "  - {id: r, type: io.kestra.core.tasks.debugs.Return, format: '{{ flow.id }}'}\n"
        "  - {id: l, type: io.kestra.core.tasks.log.Log, message: hi}\n"
    )
    assert ex.state.current.value == "SUCCESS"
    assert ex.task_runs[0].outputs == {"value": "f"}
