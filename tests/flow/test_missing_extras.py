"""A task type whose optional package is missing: ``run`` refuses the flow before any task
runs, naming the ``pip install`` line; ``validate`` only warns (a CI check of a valid flow
must not depend on optional packages)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kflow import api
from kflow.errors import FlowValidationError
from kflow.flow.validate import MISSING_EXTRA, parse_flow
from kflow.tasks import registry
from kflow.tasks.base import Output, RunContext, Task


class NeedsPackage(Task):
    type = "io.kflow.test.NeedsPackage"
    requires = (("kflow_no_such_package_xyz", "fancy"),)
    outputs = {"value": Output("STRING")}

    def run(self, ctx: RunContext) -> dict[str, Any]:  # pragma: no cover - must never run
        raise AssertionError("a task whose package is missing must not run")


class HasPackage(NeedsPackage):
    type = "io.kflow.test.HasPackage"
    requires = (("json", "stdlib"),)

    def run(self, ctx: RunContext) -> dict[str, Any]:
        return {"value": "ran"}


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    registry.register(NeedsPackage)
    registry.register(HasPackage)
    yield
    registry._loaded.pop(NeedsPackage.type, None)
    registry._loaded.pop(HasPackage.type, None)


FLOW = """id: extras
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: must not run either
  - id: fancy
    type: io.kflow.test.NeedsPackage
"""


def test_validate_warns_with_the_pip_line() -> None:
    flow = parse_flow(FLOW, "extras.yml")
    [notice] = [w for w in flow.warnings if w.code == MISSING_EXTRA]
    assert notice.line == 8 and notice.path == "extras.yml"
    assert "needs the optional package 'kflow_no_such_package_xyz'" in notice.message
    assert notice.hint == "pip install 'kflow[fancy]'"


def test_run_refuses_before_any_task(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "extras.yml"
    path.write_text(FLOW)
    home = api.open_home()
    try:
        with pytest.raises(FlowValidationError) as info:
            api.run_flow(path, home=home)
        assert home.store.list_executions() == []  # nothing started
    finally:
        home.close()
    assert info.value.exit_code == 2
    assert info.value.hint == "pip install 'kflow[fancy]'"
    assert info.value.line == 8
    assert "'kflow_no_such_package_xyz'" in info.value.message
    assert "kflow run" not in info.value.message


def test_an_installed_package_runs(run_yaml) -> None:  # type: ignore[no-untyped-def]
    ex = run_yaml("id: ok\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kflow.test.HasPackage\n")
    assert ex.state.current.value == "SUCCESS"
    assert not [w for w in parse_flow(
        "id: ok\nnamespace: c\ntasks:\n  - id: t\n    type: io.kflow.test.HasPackage\n"
    ).warnings if w.code == MISSING_EXTRA]  # fmt: skip
