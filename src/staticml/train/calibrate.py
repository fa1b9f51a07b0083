"""Probabilities that mean what they say: one temperature, fitted after training (Guo et al. 2017)
on a calibration split that early stopping never saw, folded into the model's last linear layer,
so the exported graph itself is calibrated and Python, the API and the page apply it identically
(one place: the file). Dividing logits by T > 0 never changes a prediction, only how sure it sounds.

Why a separate split: early stopping keeps the epoch that scores best on the validation split, so
that split's logits look better than unseen data's and a temperature fitted on them is too low
(the model stays overconfident on the test split). Half of the validation split (stratified) picks
the epoch; the other half fits the temperature; the test split is untouched.
"""

from __future__ import annotations

import math

import numpy as np

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


def fit_temperature(logits: np.ndarray, labels: list[int] | np.ndarray) -> float:
    """The T minimising validation log-loss of softmax(logits / T): a grid, then golden-section."""
    labels = np.asarray(labels)
    logits = np.asarray(logits, dtype=np.float64)
    loss = lambda log_t: negative_log_likelihood(logits / np.exp(log_t), labels)  # noqa: E731
    grid = np.linspace(np.log(0.05), np.log(20.0), 121)
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


NOT_SURE_ACCURACY = 0.55  # "not sure": below it, the model is right barely more often than wrong
# (at 0.5, a binary model's noisy low end often has no such group at all, and the page never says it)
NOT_SURE_MIN_ROWS = 20


def uncertain_below(probabilities: np.ndarray, labels: list[int] | np.ndarray) -> float:
    """The top probability below which the page says "not sure": the highest threshold such that
    the (calibrated, validation) predictions below it are right at most NOT_SURE_ACCURACY of the
    time taken together. No such group of NOT_SURE_MIN_ROWS rows: 1 / labels (never "not sure")."""
    labels = np.asarray(labels)
    confidence = probabilities.max(axis=-1)
    order = np.argsort(confidence, kind="stable")
    right = np.cumsum(probabilities.argmax(axis=-1)[order] == labels[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(right[NOT_SURE_MIN_ROWS - 1:] <= NOT_SURE_ACCURACY) + NOT_SURE_MIN_ROWS  # rows below
    if not len(ok) or ok[-1] >= len(order):
        return round(1 / probabilities.shape[1], 4) if not len(ok) else 1.0
    return round(float(confidence[order[ok[-1]]]), 4)
