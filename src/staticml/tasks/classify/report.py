"""The bench report as people read it: a terminal table, report.md in plain words, PNG charts."""

from __future__ import annotations

import json
from pathlib import Path

MB = 1e6


def _label(result: dict) -> str:
    return f"{result['model']}/{result['variant']}"


def _best(result: dict, path: str) -> dict:
    """The all-threads figures of `page` or `native`."""
    return result[path][max(result[path], key=lambda k: int(k.split("_")[1]))]


def rich_table(report: dict):
    from rich.table import Table

    table = Table(title="staticml bench: browser vs server vs native (ms, p50)")
    for column in ("model", "network", "first visit", "MB on wire", "repeat visit", "page", "server", "native",
                   "break-even"):
        table.add_column(column, justify="right" if column not in ("model", "network") else "left")
    for result in report["results"]:
        page, native = _best(result, "page")["p50_ms"], _best(result, "native")["p50_ms"]
        for name, profile in result["profiles"].items():
            if "first_visit" not in profile:
                repeat = profile["repeat_visit"]
                table.add_row(_label(result), name, "—", "—", f"{repeat['ready_ms']:.0f}" if repeat else "n/a",
                              f"{page:.2f}", "—", f"{native:.2f}", "—")
                continue
            first, repeat = profile["first_visit"], profile["repeat_visit"]
            be = profile["break_even"]
            table.add_row(_label(result), name, f"{first['ready_ms']:.0f}", f"{first['wire_bytes'] / MB:.2f}",
                          f"{repeat['ready_ms']:.0f}", f"{page:.2f}", f"{profile['server']['p50_ms']:.1f}",
                          f"{native:.2f}", "never" if be is None else str(be))
    return table


def _inputs(report: dict) -> str:
    shown = {json.dumps(r["input"], ensure_ascii=False) for r in report["results"]}
    return "; ".join(sorted(shown)) or "none"


def write_markdown(report: dict) -> str:
    lines = ["# Can we really run AI in the browser? — staticml bench", "",
             f"Site `{report['site']}`, {report['machine']['cpus']} CPU cores, measured in one run "
             f"({report['seconds']:.0f} s). Input of each prediction: {_inputs(report)}.", "", "Network profiles (CDP emulation):", ""]
    for p in report["profiles"]:
        detail = "network off, after one visit" if p["offline"] else \
            f"{p['down_kbps'] / 1000:g} Mbit/s down, {p['up_kbps'] / 1000:g} Mbit/s up, {p['rtt_ms']:g} ms round trip"
        lines.append(f"- **{p['name']}**: {detail}")
    for result in report["results"]:
        lines += ["", *_model_section(result)]
    lines += ["", *_accuracy_section(report.get("accuracy_per_byte")),
              "", "Charts: `time_to_ready.png`, `latency.png`, `break_even.png`, `accuracy_per_byte.png`.", ""]
    return "\n".join(lines)


def _model_section(result: dict) -> list[str]:
    page, native = _best(result, "page"), _best(result, "native")
    page1, native1 = result["page"]["threads_1"], result["native"]["threads_1"]
    engine = f", {result['engine']} engine" if result.get("engine") else ""
    lines = [f"## {_label(result)} ({result['model_bytes'] / MB:.2f} MB model file{engine})", "",
             "| network | first visit: ready | on the wire | download | compile + session | repeat visit | "
             "server round trip p50 / p95 | break-even |", "|---|---|---|---|---|---|---|---|"]
    for name, profile in result["profiles"].items():
        if "first_visit" not in profile:
            repeat = profile["repeat_visit"]
            lines.append(f"| {name} | — | — | — | — | {_ms(repeat['ready_ms']) if repeat else 'not offline-capable'} "
                         f"| — | — |")
            continue
        first, repeat, server = profile["first_visit"], profile["repeat_visit"], profile["server"]
        be = profile["break_even"]
        lines.append(f"| {name} | {_ms(first['ready_ms'])} | {first['wire_bytes'] / MB:.2f} MB | "
                     f"{_ms(first['download_ms'])} | {_ms(first['compile_and_session_ms'])} | {_ms(repeat['ready_ms'])} "
                     f"({repeat['wire_bytes'] / 1e3:.0f} kB) | {server['p50_ms']:.1f} / {server['p95_ms']:.1f} ms | "
                     f"{'never' if be is None else f'{be} predictions'} |")
    page_rows = [f"| page, 1 thread | {page1['p50_ms']:.2f} ms | {page1['p95_ms']:.2f} ms |"]
    if page is not page1:
        page_rows.append(f"| page, {page['threads']} threads | {page['p50_ms']:.2f} ms | {page['p95_ms']:.2f} ms |")
    if result.get("first_visit_brotli_bytes"):
        lines += ["", f"On the wire as brotli (an https host serving the build's `.br` copies; Chromium asks for "
                      f"brotli over https only): {result['first_visit_brotli_bytes'] / MB:.2f} MB of bodies."]
    wire = result.get("first_visit_wire")
    if wire:
        twice = ", ".join(f"{path} ×{n}" for path, n in wire["sent_twice"].items()) or "none"
        lines += ["", f"First visit counted at the server (page, workers and service worker): "
                      f"{wire['before_ready_bytes'] / MB:.2f} MB until ready, {wire['after_ready_bytes'] / MB:.2f} MB in the "
                      f"{wire['after_ready_s']:.0f} s after (the offline cache); files sent more than once: {twice}."]
    lines += ["", "| path | p50 | p95 |", "|---|---|---|", *page_rows,
              f"| native onnxruntime, 1 thread | {native1['p50_ms']:.2f} ms | {native1['p95_ms']:.2f} ms |",
              f"| native onnxruntime, {native['threads']} threads | {native['p50_ms']:.2f} ms | {native['p95_ms']:.2f} ms |",
              f"| server on loopback (compute + HTTP) | {result['server_compute']['p50_ms']:.2f} ms | "
              f"{result['server_compute']['p95_ms']:.2f} ms |", *_webgpu_rows(result), "", *_conclusions(result)]
    return lines


def _webgpu_rows(result: dict) -> list[str]:
    """The page on WebGPU, said plainly when the adapter is a software one."""
    gpu = result.get("webgpu")
    if not gpu:
        return []
    if "p50_ms" not in gpu:
        return [f"| page on WebGPU | not run: {gpu.get('reason')} | — |"]
    be = gpu["break_even_vs_loopback_server"]
    note = (" — **software adapter (SwiftShader): proves correctness, not GPU speed**" if gpu["software"] else "")
    return [f"| page on WebGPU, {gpu['adapter']}{note}; ready in {_ms(gpu['ready_ms'])} on loopback "
            f"({gpu['raw_bytes'] / MB:.1f} MB, WebGPU WASM {gpu['wasm_bytes'] / MB:.1f} MB); break-even vs the loopback server: "
            f"{'never' if be is None else be} | {gpu['p50_ms']:.2f} ms | {gpu['p95_ms']:.2f} ms |"]


def _conclusions(result: dict) -> list[str]:
    page = _best(result, "page")["p50_ms"]
    ratio = result["page_native_ratio"]
    said = [f"- A prediction in the page takes {page:.2f} ms (p50), {ratio}× native onnxruntime on the same cores."]
    for name, profile in result["profiles"].items():
        if "first_visit" not in profile:
            repeat = profile["repeat_visit"]
            said.append(f"- {name}: " + (f"the page is ready in {_ms(repeat['ready_ms'])} with the network off."
                                          if repeat else "the site has no service worker, so it does not load offline."))
            continue
        first, server, be = profile["first_visit"], profile["server"], profile["break_even"]
        verdict = (f"the browser is ahead from prediction {be} on" if be is not None
                   else "the server stays faster per prediction")
        said.append(f"- {name}: the first visit costs {_ms(first['ready_ms'])} ({first['wire_bytes'] / MB:.1f} MB); "
                    f"each server prediction costs {server['p50_ms']:.0f} ms against {page:.1f} ms in the page: {verdict}.")
    return said


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _accuracy_section(points: dict | None) -> list[str]:
    if not points or not points["models"]:
        return []
    lines = ["## Accuracy per byte (test macro-F1 from each manifest; gzip bytes of model file + tokenizer.json)", "",
             "| model/variant | arch | macro-F1 | accuracy | on the wire |", "|---|---|---|---|---|"]
    for p in sorted(points["models"], key=lambda p: p["wire_bytes"]):
        arch = (p["arch"] or "") + (", distilled" if p["distilled"] else "")
        accuracy = "—" if p["accuracy"] is None else f"{p['accuracy']:.4f}"
        lines.append(f"| {p['model']}/{p['variant']}{' (default)' if p['default'] else ''} | {arch} | "
                     f"{p['macro_f1']:.4f} | {accuracy} | {p['wire_bytes'] / MB:.2f} MB |")
    for ref in points["references"]:
        size = f"{ref['wire_bytes'] / MB:.2f} MB" if ref.get("wire_bytes") else "not recorded"
        lines.append(f"| {ref['name']} ({ref['labels']} labels; reference) | — | {ref['macro_f1']:.4f} | — | {size} |")
    return lines


def write_charts(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .accuracy import draw

    if report.get("accuracy_per_byte", {}).get("models"):
        draw(report["accuracy_per_byte"], out / "accuracy_per_byte.png")
    _time_to_ready_chart(plt, report, out / "time_to_ready.png")
    _latency_chart(plt, report, out / "latency.png")
    _break_even_chart(plt, report, out / "break_even.png")


def _network_profiles(result: dict) -> list[str]:
    return [name for name, p in result["profiles"].items() if "first_visit" in p]


def _time_to_ready_chart(plt, report: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    results = report["results"]
    names = _network_profiles(results[0])
    width = 0.8 / (2 * len(results))
    for i, result in enumerate(results):
        for j, visit in enumerate(("first_visit", "repeat_visit")):
            values = [result["profiles"][n][visit]["ready_ms"] / 1000 for n in names]
            offset = (2 * i + j) * width - 0.4 + width / 2
            ax.bar([k + offset for k in range(len(names))], values, width,
                   label=f"{_label(result)} {visit.replace('_', ' ')}", alpha=1.0 if j == 0 else 0.55)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("time until staticml.ready (s)")
    ax.set_title("Time to ready per network profile")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _latency_chart(plt, report: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 4.5))
    rows = []
    for result in report["results"]:
        for key, value in result["page"].items():
            rows.append((f"{_label(result)}\npage {key.split('_')[1]}t", value))
        for key, value in result["native"].items():
            rows.append((f"{_label(result)}\nnative {key.split('_')[1]}t", value))
        for name in _network_profiles(result):
            rows.append((f"{_label(result)}\nserver {name}", result["profiles"][name]["server"]))
    labels = [r[0] for r in rows]
    p50 = [r[1]["p50_ms"] for r in rows]
    p95 = [r[1]["p95_ms"] for r in rows]
    ax.barh(labels, p50, color="#4a6cf7", label="p50")
    ax.scatter(p95, labels, color="black", marker="|", s=120, label="p95")
    ax.set_xscale("log")
    ax.set_xlabel("latency per prediction (ms, log scale)")
    ax.set_title("One prediction: page vs native vs server round trip")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _break_even_chart(plt, report: dict, path: Path) -> None:
    result = report["results"][0]
    page = _best(result, "page")["p50_ms"]
    names = _network_profiles(result)
    largest = max([result["profiles"][n]["break_even"] or 0 for n in names] + [10])
    n = list(range(0, int(largest * 2) + 2))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name in names:
        profile = result["profiles"][name]
        first, server = profile["first_visit"]["ready_ms"], profile["server"]["p50_ms"]
        line = ax.plot(n, [(first + k * page) / 1000 for k in n], label=f"browser, {name}")[0]
        ax.plot(n, [k * server / 1000 for k in n], linestyle="--", color=line.get_color(), label=f"server, {name}")
        if profile["break_even"] is not None:
            k = profile["break_even"]
            ax.plot([k], [(first + k * page) / 1000], "o", color=line.get_color())
            ax.annotate(f"break-even: {k}", (k, (first + k * page) / 1000), textcoords="offset points",
                        xytext=(5, -12), fontsize=8)
    ax.set_xlabel("number of predictions in one visit")
    ax.set_ylabel("total time (s)")
    ax.set_title(f"{_label(result)}: first visit + n predictions, browser vs server")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
