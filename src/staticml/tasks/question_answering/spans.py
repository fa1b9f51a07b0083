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


def window_spans(window: Window, index: int, start_logits: np.ndarray, end_logits: np.ndarray, max_answer_tokens: int,
                 top: int | None = None) -> list[Span]:
    """The window's spans, best first (score, then characters); with `top`, only its `top` best character ranges:
    enough for the best over all windows, since a range among those is among its own best window's too."""
    valid = np.array([s is not None for s in window.spans] + [False] * (len(start_logits) - len(window.spans)))
    p_start, p_end = context_softmax(start_logits, valid), context_softmax(end_logits, valid)
    starts = np.array([i for i in np.argsort(-p_start, kind="stable")[:TOP_TOKENS] if valid[i]], dtype=np.int64)
    ends = np.array([i for i in np.argsort(-p_end, kind="stable")[:TOP_TOKENS] if valid[i]], dtype=np.int64)
    s, e = (a.ravel() for a in np.meshgrid(starts, ends, indexing="ij"))  # start-major, as the page lists them
    keep = (s <= e) & (e < s + max_answer_tokens)
    s, e = s[keep], e[keep]
    scores = p_start[s] * p_end[e]
    first = np.array([window.spans[i][0] for i in s], dtype=np.int64)
    last = np.array([window.spans[i][1] for i in e], dtype=np.int64)
    spans, seen = [], set()
    for k in np.lexsort((last, first, -scores)):  # stable: equal keys keep the page's order
        if top is not None and (int(first[k]), int(last[k])) in seen:
            continue
        seen.add((int(first[k]), int(last[k])))
        spans.append(Span(float(scores[k]), int(first[k]), int(last[k]), index, int(s[k]), int(e[k])))
        if top is not None and len(spans) == top:
            break
    return spans


def best_spans(windows: list[Window], start_logits: np.ndarray, end_logits: np.ndarray, max_answer_tokens: int,
               top: int) -> list[Span]:
    """The `top` best spans over all windows, one per character range (the highest-scoring copy)."""
    spans = [span for i, window in enumerate(windows)
             for span in window_spans(window, i, start_logits[i], end_logits[i], max_answer_tokens, top)]
    spans.sort(key=lambda s: (-s.score, s.start, s.end))
    seen, best = set(), []
    for span in spans:
        if (span.start, span.end) not in seen:
            seen.add((span.start, span.end))
            best.append(span)
        if len(best) == top:
            break
    return best
