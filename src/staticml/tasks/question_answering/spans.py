"""Start and end logits of each window → the best answer spans, as characters of the passage.

The page applies the same rule (web/src/tasks/qa/spans.ts): per window, softmax of the start logits
and of the end logits over the passage's tokens only; a span's score is p(start) × p(end), for an
end at or after its start and at most `max_answer_tokens` long; the best spans over all windows,
one per distinct character range, highest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .windows import Window

TOP_TOKENS = 20  # start and end candidates per window


@dataclass(frozen=True)
class Span:
    score: float
    start: int  # characters of the passage
    end: int
    window: int
    start_token: int
    end_token: int


def context_softmax(logits: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Softmax over the passage's tokens (float64); other positions get 0."""
    masked = np.where(valid, logits.astype(np.float64), -np.inf)
    shifted = np.exp(masked - masked.max())
    return shifted / shifted.sum()


def window_spans(window: Window, index: int, start_logits: np.ndarray, end_logits: np.ndarray, max_answer_tokens: int) -> list[Span]:
    valid = np.array([s is not None for s in window.spans] + [False] * (len(start_logits) - len(window.spans)))
    p_start, p_end = context_softmax(start_logits, valid), context_softmax(end_logits, valid)
    starts = [int(i) for i in np.argsort(-p_start, kind="stable")[:TOP_TOKENS] if valid[i]]
    ends = [int(i) for i in np.argsort(-p_end, kind="stable")[:TOP_TOKENS] if valid[i]]
    spans = []
    for s in starts:
        for e in ends:
            if s <= e < s + max_answer_tokens:
                spans.append(Span(float(p_start[s] * p_end[e]), window.spans[s][0], window.spans[e][1], index, s, e))
    return spans


def best_spans(windows: list[Window], start_logits: np.ndarray, end_logits: np.ndarray, max_answer_tokens: int,
               top: int) -> list[Span]:
    """The `top` best spans over all windows, one per character range (the highest-scoring copy)."""
    spans = [span for i, window in enumerate(windows)
             for span in window_spans(window, i, start_logits[i], end_logits[i], max_answer_tokens)]
    spans.sort(key=lambda s: (-s.score, s.start, s.end))
    seen, best = set(), []
    for span in spans:
        if (span.start, span.end) not in seen:
            seen.add((span.start, span.end))
            best.append(span)
        if len(best) == top:
            break
    return best
