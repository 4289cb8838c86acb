"""Run a test suite: each enabled test case is one execution of the flow with its fixtures,
then its assertions are rendered against the finished execution (Kestra's
``TestSuiteRunResult`` and ``UnitTestResult`` rules for the states)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kflow.errors import KflowError
from kflow.flow.model import Flow
from kflow.testing.assertions import AssertionResult, AssertionRunError, check, render
from kflow.testing.suite import Assertion, TestCase, TestSuite

if TYPE_CHECKING:
    from kflow.api import Home

SUCCESS, FAILED, ERROR, SKIPPED = "SUCCESS", "FAILED", "ERROR", "SKIPPED"


@dataclass
class CaseResult:
    """A test case's result: Kestra's ``UnitTestResult``."""

    test_id: str
    state: str
    execution_id: str | None = None
    execution_state: str | None = None
    assertion_results: list[AssertionResult] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Kestra's JSON shape (plus ``executionState``)."""
        return {
            "testId": self.test_id,
            "testType": "io.kestra.core.tests.flow.UnitTest",
            "executionId": self.execution_id,
            "executionState": self.execution_state,
            "state": self.state,
            "assertionResults": [r.to_json() for r in self.assertion_results],
            "errors": self.errors,
        }


@dataclass
class SuiteResult:
    """A test suite's result: Kestra's ``TestSuiteRunResult``."""

    suite: TestSuite
    state: str
    results: list[CaseResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Kestra's JSON shape (plus the suite file)."""
        return {
            "testSuiteId": self.suite.id,
            "namespace": self.suite.namespace,
            "flowId": self.suite.flow_id,
            "path": self.suite.path,
            "state": self.state,
            "results": [r.to_json() for r in self.results],
        }


def suite_state(results: list[CaseResult]) -> str:
    """ERROR if a case errored, else FAILED if one failed, SKIPPED if all were, else SUCCESS."""
    states = [r.state for r in results]
    if ERROR in states:
        return ERROR
    if FAILED in states:
        return FAILED
    if states and all(s == SKIPPED for s in states):
        return SKIPPED
    return SUCCESS


def run_suite(
    suite: TestSuite,
    flow: Flow,
    home: Home,
    *,
    flows_dir: str | Path | None = None,
    case_ids: Collection[str] | None = None,
) -> SuiteResult:
    """Run the suite's cases (only ``case_ids`` when given) in ``home``. A disabled suite is
    SKIPPED without results; a disabled case is SKIPPED."""
    if suite.disabled:
        return SuiteResult(suite, SKIPPED)
    results = [
        run_case(case, flow, home, flows_dir=flows_dir)
        for case in suite.test_cases
        if case_ids is None or case.id in case_ids
    ]
    return SuiteResult(suite, suite_state(results), results)


def run_case(
    case: TestCase, flow: Flow, home: Home, *, flows_dir: str | Path | None = None
) -> CaseResult:
    """Run one test case: an execution with its fixtures, then its assertions."""
    from kflow.api import run_flow
    from kflow.engine.executor import fixture_file_uri
    from kflow.engine.replay import execution_context

    if case.disabled:
        return CaseResult(case.id, SKIPPED, line=case.line)
    fixtures = case.fixtures
    try:
        ex = run_flow(flow, fixtures.inputs, home=home, flows_dir=flows_dir,
                      trigger=fixtures.trigger, fixtures=fixtures)  # fmt: skip
    except KflowError as exc:
        error = {"message": f"the execution could not start: {exc.message}", "details": exc.hint}
        return CaseResult(case.id, ERROR, errors=[error], line=case.line)
    stored = home.store.get_execution(ex.id)
    context = execution_context(stored, home.store.get_flow_source(ex.id), home.storage,
                                store=home.store)  # fmt: skip
    if fixtures.files:
        context["files"] = {name: fixture_file_uri(ex.namespace, ex.flow_id, ex.id, name)
                            for name in fixtures.files}  # fmt: skip
    result = CaseResult(case.id, SUCCESS, ex.id, stored.state.current.value, line=case.line)
    for assertion in case.assertions:
        try:
            result.assertion_results.extend(evaluate(assertion, context))
        except AssertionRunError as exc:
            result.errors.append({"message": exc.message, "details": exc.details})
        except KflowError as exc:
            shown = json.dumps(_assertion_json(assertion), ensure_ascii=False, default=str)
            result.errors.append({"message": f"Could not evaluate assertion: `{shown}`",
                                  "details": f"error was: {exc.message}"})  # fmt: skip
    if result.errors:
        result.state = ERROR
    elif not all(r.is_success for r in result.assertion_results):
        result.state = FAILED
    return result


def evaluate(assertion: Assertion, context: Mapping[str, Any]) -> list[AssertionResult]:
    """Render an assertion and apply each of its operators (raises KflowError when a part
    cannot be rendered, AssertionRunError when it cannot be compared)."""
    actual = render(assertion.value, context)
    description = render(assertion.description, context)
    results = []
    for operator, expected in assertion.checks:
        if isinstance(expected, list):
            operand: Any = [render(item, context) for item in expected]
        elif isinstance(expected, bool):
            operand = expected
        else:
            operand = render(expected, context)
        res = check(operator, assertion.value, actual, operand)
        message = res.error_message
        if message is not None and assertion.error_message is not None:
            message = render(assertion.error_message, context)
        results.append(AssertionResult(res.operator, res.expected, res.actual, res.is_success,
                                       message, description, assertion.task_id))  # fmt: skip
    return results


def _assertion_json(assertion: Assertion) -> dict[str, Any]:
    out: dict[str, Any] = {"value": assertion.value}
    out.update(dict(assertion.checks))
    return out
