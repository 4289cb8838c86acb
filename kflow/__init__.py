"""kflow: run Kestra flows locally, keep every output, evaluate expressions against them.

The public API is loaded lazily so that ``kflow --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Execution",
    "KflowError",
    "__version__",
    "load_flow",
    "open_home",
    "run_flow",
]


def __getattr__(name: str) -> Any:
    if name in ("run_flow", "load_flow", "open_home"):
        from kflow import api

        return getattr(api, name)
    if name == "Execution":
        from kflow.records import Execution

        return Execution
    if name == "KflowError":
        from kflow.errors import KflowError

        return KflowError
    raise AttributeError(f"module 'kflow' has no attribute {name!r}")
