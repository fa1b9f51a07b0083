"""Measure smaller MiniLM variants against fp32 (issue 28 item 4): vocabulary pruning, 4-bit blocks,
int8 tables with 4-bit MatMuls, mixed precision.

    .venv/bin/python scripts/minilm_variants.py MODEL_FOLDER WORK_DIR [--test-rows N]

MODEL_FOLDER is a MiniLM model folder written by `staticml train --arch minilm` on the demo data
(its labels pick the same rows and split). For each candidate it prints brotli bytes (quality 9,
as build measures), macro-F1 on the test split (or a stratified sample of N rows of it) next to
fp32's on the same rows, and build's variant check on its probes (max |Δp|, agreement, pass).
The pruned vocabulary comes from the training and validation texts only, never the test split.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import brotli
import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from staticml import parity
from staticml.hard_texts import hard_texts
from staticml.runtime import create_session, softmax
from staticml.tokenize import TextEncoder, describe, load_tokenizer
from staticml.train import export, prune_vocab
from staticml.train.data import load_default, split


def brotli_bytes(path: Path) -> int:
    return len(brotli.compress(path.read_bytes(), quality=9))


def probabilities(graph: Path, tokenizer: Path, texts: list[str], max_length: int) -> np.ndarray:
    tok = load_tokenizer(tokenizer)
    encoder = TextEncoder(tok, describe(tok), max_length)
    session = create_session(graph)
    ids = encoder.ids(texts)
    order = np.argsort([len(i) for i in ids], kind="stable")
    rows = {}
    for start in range(0, len(order), 64):
        chunk = [int(j) for j in order[start:start + 64]]
        feeds = encoder.batch([texts[j] for j in chunk])
        logits = session.run(["logits"], {k: v for k, v in feeds.items() if k in {"input_ids", "attention_mask"}})[0]
        rows.update(zip(chunk, softmax(logits.astype(np.float64))))
    return np.stack([rows[j] for j in range(len(texts))])


def candidates(work: Path, fp32: Path, pruned: Path) -> dict[str, callable]:
    """name → function writing the candidate's graph (once) and returning its path. The pruned ones
    renumber the full tokenizer's ids inside the graph (prune_vocab.prune_graph_with_remap), as the
    shipped q4-pruned variant does: every candidate takes the same tokenizer.json."""
    def make(name, source, quantizer):
        def run():
            target = work / f"{name}.onnx"
            if not target.exists():
                quantizer(source, target)
            return target
        return run

    q4 = export.quantize_q4
    return {
        "int8 (default today)": make("int8", fp32, export.quantize_weights_int8),
        "q4 b128 (today)": make("q4", fp32, q4),
        "q4 b32": make("q4-b32", fp32, lambda s, t: q4(s, t, block_size=32)),
        "q4 b32 MatMuls + int8 table": make("q4-b32-int8t", fp32, lambda s, t: q4(s, t, block_size=32, tables="int8")),
        "q4 b32 MatMuls + q4 b128 table": make("q4-b32-t128", fp32, lambda s, t: q4(s, t, block_size=32, table_block=128)),
        "q4 b32 MatMuls + q4 b64 table": make("q4-b32-t64", fp32, lambda s, t: q4(s, t, block_size=32, table_block=64)),
        "pruned fp32": lambda: pruned,
        "pruned int8": make("pruned-int8", pruned, export.quantize_weights_int8),
        "pruned q4 b128": make("pruned-q4", pruned, q4),
        "pruned q4 b32": make("pruned-q4-b32", pruned, lambda s, t: q4(s, t, block_size=32)),
        "pruned q4 b32 MatMuls + int8 table": make("pruned-q4-b32-int8t", pruned, lambda s, t: q4(s, t, block_size=32, tables="int8")),
        "pruned q4 b32 MatMulNBits + q4 b128 table": make("pruned-q4-b32-t128", pruned,
                                                                 lambda s, t: q4(s, t, block_size=32, table_block=128)),
        "pruned + MatMuls 16 levels a byte b32 + q4 rows b128": make("pruned-bytes4", pruned, bytes4_then_q4_rows),
        "pruned + MatMuls 16 levels a byte b32 + q4 rows b128 + float16 row scales (q4-pruned)": make("pruned-bytes4-s16", pruned,
                                                                                                 export.quantize_pruned_graph),
        "pruned q4 b16": make("pruned-q4-b16", pruned, lambda s, t: q4(s, t, block_size=16)),
    }


def bytes4_then_q4_rows(source: Path, target: Path) -> None:
    export.quantize_matmuls_4bit_bytes(source, target, block_size=32)
    export.quantize_q4(target, target, block_size=32, table_block=128)


def reference(work: Path, fp32: Path, tokenizer: Path, probes: list[str], test_x: list[str], max_length: int):
    """fp32's probabilities on the probes and the test rows (cached in WORK: minutes on MiniLM)."""
    cache = work / f"fp32-{len(test_x)}.npz"
    if not cache.exists():
        np.savez(cache, probes=probabilities(fp32, tokenizer, probes, max_length),
                 test=probabilities(fp32, tokenizer, test_x, max_length))
    saved = np.load(cache)
    return saved["probes"], saved["test"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--test-rows", type=int, default=0, help="a stratified sample of the test split (0: all of it)")
    parser.add_argument("--only", default="", help="comma-separated candidate names to run")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((args.model / "manifest.json").read_text())
    parts = split(load_default(keep_labels=manifest["labels"]))
    test_x, test_y = parts.test
    if args.test_rows and args.test_rows < len(test_x):
        test_x, _, test_y, _ = train_test_split(test_x, test_y, train_size=args.test_rows, stratify=test_y, random_state=13)
    fp32, tokenizer = args.model / "model.onnx", args.model / "tokenizer.json"
    pruned = args.work / "pruned.onnx"
    if not pruned.exists():
        kept, unk, size = prune_vocab.kept_ids(tokenizer, parts.train[0] + parts.validation[0])
        rows = prune_vocab.prune_graph_with_remap(fp32, pruned, kept, size, unk)
        print(f"pruned vocabulary: {rows} rows kept of {size}", flush=True)
    probes = hard_texts() + list(manifest.get("examples", []))
    max_length = manifest["max_length"]
    reference_probes, reference_test = reference(args.work, fp32, tokenizer, probes, test_x, max_length)
    fp32_f1 = f1_score(test_y, reference_test.argmax(-1), average="macro")
    print(f"fp32: brotli {brotli_bytes(fp32) / 1e6:.2f} MB  macro-F1 {fp32_f1:.4f} on {len(test_x)} test rows", flush=True)
    results = {}
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    for name, make in candidates(args.work, fp32, pruned).items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        graph = make()
        probs = probabilities(graph, tokenizer, test_x, max_length)
        f1 = f1_score(test_y, probs.argmax(-1), average="macro")
        check = parity.compare(reference_probes, probabilities(graph, tokenizer, probes, max_length),
                               parity.VARIANT_TOLERANCE, parity.VARIANT_AGREEMENT)
        results[name] = {"brotli_bytes": brotli_bytes(graph), "macro_f1": round(float(f1), 4),
                         "delta_f1_points": round(100 * float(f1 - fp32_f1), 2),
                         "max_dp_probes": round(check.max_abs_diff, 3),
                         "max_dp_test": round(float(np.abs(probs - reference_test).max()), 3),
                         "agreement": round(check.label_agreement, 4), "check_passes": check.ok}
        r = results[name]
        print(f"{name:32s} {r['brotli_bytes'] / 1e6:6.2f} MB  F1 {r['macro_f1']:.4f} ({r['delta_f1_points']:+.2f})  "
              f"max|Δp| probes {r['max_dp_probes']:.3f} test {r['max_dp_test']:.3f}  agree {r['agreement']:.3f}  "
              f"check {'pass' if r['check_passes'] else 'FAIL'}  ({time.perf_counter() - started:.0f} s)", flush=True)
    (args.work / f"results-{int(time.time())}.json").write_text(json.dumps({"fp32_macro_f1": round(float(fp32_f1), 4), "test_rows": len(test_x),
                                                         "candidates": results}, indent=1))


if __name__ == "__main__":
    main()
