"""Issue 25 item 7: `train` says in plain words when the model is not good enough (the TF-IDF
baseline beats it by more than a point; the calibration temperature hit a bound of its range),
and what to try; the manifest keeps the same words."""

from __future__ import annotations

import numpy as np
import pytest

from staticml.train import TrainConfig, calibrate, data, train
from staticml.train.text import not_good_enough

FITTED = "calibration split (half of validation, not used for early stopping)"


def test_a_baseline_better_by_more_than_a_point_is_said_with_what_to_try():
    lines: list[str] = []
    warnings = not_good_enough({"macro_f1": 0.70}, {"macro_f1": 0.74}, {"temperature": 1.1, "fitted_on": FITTED}, lines.append)
    assert len(warnings) == 1 and "baseline beats the model by 4.0 points" in warnings[0]
    assert "--epochs" in warnings[0] and "more labelled rows" in warnings[0]
    assert lines == [f"training: warning: {warnings[0]}"]
    # within a point: nothing to say
    assert not_good_enough({"macro_f1": 0.735}, {"macro_f1": 0.74}, {"temperature": 1.1, "fitted_on": FITTED}, lines.append) == []


def test_a_temperature_at_a_bound_of_its_range_is_said():
    # Logits that are huge and carry no information about the labels: the log-loss wants T far above 20.
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(0, 1000, (500, 3)), rng.integers(0, 3, 500)
    temperature = calibrate.fit_temperature(logits, labels)
    assert calibrate.temperature_bound(temperature) == "top"
    warnings = not_good_enough({"macro_f1": 0.5}, {"macro_f1": 0.5}, {"temperature": temperature, "fitted_on": FITTED}, lambda _: None)
    assert len(warnings) == 1 and "hit the top of its range" in warnings[0] and "far too sure" in warnings[0]
    assert calibrate.temperature_bound(0.05) == "bottom" and calibrate.temperature_bound(1.3) is None
    # uncalibrated (too few rows): T = 1 by choice, nothing to say
    assert not_good_enough({"macro_f1": 0.5}, {"macro_f1": 0.5}, {"temperature": 1.0, "fitted_on": None}, lambda _: None) == []


@pytest.mark.slow  # ~35 s: a real training run
def test_an_undertrained_model_is_told_the_baseline_beats_it(tmp_path):
    full = data.load_default(keep_labels=["negative", "positive"])
    keep = list(range(0, len(full.texts), 12))  # ~2,300 rows: seconds of training
    dataset = data.Dataset([full.texts[i] for i in keep], [full.labels[i] for i in keep], source="corpus slice")
    lines: list[str] = []
    manifest = train(dataset, tmp_path / "m", TrainConfig(epochs=0.05), report=lines.append)
    baseline = manifest["metrics"]["baselines"]["tfidf_logreg"]["macro_f1"]
    shipped = manifest["metrics"]["variants"][manifest["default_variant"]]["macro_f1"]
    assert baseline > shipped + 0.01, (baseline, shipped)
    said = [line for line in lines if line.startswith("training: warning: the TF-IDF baseline beats the model")]
    assert len(said) == 1 and manifest["metrics"]["warnings"][0] in said[0]
