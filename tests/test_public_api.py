"""The public surface of ``kflow`` is pinned."""

import kflow


def test_all():
    assert sorted(kflow.__all__) == [
        "Execution", "KflowError", "__version__", "load_flow", "open_home", "run_flow",
    ]
    for name in kflow.__all__:
        assert getattr(kflow, name) is not None
