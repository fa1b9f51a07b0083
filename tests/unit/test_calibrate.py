"""Temperature scaling: fitted on validation logits, folded into the head, reported before/after."""

from __future__ import annotations

import numpy as np
import pytest

from staticml import tasks
import torch

from staticml.runtime import softmax
from staticml.train import calibrate


def sampled(temperature: float, n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose labels are drawn from softmax(logits / temperature): that T calibrates them."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, (n, 3))
    p = softmax(logits / temperature)
    labels = np.array([rng.choice(3, p=row) for row in p])
    return logits, labels


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_that_generated_the_labels(true_t):
    logits, labels = sampled(true_t)
    assert calibrate.fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.06)


def test_calibration_figures_fall_when_overconfidence_is_removed():
    logits, labels = sampled(2.5)
    before = calibrate.calibration(softmax(logits), labels)
    after = calibrate.calibration(softmax(logits / 2.5), labels)
    assert after["ece"] < 0.02 < before["ece"] and after["log_loss"] < before["log_loss"]
    assert after["above_0_99"] < before["above_0_99"]


def test_folding_divides_the_logits_and_keeps_every_prediction():
    torch.manual_seed(0)
    head = torch.nn.Linear(8, 3)
    x = torch.randn(50, 8)
    with torch.no_grad():
        before = head(x).numpy()
        calibrate.fold_temperature(head, 1.7)
        after = head(x).numpy()
    np.testing.assert_allclose(after, before / 1.7, rtol=1e-5, atol=1e-6)
    assert (after.argmax(-1) == before.argmax(-1)).all()


def test_the_manifest_refuses_an_uncertain_below_that_is_not_a_probability(tmp_path):
    from staticml import manifest as manifest_io

    good = {"name": "m", "task": "text-classification", "labels": ["a", "b"], "max_length": 8,
            "files": {"model.onnx": {"sha256": "0" * 64, "bytes": 1}, "tokenizer.json": {"sha256": "0" * 64, "bytes": 1}},
            "variants": {"fp32": "model.onnx"}, "default_variant": "fp32",
            "tokenizer": {"file": "tokenizer.json", "prefix_ids": [], "suffix_ids": [], "pad_id": 0}}
    tasks.validate({**good, "uncertain_below": 0.6})
    for bad in (1.5, -0.1, "0.6", True):
        with pytest.raises(manifest_io.ManifestError, match="uncertain_below"):
            tasks.validate({**good, "uncertain_below": bad})
