"""Issue 28 item 2: cross-fitting scores every training row with a model that never saw it, and the
temperature is fitted on those logits and the calibration split's."""

from __future__ import annotations

import numpy as np

from staticml.train import calibrate, features
from staticml.train.text import TrainConfig, can_cross_fit


def test_the_folds_cover_every_row_once_in_near_equal_parts_the_same_every_time():
    fold = calibrate.cross_fit_folds(103, seed=7)
    sizes = np.bincount(fold)
    assert len(sizes) == calibrate.CROSS_FIT_FOLDS and sizes.max() - sizes.min() <= 1 and sizes.sum() == 103
    assert (calibrate.cross_fit_folds(103, seed=7) == fold).all()
    assert not (calibrate.cross_fit_folds(103, seed=8) == fold).all()


def test_each_row_is_scored_by_the_model_of_the_folds_that_did_not_hold_it():
    labels = [i % 2 for i in range(50)]
    seen: list[tuple[int, set, set]] = []

    def fit_and_score(fold, train_rows, held_rows):
        seen.append((fold, set(train_rows.tolist()), set(held_rows.tolist())))
        return np.stack([np.full(len(held_rows), fold), held_rows], axis=1).astype(float)  # [fold, row]

    logits = calibrate.out_of_fold_logits(labels, fit_and_score, seed=3)
    assert [f for f, _, _ in seen] == list(range(calibrate.CROSS_FIT_FOLDS))
    assert all(not (trained & held) and trained | held == set(range(50)) for _, trained, held in seen)
    assert set().union(*(held for _, _, held in seen)) == set(range(50))
    assert (logits[:, 1] == np.arange(50)).all()  # each row's logits land on that row
    fold = calibrate.cross_fit_folds(50, seed=3)
    assert (logits[:, 0] == fold).all()  # and come from the model that did not train on it


def test_only_models_trained_from_token_ids_on_the_labels_alone_are_cross_fitted():
    ids = features.TokenIds([[1, 2], [3]])
    assert can_cross_fit(TrainConfig(), ids, None)
    assert not can_cross_fit(TrainConfig(), ids, {"loss": None})  # a teacher's soft targets
    assert not can_cross_fit(TrainConfig(counterfactual=True), ids, None)
    assert not can_cross_fit(TrainConfig(), object(), None)  # a frozen encoder's cached outputs (MiniLM)
