"""Measure `train --teacher` on the default corpus: students with several temperatures, weights,
epochs and widths, against the tiny model alone (issue 16; figures in the README and
docs/bench/distill.json).

    python scripts/distill_measure.py --teacher MINILM_DIR --labels 3 --runs "T=2,W=0.7" "T=4,W=0.9,epochs=10"
    python scripts/distill_measure.py --teacher MINILM_DIR --labels 2 --teacher-subset --runs alone "T=2,W=0.7"

Binary with a 3-label teacher (--teacher-subset): the teacher's negative/positive logits,
renormalised. That teacher was trained on the 3-label split, which holds most of the binary test
texts, so the binary figures are also given on the "clean" test texts: those in the 3-label test
split too, which neither the teacher nor the student trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from staticml import Classifier
from staticml.train import TrainConfig, data, train
from staticml.train.distill import DistillConfig


def parse_run(spec: str) -> dict:
    if spec == "alone":
        return {"alone": True}
    run = {}
    for part in spec.split(","):
        key, value = part.split("=")
        run[key] = value
    return run


def clean_test(binary: data.Split, three: data.Split) -> tuple[list[str], list[int]]:
    held = set(three.test[0])
    pairs = [(t, y) for t, y in zip(*binary.test) if t in held]
    return [t for t, _ in pairs], [y for _, y in pairs]


def measure(run: dict, dataset, args, workdir: Path, clean) -> dict:
    config = TrainConfig(name="student")
    if "epochs" in run:
        config.epochs = float(run["epochs"])
    if "width" in run:
        config.width = int(run["width"])
    if not run.get("alone"):
        config.distill = DistillConfig(args.teacher, temperature=float(run.get("T", 2)), weight=float(run.get("W", 0.7)),
                                       unlabeled=run.get("unlabeled"), text_col="text", augment=int(run.get("augment", 0)),
                                       teacher_subset=args.teacher_subset)
    out = workdir / f"run-{time.monotonic_ns()}"
    started = time.perf_counter()
    manifest = train(dataset, out, config, report=lambda line: print("   ", line, file=sys.stderr))
    seconds = time.perf_counter() - started
    metrics = manifest["metrics"]
    default = manifest["default_variant"]
    figures = metrics["variants"][default]
    result = {"run": run, "default_variant": default, "bytes": figures["bytes"], "macro_f1": figures["macro_f1"],
              "accuracy": figures["accuracy"], "calibration": figures["calibration"],
              "uncertain_below": manifest.get("uncertain_below"), "seconds_in_all": round(seconds, 1),
              "fit_seconds": metrics["train_seconds"],
              "teacher_seconds": metrics.get("distillation", {}).get("teacher_seconds"),
              "tfidf": metrics["baselines"]["tfidf_logreg"]}
    if clean:
        predicted = Classifier(out).probabilities(clean[0]).argmax(-1)
        result["clean_test"] = {"rows": len(clean[0]), "accuracy": round(float((predicted == np.array(clean[1])).mean()), 4)}
    return result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--teacher", required=True)
    p.add_argument("--labels", type=int, choices=[2, 3], default=3)
    p.add_argument("--teacher-subset", action="store_true")
    p.add_argument("--runs", nargs="+", default=["alone", "T=2,W=0.7"])
    p.add_argument("--json", help="append the results to this JSON file")
    args = p.parse_args()
    keep = ["negative", "positive"] if args.labels == 2 else None
    dataset = data.load_default(keep_labels=keep)
    clean = clean_test(data.split(dataset), data.split(data.load_default())) if args.labels == 2 else None
    results = []
    with tempfile.TemporaryDirectory(prefix="distill-") as tmp:
        for spec in args.runs:
            result = measure(parse_run(spec), dataset, args, Path(tmp), clean)
            result["labels"] = args.labels
            results.append(result)
            print(json.dumps({k: result[k] for k in ("run", "macro_f1", "accuracy", "bytes", "seconds_in_all")}
                             | ({"clean": result["clean_test"]} if clean else {})), flush=True)
    if clean:  # the teacher on the same texts, for reference
        teacher = Classifier(args.teacher)
        probabilities = teacher.probabilities(clean[0])
        columns = [teacher.labels.index(label) for label in ("negative", "positive")]
        predicted = probabilities[:, columns].argmax(-1)
        print(json.dumps({"teacher_clean_test_accuracy": round(float((predicted == np.array(clean[1])).mean()), 4)}))
    if args.json:
        path = Path(args.json)
        old = json.loads(path.read_text()) if path.is_file() else []
        path.write_text(json.dumps(old + results, indent=1) + "\n")


if __name__ == "__main__":
    main()
