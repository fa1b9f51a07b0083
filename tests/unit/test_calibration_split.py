"""Issue 28 item 2: the temperature is fitted on rows early stopping never saw; a calibration split
too small to fit one is said, recorded, and the model ships uncalibrated (temperature 1)."""

from __future__ import annotations

import pytest

from staticml import manifest as manifest_io
from staticml.train import TrainConfig, calibrate, data, train


def corpus_slice(rows_per_label: int) -> data.Dataset:
    """The first rows of each label of the default corpus, as a Dataset."""
    full = data.load_default()
    texts, labels, seen = [], [], {}
    for text, label in zip(full.texts, full.labels):
        if seen.get(label, 0) < rows_per_label:
            seen[label] = seen.get(label, 0) + 1
            texts.append(text)
            labels.append(label)
    return data.Dataset(texts, labels, source=f"corpus slice of {len(texts)} rows")


def test_the_calibration_rows_are_half_of_validation_disjoint_stratified_and_the_same_every_time():
    texts = [f"text {i}" for i in range(1000)]
    labels = [i % 3 for i in range(1000)]
    stop, held = calibrate.split_off_calibration(texts, labels, seed=13)
    assert held is not None and len(held[0]) == 500 and len(stop[0]) == 500
    assert not set(stop[0]) & set(held[0]) and set(stop[0]) | set(held[0]) == set(texts)
    assert sorted(held[1].count(k) for k in range(3)) == [166, 167, 167]
    assert calibrate.split_off_calibration(texts, labels, seed=13) == (stop, held)


def test_a_validation_split_too_small_to_set_calibration_rows_aside_keeps_them_all_for_early_stopping():
    texts, labels = [f"t{i}" for i in range(150)], [i % 2 for i in range(150)]
    stop, held = calibrate.split_off_calibration(texts, labels, seed=13)
    assert held is None and stop == (texts, labels)
    assert "150 rows" in calibrate.too_small_note(150) and "uncalibrated" in calibrate.too_small_note(150)


def test_a_small_corpus_ships_uncalibrated_says_so_and_records_it(tmp_path):
    lines: list[str] = []
    validation_rows = len(data.split(corpus_slice(200)).validation[0])
    manifest = train(corpus_slice(200), tmp_path / "model", TrainConfig(epochs=2), report=lines.append)
    record = manifest["metrics"]["calibration"]
    assert record["temperature"] == 1.0 and record["fitted_on"] is None
    assert "uncalibrated" in record["skipped"] and f"validation split has {validation_rows} rows" in record["skipped"]
    assert any(line.startswith("calibration: skipped:") and "uncalibrated" in line for line in lines)
    # and no prediction sets: the manifest says why, the runner answers without a set
    assert "threshold" not in manifest["conformal"] and "no prediction sets" in manifest["conformal"]["skipped"]
    from staticml import Classifier
    assert "set" not in Classifier(tmp_path / "model").predict(["what a day"])[0]
    assert manifest_io.read(tmp_path / "model")["metrics"]["calibration"] == record
    # uncalibrated: "before" and "after" on the test split are the same numbers
    figures = manifest["metrics"]["variants"]["fp32"]["calibration"]
    assert figures["before"] == figures["after"]


@pytest.mark.slow
def test_a_large_enough_corpus_fits_the_temperature_on_rows_early_stopping_never_used(tmp_path):
    """The calibration split, and every training row scored by one of the cross-fitted models that
    did not train on it (calibrate.out_of_fold_logits)."""
    lines: list[str] = []
    manifest = train(corpus_slice(1200), tmp_path / "model", TrainConfig(epochs=2), report=lines.append)
    record = manifest["metrics"]["calibration"]
    parts = data.split(corpus_slice(1200))
    assert record["rows"] == round(len(parts.validation[0]) * calibrate.CALIBRATION_SHARE) and record["rows"] >= 100
    assert record["fitted_on"].startswith("calibration split") and "cross-fitting" in record["fitted_on"]
    assert record["cross_fit"]["folds"] == calibrate.CROSS_FIT_FOLDS and record["cross_fit"]["rows"] == len(parts.train[0])
    assert record["temperature"] != 1.0
    assert any(f"on the calibration split ({record['rows']} rows) and the {len(parts.train[0])} cross-fitted training rows" in line
               for line in lines)
    # the prediction sets' threshold pools the calibration split's scores with the cross-fitted rows'
    sets = manifest["conformal"]
    assert sets["calibration_rows"] == record["rows"] and sets["cross_fitted_rows"] == len(parts.train[0])
    assert "cross-conformal" in sets["method"]
    from staticml import Classifier

    _, (cal_texts, cal_y) = calibrate.split_off_calibration(*parts.validation, seed=data.SEED)
    alone = calibrate.conformal_threshold(Classifier(tmp_path / "model").probabilities(cal_texts), cal_y, sets["coverage"])
    assert alone is not None and abs(alone - sets["threshold"]) > 1e-6
    assert any(f"fitted on {record['rows']} calibration rows and {len(parts.train[0])} cross-fitted training rows" in line
               for line in lines)
