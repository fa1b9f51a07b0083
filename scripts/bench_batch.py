"""Benchmark of private batch scoring in the page (not a test): a CSV of tweets from the default
corpus is scored in headless Chromium exactly as the "Score a file" card does it (parsed and scored
in the page's worker, in chunks), once per model; prints rows/s.

    .venv/bin/python scripts/bench_batch.py MODEL_DIR [MODEL_DIR ...] [--rows 10000] [--variant int8] [--json PATH]

The models are built into one temporary site and served by `staticml serve` (COOP/COEP: WASM threads).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import tempfile
import time
from pathlib import Path

from staticml.train import data
from staticml.browser import chromium, open_page, served
from staticml.site import build

SCORE = """async ([text, column]) => {
    const started = performance.now();
    const result = await window.staticml.scoreFile(new File([text], 'tweets.csv'), column);
    return {rows: result.predictions.length, score_ms: result.ms, total_ms: performance.now() - started};
}"""


def tweets_csv(rows: int) -> str:
    texts = [t for t in data.load_default().texts if t.strip()]
    texts = (texts * (rows // len(texts) + 1))[:rows]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text"])
    writer.writerows([t] for t in texts)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    text = tweets_csv(args.rows)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        config = build(args.models, site, report=lambda _: None)
        with served(site) as url, chromium() as browser:
            for model in config["models"]:
                name = model["name"]
                context, page, _ = open_page(browser, f"{url}?model={name}&variant={args.variant}")
                try:
                    info = page.evaluate("window.staticml.info()")
                    started = time.perf_counter()
                    figures = page.evaluate(SCORE, [text, "text"])
                    wall = time.perf_counter() - started
                finally:
                    context.close()
                rate = figures["rows"] / (figures["score_ms"] / 1000)
                results.append({"model": name, "variant": info["variant"], "threads": info["threads"],
                                "rows": figures["rows"], "score_s": figures["score_ms"] / 1000,
                                "read_and_score_s": figures["total_ms"] / 1000, "wall_s": wall, "rows_per_s": rate})
                print(f"{name} ({info['variant']}, {info['threads']} threads): {figures['rows']} rows scored in "
                      f"{figures['score_ms'] / 1000:.1f} s = {rate:,.0f} rows/s "
                      f"(with reading the file: {figures['total_ms'] / 1000:.1f} s)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
