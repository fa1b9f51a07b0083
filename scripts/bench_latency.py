"""Native onnxruntime vs the page's WASM: p50 latency of one text, MiniLM, side by side in one run.

    .venv/bin/python scripts/bench_latency.py MODEL_DIR [--variants fp32,int8] [--levers] [--json out.json]

MODEL_DIR is a MiniLM model folder (`staticml train ... --arch minilm`); latency does not depend
on the head's weights, so any MiniLM folder gives the same figures. For every variant, sequence
length (32, 128 tokens incl. [CLS]/[SEP]) and thread count (1, 2):
- native: `staticml.tasks.classify.bench.native_latency` (`Classifier(..., threads=N).logits([text])`: tokenize +
  run), each call timed;
- page: the built site served by `staticml serve` (COOP/COEP), opened with `?variant=V&threads=N`
  in headless Chromium; `window.staticml.predict([text])` (tokenize + run + softmax in the worker,
  plus the page↔worker message) timed in blocks of runs with `performance.now()`, and the
  worker's own time per call (`info().last_inference_ms`) next to it.
`--levers` adds variants to a temporary copy of the model folder, to compare what they buy:
- `int8-dynamic`: onnxruntime dynamic quantization of every MatMul (int8 activations, per-channel
  weights) — the usual "int8", fast natively with VNNI, but it drifts between page and native;
- `fp32-fused`: onnxruntime's transformer optimizer (SkipLayerNormalization, BiasGelu, Attention
  where it matches) saved offline, so the page does that graph work before shipping;
- `int8-dynamic-fused`: the same, then dynamic int8.
Native and page never run at the same time. Not a test: figures depend on the machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from staticml import manifest as manifest_io
from staticml.train import export
from staticml import Classifier
from staticml.tasks.classify.bench import native_latency
from staticml.browser import chromium, open_page, served
from staticml.site import build

SEQUENCES = (32, 128)
THREADS = (1, 2)
WORDS = "the movie was really good and i liked the music but the ending felt long".split()

PAGE_TIMING = """async ([text, warmup, blocks, runs]) => {
  for (let i = 0; i < warmup; i++) await window.staticml.predict([text]);
  const page = [], worker = [];
  for (let b = 0; b < blocks; b++) {
    let inWorker = 0;
    const start = performance.now();
    for (let r = 0; r < runs; r++) {
      await window.staticml.predict([text]);
      inWorker += window.staticml.info().last_inference_ms;
    }
    page.push((performance.now() - start) / runs);
    worker.push(inWorker / runs);
  }
  return {page, worker};
}"""


def text_of_length(classifier: Classifier, tokens: int) -> str:
    """A sentence that tokenizes to exactly `tokens` ids, special tokens included."""
    words: list[str] = []
    while len(classifier.encoder.ids([" ".join(words)])[0]) < tokens:
        words.append(WORDS[len(words) % len(WORDS)])
    text = " ".join(words)
    if len(classifier.encoder.ids([text])[0]) != tokens:
        raise RuntimeError(f"could not build a text of exactly {tokens} tokens")
    return text


def native_p50(model_dir: Path, variant: str, threads: int, text: str, runs: int) -> float:
    return native_latency(Classifier(model_dir, variant, threads=threads), runs, text)["p50_ms"]


def page_p50(browser, url: str, variant: str, threads: int, text: str, blocks: int, runs: int) -> dict:
    # open_page waits without eval, which the site's Content-Security-Policy header forbids.
    context, page, _ = open_page(browser, f"{url}?variant={variant}&threads={threads}")
    try:
        info = page.evaluate("window.staticml.info()")
        if info["threads"] != threads:
            raise RuntimeError(f"page runs {info['threads']} threads, asked for {threads}")
        timing = page.evaluate(PAGE_TIMING, [text, 20, blocks, runs])
        return {"page": statistics.median(timing["page"]), "worker": statistics.median(timing["worker"])}
    finally:
        context.close()


def with_levers(model_dir: Path, tmp: Path) -> Path:
    """A copy of the model folder with the lever variants added to its manifest."""
    from onnxruntime.transformers.optimizer import optimize_model

    out = tmp / "model"
    shutil.copytree(model_dir, out)
    manifest = manifest_io.read(out)
    fp32 = out / manifest["variants"]["fp32"]
    export.quantize_int8(fp32, out / "model.int8-dynamic.onnx")
    fused = optimize_model(str(fp32), model_type="bert", num_heads=12, hidden_size=384)
    print(f"transformer optimizer fused: {fused.get_fused_operator_statistics()}")
    fused.save_model_to_file(str(out / "model.fused.onnx"))
    export.quantize_int8(out / "model.fused.onnx", out / "model.int8-dynamic-fused.onnx")
    added = {"int8-dynamic": "model.int8-dynamic.onnx", "fp32-fused": "model.fused.onnx",
             "int8-dynamic-fused": "model.int8-dynamic-fused.onnx"}
    manifest["variants"].update(added)
    manifest["files"].update(manifest_io.file_entries(out, list(added.values())))
    manifest_io.write(out, manifest)
    return out


def run(model_dir: Path, variants: list[str], runs: int, blocks: int, block_runs: int, levers: bool) -> list[dict]:
    rows = []
    reference = Classifier(model_dir)
    texts = {seq: text_of_length(reference, seq) for seq in SEQUENCES}
    with tempfile.TemporaryDirectory(prefix="staticml-bench-") as tmp:
        if levers:
            model_dir = with_levers(model_dir, Path(tmp))
            variants = variants + [v for v in manifest_io.read(model_dir)["variants"] if v not in variants]
        site = Path(tmp) / "site"
        build([model_dir], site, report=lambda line: None)
        with chromium() as browser, served(site) as url:
            for variant in variants:
                for seq in SEQUENCES:
                    for threads in THREADS:
                        native = native_p50(model_dir, variant, threads, texts[seq], runs)
                        page = page_p50(browser, url, variant, threads, texts[seq], blocks, block_runs)
                        row = {"variant": variant, "sequence": seq, "threads": threads, "native_ms": native,
                               "page_ms": page["page"], "worker_ms": page["worker"], "ratio": page["page"] / native}
                        print(format_row(row), flush=True)
                        rows.append(row)
    return rows


HEADER = "| variant | seq | threads | native p50 ms | page p50 ms | (in worker) | page / native |\n|---|---|---|---|---|---|---|"


def format_row(row: dict) -> str:
    return (f"| {row['variant']} | {row['sequence']} | {row['threads']} | {row['native_ms']:.2f} | "
            f"{row['page_ms']:.2f} | {row['worker_ms']:.2f} | {row['ratio']:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--variants", help="comma-separated (default: every variant in the manifest)")
    parser.add_argument("--runs", type=int, default=200, help="native calls timed per cell")
    parser.add_argument("--blocks", type=int, default=15, help="page blocks per cell")
    parser.add_argument("--block-runs", type=int, default=10, help="page calls per block")
    parser.add_argument("--levers", action="store_true", help="also time the lever variants (see the docstring)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    manifest = manifest_io.read(args.model)
    variants = args.variants.split(",") if args.variants else list(manifest["variants"])
    load = os.getloadavg()[0]
    print(f"MiniLM batch 1, p50 of single calls; {os.cpu_count()} cores, load average {load:.1f} at start")
    print(HEADER, flush=True)
    rows = run(args.model, variants, args.runs, args.blocks, args.block_runs, args.levers)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        args.json.write_text(json.dumps({"load_average_start": load, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
