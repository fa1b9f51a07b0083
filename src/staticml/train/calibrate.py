"""Probabilities that mean what they say: one temperature, fitted after training (Guo et al. 2017)
on a calibration split that early stopping never saw, folded into the model's last linear layer,
so the exported graph itself is calibrated and Python, the API and the page apply it identically
(one place: the file). Dividing logits by T > 0 never changes a prediction, only how sure it sounds.

Why a separate split: early stopping keeps the epoch that scores best on the validation split, so
that split's logits look better than unseen data's and a temperature fitted on them is too low
(the model stays overconfident on the test split). Half of the validation split (stratified) picks
the epoch; the other half fits the temperature; the test split is untouched.

That half is small (4% of the data) and one fixed draw: on the tweet corpus it is harder than the
test split, so its temperature left the tiny defaults a little timid there (ECE 0.014–0.018 over
seeds). Where training a model takes seconds, cross-fitting adds the training split: K more models,
each trained on K-1 folds of it, score the fold they did not see, and the temperature is fitted on
those out-of-fold logits and the calibration half together (ECE 0.011–0.014, docs/trust.md).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..runtime import prediction_sets

ECE_BINS = 15
CALIBRATION_SHARE = 0.5  # of the validation split; early stopping uses the rest
# Below this many rows the log-loss minimum is too noisy to trust (a few confident mistakes
# decide T): the model ships uncalibrated (T = 1) and the manifest says so.
MIN_CALIBRATION_ROWS = 100


def split_off_calibration(texts: list[str], labels: list[int], seed: int) -> tuple[tuple[list[str], list[int]], tuple[list[str], list[int]] | None]:
    """(rows for early stopping, rows for calibration): the validation split cut in two, stratified
    where every label has two rows; None for calibration when its share would be under
    MIN_CALIBRATION_ROWS rows (then early stopping keeps all of them)."""
    from collections import Counter

    from sklearn.model_selection import train_test_split

    if round(len(texts) * CALIBRATION_SHARE) < MIN_CALIBRATION_ROWS:
        return (list(texts), list(labels)), None
    stratify = labels if min(Counter(labels).values()) >= 2 else None
    x_stop, x_cal, y_stop, y_cal = train_test_split(texts, labels, test_size=CALIBRATION_SHARE, random_state=seed,
                                                    stratify=stratify)
    return (list(x_stop), list(y_stop)), (list(x_cal), list(y_cal))


CROSS_FIT_FOLDS = 5


def cross_fit_folds(rows: int, seed: int, folds: int = CROSS_FIT_FOLDS) -> np.ndarray:
    """The fold (0..folds-1) of each of `rows` training rows: a seeded shuffle dealt round-robin,
    so the folds differ in size by at most one row."""
    return np.random.default_rng(seed).permutation(rows) % folds


def out_of_fold_logits(labels: list[int], fit_and_score: Callable[[int, np.ndarray, np.ndarray], np.ndarray], seed: int,
                       folds: int = CROSS_FIT_FOLDS) -> np.ndarray:
    """Cross-fitting: for each fold k, `fit_and_score(k, train_rows, held_rows)` trains a model like the
    shipped one on the other folds' rows and returns its logits for `held_rows`. Every training row
    is scored once by a model that never saw it: logits as unseen data gets them, from 80% of the
    data instead of the calibration split's 4%."""
    fold = cross_fit_folds(len(labels), seed, folds)
    logits = None
    for k in range(folds):
        held = np.flatnonzero(fold == k)
        scored = fit_and_score(k, np.flatnonzero(fold != k), held)
        if logits is None:
            logits = np.zeros((len(labels), scored.shape[1]))
        logits[held] = scored
    return logits


def too_small_note(validation_rows: int) -> str:
    """Why a model was shipped uncalibrated, for the training log and the manifest."""
    needed = math.ceil(MIN_CALIBRATION_ROWS / CALIBRATION_SHARE)
    return (f"the validation split has {validation_rows} rows; a calibration split of at least {MIN_CALIBRATION_ROWS} "
            f"rows needs {needed}: shipped uncalibrated (temperature 1)")


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(-_log_softmax(logits)[np.arange(len(labels)), labels].mean())


TEMPERATURE_RANGE = (0.05, 20.0)


def fit_temperature(logits: np.ndarray, labels: list[int] | np.ndarray) -> float:
    """The T minimising validation log-loss of softmax(logits / T): a grid, then golden-section."""
    labels = np.asarray(labels)
    logits = np.asarray(logits, dtype=np.float64)
    loss = lambda log_t: negative_log_likelihood(logits / np.exp(log_t), labels)  # noqa: E731
    grid = np.linspace(np.log(TEMPERATURE_RANGE[0]), np.log(TEMPERATURE_RANGE[1]), 121)
    best = int(np.argmin([loss(t) for t in grid]))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        low, high = (low, b) if loss(a) < loss(b) else (a, high)
    return float(np.exp((low + high) / 2))


def calibration(probabilities: np.ndarray, labels: list[int] | np.ndarray) -> dict:
    """Expected calibration error (15 equal-width confidence bins), log-loss, share above 0.99."""
    labels = np.asarray(labels)
    confidence = probabilities.max(axis=-1)
    correct = probabilities.argmax(axis=-1) == labels
    bins = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    ece = sum(abs(correct[bins == b].mean() - confidence[bins == b].mean()) * (bins == b).mean()
              for b in range(ECE_BINS) if (bins == b).any())
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)
    return {"ece": round(float(ece), 4), "log_loss": round(float(-np.log(picked).mean()), 4),
            "above_0_99": round(float((confidence > 0.99).mean()), 4)}


def fold_temperature(head, temperature: float) -> None:
    """logits / T, inside the model: the last linear layer's weight and bias divided by T."""
    import torch

    with torch.no_grad():
        head.weight.div_(temperature)
        if head.bias is not None:
            head.bias.div_(temperature)


# ---- split-conformal prediction sets (Vovk et al. 2005; Sadinle, Lei and Wasserman 2019, "LAC")
# A label is in a text's set when its calibrated probability is at least `threshold`; the top label
# always is (no empty sets). With the threshold fitted on n calibration rows as below, a new text's
# true label is in its set at least `coverage` of the time (calibration and new rows exchangeable),
# and, ties and the forced top label aside, at most coverage + 1 / (n + 1).

DEFAULT_COVERAGE = 0.9
COVERAGE_TOLERANCE = 0.015  # measured test coverage this far from the stated one is said plainly


def coverage_problem(coverage: float) -> str | None:
    ok = isinstance(coverage, (int, float)) and not isinstance(coverage, bool) and 0 < coverage < 1
    return None if ok else f"{coverage!r} is not a coverage strictly between 0 and 1 (e.g. 0.9 for 90%)"


def conformal_threshold(probabilities: np.ndarray, labels: list[int] | np.ndarray, coverage: float) -> float | None:
    """The smallest probability a label needs to join a set so that sets hold the true label at
    least `coverage` of the time: 1 minus the ceil((n + 1) * coverage)-th smallest nonconformity
    score 1 - p(true label) of the calibration rows. None when n is too small for that coverage
    (the rank would exceed n)."""
    labels = np.asarray(labels)
    n = len(labels)
    rank = math.ceil((n + 1) * coverage)
    if n == 0 or rank > n:
        return None
    scores = np.sort(1.0 - probabilities[np.arange(n), labels])
    return float(1.0 - scores[rank - 1])


def too_few_for_coverage(rows: int, coverage: float) -> str:
    needed = math.ceil(coverage / (1 - coverage))
    return (f"the calibration split has {rows} rows; {coverage:.0%} coverage needs at least {needed}: "
            "no prediction sets (the page shows the top label only)")


def set_figures(probabilities: np.ndarray, labels: list[int] | np.ndarray, threshold: float) -> dict:
    """How often the sets hold the true label, and the share of sets of one label, two, and all."""
    labels = np.asarray(labels)
    sets = prediction_sets(probabilities, threshold)
    sizes = sets.sum(axis=1)
    width = probabilities.shape[1]
    shares = {"1": float((sizes == 1).mean())}
    if width > 2:
        shares["2"] = float((sizes == 2).mean())
    shares["all"] = float((sizes == width).mean())
    return {"coverage": round(float(sets[np.arange(len(labels)), labels].mean()), 4),
            "set_sizes": {k: round(v, 4) for k, v in shares.items()}, "rows": len(labels)}


def temperature_bound(temperature: float) -> str | None:
    """"top" or "bottom" when a fitted temperature sits at an end of fit_temperature's range (within
    1%): the log-loss minimum lies outside it, and the model's scores are not near probabilities."""
    if temperature >= TEMPERATURE_RANGE[1] * 0.99:
        return "top"
    if temperature <= TEMPERATURE_RANGE[0] * 1.01:
        return "bottom"
    return None
