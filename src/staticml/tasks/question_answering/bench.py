"""bench on a question-answering site: first-visit bytes (as a host serving the build's brotli copies
sends them) and time to ready on loopback; the page's latency for one question on a passage that fills
one window and on a passage of about 2,000 words (XQuAD's English paragraphs, shipped with staticml);
natively, the same questions on Python onnxruntime with the page's number of threads."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable

from ... import output, visits
from ...browser import chromium, open_page, served
from ...site_config import model_dirs, read_site
from ...errors import UserError
from ..base import BenchRun

XQUAD = Path(__file__).parents[2] / "data" / "xquad.en.json"
LONG_WORDS = 2000
ANSWER_JS = "([q, c]) => window.staticml.answer(q, c)"


def bench_qa(run: BenchRun, open_model: Callable[..., Any]) -> dict:
    """Each model named (default: the site's default model), its default variant or every variant (--variants)."""
    config = read_site(run.site)
    available = model_dirs(run.site, config)
    unknown = [m for m in run.models or [] if m not in available]
    if unknown:
        raise UserError(f"{run.site}: no model named {', '.join(unknown)} (the site has {', '.join(available)})")
    output.check_writable(Path(run.out).absolute(), "bench", run.force, [run.site])
    started = time.perf_counter()
    results = []
    with served(run.site, port=run.port) as url, chromium() as browser:
        for name in run.models or [config["default_model"]]:
            manifest = open_model(available[name], threads=1).manifest
            for variant in list(manifest["variants"]) if run.all_variants else [manifest["default_variant"]]:
                results.append(bench_variant(run, browser, url, open_model, available[name], variant))
    report = {"site": str(run.site), "machine": {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 1)},
              "task": "question-answering", "model": results[0]["model"], "qa": results[0], "results": results,
              "seconds": round(time.perf_counter() - started, 1)}
    with output.atomic_folder(run.out, "bench", run.force, [run.site]) as folder:
        (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        (folder / "report.md").write_text(markdown(report))
    if run.json_path:
        Path(run.json_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


def bench_variant(run: BenchRun, browser, url: str, open_model: Callable[..., Any], model_dir: Path, variant: str) -> dict:
    runs = 3 if run.quick else 5
    answerer = open_model(model_dir, variant, threads=1)
    name, inputs = answerer.name, bench_inputs(answerer)
    page_url = f"{url}?model={name}&variant={variant}"
    result: dict[str, Any] = {"model": name, "variant": variant, "max_length": answerer.max_length,
                              "files": {f: e["bytes"] for f, e in answerer.manifest["files"].items()},
                              "model_bytes": answerer.manifest["files"][answerer.manifest["variants"][variant]]["bytes"]}
    run.progress(f"{name}/{variant}: first visit")
    result["first_visit"] = first_visit(browser, page_url, run.site)
    run.progress(f"{name}/{variant}: one question in the page ({runs} runs per passage)")
    result["page"] = page_latency(browser, page_url, inputs, runs)
    threads = result["page"]["threads"]
    run.progress(f"{name}/{variant}: the same questions natively ({threads} thread{'s' if threads != 1 else ''})")
    result["native"] = native_latency(open_model(model_dir, variant, threads=threads), inputs, runs)
    return result


def xquad_paragraphs() -> list[tuple[str, str]]:
    """(first question, passage) per XQuAD paragraph, in the file's order."""
    data = json.loads(XQUAD.read_text(encoding="utf-8"))["data"]
    return [(p["qas"][0]["question"], p["context"]) for article in data for p in article["paragraphs"] if p["qas"]]


def bench_inputs(answerer) -> dict[str, dict]:
    """`window`: a question with a passage cut to fill one window of the model; `long`: the same question on
    about 2,000 words of paragraphs (several windows), with how many windows each takes."""
    paragraphs = xquad_paragraphs()
    question = short_question(answerer, [q for q, _ in paragraphs])
    words = " ".join(p for _, p in paragraphs).split()
    window = fill_one_window(answerer, question, words)
    long = " ".join(words[:LONG_WORDS])
    return {name: {"question": question, "context": context, "words": len(context.split()),
                   "windows": len(answerer.windows(question, context)),
                   "tokens": max(len(w.ids) for w in answerer.windows(question, context))}
            for name, context in (("window", window), ("long", long))}


def short_question(answerer, questions: list[str]) -> str:
    """The first question that takes at most a quarter of a window (the passage gets the rest), else the shortest."""
    def tokens(question: str) -> int:
        return len(answerer.tokenizer.encode(question, add_special_tokens=False).ids)

    return next((q for q in questions if tokens(q) <= answerer.max_length // 4), min(questions, key=tokens))


def fill_one_window(answerer, question: str, words: list[str]) -> str:
    """The longest run of `words` that, with `question`, still fits one window (binary search on the word count)."""
    low, high = 1, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if len(answerer.windows(question, " ".join(words[:middle]))) == 1:
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low])


def first_visit(browser, url: str, site: Path) -> dict:
    context = browser.new_context()
    try:
        visit = visits.visit(context.new_page(), url)
        return {"wire_bytes": visit["wire_bytes"], "brotli_bytes": visits.brotli_bytes(site, visit["paths"]),
                "ready_ms": visit["ready_ms"], "requests": visit["requests"]}
    finally:
        context.close()


def page_latency(browser, url: str, inputs: dict[str, dict], runs: int) -> dict:
    context, page, _ = open_page(browser, url)
    try:
        figures: dict[str, Any] = {"threads": page.evaluate("window.staticml.info().threads") or 1}
        for name, pair in inputs.items():
            page.evaluate(ANSWER_JS, [pair["question"], pair["context"]])  # warm-up
            seconds = []
            for _ in range(runs):
                begin = time.perf_counter()
                page.evaluate(ANSWER_JS, [pair["question"], pair["context"]])
                seconds.append(time.perf_counter() - begin)
            figures[name] = latency(seconds, pair)
        return figures
    finally:
        context.close()


def native_latency(answerer, inputs: dict[str, dict], runs: int) -> dict:
    figures: dict[str, Any] = {}
    for name, pair in inputs.items():
        answerer.answer(pair["question"], pair["context"])  # warm-up
        seconds = []
        for _ in range(runs):
            begin = time.perf_counter()
            answerer.answer(pair["question"], pair["context"])
            seconds.append(time.perf_counter() - begin)
        figures[name] = latency(seconds, pair)
    return figures


def latency(seconds: list[float], pair: dict) -> dict:
    return {"median_ms": round(statistics.median(seconds) * 1000, 1), "runs": len(seconds), "words": pair["words"],
            "windows": pair["windows"], "tokens_per_window": pair["tokens"]}


def markdown(report: dict) -> str:
    lines = [f"Machine: {report['machine']['cpus']} CPUs, load {report['machine']['load_1min']} at the end.", ""]
    for r in report["results"]:
        lines += variant_markdown(r)
    return "\n".join([f"# bench: {report['model']} (question answering)", "", *lines])


def variant_markdown(r: dict) -> list[str]:
    files = ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in r["files"].items())
    page, native = r["page"], r["native"]

    def row(what: str, name: str) -> str:
        p, n = page[name], native[name]
        return (f"| {what}: {p['words']} words, {p['windows']} window(s) of up to {p['tokens_per_window']} tokens | "
                f"page {p['median_ms']:.0f} ms, native {n['median_ms']:.0f} ms (medians of {p['runs']}) |")

    return [
        f"## {r['model']}, variant {r['variant']} ({r['model_bytes'] / 1e6:.2f} MB), windows of {r['max_length']} tokens", "",
        "| measure | value |", "|---|---|",
        f"| model files | {files} |",
        f"| first visit (brotli) | {r['first_visit']['brotli_bytes'] / 1e6:.2f} MB "
        f"({r['first_visit']['wire_bytes'] / 1e6:.2f} MB on the wire over http) |",
        f"| ready | {r['first_visit']['ready_ms']:.0f} ms |",
        row("one question, one window", "window"),
        row("one question, a long passage", "long"),
        f"| threads | page WASM {page['threads']}, native the same |", "",
    ]


def rich_table(report: dict) -> Any:
    from rich.table import Table

    table = Table(title=f"bench: {report['model']} (question answering)")
    table.add_column("measure")
    table.add_column("value")
    for r in report["results"]:
        for line in variant_markdown(r):
            if line.startswith("| ") and not line.startswith("| measure"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                table.add_row(f"{r['variant']}: {cells[0]}", cells[1])
    return table
