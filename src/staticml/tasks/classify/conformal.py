"""The manifest's "conformal" field of a classifier: split-conformal prediction sets.

`{"coverage": 0.9, "threshold": 0.21, ...}`: a label belongs to a prediction's set when its
probability is at least `threshold` (the top label always does); `coverage` is the stated share of
sets that hold the true label. Without `threshold` (too few calibration rows, or a model trained
before sets) a prediction has no set. Python: staticml.runtime.prediction_sets; the page:
web/src/tasks/text/classify.ts."""

from __future__ import annotations

from typing import Any


def conformal_problem(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"{value!r} is not an object with a coverage and a threshold"
    coverage = value.get("coverage")
    if isinstance(coverage, bool) or not isinstance(coverage, (int, float)) or not 0 < coverage < 1:
        return f"coverage {coverage!r} is not a share strictly between 0 and 1"
    if "threshold" in value:
        threshold = value["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            return f"threshold {threshold!r} is not a probability between 0 and 1"
    return None
