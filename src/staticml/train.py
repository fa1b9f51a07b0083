"""labeled text → model folder: tokenizer, model, baseline, ONNX variants, manifest."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import export, manifest as manifest_io
from .data import Dataset, Split, split
from .tokenize import TextEncoder, describe, pad, train_tokenizer

Report = Callable[[str], None]


@dataclass
class TrainConfig:
    arch: str = "tiny"
    name: str = "sentiment"
    max_length: int = 128
    vocab_size: int = 8000
    epochs: int = 6
    batch_size: int = 32
    learning_rate: float = 3e-3
    seed: int = 13
    threads: int = 2
    examples: list[str] = field(default_factory=list)


def train(data: Dataset, out: Path, config: TrainConfig, report: Report = print) -> dict:
    """Train on `data` and write a complete model folder at `out` (atomically)."""
    import torch

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    started = time.perf_counter()
    parts = split(data, config.seed)
    report(f"data: {len(data.texts)} rows from {data.source}; labels {parts.labels}; "
           f"split train {len(parts.train[0])} / validation {len(parts.validation[0])} / test {len(parts.test[0])}")
    for note in data.notes:
        report(f"data: {note}")

    tokenizer = train_tokenizer(parts.train[0], config.vocab_size)
    encoder = TextEncoder(tokenizer, describe(tokenizer), config.max_length)
    report(f"tokenizer: WordPiece, {tokenizer.get_vocab_size()} tokens, trained on the training split")

    model = _build_model(config, tokenizer.get_vocab_size(), len(parts.labels))
    fit_seconds = fit(model, encoder, parts, config, report)
    baseline = tfidf_baseline(parts, report)

    with manifest_io.atomic_folder(out) as folder:
        tokenizer.save(str(folder / "tokenizer.json"))
        result = write_variants(model, encoder, parts, folder, report)
        manifest = {
            "name": config.name,
            "task": "text-classification",
            "labels": parts.labels,
            "max_length": config.max_length,
            "arch": config.arch,
            "tokenizer": encoder.spec.to_json(),
            "examples": config.examples or pick_examples(parts),
            "files": manifest_io.file_entries(folder, ["tokenizer.json", *result["variants"].values()]),
            "variants": result["variants"],
            "default_variant": result["default_variant"],
            "metrics": {
                "data": _data_summary(data, parts),
                "variants": result["metrics"],
                "baselines": {"tfidf_logreg": baseline},
                "train_seconds": round(fit_seconds, 1),
            },
        }
        manifest_io.write(folder, manifest)
    report(f"model folder written: {out} ({time.perf_counter() - started:.1f} s in all)")
    return manifest


def _build_model(config: TrainConfig, vocab_size: int, num_labels: int):
    from .models.tiny import TinyClassifier

    if config.arch == "tiny":
        return TinyClassifier(vocab_size, num_labels)
    raise ValueError(f"unknown arch {config.arch}")


def fit(model, encoder: TextEncoder, parts: Split, config: TrainConfig, report: Report) -> float:
    """Train with AdamW; keep the weights of the epoch with the best validation accuracy."""
    import torch

    started = time.perf_counter()
    train_ids, train_y = encoder.ids(parts.train[0]), np.array(parts.train[1])
    val_ids, val_y = encoder.ids(parts.validation[0]), np.array(parts.validation[1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    rng = np.random.default_rng(config.seed)
    best = (-1.0, None)
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        for rows in np.array_split(rng.permutation(len(train_ids)), max(1, len(train_ids) // config.batch_size)):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(*_tensors(train_ids, rows)), torch.from_numpy(train_y[rows]))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        accuracy = float((predict_ids(model, val_ids) == val_y).mean())
        if accuracy > best[0]:
            best = (accuracy, {k: v.detach().clone() for k, v in model.state_dict().items()})
        report(f"epoch {epoch}/{config.epochs}  loss {np.mean(losses):.4f}  validation accuracy {accuracy:.4f}  "
               f"({time.perf_counter() - started:.1f} s)")
    model.load_state_dict(best[1])
    model.eval()
    return time.perf_counter() - started


def _tensors(ids: list[list[int]], rows, pad_id: int = 0):
    import torch

    batch = pad([ids[i] for i in rows], pad_id)
    return torch.from_numpy(batch["input_ids"]), torch.from_numpy(batch["attention_mask"])


def predict_ids(model, ids: list[list[int]], batch_size: int = 1024) -> np.ndarray:
    import torch

    model.eval()
    with torch.no_grad():
        out = [model(*_tensors(ids, range(i, min(i + batch_size, len(ids))))).argmax(-1).numpy()
               for i in range(0, len(ids), batch_size)]
    return np.concatenate(out)


def tfidf_baseline(parts: Split, report: Report) -> dict:
    """TF-IDF word 1–2-grams + logistic regression on the same split: is the model any good?"""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                             LogisticRegression(max_iter=2000, C=4.0))
    pipeline.fit(parts.train[0] + parts.validation[0], parts.train[1] + parts.validation[1])
    predicted = pipeline.predict(parts.test[0])
    result = {"accuracy": round(float(accuracy_score(parts.test[1], predicted)), 4),
              "macro_f1": round(float(f1_score(parts.test[1], predicted, average="macro")), 4)}
    report(f"baseline TF-IDF + logistic regression: accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}")
    return result


def write_variants(model, encoder: TextEncoder, parts: Split, folder: Path, report: Report) -> dict:
    """fp32 and int8 ONNX files, each measured on the held-out test split."""
    test_ids = encoder.ids(parts.test[0])
    sample = pad(test_ids[:8], encoder.spec.pad_id)
    check = export.export_onnx(model, folder / "model.onnx", sample)
    report(f"export: model.onnx, ONNX vs PyTorch {check.summary()}")
    # The tiny model's bytes are its embedding tables; its head is too small to be worth quantizing.
    export.quantize_int8(folder / "model.onnx", folder / "model.int8.onnx", op_types=["Gather"])
    variants = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
    batches = [pad(test_ids[i:i + 256], encoder.spec.pad_id) for i in range(0, len(test_ids), 256)]
    metrics, sizes = {}, {}
    for variant, file in variants.items():
        sizes[file] = (folder / file).stat().st_size
        metrics[variant] = {**export.evaluate(folder / file, batches, parts.test[1]), "bytes": sizes[file]}
        report(f"variant {variant}: {file} {sizes[file] / 1e6:.2f} MB  test accuracy {metrics[variant]['accuracy']:.4f}  "
               f"macro-F1 {metrics[variant]['macro_f1']:.4f}")
    default = export.choose_default(variants, metrics, sizes)
    report(f"default variant: {default} (smallest within {export.F1_SLACK:.0%} macro-F1 of fp32)")
    return {"variants": variants, "metrics": metrics, "default_variant": default}


def pick_examples(parts: Split, per_label: int = 2) -> list[str]:
    """Short held-out texts, a few per label, for the page's example buttons."""
    picked = []
    for label in range(len(parts.labels)):
        candidates = [t for t, y in zip(*parts.test) if y == label and 20 <= len(t) <= 90 and "@" not in t]
        picked += candidates[:per_label]
    return picked


def _data_summary(data: Dataset, parts: Split) -> dict:
    return {"source": Path(data.source).name, "rows": len(data.texts), "skipped_rows": data.skipped_rows,
            "repaired_rows": data.repaired_rows, "split": "stratified 80/20 train/test, 10% of train for validation",
            "seed": 13, "test_rows": len(parts.test[0])}
