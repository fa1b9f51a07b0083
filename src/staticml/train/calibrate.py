"""Probabilities that mean what they say: one temperature, fitted on the validation split after
training (Guo et al. 2017), folded into the model's last linear layer, so the exported graph
itself is calibrated and Python, the API and the page apply it identically (one place: the file).
Dividing logits by T > 0 never changes a prediction, only how sure it sounds."""

from __future__ import annotations

import numpy as np

ECE_BINS = 15


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
