"""Checks of a question-answering model folder on probe pairs: two runs (PyTorch, fp32, int8, q4, the
page) give the same logits within a tolerance and the same answers. Import and build use them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...hard_texts import hard_texts
from ...runtime import create_session
from ..base import Report
from .spans import best_spans
from .windows import Window, feeds, windows

MAX_ANSWER_TOKENS = 30
OUTPUTS = ["start_logits", "end_logits"]
VARIANT_SPAN_AGREEMENT = 0.8  # int8/q4 vs fp32: answers on probe pairs whose top two spans are apart


def probe_pairs(count: int = 24) -> list[tuple[str, str]]:
    """Questions and passages of mixed lengths (hard strings: accents, emoji, CJK), some longer than one window."""
    texts = [t for t in hard_texts(200) if t.strip()]
    pairs = []
    for i in range(count):
        question = PROBE_QUESTIONS[i % len(PROBE_QUESTIONS)]
        passage = " ".join(texts[(i * 7 + k) % len(texts)] for k in range(1 + (i % 4) * 8))
        pairs.append((question, passage))
    return pairs


PROBE_QUESTIONS = ["What is it?", "Who said that?", "Where is the café?", "When did it happen, and why?", "How many?", "Which one is 中文?"]


def compare_runs(pair_windows: list[list[Window]], reference: list, candidate: list) -> dict:
    """Largest logit difference on real tokens, and how many best answers agree (on the pairs whose
    reference top two spans are more than 1e-4 apart)."""
    worst, agree, decided = 0.0, 0, 0
    for ws, (rs, re), (cs, ce) in zip(pair_windows, reference, candidate):
        mask = feeds(ws, 0, False)["attention_mask"].astype(bool)
        worst = max(worst, float(np.abs(rs - cs)[mask].max()), float(np.abs(re - ce)[mask].max()))
        ref = best_spans(ws, rs, re, MAX_ANSWER_TOKENS, 2)
        got = best_spans(ws, cs, ce, MAX_ANSWER_TOKENS, 1)
        if len(ref) == 2 and ref[0].score - ref[1].score <= 1e-4:
            continue
        decided += 1
        agree += bool(ref and got and (ref[0].start, ref[0].end) == (got[0].start, got[0].end))
    return {"max_abs_diff_logit": float(f"{worst:.3g}"), "same_answer": agree, "pairs": decided}




def variant_logits(model_dir: Path, file: str, pair_windows: list[list[Window]], pad_id: int) -> list:
    session = create_session(model_dir / file)
    token_types = "token_type_ids" in [i.name for i in session.get_inputs()]
    return [tuple(session.run(OUTPUTS, feeds(ws, pad_id, token_types))) for ws in pair_windows]


def check_variants_agree(model_dir: Path, manifest: dict, report: Report) -> dict:
    """build: each smaller variant gives fp32's answers on most probe pairs (else it is refused)."""
    from ...errors import UserError
    from ...tokenize import load_tokenizer

    variants = manifest["variants"]
    if "fp32" not in variants or len(variants) == 1:
        return manifest
    tokenizer = load_tokenizer(model_dir / manifest["tokenizer"]["file"])
    pair_windows = [windows(tokenizer, q, c, manifest["max_length"], manifest["stride"]) for q, c in probe_pairs()]
    pad = manifest["tokenizer"]["pad_id"]
    reference = variant_logits(model_dir, variants["fp32"], pair_windows, pad)
    for variant, file in variants.items():
        if variant == "fp32":
            continue
        check = compare_runs(pair_windows, reference, variant_logits(model_dir, file, pair_windows, pad))
        report(f"build: {manifest['name']} {variant} vs fp32: same answer on {check['same_answer']}/{check['pairs']} probe pairs")
        if check["same_answer"] < VARIANT_SPAN_AGREEMENT * check["pairs"]:
            raise UserError(f"{model_dir}: variant {variant} gives other answers than fp32 on "
                            f"{check['pairs'] - check['same_answer']}/{check['pairs']} probe pairs")
    return manifest
