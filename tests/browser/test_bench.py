"""`staticml bench --quick`: the report's figures exist, are sane, and are ordered as physics says."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from staticml.visits import break_even
from staticml.cli import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def quick_report(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "staticml", "bench", str(site), "--quick", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return out, json.loads((out / "report.json").read_text())


def test_quick_bench_writes_report_and_charts(quick_report):
    out, report = quick_report
    for name in ("report.md", "report.json", "time_to_ready.png", "latency.png", "break_even.png"):
        assert (out / name).stat().st_size > 500, name
    assert (out / "time_to_ready.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "report.md").read_text()
    assert "## sentiment/int8" in markdown and "break-even" in markdown


def test_quick_bench_reports_what_a_visitor_downloads(quick_report):
    """Issue 30 item 4: per model, the files and bytes a visitor can take, and whether the weights are plain ONNX."""
    out, report = quick_report
    shown = report["exposure"]["sentiment"]
    assert {"manifest.json", "model.onnx", "model.int8.onnx", "tokenizer.json"} <= set(shown["files"])
    assert shown["bytes"] > shown["first_visit_bytes"] > 0
    assert shown["weights"]["int8"]["plain_onnx"] and shown["weights"]["int8"]["parameters"] > 0
    assert "## What a visitor downloads" in (out / "report.md").read_text()


def test_quick_bench_figures_are_positive_and_ordered(quick_report):
    _, report = quick_report
    [result] = report["results"]
    cable, fast_4g = result["profiles"]["cable"], result["profiles"]["fast-4g"]
    for profile in (cable, fast_4g):
        first = profile["first_visit"]
        # The page, its runtime and the model (the compact engine needs no 3.6 MB WASM any more).
        assert first["ready_ms"] > 0 and first["download_ms"] > 0 and first["wire_bytes"] > 100_000
        assert first["engine"] == "compact"
        assert first["wire_bytes"] < first["raw_bytes"]  # served compressed
        assert profile["repeat_visit"]["wire_bytes"] < first["wire_bytes"] / 10  # cached
        assert profile["server"]["p50_ms"] > 0 and profile["server"]["p95_ms"] >= profile["server"]["p50_ms"]
    # The emulated network is applied: a download takes at least its bytes at the profile's
    # throughput (on a busy machine the first, cable, visit can be slower than that in wall time,
    # so the two visits are not compared with each other), and the server round trip is slower on fast 4G.
    for name, profile in (("cable", cable), ("fast-4g", fast_4g)):
        kbps = next(p["down_kbps"] for p in report["profiles"] if p["name"] == name)
        assert profile["first_visit"]["download_ms"] >= 0.9 * profile["first_visit"]["wire_bytes"] * 8 / kbps
    assert fast_4g["server"]["p50_ms"] > cable["server"]["p50_ms"]
    # 60 ms of emulated round trip cannot be beaten by a real one.
    assert fast_4g["server"]["p50_ms"] >= 60
    for path in ("page", "native"):
        for figures in result[path].values():
            assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert result["page_native_ratio"] > 0
    assert result["engine"] == "compact" and result["page"]["threads_1"]["block"] >= 1
    # brotli bodies of the same files: smaller than gzip over http, headers included
    assert 0 < result["first_visit_brotli_bytes"] < cable["first_visit"]["wire_bytes"]
    assert "/models/sentiment/tokenizer.json" in cable["first_visit"]["paths"]


def test_break_even_is_the_first_n_where_the_browser_wins():
    n = break_even(first_visit_ms=1000, local_ms=2, server_ms=52)
    assert n == 21
    assert 1000 + n * 2 < n * 52 and not 1000 + (n - 1) * 2 < (n - 1) * 52
    assert break_even(1000, local_ms=60, server_ms=50) is None


@pytest.mark.parametrize("case", ["not a site", "unknown model", "port in use", "no chromium"])
def test_bad_input_exits_2_with_one_line(site, tmp_path, capsys, monkeypatch, case):
    args = ["bench", str(site), "--quick", "--out", str(tmp_path / "out")]
    holder = None
    if case == "not a site":
        args[1] = str(tmp_path)
    elif case == "unknown model":
        args += ["--models", "nope"]
    elif case == "port in use":
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        args += ["--port", str(holder.getsockname()[1])]
    else:
        monkeypatch.setenv("STATICML_CHROMIUM", str(tmp_path / "missing"))
    try:
        code = main(args)
    finally:
        if holder:
            holder.close()
    err = capsys.readouterr().err
    assert code == 2
    assert len([line for line in err.splitlines() if line.startswith("staticml: error")]) == 1
    assert "Traceback" not in err
