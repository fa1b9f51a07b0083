"""Issue 28 item 3: split-conformal prediction sets (threshold, coverage, set sizes), the manifest's
"conformal" field, and the runner's `set` beside `label`."""

from __future__ import annotations

import numpy as np
import pytest

from staticml import tasks
from staticml.errors import UserError
from staticml.runtime import prediction_sets, softmax
from staticml.train import TrainConfig, calibrate, train


def calibrated_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """3-label probabilities with labels drawn from them: a calibrated model's outputs."""
    rng = np.random.default_rng(seed)
    p = softmax(rng.normal(0, 2, (n, 3)))
    return p, np.array([rng.choice(3, p=row) for row in p])


def test_sets_fitted_on_calibration_rows_cover_new_rows_at_the_stated_share():
    p_cal, y_cal = calibrated_rows(2000, seed=1)
    p_new, y_new = calibrated_rows(20_000, seed=2)
    for coverage in (0.8, 0.9, 0.95):
        threshold = calibrate.conformal_threshold(p_cal, y_cal, coverage)
        figures = calibrate.set_figures(p_new, y_new, threshold)
        assert abs(figures["coverage"] - coverage) < 0.015, (coverage, figures)
        assert sum(figures["set_sizes"].values()) == pytest.approx(1.0, abs=1e-3)
    # more coverage, larger sets
    sizes = [calibrate.set_figures(p_new, y_new, calibrate.conformal_threshold(p_cal, y_cal, c))["set_sizes"]["1"]
             for c in (0.8, 0.95)]
    assert sizes[0] > sizes[1]


def test_the_threshold_is_the_rank_ceil_n_plus_1_times_coverage_of_the_scores():
    # scores 1 - p(true) = 0.0, 0.1, ..., 0.9 over 10 rows; ceil(11 * 0.8) = 9th smallest = 0.8
    p_true = 1 - np.arange(10) / 10
    p = np.stack([p_true, 1 - p_true], axis=1)
    assert calibrate.conformal_threshold(p, np.zeros(10, dtype=int), 0.8) == pytest.approx(0.2)
    # 10 rows cannot promise 95%: ceil(11 * 0.95) = 11 > 10
    assert calibrate.conformal_threshold(p, np.zeros(10, dtype=int), 0.95) is None
    assert "needs at least 19" in calibrate.too_few_for_coverage(10, 0.95)


def test_a_set_always_holds_the_top_label_and_every_label_at_or_above_the_threshold():
    p = np.array([[0.5, 0.3, 0.2], [0.34, 0.33, 0.33], [0.98, 0.01, 0.01], [0.2, 0.25, 0.55]])
    sets = prediction_sets(p, 0.3)
    assert sets.tolist() == [[True, True, False], [True, True, True], [True, False, False], [False, False, True]]
    assert prediction_sets(p, 0.99)[:, :].sum(axis=1).tolist() == [1, 1, 1, 1]  # never empty


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, True, "0.9"])
def test_a_coverage_outside_0_1_is_refused_in_one_line_before_training(bad, tmp_path):
    from staticml.train import data

    with pytest.raises(UserError, match="--coverage") as caught:
        train(data.Dataset(["a b", "b c"] * 10, ["x", "y"] * 10, source="rows"), tmp_path / "m", TrainConfig(coverage=bad),
              report=lambda line: None)
    assert "\n" not in str(caught.value) and not (tmp_path / "m").exists()


def test_the_cli_refuses_a_coverage_outside_0_1_with_exit_2(tmp_path, capsys):
    from cli_tools import assert_one_line_refusal, run

    data_file = tmp_path / "d.csv"
    data_file.write_text("text,label\n" + "good day,pos\nbad day,neg\n" * 20)
    code, err = run(capsys, "train", data_file, "--text-col", "text", "--label-col", "label", "--out", tmp_path / "m",
                    "--coverage", "1.2")
    assert_one_line_refusal(code, err, "--coverage")
    assert not (tmp_path / "m").exists()


GOOD = {"name": "m", "task": "text-classification", "labels": ["a", "b"], "max_length": 8,
        "files": {"model.onnx": {"sha256": "0" * 64, "bytes": 1}, "tokenizer.json": {"sha256": "0" * 64, "bytes": 1}},
        "variants": {"fp32": "model.onnx"}, "default_variant": "fp32",
        "tokenizer": {"file": "tokenizer.json", "prefix_ids": [], "suffix_ids": [], "pad_id": 0}}


def test_the_manifest_checks_the_conformal_field():
    from staticml import manifest as manifest_io

    tasks.validate({**GOOD, "conformal": {"coverage": 0.9, "threshold": 0.2}})
    tasks.validate({**GOOD, "conformal": {"coverage": 0.9, "skipped": "too few rows"}})
    for bad in ({"coverage": 1.0, "threshold": 0.2}, {"threshold": 0.2}, {"coverage": 0.9, "threshold": 2}, 0.9):
        with pytest.raises(manifest_io.ManifestError, match="conformal"):
            tasks.validate({**GOOD, "conformal": bad})


class RecordedPage:
    """Stands in for a Playwright page: answers window.staticml.predict with given predictions."""

    def __init__(self, predictions: list[dict]):
        self.predictions = predictions

    def evaluate(self, _script: str, _texts: list[str]) -> list[dict]:
        return self.predictions


def test_verify_fails_a_page_whose_sets_differ_from_pythons(tiny_model):
    from staticml import Classifier
    from staticml.tasks.text import set_parity

    texts = ["not bad at all", "worst day ever", "the bus comes at nine"]
    variant = Classifier(tiny_model).variant
    python = Classifier(tiny_model).predict(texts)
    assert set_parity(RecordedPage(python), "m", tiny_model, variant, texts).passed
    tampered = [dict(p, set=list(reversed(p["scores"]))) if len(p["set"]) == 1 else dict(p, set=[p["label"]]) for p in python]
    check = set_parity(RecordedPage(tampered), "m", tiny_model, variant, texts)
    assert not check.passed and "0/3 texts give the same set" in check.figure


def test_coverage_with_a_tabular_model_is_refused_in_one_line(tmp_path, capsys):
    from cli_tools import assert_one_line_refusal, run

    rows = tmp_path / "rows.csv"
    rows.write_text("age,income,ok\n" + "".join(f"{20 + i},{1000 * i},{'yes' if i % 2 else 'no'}\n" for i in range(60)))
    code, err = run(capsys, "train", rows, "--task", "tabular", "--label-col", "ok", "--out", tmp_path / "m", "--coverage", "0.9")
    assert_one_line_refusal(code, err, "--coverage: prediction sets are fitted for text models only")
    assert not (tmp_path / "m").exists()
