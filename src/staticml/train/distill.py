"""A student learns from a teacher: knowledge distillation (Hinton et al. 2015; Tang et al. 2019).

The teacher is any model folder staticml can run (a fine-tuned MiniLM, an imported model). Its
logits on the training texts are computed once with onnxruntime (its default variant) and cached
like the encoder features (`output.cache_dir()`, keyed by the teacher file's sha256 and each text's), so
another student on an overlapping set of texts (a subset of labels, more unlabeled texts) reuses them.
The student's loss per labeled text is

    W * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - W) * cross-entropy(label)

and per unlabeled text (`--unlabeled`, or augmented copies) the first term alone.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import manifest as manifest_io
from ..errors import UserError
from ..output import cache_dir
from ..tasks import text as text_task
from . import data as data_io
from .features import eta

Report = Callable[[str], None]

# Common choices (Hinton et al. use T 2-20; W near 0.5-0.9), not yet tuned against the fine-tuned
# MiniLM teacher: scripts/distill_measure.py measures a grid once that teacher exists (README).
TEMPERATURE = 2.0
WEIGHT = 0.7
UNLABELED = -100  # the label of a text with soft targets only (cross_entropy's ignore_index)
TEACHER_BATCH = 64


@dataclass
class DistillConfig:
    teacher: str
    temperature: float = TEMPERATURE
    weight: float = WEIGHT
    unlabeled: str | None = None
    text_col: str | None = None  # the unlabeled file's text column, when it is a table
    augment: int = 0  # augmented copies of each training text (word dropout and swaps), soft targets only
    teacher_subset: bool = False  # the teacher may have more labels: keep only the data's (renormalised)

    def check(self) -> None:
        if not self.temperature > 0:
            raise UserError(f"--teacher-temperature {self.temperature}: must be above 0")
        if not 0 <= self.weight <= 1:
            raise UserError(f"--teacher-weight {self.weight}: must be between 0 and 1")
        if self.augment < 0:
            raise UserError(f"--augment {self.augment}: must be 0 or more copies")


@dataclass
class Teacher:
    model_dir: Path
    manifest: dict
    variant: str
    columns: list[int]  # the teacher's logit index of each of the data's labels

    @property
    def sha256(self) -> str:
        return self.manifest["files"][self.manifest["variants"][self.variant]]["sha256"]

    def describe(self) -> dict:
        test = self.manifest.get("metrics", {}).get("variants", {}).get(self.variant, {})
        return {"name": self.manifest["name"], "arch": self.manifest.get("arch"), "variant": self.variant,
                "sha256": self.sha256, "labels": self.manifest["labels"],
                "test": {k: test[k] for k in ("accuracy", "macro_f1") if k in test}}


def load_teacher(model_dir: str | Path, labels: list[str], subset: bool = False) -> Teacher:
    """The teacher's model folder, checked: a text model whose labels are the data's, in order."""
    model_dir = Path(model_dir)
    try:
        manifest = manifest_io.read(model_dir)
    except UserError as exc:
        raise UserError(f"--teacher {exc}") from None
    if manifest["task"] != text_task.NAME:
        raise UserError(f"--teacher {model_dir}: is a {manifest['task']} model; a text student needs a text teacher")
    theirs = manifest["labels"]
    if theirs != labels:
        kept = [label for label in theirs if label in labels]
        if not (subset and kept == labels):
            hint = " (pass --teacher-subset to use only those logits)" if kept == labels else ""
            raise UserError(f"--teacher {model_dir}: its labels are {', '.join(theirs)} but the data's are "
                            f"{', '.join(labels)} (the same names in the same order are needed){hint}")
    return Teacher(model_dir, manifest, manifest["default_variant"], [theirs.index(label) for label in labels])


def teacher_logits(teacher: Teacher, texts: list[str], report: Report) -> tuple[np.ndarray, float]:
    """The teacher's logits (the data's label columns) for every text, each computed once per teacher
    file and kept in the cache (keyed by the file's sha256 and each text's); and the seconds spent
    computing the ones the cache did not have."""
    path = cache_dir() / f"teacher-{teacher.sha256[:32]}-{teacher.variant}.npz"
    keys = np.array([hashlib.sha256(t.encode("utf-8", "surrogatepass")).digest()[:16] for t in texts], dtype="S16")
    known_keys, known = _read_cache(path)
    row = {k: i for i, k in enumerate(known_keys.tolist())}
    missing = [i for i, k in enumerate(keys.tolist()) if k not in row]
    seconds = 0.0
    if missing:
        if len(missing) < len(texts):
            report(f"teacher outputs: {len(texts) - len(missing)} of {len(texts)} texts from the cache ({path})")
        started = time.perf_counter()
        computed = _run_teacher(teacher, [texts[i] for i in missing], report)
        seconds = time.perf_counter() - started
        fresh = dict(zip(keys[missing].tolist(), computed))  # a text given twice is stored once
        known_keys = np.concatenate([known_keys, np.array(list(fresh), dtype="S16")])
        rows = np.stack(list(fresh.values()))
        known = np.concatenate([known, rows]) if len(known) else rows
        _write_cache(path, known_keys, known)
        row = {k: i for i, k in enumerate(known_keys.tolist())}
    else:
        report(f"teacher outputs: {len(texts)} texts from the cache ({path})")
    return known[[row[k] for k in keys.tolist()]][:, teacher.columns], seconds


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        return np.zeros(0, dtype="S16"), np.zeros((0, 0), dtype=np.float32)
    with np.load(path) as stored:
        return stored["keys"], stored["logits"]


def _write_cache(path: Path, keys: np.ndarray, logits: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}.npz")
    np.savez(tmp, keys=keys, logits=logits)
    tmp.replace(path)


def _run_teacher(teacher: Teacher, texts: list[str], report: Report) -> np.ndarray:
    from ..tasks import open_model

    classifier = open_model(teacher.model_dir, teacher.variant)
    report(f"teacher: {teacher.manifest['name']} ({teacher.variant}) on {len(texts)} texts with onnxruntime")
    order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths together: little padding
    logits = np.zeros((len(texts), len(teacher.manifest["labels"])), dtype=np.float32)
    started = last = time.perf_counter()
    done_chars, total_chars = 0, sum(len(t) for t in texts)
    for start in range(0, len(texts), TEACHER_BATCH):
        rows = order[start:start + TEACHER_BATCH]
        logits[rows] = classifier.logits([texts[i] for i in rows])
        done_chars += sum(len(texts[i]) for i in rows)
        if time.perf_counter() - last > 15 or start + TEACHER_BATCH >= len(texts):
            last = time.perf_counter()
            report(f"teacher outputs: {min(start + TEACHER_BATCH, len(texts))}/{len(texts)} texts  "
                   f"{eta(started, done_chars, total_chars)}")
    return logits


def read_unlabeled(path: str | Path, text_col: str | None) -> list[str]:
    """Texts without labels: a table's text column (CSV/TSV/JSONL/Parquet), else one text per line."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"--unlabeled {path}: no such file")
    kind = data_io.FORMATS.get(path.suffix.lower())
    if kind is None:
        texts = _lines(path)
    else:
        records, columns, _ = _read_table(path, kind)
        if text_col not in columns:
            raise UserError(f"--unlabeled {path}: column '{text_col}' (--text-col) not found; columns found: "
                            f"{', '.join(map(str, columns)) or 'none'}")
        texts = [r[text_col].strip() for r in records if isinstance(r.get(text_col), str) and r[text_col].strip()]
    if not texts:
        raise UserError(f"--unlabeled {path}: holds no text (empty, or only blank lines)")
    return texts


def _read_table(path: Path, kind: str):
    try:
        return data_io._read_records(path, kind)
    except UserError as exc:
        raise UserError(f"--unlabeled {exc}") from None


def _lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise UserError(f"--unlabeled {path}: this is a binary file, not text (one text per line)")
    text, _ = data_io.decode_lines(raw)
    return [line.strip() for line in text.splitlines() if line.strip()]


def augmented(texts: list[str], copies: int, seed: int, p: float = 0.1) -> list[str]:
    """`copies` variants of each text with words dropped or swapped with the next (probability p
    each), as in Tang et al. 2019; variants equal to their source are left out."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        for text in texts:
            words = text.split()
            kept = [w for w in words if rng.random() >= p] or words
            for i in range(len(kept) - 1):
                if rng.random() < p:
                    kept[i], kept[i + 1] = kept[i + 1], kept[i]
            variant = " ".join(kept)
            if variant != " ".join(words):
                out.append(variant)
    return out


def kd_loss(student, teacher, labels, temperature: float, weight: float):
    """Hinton's loss per row, averaged: soft targets for every row, the label's cross-entropy where
    there is one (rows labeled UNLABELED get the soft term alone)."""
    import torch
    import torch.nn.functional as F

    soft = F.kl_div(F.log_softmax(student / temperature, -1), F.log_softmax(teacher / temperature, -1),
                    reduction="none", log_target=True).sum(-1) * temperature ** 2
    labeled = labels != UNLABELED
    hard = F.cross_entropy(student, torch.where(labeled, labels, 0), reduction="none")
    per_row = torch.where(labeled, weight * soft + (1 - weight) * hard, soft)
    return per_row.mean()


def transfer_texts(config: DistillConfig, train_texts: list[str], held_out: list[str], seed: int) -> list[str]:
    """The extra texts the student sees with soft targets only: --unlabeled and augmented copies,
    leaving out any that is also a validation or test text (that would leak the held-out split)."""
    unlabeled = read_unlabeled(config.unlabeled, config.text_col) if config.unlabeled else []
    extra = unlabeled + augmented(train_texts, config.augment, seed)
    held = set(held_out)
    return [t for t in dict.fromkeys(extra) if t not in held]
