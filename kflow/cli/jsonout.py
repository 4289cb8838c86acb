"""JSON for ``--json``: always valid JSON, written the way Kestra's Jackson writes it.

Python's ``json`` prints a float NaN or infinity as bare ``NaN``/``Infinity``, which is not
JSON (``jq`` and most parsers refuse it). Kestra's Jackson writes such numbers as the
strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; so does kflow.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps"]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(doc: Any) -> str:
    """``doc`` as one line of JSON; non-finite floats as Jackson's strings."""
    try:
        return json.dumps(doc, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere: the rare, slower path
        return json.dumps(_finite(doc), ensure_ascii=False, default=str, allow_nan=False)
