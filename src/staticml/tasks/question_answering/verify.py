"""verify on a question-answering site: per variant, in headless Chromium, the page's windows, logits and
answers against Python's on probe pairs (some longer than one window), no request while answering,
self-containment, integrity and the offline reload."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ...browser import chromium, served
from ...checks import Check, check_integrity, check_offline
from ...site_config import model_dirs
from ..base import VerifyRun
from ..classify.verify import check_page
from .checks import probe_pairs
from .spans import best_spans

LOGIT_TOLERANCE = {"fp32": 1e-4}  # other variants: 1e-3 (int8 weights dequantized the same way; float sums differ)
TIE = 1e-4  # answers are compared where the reference's top two spans are further apart than this


@dataclass
class Parity:
    pairs: int = 0
    windows: int = 0
    ids_differ: int = 0
    max_abs_diff_logit: float = 0.0
    decided: int = 0
    same_answer: int = 0
    examples: list = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.pairs} pairs ({self.windows} windows): ids differ in {self.ids_differ} windows, max |Δlogit| "
                f"{self.max_abs_diff_logit:.2e}, same answer {self.same_answer}/{self.decided} (pairs without a near-tie)")


def page_parity(page, native, pairs: list[tuple[str, str]]) -> Parity:
    """The page's windows and logits (window.staticml.details) against Python's runner `native`
    (the task's open_model, same variant), pair by pair."""
    result = Parity()
    for question, context in pairs:
        windows = native.windows(question, context)
        start, end = native.logits(windows)
        got = page.evaluate("([q, c]) => window.staticml.details(q, c)", [question, context])["details"]
        result.pairs += 1
        result.windows += len(windows)
        if [w.ids for w in windows] != [w["ids"] for w in got["windows"]]:
            result.ids_differ += sum(a.ids != b["ids"] for a, b in zip(windows, got["windows"])) + abs(len(windows) - len(got["windows"]))
            result.examples.append(question)
            continue
        for k, w in enumerate(windows):
            n = len(w.ids)
            result.max_abs_diff_logit = max(result.max_abs_diff_logit, float(np.abs(start[k, :n] - got["start_logits"][k]).max()),
                                            float(np.abs(end[k, :n] - got["end_logits"][k]).max()))
        spans = best_spans(windows, start, end, native.max_answer_tokens, 2)
        if len(spans) == 2 and spans[0].score - spans[1].score <= TIE:
            continue
        result.decided += 1
        page_answer = page.evaluate("([q, c]) => window.staticml.answer(q, c)", [question, context])["answer"]
        if spans and page_answer == context[spans[0].start:spans[0].end]:
            result.same_answer += 1
        else:
            result.examples.append(question)
    return result


def parity_checks(open_model: Callable) -> Callable[..., list[Check]]:
    """classify.verify.check_page's page checks for a question-answering model."""
    def checks(page, label: str, model_dir: Path, variant: str, user_texts: list[str], backend: str) -> list[Check]:
        return [parity_check(page, label, open_model(model_dir, variant), variant)]
    return checks


def parity_check(page, label: str, native, variant: str) -> Check:
    result = page_parity(page, native, probe_pairs(32))
    tolerance = LOGIT_TOLERANCE.get(variant, 1e-3)
    ok = result.ids_differ == 0 and result.max_abs_diff_logit <= tolerance and result.same_answer == result.decided
    return Check(f"{label}: page vs Python", ok, result.summary() + f" (tolerance {tolerance:g})", result.__dict__)


def verify_site(run: VerifyRun, read_model: Callable[[Path], dict], open_model: Callable, sample: dict) -> list[Check]:
    checks = []
    with served(run.site) as url, chromium() as browser:
        for name, model_dir in model_dirs(run.site, run.config).items():
            manifest = read_model(model_dir)
            checks.append(check_integrity(name, model_dir, manifest))
            for variant in manifest["variants"]:
                run.report(f"verify: {name} / {variant} …")
                checks += check_page(browser, url, run, name, variant, parity_checks(open_model))
        answers = lambda page: page.evaluate("([q, c]) => window.staticml.answer(q, c)", [sample["question"], sample["context"]])  # noqa: E731
        checks.append(check_offline(browser, url, run.site, answers))
    return checks
