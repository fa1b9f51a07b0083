"""`staticml train DATA.json --task question-answering`: MiniLM (all-MiniLM-L6-v2) with a span head,
fine-tuned on SQuAD-format JSON (v1 and v2), split by article; then exported, checked and quantized
as an imported question-answering folder is (qa_import.py), with exact match and F1 on the held-out
articles per variant in the manifest. `staticml demo --task question-answering` does this on the
shipped XQuAD English file (data/xquad.README.md)."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import string
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import manifest as manifest_io, tasks
from ..errors import UserError
from ..output import cache_dir

Report = Callable[[str], None]
XQUAD = Path(__file__).parents[1] / "data" / "xquad.en.json"
MAX_LENGTH, STRIDE = 384, 128
HELD_OUT_SHARE = 0.2
BATCH = 16
# A span head on a general sentence encoder with ~1,000 questions: a high rate with a short warm-up learns
# far more in a few epochs than the 5e-5 used for SQuAD's 88k questions.
LEARNING_RATE = 2e-4
WARMUP_SHARE = 0.1
DEMO_QUESTIONS, DEMO_EPOCHS, DEMO_MAX_LENGTH, DEMO_STRIDE = None, 2.0, MAX_LENGTH, STRIDE  # all of XQuAD but the held-out articles
THRESHOLD_QUESTIONS = 200  # training questions the "no answer" threshold is chosen on


@dataclass
class Question:
    article: int
    context: str
    question: str
    answers: list[tuple[str, int]]  # (text, character start); empty: unanswerable (SQuAD v2)


def read_squad(path: Path, report: Report) -> list[Question]:
    """SQuAD-format JSON → questions; a file of another shape is refused naming what is missing, a
    question whose answer does not sit at its offset in the passage is skipped and counted."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror})") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise UserError(f"{path}: not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise UserError(f'{path}: not SQuAD-shaped: no "data" list of articles at the top')
    questions, skipped = [], 0
    for a, article in enumerate(document["data"]):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise UserError(f'{path}: not SQuAD-shaped: data[{a}] has no "paragraphs" list')
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str) or not isinstance(paragraph.get("qas"), list):
                raise UserError(f'{path}: not SQuAD-shaped: {where} needs a "context" string and a "qas" list')
            for q, qa in enumerate(paragraph["qas"]):
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not isinstance(qa.get("answers", []), list):
                    raise UserError(f'{path}: not SQuAD-shaped: {where}.qas[{q}] needs a "question" string and an "answers" list')
                answers = [(x.get("text"), x.get("answer_start")) for x in qa.get("answers", []) if isinstance(x, dict)]
                good = [(t, s) for t, s in answers if isinstance(t, str) and isinstance(s, int) and t
                        and paragraph["context"][s:s + len(t)] == t]
                if len(good) != len(answers) or (not answers and not qa.get("is_impossible")):
                    skipped += 1  # an answer not where it says it is, or no answer in a v1 file
                    continue
                if qa["question"].strip():
                    questions.append(Question(a, paragraph["context"], qa["question"], good))
    if skipped:
        report(f"train: {path}: {skipped} question(s) skipped (an answer not at its offset in the passage, or none given)")
    if not questions:
        raise UserError(f"{path}: no usable questions")
    return questions


def split_by_article(questions: list[Question], share: float = HELD_OUT_SHARE, seed: int = 0) -> tuple[list[Question], list[Question]]:
    """Whole articles on each side: no passage is both trained on and tested on."""
    articles = sorted({q.article for q in questions})
    if len(articles) < 2:
        raise UserError("train: question answering needs at least two articles (the split is by article)")
    random.Random(seed).shuffle(articles)
    held = set(articles[:max(1, round(len(articles) * share))])
    return [q for q in questions if q.article not in held], [q for q in questions if q.article in held]


# ---- features: transformers' own overflowing windows, with start/end token positions


def features(tokenizer, questions: list[Question], max_length: int, stride: int) -> dict:
    import torch

    encoded = tokenizer([q.question for q in questions], [q.context for q in questions], truncation="only_second",
                        max_length=max_length, stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                        padding="max_length", return_token_type_ids=True)
    starts, ends = [], []
    for i, offsets in enumerate(encoded["offset_mapping"]):
        question = questions[encoded["overflow_to_sample_mapping"][i]]
        sequence = encoded.sequence_ids(i)
        start_token = end_token = 0  # [CLS]: no answer in this window
        if question.answers:
            text, char_start = question.answers[0]
            char_end = char_start + len(text)
            inside = [k for k, s in enumerate(sequence) if s == 1]
            if offsets[inside[0]][0] <= char_start and offsets[inside[-1]][1] >= char_end:
                start_token = next(k for k in inside if offsets[k][1] > char_start)
                end_token = next(k for k in reversed(inside) if offsets[k][0] < char_end)
        starts.append(start_token)
        ends.append(end_token)
    return {name: torch.tensor(encoded[name]) for name in ("input_ids", "attention_mask", "token_type_ids")} | {
        "start_positions": torch.tensor(starts), "end_positions": torch.tensor(ends)}


def length_grouped_batches(lengths, steps: int, seed: int = 0) -> list:
    """Window indices per step: windows of similar length share a batch (so a batch is cut to its longest
    window instead of padded to max_length), batches in a shuffled order, reshuffled each pass."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    batches: list = []
    while len(batches) < steps:
        shuffled = torch.randperm(len(lengths), generator=generator)
        by_length = shuffled[torch.argsort(lengths[shuffled], stable=True)]
        chunk = list(torch.split(by_length, BATCH))
        batches += [chunk[i] for i in torch.randperm(len(chunk), generator=generator)]
    return batches[:steps]


def warmup_then_decay(steps: int) -> Callable[[int], float]:
    warmup = max(1, round(steps * WARMUP_SHARE))
    return lambda step: (step + 1) / warmup if step < warmup else max(0.0, (steps - step) / max(1, steps - warmup))


def fine_tune(model, batches: dict, epochs: float, report: Report) -> float:
    """AdamW, a short warm-up then linear decay; a progress line with an ETA about every 5% of the steps. Returns seconds."""
    import torch

    count = len(batches["input_ids"])
    steps = max(1, int(epochs * count / BATCH))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_then_decay(steps))
    lengths = batches["attention_mask"].sum(dim=1)
    model.train()
    began = time.monotonic()
    for step, index in enumerate(length_grouped_batches(lengths, steps)):
        width = int(lengths[index].max())
        loss = model(**{k: (v[index, :width] if v.dim() == 2 else v[index]) for k, v in batches.items()}).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % max(1, steps // 20) == 0 or step == steps - 1:
            spent = time.monotonic() - began
            eta = spent / (step + 1) * (steps - step - 1)
            report(f"train: step {step + 1}/{steps} loss {loss.item():.3f} ({spent:.0f} s, about {eta:.0f} s left)")
    model.eval()
    return time.monotonic() - began


# ---- exact match and F1 (the SQuAD evaluation's normalisation)


def normalize(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def f1(prediction: str, truth: str) -> float:
    predicted, expected = normalize(prediction).split(), normalize(truth).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_f1(question: Question, predicted: str) -> float:
    return max(f1(predicted, t) for t in [t for t, _ in question.answers] or [""])


def evaluate(model_dir: Path, variant: str, questions: list[Question]) -> dict:
    """EM and F1 (in %) of one variant through the native runner (the page's rule), best over each question's answers."""
    answerer = tasks.open_model(model_dir, variant)
    em = f1_sum = 0.0
    for q in questions:
        result = answerer.answer(q.question, q.context)
        predicted = "" if result["no_answer"] else result["answer"]
        em += max(float(normalize(predicted) == normalize(t)) for t in [t for t, _ in q.answers] or [""])
        f1_sum += best_f1(q, predicted)
    return {"exact_match": round(100 * em / len(questions), 2), "f1": round(100 * f1_sum / len(questions), 2), "questions": len(questions)}


def choose_no_answer_threshold(scored: list[tuple[float, float, bool]]) -> float:
    """The "no answer" threshold with the best mean F1 over training questions, given (best span's score, its F1,
    whether the question is unanswerable) for each; among equally good thresholds the highest. With no
    unanswerable question that is the lowest score of an answer that overlapped the truth at all."""
    candidates = sorted({0.0} | {score for score, _, _ in scored})

    def total(threshold: float) -> float:
        return sum(float(unanswerable) if score < threshold else (0.0 if unanswerable else answer_f1)
                   for score, answer_f1, unanswerable in scored)

    best = max(total(t) for t in candidates)
    return max(t for t in candidates if total(t) == best)


def no_answer_threshold(model_dir: Path, questions: list[Question]) -> float:
    answerer = tasks.open_model(model_dir)
    scored = []
    for q in questions:
        spans = answerer.spans(q.question, q.context, top=1)
        score = spans[0].score if spans else 0.0
        scored.append((score, best_f1(q, q.context[spans[0].start:spans[0].end]) if spans else 0.0, not q.answers))
    return choose_no_answer_threshold(scored)


# ---- the commands


def train_qa(args: argparse.Namespace, report: Report) -> None:
    """`staticml train DATA.json --task question-answering --out MODEL`."""
    epochs = getattr(args, "epochs", None) or 2.0
    train_squad(Path(args.data), Path(args.out), args.name or Path(args.out).name, epochs, None, report, force=args.force)


def train_squad(data: Path, out: Path, name: str, epochs: float, limit: int | None, report: Report, force: bool = False,
                max_length: int = MAX_LENGTH, stride: int = STRIDE) -> dict:
    questions = read_squad(data, report)  # bad data is refused before the libraries take seconds to load
    train_set, held_out = split_by_article(questions)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoTokenizer, BertForQuestionAnswering
    from transformers.utils import logging as hf_logging

    from .importer import import_model
    from .models.minilm import source_dir

    hf_logging.set_verbosity_error()
    if limit:
        train_set = random.Random(0).sample(train_set, min(limit, len(train_set)))
        held_out = random.Random(1).sample(held_out, min(max(limit // 4, 20), len(held_out)))
    report(f"train: {len(train_set)} questions to train on, {len(held_out)} held out "
           f"({len({q.article for q in held_out})} articles never seen in training)")
    encoder = source_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(encoder), local_files_only=True)
    torch.manual_seed(0)
    model = BertForQuestionAnswering.from_pretrained(str(encoder), local_files_only=True, attn_implementation="eager")
    batches = features(tokenizer, train_set, max_length, stride)
    report(f"train: {len(batches['input_ids'])} windows of {max_length} tokens, {epochs:g} epoch(s)")
    seconds = fine_tune(model, batches, epochs, report)
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        shutil.copy(encoder / "tokenizer.json", Path(folder) / "tokenizer.json")
        import_model(Path(folder), out, name=name, max_length=max_length, report=report, force=force)
    manifest = tasks.read_model(out)
    sample = random.Random(2).sample(train_set, min(THRESHOLD_QUESTIONS, len(train_set)))
    manifest["no_answer_below"] = round(no_answer_threshold(out, sample), 6)
    report(f"train: \"no answer\" below a score of {manifest['no_answer_below']:g} (the best F1 on {len(sample)} training questions)")
    manifest_io.write(out, manifest, tasks.get(manifest["task"]).fields)
    metrics = {"measured": True, "split": "by article", "held_out_articles": len({q.article for q in held_out}),
               "train_questions": len(train_set), "train_seconds": round(seconds), "epochs": epochs, "source": data.name,
               "learning_rate": LEARNING_RATE, "train_windows": len(batches["input_ids"]), "train_max_length": max_length}
    for variant in manifest["variants"]:
        metrics[variant] = evaluate(out, variant, held_out)
        report(f"train: {variant} on held-out articles: EM {metrics[variant]['exact_match']:.1f}, F1 {metrics[variant]['f1']:.1f}")
    manifest["metrics"] = metrics
    manifest_io.write(out, manifest, tasks.get(manifest["task"]).fields)
    return manifest


def demo_qa(args: argparse.Namespace, workdir: Path, report: Report) -> Path:
    """Trains on the shipped XQuAD English file (all but the held-out articles, 2 epochs, windows of 384: about
    50 minutes on a loaded 2-core machine; held-out EM 10.8, F1 15.2, docs/question-answering.md),
    or reuses the model cached under ~/.cache/staticml from an earlier run."""
    cached = cache_dir() / "question-answering-demo"
    model_dir = workdir / "qa"
    if (cached / "manifest.json").is_file():
        report(f"demo: reusing the question-answering model trained before ({cached})")
    else:
        epochs = getattr(args, "epochs", None) or DEMO_EPOCHS
        train_squad(XQUAD, cached, "qa", epochs, DEMO_QUESTIONS, report, force=True,
                    max_length=DEMO_MAX_LENGTH, stride=DEMO_STRIDE)
    shutil.copytree(cached, model_dir)
    return model_dir
