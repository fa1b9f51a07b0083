"""A question and a passage → the windows the model reads, and the way back to the passage's characters.

The tokenizer's own pair encoding does the work (`tokenizers`: truncation of the passage only, with
overflowing windows that overlap by `stride` tokens, and character offsets per token), so the
windows are the ones the Hugging Face question-answering pipeline makes. The page builds the same
windows (web/src/tasks/qa/windows.ts); `verify` compares them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tokenizers import Encoding, Tokenizer

from ...errors import UserError

MAX_CONTEXT_CHARS = 200_000  # about 35,000 words: a limit, not a hang (a megabyte is refused in one line)
MAX_QUESTION_SHARE = 2  # a question may take at most max_length / 2 tokens of a window


@dataclass
class Window:
    ids: list[int]
    type_ids: list[int]
    # per token: (start, end) characters of the passage, or None for the question and special tokens
    spans: list[tuple[int, int] | None]


def check_pair(question: str, context: str, where: str = "") -> None:
    """Refuses what cannot be answered, naming the field: empty, or a passage past the limit."""
    prefix = f"{where}: " if where else ""
    if not isinstance(question, str) or not question.strip():
        raise UserError(f"{prefix}question is empty")
    if not isinstance(context, str) or not context.strip():
        raise UserError(f"{prefix}context is empty")
    if len(context) > MAX_CONTEXT_CHARS:
        raise UserError(f"{prefix}context has {len(context):,} characters; the limit is {MAX_CONTEXT_CHARS:,} "
                        "(split the passage and ask each part)")


def windows(tokenizer: Tokenizer, question: str, context: str, max_length: int, stride: int) -> list[Window]:
    """The windows of one pair: [CLS] question [SEP] passage-part [SEP], each part overlapping the
    previous one by `stride` tokens, together covering the whole passage."""
    question_tokens = len(tokenizer.encode(question, add_special_tokens=False).ids)
    if question_tokens > max_length // MAX_QUESTION_SHARE:
        raise UserError(f"question has {question_tokens} tokens; at most {max_length // MAX_QUESTION_SHARE} fit beside the passage")
    tokenizer.enable_truncation(max_length, stride=stride, strategy="only_second")
    try:
        first = tokenizer.encode(question, context)
    finally:
        tokenizer.no_truncation()
    return [_window(e) for e in [first, *first.overflowing]]


def _window(encoding: Encoding) -> Window:
    spans = [tuple(offset) if sequence == 1 else None for offset, sequence in zip(encoding.offsets, encoding.sequence_ids)]
    return Window(list(encoding.ids), list(encoding.type_ids), spans)


def feeds(windows_: list[Window], pad_id: int, token_types: bool) -> dict[str, np.ndarray]:
    """int64 inputs for a batch of windows, padded to the longest (the page pads the same)."""
    width = max(len(w.ids) for w in windows_)
    ids = np.full((len(windows_), width), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, w in enumerate(windows_):
        ids[row, :len(w.ids)] = w.ids
        mask[row, :len(w.ids)] = 1
        types[row, :len(w.ids)] = w.type_ids
    out = {"input_ids": ids, "attention_mask": mask}
    if token_types:
        out["token_type_ids"] = types
    return out


def pair_layout(tokenizer: Tokenizer) -> dict[str, list[int]]:
    """The special tokens the tokenizer puts around a pair ([CLS] A [SEP] B [SEP]: prefix, middle, suffix),
    recorded in the manifest for the page, which builds the same windows (its tokenizer has no pair truncation)."""
    first = tokenizer.encode("hello", add_special_tokens=False).ids
    second = tokenizer.encode("world", add_special_tokens=False).ids
    full = tokenizer.encode("hello", "world").ids
    a = next((i for i in range(len(full)) if full[i:i + len(first)] == first), None)
    b = next((i for i in range(a + len(first), len(full)) if full[i:i + len(second)] == second), None) if a is not None else None
    if a is None or b is None:
        raise UserError("tokenizer.json: its post-processor changes the tokens of a question and passage pair; cannot derive the pair layout")
    return {"prefix": full[:a], "middle": full[a + len(first):b], "suffix": full[b + len(second):]}
