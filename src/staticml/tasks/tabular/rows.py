"""A tabular model's rows for the proofs (verify, bench, tests): its test rows, edge rows made from its
features (missing values, unseen categories, out-of-range numbers), Python onnxruntime's probabilities
for them (staticml.tasks.tabular.features.feeds, the contract's feeding rule) and the page's (window.staticml.predict)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...errors import UserError
from ...leaks import TEST_ROWS
from . import features as tabular
from .runner import open_model

UNSEEN = "(a value never seen in training)"


def test_rows(model_dir: Path, manifest: dict, path: Path | None = None) -> list[dict]:
    """The test split's rows: `path`, else test_rows.json beside a trained model (a built site never
    has it: the records stay out of what is published), else []."""
    path = Path(path) if path else Path(model_dir) / TEST_ROWS
    if not path.is_file():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a JSON list of rows ({exc.__class__.__name__})") from None
    problem = tabular.row_problem(manifest["features"], rows)
    if problem:
        raise UserError(f"{path}: {problem}")
    return rows


def sampled_rows(features: list[dict], count: int = 200, seed: int = 0) -> list[dict]:
    """Rows drawn from the features alone (numbers in their range, categories, yes/no, some missing):
    a parity check over the whole input space that needs no applicant's record."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        row = {}
        for f in features:
            if f.get("optional") and rng.random() < 0.1:
                row[f["name"]] = None
            elif f["type"] == "number":
                value = rng.uniform(f.get("min", 0), f.get("max", 1))
                step = f.get("step") or 0
                row[f["name"]] = float(round(value / step) * step) if step else float(value)
            elif f["type"] == "category":
                row[f["name"]] = str(rng.choice(f["categories"]))
            else:
                row[f["name"]] = bool(rng.random() < 0.5)
        rows.append(row)
    return rows


def edge_rows(features: list[dict]) -> list[dict]:
    """The typical row; every value missing; each optional value missing alone; each category unseen;
    each number far below and above its training range (and 0); each yes/no flipped."""
    typical = tabular.typical_row(features)
    rows = [typical, {f["name"]: None for f in features}]
    for f in features:
        name = f["name"]
        if f.get("optional"):
            rows.append({**typical, name: None})
        if f["type"] == "category":
            rows += [{**typical, name: UNSEEN}, {**typical, name: ""}]
        elif f["type"] == "number":
            low, high = f.get("min", 0), f.get("max", 1)
            span = max(high - low, 1)
            rows += [{**typical, name: low - 10 * span}, {**typical, name: high + 10 * span}, {**typical, name: 0}]
        else:
            rows.append({**typical, name: not typical[name]})
    return rows


def native_probabilities(model_dir: Path, manifest: dict, variant: str, rows: list[dict]) -> np.ndarray:
    """Python onnxruntime on the same file (runtime.Classifier: rows checked, then fed by the
    contract's rule, staticml.tasks.tabular.features.feeds): [rows, labels] in the manifest's label order."""
    return open_model(model_dir, variant).probabilities(rows)


def page_probabilities(page, rows: list[dict], labels: list[str]) -> np.ndarray:
    """`window.staticml.predict(rows)` as a [rows, labels] array (labels in this order)."""
    predictions = page.evaluate("rows => window.staticml.predict(rows)", rows)
    return np.array([[p["scores"][label] for label in labels] for p in predictions]).reshape(len(rows), len(labels))


def describe(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False)[:100]
