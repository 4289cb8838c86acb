"""log.PurgeLogs and execution.PurgeExecutions on this kflow home's store and storage."""

from __future__ import annotations

import pytest

from kflow.api import open_home
from kflow.errors import NotFoundError


def _run(ex, task_id):
    (run,) = [tr for tr in ex.task_runs if tr.task_id == task_id]
    return run


NOISY = """
id: noisy
namespace: company.team
tasks:
  - {id: info, type: io.kestra.plugin.core.log.Log, message: hello}
  - {id: warn, type: io.kestra.plugin.core.log.Log, message: careful, level: WARN}
  - {id: file, type: io.kestra.plugin.core.storage.Write, content: data}
"""


def _logs(execution_id):
    with open_home() as home:
        return [(r.task_id, r.level) for r in home.store.get_logs(execution_id)]


def test_purge_logs_by_level_and_flow(run_yaml):
    noisy = run_yaml(NOISY)
    other = run_yaml(NOISY.replace("id: noisy", "id: other"))
    before = _logs(noisy.id)
    assert ("info", "INFO") in before and ("warn", "WARN") in before
    ex = run_yaml(
        """
        id: purge
        namespace: ops
        tasks:
          - id: warnings
            type: io.kestra.plugin.core.log.PurgeLogs
            namespace: company.team
            flowId: noisy
            logLevels: [WARN]
            endDate: "{{ now() }}"
        """
    )
    assert _run(ex, "warnings").outputs == {"count": 1}
    assert _logs(noisy.id) == [x for x in before if x != ("warn", "WARN")]
    assert ("warn", "WARN") in _logs(other.id)

    ex = run_yaml(
        "id: purge\nnamespace: ops\ntasks:\n"
        "  - {id: old, type: io.kestra.plugin.core.log.PurgeLogs, endDate: '2000-01-01T00:00:00Z'}\n"
    )
    assert _run(ex, "old").outputs == {"count": 0}


def test_purge_executions(run_yaml):
    noisy = run_yaml(NOISY)
    logged = len(_logs(noisy.id))
    failed = run_yaml("id: noisy\nnamespace: company.team\ntasks:\n"
                      "  - {id: f, type: io.kestra.plugin.core.execution.Fail}\n")  # fmt: skip
    ex = run_yaml(
        """
        id: purge
        namespace: company.team
        tasks:
          - id: success_only
            type: io.kestra.plugin.core.execution.PurgeExecutions
            namespace: company.team
            flowId: noisy
            states: [SUCCESS]
            endDate: "{{ now() }}"
        """
    )
    assert _run(ex, "success_only").outputs == {
        "executionsCount": 1, "logsCount": logged, "storagesCount": 1,
        "metricsCount": 0,
    }  # fmt: skip
    with open_home() as home:
        with pytest.raises(NotFoundError):
            home.store.get_execution(noisy.id)
        assert home.store.get_execution(failed.id).state.current.value == "FAILED"
        assert home.store.get_execution(ex.id).state.current.value == "SUCCESS"
        with pytest.raises(NotFoundError):
            home.store.get_logs(noisy.id)
