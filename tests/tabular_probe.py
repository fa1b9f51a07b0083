"""A small tabular model folder for the page's tests: a scikit-learn pipeline (imputation, scaling,
one-hot encoding, logistic regression) on synthetic applicants, exported whole by skl2onnx and written
by manifest.write_model_folder as the contract says (one input per feature, `probabilities` out).
Used until / besides `staticml train --task tabular`; a feature name with a space and '<' checks escaping."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from staticml import manifest as manifest_io

HOME = ["other", "owner", "parents", "rent"]
FEATURES = [
    {"name": "Seniority", "type": "number", "min": 0, "max": 40, "step": 1, "optional": True, "typical": 5},
    {"name": "Home <type>", "type": "category", "categories": HOME, "optional": True, "typical": "owner"},
    {"name": "Income", "type": "number", "min": 10, "max": 500, "step": 1, "optional": False, "typical": 120},
    {"name": "Records", "type": "yes-no", "optional": False, "typical": False},
]
TEST_ROWS = "test_rows.json"


def applicants(n: int, seed: int = 0) -> tuple[list[dict], np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        rows.append({"Seniority": None if i % 9 == 0 else int(rng.integers(0, 41)),
                     "Home <type>": None if i % 13 == 0 else str(rng.choice(HOME)),
                     "Income": float(rng.integers(10, 501)),
                     "Records": bool(rng.random() < 0.2)})
    score = np.array([(r["Seniority"] or 5) / 10 + r["Income"] / 150 - 2.5 * r["Records"]
                      + (0.8 if r["Home <type>"] == "owner" else 0) for r in rows])
    labels = (score + rng.normal(0, 0.7, n) > 2.2).astype(int)
    return rows, labels


def frame(rows: list[dict]):
    import pandas as pd

    df = pd.DataFrame(rows)
    for f in FEATURES:
        if f["type"] == "category":
            df[f["name"]] = df[f["name"]].fillna("").astype(object)
        else:
            df[f["name"]] = df[f["name"]].astype("float32")
    return df


def make_model_folder(out: Path, name: str = "eligibility-probe", classifier: str = "logistic") -> Path:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from staticml.train.tabular import to_onnx

    numbers = [f["name"] for f in FEATURES if f["type"] != "category"]
    categories = [f["name"] for f in FEATURES if f["type"] == "category"]
    rows, labels = applicants(400)
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numbers),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", missing_values="", fill_value="owner")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore"))]), categories)])
    model = LogisticRegression(max_iter=500) if classifier == "logistic" else \
        RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0)
    pipeline = Pipeline([("pre", pre), ("clf", model)]).fit(frame(rows[:300]), labels[:300])
    onnx_model = to_onnx(pipeline, FEATURES)  # the trainer's export: inputs named as the columns
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_model.SerializeToString())
    (out / TEST_ROWS).write_text(json.dumps(rows[300:]) + "\n", encoding="utf-8")
    manifest_io.write_model_folder(out, name=name, task="tabular-classification", labels=["bad", "good"],
                                   features=FEATURES, variants={"fp32": "model.onnx"}, default_variant="fp32",
                                   metrics={}, arch=f"sklearn-{classifier}")
    return out
