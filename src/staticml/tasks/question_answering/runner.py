"""The native question answerer (Python onnxruntime on a model folder): Python's reference for the page."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ...errors import UserError
from ...runtime import create_session
from ...tokenize import load_tokenizer
from .spans import Span, best_spans
from .windows import Window, check_pair, feeds, windows

WINDOW_BATCH = 8  # windows per session run (the page runs the same batches)
ALTERNATIVES = 3  # next-best answers given besides the best


class QuestionAnswerer:
    """`answer(question, context)` → {answer, score, start, end, no_answer, alternatives}.

    Safe to call from several threads at once (the API answers requests side by side, so a short question is
    not queued behind a long passage): making windows sets the tokenizer's truncation, so each thread has a
    tokenizer of its own; the onnxruntime session runs concurrent calls itself, window batch by batch."""

    def __init__(self, model_dir: str | Path, manifest: dict, variant: str | None = None, threads: int = 0, spin: bool = True):
        self.model_dir = Path(model_dir)
        self.manifest = manifest
        self.variant = variant or manifest["default_variant"]
        if self.variant not in manifest["variants"]:
            raise UserError(f"{self.model_dir}: no variant '{self.variant}' (has {', '.join(manifest['variants'])})")
        self.labels: list[str] = []
        self.session = create_session(self.model_dir / manifest["variants"][self.variant], threads, spin)
        self.tokenizer_path = self.model_dir / manifest["tokenizer"]["file"]
        self.tokenizer = load_tokenizer(self.tokenizer_path)
        self.per_thread = threading.local()
        self.per_thread.tokenizer = self.tokenizer
        self.token_types = "token_type_ids" in [i.name for i in self.session.get_inputs()]
        self.max_length, self.stride = manifest["max_length"], manifest["stride"]
        self.max_answer_tokens = manifest["max_answer_tokens"]
        self.no_answer_below = manifest["no_answer_below"]

    @property
    def name(self) -> str:
        return self.manifest["name"]

    def thread_tokenizer(self):
        if not hasattr(self.per_thread, "tokenizer"):
            self.per_thread.tokenizer = load_tokenizer(self.tokenizer_path)
        return self.per_thread.tokenizer

    def windows(self, question: str, context: str) -> list[Window]:
        return windows(self.thread_tokenizer(), question, context, self.max_length, self.stride)

    def logits(self, windows_: list[Window]) -> tuple[np.ndarray, np.ndarray]:
        """start and end logits [windows, longest window] (padding positions hold whatever the graph gives)."""
        width = max(len(w.ids) for w in windows_)
        starts, ends = [], []
        for i in range(0, len(windows_), WINDOW_BATCH):
            batch = windows_[i:i + WINDOW_BATCH]
            start, end = self.session.run(["start_logits", "end_logits"], feeds(batch, self.manifest["tokenizer"]["pad_id"], self.token_types))
            pad = ((0, 0), (0, width - start.shape[1]))
            starts.append(np.pad(start, pad))
            ends.append(np.pad(end, pad))
        return np.concatenate(starts), np.concatenate(ends)

    def spans(self, question: str, context: str, top: int = ALTERNATIVES + 1) -> list[Span]:
        check_pair(question, context)
        found = self.windows(question, context)
        start, end = self.logits(found)
        return best_spans(found, start, end, self.max_answer_tokens, top)

    def answer(self, question: str, context: str) -> dict:
        spans = self.spans(question, context)
        return answer_of(spans, context, self.no_answer_below)

    def answers(self, pairs: list[dict]) -> list[dict]:
        return [self.answer(p["question"], p["context"]) for p in pairs]


def answer_of(spans: list[Span], context: str, no_answer_below: float) -> dict:
    """The page's and the API's answer shape; `no_answer` when the best score is below the model's threshold."""
    if not spans:
        return {"answer": "", "score": 0.0, "start": 0, "end": 0, "no_answer": True, "alternatives": []}
    best = spans[0]
    return {"answer": context[best.start:best.end], "score": best.score, "start": best.start, "end": best.end,
            "no_answer": best.score < no_answer_below,
            "alternatives": [{"answer": context[s.start:s.end], "score": s.score, "start": s.start, "end": s.end} for s in spans[1:]]}
