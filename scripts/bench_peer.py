"""staticml against transformers.js on the same model (issue 31 item 3), side by side in one run.

Both pages are served by one loopback server (staticml's app, with its headers and precompressed
copies; the peer's folder under /peer/ with the same COOP/COEP headers and .br/.gz copies of its
files) that counts every response body it sends, whoever asked (page, workers, service worker).
Both run the same `model.int8.onnx` and `tokenizer.json` on 2 WASM threads:

- staticml, int8: the site built from MODEL (a MiniLM model folder, e.g. from `staticml demo --arch
  minilm --no-serve` or `train --arch minilm`) with int8 as its default variant, at `?threads=2`;
- staticml as shipped: the same model with its own default variant (q4 for fine-tuned MiniLM), the
  demo site as a visitor gets it (its service worker keeps the default variant for offline use, so a
  visit asking another variant with ?variant= also downloads the default one after ready);
- transformers.js from PEER (a folder where `npm install --ignore-scripts @huggingface/transformers@4.3.2`
  was run; its onnxruntime-web WASM served from here, no CDN, no hub: `env.allowRemoteModels=false`,
  the model in the Hugging Face layout, `onnx/model_quantized.onnx`, dtype q8).

Per page, alternating rounds: bytes sent until ready and in the 10 s after (fresh profile, cable),
time to ready on cable and on fast 4G (Chrome's network emulation through CDP, as `staticml bench`),
and one prediction (median of 20 runs of a tweet, after ready). "Ready" is what each page offers:
staticml's `window.staticml.ready`, and the peer's pipeline created plus one warm-up run, as staticml
warms its session up before ready.

    .venv/bin/python scripts/bench_peer.py PEER MODEL [--work DIR] [--rounds 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from starlette.types import Receive, Scope, Send

from staticml.browser import chromium, wait_until
from staticml.server import PrecompressedFiles, SiteHeaders, create_app
from staticml.site import build, precompress
from staticml.visits import PROFILES
from staticml.wire import AFTER_READY_S, WireLog, counted

PROFILE = {p.name: p for p in PROFILES}
MODEL_NAME = "minilm"
TEXT = "the flight was delayed three hours and nobody told us anything, great service"
PEER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>transformers.js, the same model</title></head>
<body><p id="state">loading</p>
<script type="module">
import { pipeline, env } from "./transformers.min.js";
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = new URL("models/", location.href).pathname;  // a path: transformers.js skips a local "model path" that is a URL
env.backends.onnx.wasm.wasmPaths = new URL("ort/", location.href).href;
env.backends.onnx.wasm.numThreads = 2;
window.peer = {};
window.peer.ready = (async () => {
  const classify = await pipeline("text-classification", "%s", { dtype: "q8", device: "wasm" });
  await classify("warm up");
  window.peer.classify = classify;
  window.peer.load_ms = performance.now();
  document.getElementById("state").textContent = "ready";
  return true;
})();
</script></body></html>
""" % MODEL_NAME

STATICML = {"path": "?threads=2", "defined": "window.staticml !== undefined",
            "ready": "() => window.staticml.ready.then(() => window.staticml.info().load_ms)",
            "predict": "text => window.staticml.predict([text])"}
PEER = {"path": "peer/", "defined": "window.peer !== undefined && window.peer.ready !== undefined",
        "ready": "() => window.peer.ready.then(() => window.peer.load_ms)",
        "predict": "text => window.peer.classify(text)"}
PAGES = {"staticml int8": STATICML, "transformers.js": PEER, "staticml as shipped": STATICML}
TIME_PREDICTION = """async ([predict, text, runs]) => {
  const run = eval(predict);
  const times = [];
  for (let i = 0; i < runs; i++) { const t = performance.now(); await run(text); times.push(performance.now() - t); }
  return times;
}"""


def peer_folder(peer: Path, model: Path, out: Path) -> Path:
    """transformers.js, its onnxruntime-web WASM and the model folder in the Hugging Face layout, at out."""
    from staticml.train.models.minilm import source_dir

    dist = peer / "node_modules" / "@huggingface" / "transformers" / "dist"
    ort = peer / "node_modules" / "onnxruntime-web" / "dist"
    if not (dist / "transformers.min.js").is_file() or not ort.is_dir():
        sys.exit(f"bench_peer: {peer}: no node_modules/@huggingface/transformers/dist/transformers.min.js "
                 "(run `npm install --ignore-scripts @huggingface/transformers@VERSION` there)")
    shutil.rmtree(out, ignore_errors=True)
    (out / "ort").mkdir(parents=True)
    shutil.copy(dist / "transformers.min.js", out / "transformers.min.js")
    for file in ort.glob("ort-wasm-simd-threaded*"):
        if not file.name.endswith(".map"):
            shutil.copy(file, out / "ort" / file.name)
    target = out / "models" / MODEL_NAME
    (target / "onnx").mkdir(parents=True)
    manifest = json.loads((model / "manifest.json").read_text())
    shutil.copy(model / manifest["variants"]["int8"], target / "onnx" / "model_quantized.onnx")
    shutil.copy(model / "tokenizer.json", target / "tokenizer.json")
    shutil.copy(source_dir() / "tokenizer_config.json", target / "tokenizer_config.json")
    config = json.loads((source_dir() / "config.json").read_text())
    labels = manifest["labels"]
    config.update(architectures=["BertForSequenceClassification"], id2label=dict(enumerate(labels)),
                  label2id={label: i for i, label in enumerate(labels)})
    (target / "config.json").write_text(json.dumps(config, indent=1))
    (out / "index.html").write_text(PEER_PAGE)
    precompress(out)
    return out


def both_pages(site: Path, peer: Path):
    """One ASGI app: the staticml site as `staticml serve` serves it, and the peer's folder at /peer/."""
    site_app = create_app(site)
    peer_app = SiteHeaders(PrecompressedFiles(directory=str(peer), html=True))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/peer/"):
            scope = {**scope, "path": scope["path"][len("/peer"):], "root_path": scope.get("root_path", "") + "/peer"}
            await peer_app(scope, receive, send)
        else:
            await site_app(scope, receive, send)

    return app


def visit(browser, url: str, page_spec: dict, log: WireLog, profile: str, after_ready_s: float = 0.0) -> dict:
    """A first visit in a fresh profile on an emulated network: time to ready, bytes sent until ready and after."""
    log.clear()
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", PROFILE[profile].cdp())
        page.goto(url + page_spec["path"], wait_until="commit")
        wait_until(page, page_spec["defined"], 600_000)
        load_ms = float(page.evaluate(page_spec["ready"]))
        ready_at = (page.evaluate("performance.timeOrigin") + load_ms) / 1000
        predict_ms = None
        if after_ready_s:
            page.wait_for_timeout(after_ready_s * 1000)
            predict_ms = statistics.median(page.evaluate(TIME_PREDICTION, [page_spec["predict"], TEXT, 20]))
    finally:
        context.close()
    before = log.body_bytes(ready_at)
    return {"ready_ms": load_ms, "before_ready_bytes": before, "after_ready_bytes": log.body_bytes() - before,
            "sent_twice": log.sent_twice(), "predict_ms": predict_ms,
            "files": sorted({s.path for s in log.bodies()})}


def int8_model(model: Path, out: Path) -> Path:
    """A copy of the model folder whose default variant is int8 (hard links where the file system allows)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for file in model.iterdir():
        if file.is_file() and file.name != "manifest.json":
            try:
                os.link(file, out / file.name)
            except OSError:
                shutil.copy(file, out / file.name)
    manifest = json.loads((model / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "default_variant": "int8"}, indent=1))
    return out


def measure(sites: dict[str, Path], peer: Path, rounds: int) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {name: [] for name in PAGES}
    with (counted(sites["staticml int8"], both_pages(sites["staticml int8"], peer)) as (url, log),
          counted(sites["staticml as shipped"]) as (shipped_url, shipped_log), chromium() as browser):
        servers = {"staticml int8": (url, log), "transformers.js": (url, log), "staticml as shipped": (shipped_url, shipped_log)}
        for round_ in range(rounds):
            for name, spec in PAGES.items():
                url, log = servers[name]
                cable = visit(browser, url, spec, log, "cable", AFTER_READY_S)
                fast_4g = visit(browser, url, spec, log, "fast-4g")
                results[name].append({"cable": cable, "fast_4g": fast_4g})
                print(f"round {round_ + 1} {name}: cable {cable['ready_ms']:.0f} ms, fast 4G {fast_4g['ready_ms']:.0f} ms, "
                      f"{cable['before_ready_bytes'] / 1e6:.2f} MB until ready", flush=True)
    return results


def summary(runs: list[dict]) -> dict:
    def median(profile: str, key: str) -> float:
        return statistics.median(r[profile][key] for r in runs)

    return {"until_ready_mb": median("cable", "before_ready_bytes") / 1e6,
            "after_ready_mb": median("cable", "after_ready_bytes") / 1e6,
            "cable_ready_s": median("cable", "ready_ms") / 1000, "fast_4g_ready_s": median("fast_4g", "ready_ms") / 1000,
            "fast_4g_range_s": [min(r["fast_4g"]["ready_ms"] for r in runs) / 1000, max(r["fast_4g"]["ready_ms"] for r in runs) / 1000],
            "predict_ms": median("cable", "predict_ms"),
            "sent_twice": runs[-1]["cable"]["sent_twice"], "files": runs[-1]["cable"]["files"]}


def report(figures: dict[str, dict]) -> None:
    print(f"\n{'page':<21}{'until ready':>13}{'+10 s':>10}{'ready, cable':>14}{'ready, fast 4G':>16}{'predict':>10}")
    for name, f in figures.items():
        print(f"{name:<21}{f['until_ready_mb']:>10.2f} MB{f['after_ready_mb']:>7.3f} MB{f['cable_ready_s']:>12.2f} s"
              f"{f['fast_4g_ready_s']:>14.2f} s{f['predict_ms']:>7.1f} ms")
    ours, peer = figures["staticml int8"], figures["transformers.js"]
    print(f"\nstaticml int8 / transformers.js: bytes until ready {ours['until_ready_mb'] / peer['until_ready_mb']:.2f}x, "
          f"by 10 s after {(ours['until_ready_mb'] + ours['after_ready_mb']) / (peer['until_ready_mb'] + peer['after_ready_mb']):.2f}x, "
          f"ready on fast 4G {ours['fast_4g_ready_s'] / peer['fast_4g_ready_s']:.2f}x, on cable {ours['cable_ready_s'] / peer['cable_ready_s']:.2f}x")
    for name, f in figures.items():
        print(f"{name} files: " + ", ".join(f["files"]) + (f"; sent twice: {f['sent_twice']}" if f["sent_twice"] else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("peer", type=Path, help="folder where @huggingface/transformers was installed with npm")
    parser.add_argument("model", type=Path, help="a MiniLM model folder (with model.int8.onnx and tokenizer.json)")
    parser.add_argument("--work", type=Path, help="folder for the two sites (default: a temporary one)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write every visit's figures here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-peer-"))
    sites = {"staticml int8": work / "site-int8", "staticml as shipped": work / "site"}
    models = {"staticml int8": int8_model(args.model, work / "model-int8" / args.model.name), "staticml as shipped": args.model}
    for name, site in sites.items():
        if not (site / "site.json").is_file():
            build([models[name]], site, report=lambda _line: None)
    peer = peer_folder(args.peer, args.model, work / "peer")
    runs = measure(sites, peer, args.rounds)
    figures = {name: summary(r) for name, r in runs.items()}
    report(figures)
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
