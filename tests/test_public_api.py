"""The public surface of ``kflow`` is pinned."""

import kflow


def test_all():
    assert sorted(kflow.__all__) == [
        "Execution", "KflowError", "__version__", "load_flow", "open_home", "run_flow",
    ]
    for name in kflow.__all__:
        assert getattr(kflow, name) is not None


def test_testing_all():
    import kflow.testing

    assert sorted(kflow.testing.__all__) == [
        "Assertion", "AssertionResult", "CaseResult", "Fixtures", "SuiteError", "SuiteResult",
        "TaskFixture", "TestCase", "TestSuite", "check", "is_suite", "load_suite", "parse_suite",
        "run_suite",
    ]  # fmt: skip
    for name in kflow.testing.__all__:
        assert getattr(kflow.testing, name) is not None
