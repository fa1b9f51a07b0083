"""Measure students for issue 28 on the default corpus: architecture (tiny, tiny + width-3 windows,
a 1–2 layer tiny transformer), counterfactual augmentation, distillation from a fine-tuned MiniLM
with a larger transfer set. Each run trains a real model folder with `staticml.train.train` and is
measured on the test split and on the hand-written probe set (src/staticml/data/probe_sentences.jsonl:
only measured, never tuned on). Figures: docs/trust.md.

    python scripts/student_search.py --labels 3 --runs tiny "arch=conv" "arch=transformer1,width=64" \\
        "cf=1" "teacher=MODEL_DIR,augment=2" --out docs/bench/students_3.json

A run is comma-separated key=value: arch (tiny|tinyneg|conv|transformer1|transformer2), seed, width, heads
(transformers: 2 or 4), epochs, cf (1: counterfactuals), teacher (a model folder), T, W, augment
(copies per training text for the teacher), unlabeled (a file of texts for the teacher, such as
scripts/transfer_set.py writes). With --page, each model is also built into a site and measured in
headless Chromium (`staticml bench --quick`): the page's p50 per prediction and the first visit's
brotli bytes. --measure DIR... measures existing model folders instead of training. Binary runs with a 3-label teacher use its
negative/positive logits (--teacher-subset), and also report accuracy on the binary test texts that
are in the 3-label test split too (the teacher never saw them).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from staticml import archs, compact
from staticml import Classifier
from staticml.train import TrainConfig, data, train
from staticml.train.distill import DistillConfig

PROBES = Path(__file__).resolve().parents[1] / "src" / "staticml" / "data" / "probe_sentences.jsonl"
SURE = 0.9


def _conv(config, vocab_size: int, num_labels: int):
    from staticml.train.models.students import ConvTiny

    return ConvTiny(vocab_size, num_labels, sparse=True, **({"dim": config.width} if config.width else {}))


def _transformer(layers: int, heads: int):
    def build(config, vocab_size: int, num_labels: int):
        from staticml.train.models.students import TinyTransformer

        return TinyTransformer(vocab_size, num_labels, dim=config.width or 64, layers=layers, heads=heads,
                               max_length=config.max_length)
    return build


NEGATORS = ["not", "no", "never", "nothing", "nobody", "none", "nor", "neither", "without", "cannot", "t"]


def _negation(dataset: data.Dataset):
    """NegationTiny's builder; its negator ids come from the tokenizer `train` trains on the same split."""
    def build(config, vocab_size: int, num_labels: int):
        from staticml.tokenize import train_tokenizer
        from staticml.train.models.students import NegationTiny

        vocab = train_tokenizer(data.split(dataset).train[0], config.vocab_size).get_vocab()
        assert len(vocab) == vocab_size, "the tokenizer differs from train's"
        return NegationTiny(vocab_size, num_labels, [vocab[w] for w in NEGATORS if w in vocab], sparse=True,
                            **({"dim": config.width} if config.width else {}))
    return build


def register_students(dataset: data.Dataset | None = None) -> None:
    """The experimental students as architectures `train` can build (not offered by the CLI)."""
    tiny = archs.get("tiny")
    archs.register(archs.Arch("conv", archs.TRAINED, export_tolerance=1e-5, quantizer="gather-int8", build=_conv,
                              defaults=dict(tiny.defaults)))
    if dataset is not None:
        archs.register(archs.Arch("tinyneg", archs.TRAINED, export_tolerance=1e-5, quantizer="gather-int8",
                                  build=_negation(dataset), defaults=dict(tiny.defaults)))
    for layers in (1, 2):
        for heads in (2, 4):
            name = f"transformer{layers}" + ("" if heads == 2 else f"h{heads}")
            archs.register(archs.Arch(name, archs.TRAINED, export_tolerance=1e-4, quantizer="gather-int8",
                                      build=_transformer(layers, heads),
                                      defaults={"epochs": 8, "batch_size": 32, "learning_rate": 1e-3, "lr_decay": True, "threads": 1}))


def read_probes(labels: list[str]) -> list[dict]:
    rows = [json.loads(line) for line in PROBES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["label"] in labels]


def probe_figures(model_dir: Path, probes: list[dict], labels: list[str]) -> dict:
    p = Classifier(model_dir, threads=1).probabilities([r["text"] for r in probes])
    truth = np.array([labels.index(r["label"]) for r in probes])
    right = p.argmax(-1) == truth
    sure_wrong = (~right) & (p.max(-1) > SURE)
    kinds = sorted({r["kind"] for r in probes})
    return {"rows": len(probes), "accuracy": round(float(right.mean()), 4),
            "wrong_above_0_9": int(sure_wrong.sum()), "wrong_above_0_9_per_50": round(float(sure_wrong.mean() * 50), 2),
            "by_kind": {k: round(float(right[[r["kind"] == k for r in probes]].mean()), 3) for k in kinds},
            "sure_and_wrong": [r["text"] for r, bad in zip(probes, sure_wrong) if bad]}


def native_ms_per_text(model_dir: Path, texts: list[str]) -> float:
    classifier = Classifier(model_dir, threads=1)
    for text in texts[:20]:
        classifier.probabilities([text])
    started = time.perf_counter()
    for text in texts:
        classifier.probabilities([text])
    return round((time.perf_counter() - started) * 1000 / len(texts), 3)


def page_figures(model_dir: Path, workdir: Path) -> dict:
    """The model in the page: built into a site, measured by `staticml bench --quick` in headless Chromium."""
    site, report = workdir / f"site-{time.monotonic_ns()}", workdir / f"bench-{time.monotonic_ns()}"
    for command in (["build", str(model_dir), "--out", str(site)], ["bench", str(site), "--quick", "--out", str(report)]):
        subprocess.run([sys.executable, "-m", "staticml", *command], check=True, stdout=subprocess.DEVNULL)
    result = json.loads((report / "report.json").read_text())["results"][0]
    page = result["page"]["threads_1"]
    return {"engine": result["engine"], "page_p50_ms": page["p50_ms"], "page_p95_ms": page["p95_ms"],
            "native_p50_ms": result["native"]["threads_1"]["p50_ms"], "first_visit_brotli_bytes": result["first_visit_brotli_bytes"]}


def config_for(run: dict, args) -> TrainConfig:
    arch = run.get("arch", "tiny") + (f"h{run['heads']}" if run.get("heads", "2") != "2" else "")
    config = TrainConfig(name="student", arch=arch, counterfactual=run.get("cf") == "1")
    if "width" in run:
        config.width = int(run["width"])
    if "seed" in run:
        config.seed = int(run["seed"])
    if "epochs" in run:
        config.epochs = float(run["epochs"])
    if "teacher" in run:
        config.distill = DistillConfig(run["teacher"], temperature=float(run.get("T", 2)), weight=float(run.get("W", 0.7)),
                                       unlabeled=run.get("unlabeled"), augment=int(run.get("augment", 0)),
                                       teacher_subset=args.labels == 2)
    return config


def measure(spec: str, dataset: data.Dataset, args, workdir: Path, clean) -> dict:
    run = dict(part.split("=", 1) for part in spec.split(",")) if "=" in spec else {"arch": spec}
    out = workdir / f"run-{time.monotonic_ns()}"
    started = time.perf_counter()
    manifest = train(dataset, out, config_for(run, args), report=lambda line: print("   ", line, file=sys.stderr, flush=True))
    return figures_of(spec, out, manifest, args, workdir, clean, time.perf_counter() - started)


def figures_of(spec: str, out: Path, manifest: dict, args, workdir: Path, clean, seconds: float) -> dict:
    default = manifest["default_variant"]
    figures = manifest["metrics"]["variants"][default]
    file = out / manifest["variants"][default]
    result = {"run": spec, "default_variant": default, "bytes": figures["bytes"],
              "gzip_bytes": len(gzip.compress(file.read_bytes(), 9)), "accuracy": figures["accuracy"],
              "macro_f1": figures["macro_f1"], "calibration": figures["calibration"]["after"],
              "temperature": manifest["metrics"]["calibration"]["temperature"],
              "compact_engine_unsupported": compact.unsupported(file),
              "native_ms_per_text": native_ms_per_text(out, [r["text"] for r in read_probes(manifest["labels"])]),
              "seconds": round(seconds, 1),
              "probe": probe_figures(out, read_probes(manifest["labels"]), manifest["labels"])}
    if clean:
        predicted = Classifier(out, threads=1).probabilities(clean[0]).argmax(-1)
        result["clean_test"] = {"rows": len(clean[0]), "accuracy": round(float((predicted == np.array(clean[1])).mean()), 4)}
    if args.page:
        result["page"] = page_figures(out, workdir)
    if args.keep or args.measure:
        result["model_dir"] = str(out)
    return result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--labels", type=int, choices=[2, 3], default=3)
    p.add_argument("--runs", nargs="+", default=["tiny"])
    p.add_argument("--out", type=Path, required=True, help="JSON lines, one per run (appended)")
    p.add_argument("--keep", type=Path, help="keep the model folders here")
    p.add_argument("--page", action="store_true", help="also build each model into a site and bench it in Chromium (--quick)")
    p.add_argument("--measure", type=Path, nargs="+", help="measure these model folders (trained earlier) instead of training")
    args = p.parse_args()
    keep = ["negative", "positive"] if args.labels == 2 else []
    dataset = data.load_default(keep_labels=keep)
    register_students(dataset)
    clean = None
    if args.labels == 2:
        held = set(data.split(data.load_default()).test[0])
        pairs = [(t, y) for t, y in zip(*data.split(dataset).test) if t in held]
        clean = ([t for t, _ in pairs], [y for _, y in pairs])
    with tempfile.TemporaryDirectory(prefix="students-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for spec in args.measure or args.runs:
            if args.measure:
                manifest = json.loads((spec / "manifest.json").read_text())
                result = {"labels": args.labels, **figures_of(f"{manifest.get('arch')} {spec.name}", spec, manifest, args, workdir, clean, 0)}
            else:
                result = {"labels": args.labels, **measure(spec, dataset, args, workdir, clean)}
            print(json.dumps(result), flush=True)
            with args.out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
