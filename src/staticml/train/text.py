"""labeled text → model folder: tokenizer, model, baseline, ONNX variants, manifest."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import archs, output, tasks
from ..tasks import text as text_task
from ..errors import UserError
from ..leaks import HELD_OUT_TEXTS
from ..tokenize import TextEncoder, describe, pad, train_tokenizer
from ..runtime import softmax
from . import calibrate, counterfactual, distill, export, features
from .data import SEED, Dataset, Split, split

Report = Callable[[str], None]


@dataclass
class TrainConfig:
    arch: str = "tiny"
    name: str = "sentiment"
    max_length: int = 128
    vocab_size: int = 3000
    finetune: bool = False  # minilm: train the top `train_layers` encoder layers too
    train_layers: int = 3
    width: int | None = None  # tiny: embedding width (None: the model's default, 16)
    epochs: float | None = None  # None: the arch's default (archs.py); 0.5 = half an epoch
    batch_size: int | None = None
    learning_rate: float | None = None
    lr_decay: bool | None = None  # linear decay to 0 over all steps
    seed: int = SEED
    threads: int | None = None  # None: the arch's default
    examples: list[str] = field(default_factory=list)  # the page's example inputs: only what the user gives
    examples_source: str = ""  # where they come from, for the training log
    distill: distill.DistillConfig | None = None  # learn from a teacher model folder's soft outputs too
    counterfactual: bool = False  # add negated / contrasted training texts labelled by rule (train/counterfactual.py)
    coverage: float = calibrate.DEFAULT_COVERAGE  # prediction sets hold the true label this often (split conformal)


SMALL_MODEL = 100_000  # trainable parameters below which `fit` uses one thread


def resolved(config: TrainConfig) -> TrainConfig:
    """The config with the arch's defaults filled in where a field is None."""
    arch = archs.get(config.arch, archs.TRAINED)
    table = arch.finetune_defaults if config.finetune and arch.finetune_defaults else arch.defaults
    defaults = {k: v for k, v in table.items() if getattr(config, k) is None}
    return dataclasses.replace(config, **defaults)


def train(data: Dataset, out: Path, config: TrainConfig, report: Report = print, force: bool = False) -> dict:
    """Train on `data` and write a complete model folder at `out` (atomically)."""
    import torch

    problem = calibrate.coverage_problem(config.coverage)
    if problem:
        raise UserError(f"--coverage: {problem}")
    inputs = [data.source] if Path(data.source).exists() else []
    if config.distill:
        config.distill.check()
        inputs += [p for p in (config.distill.teacher, config.distill.unlabeled) if p]
    output.check_writable(Path(out).absolute(), "model", force, inputs)  # before minutes of training

    config = resolved(config)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    started = time.perf_counter()
    parts = split(data)  # the held-out split stays fixed; config.seed only seeds the model
    require_repeated_words(parts, data.source)  # before minutes of training, not after
    if config.counterfactual:
        parts = with_counterfactuals(parts, config.seed, report)
    teacher = distill.load_teacher(config.distill.teacher, parts.labels, config.distill.teacher_subset) \
        if config.distill else None
    extra = distill.transfer_texts(config.distill, parts.train[0], parts.validation[0] + parts.test[0],
                                   config.seed) if config.distill else []
    report(f"data: {len(data.texts)} rows from {data.source}; labels {parts.labels}; "
           f"split train {len(parts.train[0])} / validation {len(parts.validation[0])} / test {len(parts.test[0])}")
    for note in data.notes:
        report(f"data: {note}")
    report_examples(config, data, parts, report)
    taught = _teacher_inputs(config.distill, teacher, extra, parts, report) if teacher else None

    tokenizer = _tokenizer(config, parts, report)
    encoder = TextEncoder(tokenizer, describe(tokenizer), config.max_length)
    model = _build_model(config, tokenizer.get_vocab_size(), len(parts.labels))
    learned = taught["parts"] if taught else parts
    early_stop, held = calibrate.split_off_calibration(*parts.validation, seed=SEED)
    learned = dataclasses.replace(learned, validation=early_stop)
    train_set, val_set, calibration_set, trained = _training_inputs(model, encoder, learned, config, report,
                                                                    held[0] if held else [])
    fit_seconds = fit(trained, train_set, learned.train[1], val_set, early_stop[1], config, report,
                      taught["loss"] if taught else None)
    cross_fitted = None
    if held:
        cross_fitted = out_of_fold(config, tokenizer.get_vocab_size(), learned, train_set, val_set, early_stop[1], report) \
            if can_cross_fit(config, train_set, taught) else None
        temperature, calibrated = calibrate_on_held_out(model, trained, calibration_set, held[1], report, cross_fitted)
    else:
        temperature, calibrated = ship_uncalibrated(early_stop[1], report)
    baseline = tfidf_baseline(parts, report)

    with output.atomic_folder(out, "model", force, inputs) as folder:
        tokenizer.save(str(folder / "tokenizer.json"), pretty=False)  # 3 KB less on the wire
        # Beside the model for `verify --model-folder` (the site must not hold any of them), not listed
        # in "files": build publishes listed files only.
        (folder / HELD_OUT_TEXTS).write_text(json.dumps(parts.test[0], ensure_ascii=False), encoding="utf-8")
        result = write_variants(model, encoder, parts, folder, report, config.arch, temperature)
        shipped = folder / result["variants"][result["default_variant"]]
        scored = (softmax(cross_fitted[0] / temperature), cross_fitted[1]) if cross_fitted else None
        conformal = prediction_sets(shipped, encoder, held, parts.test, config.coverage, report, scored) if held else \
            {"coverage": config.coverage, "skipped": calibrated["skipped"]}
        warnings = not_good_enough(result["metrics"][result["default_variant"]], baseline, calibrated, report)
        manifest = tasks.write_model_folder(
            folder, name=config.name, task=text_task.NAME, labels=parts.labels,
            max_length=config.max_length, tokenizer=encoder.spec.to_json(),
            **({"examples": config.examples} if config.examples else {}), other_files=("tokenizer.json",),
            conformal=conformal,
            arch=config.arch + ("-finetuned" if config.finetune and config.arch == "minilm" else ""),
            variants=result["variants"], default_variant=result["default_variant"],
            metrics={
                "data": _data_summary(data, parts),
                "variants": result["metrics"],
                "baselines": {"tfidf_logreg": baseline},
                "train_seconds": round(fit_seconds, 1),
                **({"distillation": taught["summary"]} if taught else {}),
                "calibration": calibrated,
                **({"warnings": warnings} if warnings else {}),
                "training": {k: getattr(config, k) for k in ("epochs", "batch_size", "learning_rate")}
                | ({"train_layers": config.train_layers if config.finetune else 0} if config.arch == "minilm" else {})
                | ({"width": config.width} if config.width else {})
                | ({"counterfactual": True} if config.counterfactual else {}),
            })
    report(f"model folder written: {out} ({time.perf_counter() - started:.1f} s in all)")
    return manifest


def with_counterfactuals(parts: Split, seed: int, report: Report) -> Split:
    """The training split plus its rule-labelled counterfactuals (none equal to a held-out text)."""
    texts, labels = counterfactual.counterfactuals(*parts.train, parts.labels, seed)
    held_out = set(parts.validation[0]) | set(parts.test[0])
    kept = [(t, y) for t, y in zip(texts, labels) if t not in held_out]
    report(f"counterfactuals: {len(kept)} negated or contrasted training texts labelled by rule")
    return dataclasses.replace(parts, train=(parts.train[0] + [t for t, _ in kept], parts.train[1] + [y for _, y in kept]))


def _tokenizer(config: TrainConfig, parts: Split, report: Report):
    pretrained = archs.get(config.arch, archs.TRAINED).pretrained_tokenizer
    if pretrained:
        tokenizer = pretrained()
        report(f"tokenizer: {config.arch}'s own tokenizer.json ({tokenizer.get_vocab_size()} tokens)")
        return tokenizer
    tokenizer = train_tokenizer(parts.train[0], config.vocab_size)
    report(f"tokenizer: WordPiece, {tokenizer.get_vocab_size()} tokens, trained on the training split")
    return tokenizer


def _build_model(config: TrainConfig, vocab_size: int, num_labels: int):
    return archs.get(config.arch, archs.TRAINED).build(config, vocab_size, num_labels)


def _training_inputs(model, encoder: TextEncoder, parts: Split, config: TrainConfig, report: Report,
                     calibration_texts: list[str]):
    """(train, validation and calibration inputs, module to train): token ids, or a frozen part's
    cached outputs."""
    groups = [encoder.ids(parts.train[0]), encoder.ids(parts.validation[0]), encoder.ids(calibration_texts)]
    if not hasattr(model, "bottom"):
        return (*(features.TokenIds(ids, encoder.spec.pad_id) for ids in groups), model)
    identity = f"{config.arch} cut {model.cut} {model.identity()}"
    what = "all layers frozen" if model.frozen else f"first {model.cut} layers frozen"
    report(f"model: MiniLM-L6 encoder ({what}) + mean pooling + linear head; caching the frozen part's outputs")
    cached = features.cached_bottom(model, [ids for group in groups for ids in group], encoder.spec.pad_id, identity, report)
    ends = np.cumsum([len(group) for group in groups])
    return (*(cached.subset(np.arange(end - len(group), end)) for group, end in zip(groups, ends)), model.trainable())


def fit(model, train_set, train_y: list[int], val_set, val_y: list[int], config: TrainConfig, report: Report,
        objective: Callable | None = None) -> float:
    """Train with AdamW; keep the weights of the epoch with the best validation accuracy.

    `train_set` / `val_set` are `staticml.train.features` inputs: `model(*inputs.tensors(rows))` → logits.
    `objective(logits, rows)` → loss replaces the cross-entropy with `train_y` (distillation).
    """
    import torch

    started = last = time.perf_counter()
    train_y, val_y = np.array(train_y), np.array(val_y)
    threads = torch.get_num_threads()
    if sum(p.numel() for p in model.parameters() if p.requires_grad) < SMALL_MODEL:
        # A linear head on cached vectors: too little work per op to share between threads, and
        # on a busy machine each op waits for the second thread (100+ ms per step, 4 ms alone).
        torch.set_num_threads(1)
    if hasattr(model, "optimizer"):  # e.g. sparse embedding tables want SparseAdam
        optimizer = model.optimizer(config.learning_rate)
    else:
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                      lr=config.learning_rate, weight_decay=0.01)
    rng = np.random.default_rng(config.seed)
    steps = max(1, round(config.epochs * max(1, len(train_set) // config.batch_size)))
    # One schedule per optimizer: the tiny model steps SparseAdam and AdamW as one.
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, lambda step: max(0.0, 1.0 - step / steps))
                 for o in getattr(optimizer, "optimizers", [optimizer])] if config.lr_decay else []
    best, step = (-1.0, None), 0
    epochs = math.ceil(config.epochs)
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        batches = train_set.batches(rng, config.batch_size)
        batches = batches[:steps - step]  # a fractional last epoch stops early
        for i, rows in enumerate(batches, 1):
            optimizer.zero_grad()
            logits = model(*train_set.tensors(rows))
            loss = objective(logits, rows) if objective else \
                torch.nn.functional.cross_entropy(logits, torch.from_numpy(train_y[rows]))
            loss.backward()
            optimizer.step()
            for schedule in schedules:
                schedule.step()
            losses.append(loss.item())
            step += 1
            if time.perf_counter() - last > 30:
                last = time.perf_counter()
                report(f"epoch {epoch}/{epochs}  batch {i}/{len(batches)}  loss {np.mean(losses):.4f}  "
                       f"{features.eta(started, step, steps)}")
        accuracy = float((predict(model, val_set) == val_y).mean())
        if accuracy > best[0]:
            best = (accuracy, {k: v.detach().clone() for k, v in model.state_dict().items()})
        report(f"epoch {epoch}/{epochs}  loss {np.mean(losses):.4f}  validation accuracy {accuracy:.4f}  "
               f"({time.perf_counter() - started:.1f} s)")
    model.load_state_dict(best[1])
    model.eval()
    torch.set_num_threads(threads)
    return time.perf_counter() - started


def _teacher_inputs(config: distill.DistillConfig, teacher: distill.Teacher, extra: list[str], parts: Split,
                    report: Report) -> dict:
    """The teacher's logits for all training texts and the `extra` soft-target-only texts: the
    training split extended with those, the loss, and what the manifest records."""
    import torch

    if config.unlabeled or config.augment:
        report(f"transfer texts: {len(extra)} without labels (--unlabeled {config.unlabeled or '-'}, "
               f"--augment {config.augment})")
    texts = parts.train[0] + extra
    labels = parts.train[1] + [distill.UNLABELED] * len(extra)
    logits, seconds = distill.teacher_logits(teacher, texts, report)
    soft, hard = torch.from_numpy(logits), torch.tensor(labels)
    T, W = config.temperature, config.weight  # noqa: N806

    def loss(student, rows):
        rows = torch.from_numpy(np.asarray(rows))
        return distill.kd_loss(student, soft[rows], hard[rows], T, W)

    agree = float((logits[:len(parts.train[0])].argmax(-1) == np.array(parts.train[1])).mean())
    report(f"teacher: agrees with {agree:.1%} of the training labels; temperature {T:g}, weight {W:g}")
    summary = {"teacher": teacher.describe(), "temperature": T, "weight": W, "transfer_texts": len(extra),
               "unlabeled_file": Path(config.unlabeled).name if config.unlabeled else None,
               "augment_copies": config.augment, "teacher_seconds": round(seconds, 3),
               "teacher_agrees_with_train_labels": round(agree, 4)}
    return {"parts": dataclasses.replace(parts, train=(texts, labels)), "loss": loss, "summary": summary}


def predict(model, inputs, batch_size: int = 1024) -> np.ndarray:
    """Predicted label indices for every row of `inputs`, in row order."""
    return logits_of(model, inputs, batch_size).argmax(-1)


def logits_of(model, inputs, batch_size: int = 1024) -> np.ndarray:
    """The model's logits for every row of `inputs`, in row order."""
    import torch

    model.eval()
    with torch.no_grad():
        chunks = [(rows, model(*inputs.tensors(rows)).numpy()) for rows in inputs.in_order(batch_size)]
    logits = np.zeros((len(inputs), chunks[0][1].shape[1]), dtype=np.float32)
    for rows, out in chunks:
        logits[rows] = out  # in_order may sort rows by length
    return logits


def can_cross_fit(config: TrainConfig, train_set, taught: dict | None) -> bool:
    """Cross-fitting trains CROSS_FIT_FOLDS more models: done for models trained from token ids on
    the labels alone (the tiny defaults, seconds each), not for a teacher's soft targets,
    counterfactual texts (rule-labelled, not like unseen data) or MiniLM (minutes each)."""
    return isinstance(train_set, features.TokenIds) and taught is None and not config.counterfactual


def out_of_fold(config: TrainConfig, vocab_size: int, parts: Split, train_set, val_set, val_y: list[int],
                report: Report) -> tuple[np.ndarray, list[int], float]:
    """(logits, labels, seconds): each training row scored by a model like the shipped one trained
    on the other folds of the training split, early stopping on the same rows (calibrate.out_of_fold_logits)."""
    import torch

    started = time.perf_counter()
    ids, labels = train_set.ids, parts.train[1]

    def fit_and_score(fold: int, rows: np.ndarray, held: np.ndarray) -> np.ndarray:
        report(f"calibration: cross-fitting model {fold + 1} of {calibrate.CROSS_FIT_FOLDS} "
               f"({time.perf_counter() - started:.0f} s so far)")
        torch.manual_seed(config.seed + 1 + fold)
        model = _build_model(config, vocab_size, len(parts.labels))
        fit(model, features.TokenIds([ids[i] for i in rows], train_set.pad_id), [labels[i] for i in rows], val_set, val_y,
            config, lambda _line: None)
        return logits_of(model, features.TokenIds([ids[i] for i in held], train_set.pad_id))

    logits = calibrate.out_of_fold_logits(labels, fit_and_score, config.seed)
    seconds = time.perf_counter() - started
    report(f"calibration: cross-fitting: {calibrate.CROSS_FIT_FOLDS} models, each trained on {calibrate.CROSS_FIT_FOLDS - 1} "
           f"folds of the training split, scored the {len(labels)} training rows they did not see ({seconds:.1f} s)")
    return logits, list(labels), seconds


def calibrate_on_held_out(model, trained, calibration_set, calibration_y: list[int], report: Report,
                          cross_fitted: tuple[np.ndarray, list[int], float] | None = None) -> tuple[float, dict]:
    """Fit the temperature on rows the shipped model's early stopping never used: the calibration split,
    plus the training rows' out-of-fold logits when cross-fitted. Fold it into the model's head; and
    what the manifest records."""
    logits = logits_of(trained, calibration_set).astype(np.float64)
    fit_logits, fit_y = (np.concatenate([cross_fitted[0], logits]), list(cross_fitted[1]) + list(calibration_y)) \
        if cross_fitted else (logits, list(calibration_y))
    temperature = calibrate.fit_temperature(fit_logits, fit_y)
    calibrate.fold_temperature(model.head, temperature)
    before = calibrate.calibration(softmax(logits), calibration_y)
    after = calibrate.calibration(softmax(logits / temperature), calibration_y)
    where = (f"the calibration split ({len(calibration_y)} rows that early stopping did not use)" if not cross_fitted else
             f"the calibration split ({len(calibration_y)} rows) and the {len(cross_fitted[1])} cross-fitted training rows")
    report(f"calibration: temperature {temperature:.3f} on {where}; on the calibration split ECE {before['ece']:.4f} -> "
           f"{after['ece']:.4f}, log-loss {before['log_loss']:.4f} -> {after['log_loss']:.4f}")
    record = {"temperature": round(temperature, 4), "fitted_on": "calibration split (half of validation, not used for "
              "early stopping)", "rows": len(calibration_y), "ece_bins": calibrate.ECE_BINS}
    if cross_fitted:
        record["fitted_on"] += f" and out-of-fold logits of the training split ({calibrate.CROSS_FIT_FOLDS}-fold cross-fitting)"
        record["cross_fit"] = {"folds": calibrate.CROSS_FIT_FOLDS, "rows": len(cross_fitted[1]), "seconds": round(cross_fitted[2], 1)}
    return temperature, record


def ship_uncalibrated(val_y: list[int], report: Report) -> tuple[float, dict]:
    """Too few validation rows to set a calibration split aside: temperature 1, no prediction sets,
    said and recorded."""
    note = calibrate.too_small_note(len(val_y)) + "; no prediction sets"
    report(f"calibration: skipped: {note}")
    return 1.0, {"temperature": 1.0, "fitted_on": None, "skipped": note, "ece_bins": calibrate.ECE_BINS}


def shipped_probabilities(path: Path, encoder: TextEncoder, texts: list[str]) -> np.ndarray:
    """The probabilities of one ONNX file for `texts`, in the runtime's batches (as the page runs it)."""
    from ..runtime import BATCH_SIZE, create_session

    session = create_session(path)
    logits = [session.run(["logits"], encoder.batch(texts[i:i + BATCH_SIZE]))[0] for i in range(0, len(texts), BATCH_SIZE)]
    return softmax(np.concatenate(logits).astype(np.float64))


def prediction_sets(shipped: Path, encoder: TextEncoder, calibration: tuple[list[str], list[int]],
                    test: tuple[list[str], list[int]], coverage: float, report: Report,
                    cross_fitted: tuple[np.ndarray, list[int]] | None = None) -> dict:
    """Conformal sets: the threshold fitted on the calibration split's scores (the shipped variant's
    probabilities) and, when the model was cross-fitted, the training rows' out-of-fold scores (each
    from a fold model that never saw the row, after the same temperature); the coverage measured on
    the test split; what the manifest records.

    Why pool them: 926 calibration rows (binary) of one draw that is harder than the test split
    left the threshold too low at some seeds (test coverage 91.6-91.7% for 90% stated). The
    out-of-fold rows are as hard as the test split and 18 times as many (docs/trust.md). Scores from
    fold models are cross-conformal (Vovk 2015): the guarantee is approximate, which is why the
    test split's coverage is measured and recorded."""
    probabilities, labels = shipped_probabilities(shipped, encoder, calibration[0]), list(calibration[1])
    if cross_fitted:
        probabilities, labels = np.concatenate([cross_fitted[0], probabilities]), list(cross_fitted[1]) + labels
    threshold = calibrate.conformal_threshold(probabilities, labels, coverage)
    if threshold is None:
        note = calibrate.too_few_for_coverage(len(labels), coverage)
        report(f"prediction sets: skipped: {note}")
        return {"coverage": coverage, "skipped": note}
    measured = calibrate.set_figures(shipped_probabilities(shipped, encoder, test[0]), test[1], threshold)
    sizes = ", ".join(f"{label} label{'s' if label != '1' else ''} {share:.1%}" for label, share in measured["set_sizes"].items())
    fitted_on = f"{len(calibration[1])} calibration rows" + \
        (f" and {len(cross_fitted[1])} cross-fitted training rows" if cross_fitted else "")
    report(f"prediction sets: a label joins the set at probability {threshold:.4f} or more (fitted on {fitted_on} for "
           f"{coverage:.0%} coverage); on the test split the sets hold the true label "
           f"{measured['coverage']:.1%} of the time; sets of {sizes}")
    record = {"coverage": coverage, "threshold": round(threshold, 6), "method": "split conformal, score 1 - p(true label)",
              "calibration_rows": len(calibration[1]), "test": measured}
    if cross_fitted:
        record["method"] = ("conformal, score 1 - p(true label), on the calibration split (the shipped variant) and the "
                            "training split's out-of-fold scores (cross-conformal)")
        record["cross_fitted_rows"] = len(cross_fitted[1])
    gap = measured["coverage"] - coverage
    if abs(gap) > calibrate.COVERAGE_TOLERANCE:
        record["warning"] = (f"the sets hold the true label {measured['coverage']:.1%} of the time on the test split, "
                             f"{abs(gap):.1%} {'above' if gap > 0 else 'below'} the stated {coverage:.0%}: the calibration "
                             "split may be small or unlike the test split")
        report(f"prediction sets: warning: {record['warning']}")
    return record


BASELINE_MARGIN = 0.01  # macro-F1: the baseline beating the model by more than a point is said


def not_good_enough(shipped: dict, baseline: dict, calibrated: dict, report: Report) -> list[str]:
    """Plain words when the model is worse than the TF-IDF baseline or its temperature hit a bound
    of the search (the model's scores are far from probabilities), with what to try."""
    warnings = []
    gap = baseline["macro_f1"] - shipped["macro_f1"]
    if gap > BASELINE_MARGIN:
        warnings.append(f"the TF-IDF baseline beats the model by {gap * 100:.1f} points of macro-F1 ({baseline['macro_f1']:.4f} vs "
                        f"{shipped['macro_f1']:.4f}): try more epochs (--epochs), more labelled rows, or another --arch; "
                        "if none helps, the baseline (TF-IDF + logistic regression, scikit-learn) is the better model for this data")
    bound = calibrate.temperature_bound(calibrated["temperature"]) if calibrated.get("fitted_on") else None
    if bound:
        warnings.append(f"the calibration temperature {calibrated['temperature']:g} hit the {bound} of its range: the model's scores "
                        f"are {'far too sure' if bound == 'top' else 'far too timid'} to be turned into honest probabilities; "
                        "try more epochs or more data, and check the labels (are some of them noise?)")
    for warning in warnings:
        report(f"training: warning: {warning}")
    return warnings


BASELINE_MIN_DF = 2  # a word must occur in this many training texts to count


def require_repeated_words(parts: Split, source: str) -> None:
    """Refuse data in which no word occurs in two training texts (e.g. texts that are only
    distinct numbers): neither the TF-IDF baseline nor a text model has anything to learn from."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyze = TfidfVectorizer().build_analyzer()  # the baseline's words: 2+ letters or digits
    seen: Counter = Counter()
    for text in parts.train[0] + parts.validation[0]:
        for word in set(analyze(text)):
            seen[word] += 1
            if seen[word] >= BASELINE_MIN_DF:
                return
    raise UserError(f"{source}: no word occurs in more than one training text (only numbers, single characters "
                    "or symbols?); a text classifier needs words that repeat")


def tfidf_baseline(parts: Split, report: Report) -> dict:
    """TF-IDF word 1–2-grams + logistic regression on the same split: is the model any good?"""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=BASELINE_MIN_DF, sublinear_tf=True),
                             LogisticRegression(max_iter=2000, C=4.0))
    pipeline.fit(parts.train[0] + parts.validation[0], parts.train[1] + parts.validation[1])
    predicted = pipeline.predict(parts.test[0])
    result = {"accuracy": round(float(accuracy_score(parts.test[1], predicted)), 4),
              "macro_f1": round(float(f1_score(parts.test[1], predicted, average="macro")), 4)}
    report(f"baseline TF-IDF + logistic regression: accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}")
    return result


def write_variants(model, encoder: TextEncoder, parts: Split, folder: Path, report: Report, arch: str = "tiny",
                   temperature: float = 1.0) -> dict:
    """fp32, int8 (and q4 for transformers) ONNX files, each measured on the held-out test split."""
    test_ids = encoder.ids(parts.test[0])
    sample = pad(test_ids[:8], encoder.spec.pad_id)
    spec = archs.get(arch, archs.TRAINED)
    check = export.export_onnx(model, folder / "model.onnx", sample, spec.export_tolerance)
    report(f"export: model.onnx, ONNX vs PyTorch {check.summary()}")
    export.quantize(spec.quantizer, folder / "model.onnx", folder / "model.int8.onnx")
    variants = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
    if spec.q4_quantizer:
        export.quantize(spec.q4_quantizer, folder / "model.onnx", folder / "model.q4.onnx")
        variants["q4"] = "model.q4.onnx"
    if arch == "minilm":  # a pretrained vocabulary of which a corpus uses about half (export.quantize_pruned)
        pruned = f"model.{export.PRUNED_VARIANT}.onnx"
        rows = export.quantize_pruned(folder / "model.onnx", folder / pruned, parts.train[0] + parts.validation[0],
                                      folder / "tokenizer.json")
        report(f"export: {pruned}, the embedding cut to {rows} rows (the training texts' tokens, whole words, characters)")
        variants[export.PRUNED_VARIANT] = pruned
    # Similar lengths batched together: little padding, and the same predictions.
    order = np.argsort([len(ids) for ids in test_ids], kind="stable")
    batches = [pad([test_ids[j] for j in order[i:i + 256]], encoder.spec.pad_id) for i in range(0, len(order), 256)]
    test_y = [parts.test[1][j] for j in order]
    metrics, sizes = {}, {}
    for variant, file in variants.items():
        sizes[file] = (folder / file).stat().st_size
        metrics[variant] = {**export.evaluate(folder / file, batches, test_y, temperature), "bytes": sizes[file]}
        calibrated = metrics[variant]["calibration"]
        report(f"variant {variant}: {file} {sizes[file] / 1e6:.2f} MB  test accuracy {metrics[variant]['accuracy']:.4f}  "
               f"macro-F1 {metrics[variant]['macro_f1']:.4f}  ECE {calibrated['before']['ece']:.4f} -> "
               f"{calibrated['after']['ece']:.4f}, above 0.99 {calibrated['before']['above_0_99']:.1%} -> "
               f"{calibrated['after']['above_0_99']:.1%}")
    default = export.choose_default(variants, metrics, sizes)
    report(f"default variant: {default} (smallest within {export.F1_SLACK:.0%} macro-F1 of fp32)")
    return {"variants": variants, "metrics": metrics, "default_variant": default}


def report_examples(config: TrainConfig, data: Dataset, parts: Split, report: Report) -> None:
    """Say what of the user's data the page will publish: the examples they gave, or nothing."""
    if not config.examples:
        report("examples: no examples will be published (the page shows its own; give --examples FILE for yours)")
        return
    report(f"examples: the page will show {len(config.examples)} examples from {config.examples_source or 'the caller'}")
    held_out = set(parts.test[0]) & set(config.examples)
    if held_out:
        report(f"examples: warning: {len(held_out)} of them are texts of the held-out test split; "
               "`verify --model-folder` fails a site that publishes held-out data")


def _data_summary(data: Dataset, parts: Split) -> dict:
    return {"source": Path(data.source).name, "rows": len(data.texts), "skipped_rows": data.skipped_rows,
            "repaired_rows": data.repaired_rows,
            "split": "stratified 80/20 train/test, 10% of train for validation (early stopping; half of it for calibration)",
            "seed": SEED, "test_rows": len(parts.test[0])}
