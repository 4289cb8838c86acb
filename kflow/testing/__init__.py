"""Kestra flow unit tests (``kflow test``): test suites, fixtures and assertions.

A test suite (:mod:`kflow.testing.suite`) names a flow and lists test cases; each case runs
the flow once with its fixtures (:mod:`kflow.testing.runner`) and checks assertions on the
finished execution (:mod:`kflow.testing.assertions`), as Kestra's unit tests do.
"""

from kflow.testing.assertions import AssertionResult, check
from kflow.testing.runner import CaseResult, SuiteResult, run_suite
from kflow.testing.suite import (
    Assertion,
    Fixtures,
    SuiteError,
    TaskFixture,
    TestCase,
    TestSuite,
    is_suite,
    load_suite,
    parse_suite,
)

__all__ = [
    "Assertion",
    "AssertionResult",
    "CaseResult",
    "Fixtures",
    "SuiteError",
    "SuiteResult",
    "TaskFixture",
    "TestCase",
    "TestSuite",
    "check",
    "is_suite",
    "load_suite",
    "parse_suite",
    "run_suite",
]
