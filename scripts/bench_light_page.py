"""The light page, measured (issue 24): builds three sites and measures each in headless Chromium.

- `staticml demo --task tabular` (the eligibility form, credit_data);
- the Keras tutorial model (TextVectorization + Embedding 10k x 16 + GlobalAveragePooling + Dense, as
  tests/keras_models.py makes it) imported with `staticml import` as it is: the import picks the default
  variant (the smallest that agrees with fp32), unless --keras-variant names one;
- the tiny text model (`staticml demo`, one epoch: its speed does not depend on training), the reference
  for prediction time.

Per site: the engine the page chose, first-visit bytes as a host serving the build's .br copies sends
them (the files the visit requested), time to ready (info().load_ms), and the time of one prediction
(one text or the typical row; blocks of runs, as `staticml bench` measures it). Targets: tabular
<= 0.15 MB, Keras <= 0.40 MB and a prediction no slower than the tiny model's.

    .venv/bin/python scripts/bench_light_page.py [--work DIR] [--keras-variant auto|int8|fp32] [--json OUT]

Run it with PYTHONPATH pointing at another checkout's src/ (and that checkout's bundle built) to
measure that version: the script calls `python -m staticml` for every step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from staticml import tasks
from staticml.tasks.classify.bench import LATENCY_JS
from staticml.visits import brotli_bytes
from staticml.browser import chromium, served, wait_until

ROOT = Path(__file__).resolve().parents[1]
TARGETS_MB = {"tabular": 0.15, "keras": 0.40}
VISITS = 3


def staticml(*args: str) -> None:
    """One staticml command, its output shown only when it fails."""
    done = subprocess.run([sys.executable, "-m", "staticml", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_light_page: staticml {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def keras_sources(folder: Path) -> Path:
    """The tutorial model saved as .keras (made once: TensorFlow takes ~30 s to import and train)."""
    source = folder / "tutorial.keras"
    if not source.is_file():
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import keras_models; from pathlib import Path; "
                "keras_models.tutorial_model(Path(sys.argv[2]))")
        subprocess.run([sys.executable, "-c", code, str(ROOT / "tests"), str(folder)], check=True, capture_output=True)
    return source


def build_sites(work: Path, keras_variant: str) -> dict[str, Path]:
    sites = {"tabular": work / "tabular-site", "keras": work / "keras-site", "tiny": work / "tiny-site"}
    staticml("demo", "--task", "tabular", "--no-serve", "--out", str(sites["tabular"]), "--force")
    staticml("demo", "--no-serve", "--epochs", "1", "--out", str(sites["tiny"]), "--force")
    source = keras_sources(work / "keras-source")
    told = [] if keras_variant == "auto" else ["--default-variant", keras_variant]
    staticml("import", str(source), "--out", str(work / "keras-model"), *told, "--force")
    staticml("build", str(work / "keras-model"), "--out", str(sites["keras"]), "--force")
    return sites


def sample_of(site: Path) -> str | dict:
    config = json.loads((site / "site.json").read_text())
    manifest = tasks.read_model(site / config["models"][0]["path"])
    return tasks.get(manifest["task"]).sample(manifest)


def first_visit(browser, url: str, site: Path) -> dict:
    """A fresh profile loads the page until ready: which files it fetched, their brotli bytes, time to ready."""
    context = browser.new_context()
    paths: list[str] = []
    try:
        page = context.new_page()
        context.on("request", lambda request: paths.append(urlsplit(request.url).path))
        page.goto(url)
        wait_until(page, "window.staticml !== undefined")
        page.evaluate("() => window.staticml.ready")
        info = page.evaluate("window.staticml.info()")
    finally:
        context.close()
    files = sorted(set(paths))
    return {"brotli_bytes": brotli_bytes(site, files), "ready_ms": float(info["load_ms"]), "engine": info["engine"],
            "variant": info["variant"], "files": files}


def prediction_ms(browser, url: str, sample: str | dict) -> float:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        wait_until(page, "window.staticml !== undefined")
        page.evaluate("() => window.staticml.ready")
        times = page.evaluate(LATENCY_JS, [sample, 60])["times"]
        return statistics.median(times)
    finally:
        context.close()


def measure(browser, name: str, site: Path) -> dict:
    with served(site) as url:
        visits = [first_visit(browser, url, site) for _ in range(VISITS)]
        predict = prediction_ms(browser, url, sample_of(site))
    last = visits[-1]
    return {"site": name, "engine": last["engine"], "variant": last["variant"], "first_visit_mb": last["brotli_bytes"] / 1e6,
            "ready_ms": statistics.median(v["ready_ms"] for v in visits), "predict_ms": predict,
            "ships_wasm": (site / "assets" / "ort").exists(), "files": last["files"]}


def report(results: list[dict]) -> None:
    print(f"{'site':<9}{'engine':<17}{'variant':<9}{'first visit (br)':>17}{'ready':>10}{'predict':>11}  wasm  target")
    tiny = next((r["predict_ms"] for r in results if r["site"] == "tiny"), None)
    for r in results:
        target = ""
        if r["site"] in TARGETS_MB:
            target = f"<= {TARGETS_MB[r['site']]:.2f} MB: {'met' if r['first_visit_mb'] <= TARGETS_MB[r['site']] else 'MISSED'}"
        if r["site"] == "keras" and tiny is not None:
            target += f"; predict {r['predict_ms'] / tiny:.2f}x tiny's"
        print(f"{r['site']:<9}{r['engine']:<17}{r['variant']:<9}{r['first_visit_mb']:>14.3f} MB{r['ready_ms']:>8.0f} ms"
              f"{r['predict_ms'] * 1000:>8.1f} µs  {'yes' if r['ships_wasm'] else 'no ':<4}  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="folder for the models and sites (default: a temporary one)")
    parser.add_argument("--keras-variant", default="auto", choices=["auto", "int8", "fp32"],
                        help="the imported Keras model's default variant (auto: the import's own choice)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-light-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sites = build_sites(work, args.keras_variant)
    with chromium() as browser:
        results = [measure(browser, name, site) for name, site in sites.items()]
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
