"""`staticml verify` passes a good site and names the right check on sites broken on purpose."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from staticml.cli import main

pytestmark = pytest.mark.browser

LEAK_SCRIPT = """
const wait = setInterval(() => {
  if (!window.staticml) return;
  clearInterval(wait);
  const predict = window.staticml.predict;
  window.staticml.predict = (texts) => {
    fetch("collect?text=" + encodeURIComponent(texts.join("|"))).catch(() => {});
    return predict(texts);
  };
}, 5);
"""


def run_verify(site, *extra) -> tuple[int, dict[str, str]]:
    """The CLI in its own process, as a user's CI job runs it (its own Playwright, its own server)."""
    report = site.parent / f"{site.name}-report.json"
    command = [sys.executable, "-m", "staticml", "verify", str(site), "--json", str(report), *map(str, extra)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert report.is_file(), done.stderr[-3000:]
    checks = json.loads(report.read_text())["checks"]
    return done.returncode, {c["name"]: c["status"] for c in checks}


@pytest.fixture
def copy_of(site, tmp_path):
    def make(name: str):
        target = tmp_path / name
        shutil.copytree(site, target)
        return target
    return make


def model_folder(site):
    return site / "models" / "sentiment"


def failing(statuses: dict[str, str]) -> set[str]:
    return {name for name, status in statuses.items() if status == "FAIL"}


def test_a_good_site_passes_every_check(site, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("my own text\nanother one, with émoji 🚗\n")
    code, statuses = run_verify(site, "--texts", texts)
    assert code == 0, statuses
    assert not failing(statuses)
    assert statuses["sentiment/int8: output parity"] == "PASS"
    assert statuses["sentiment/int8: prediction sets"] == "PASS"  # issue 28: the page's sets are Python's
    assert statuses["sentiment/fp32: tokenizer parity"] == "PASS"
    assert statuses["content-security-policy"] == "PASS"


def test_a_tokenizer_changed_after_build_fails_integrity(copy_of):
    site = copy_of("tokenizer-changed")
    path = model_folder(site) / "tokenizer.json"
    tokenizer = json.loads(path.read_text())
    vocab = tokenizer["model"]["vocab"]
    a, b = "love", "hate"
    vocab[a], vocab[b] = vocab[b], vocab[a]  # a subtle edit: the file still parses
    path.write_text(json.dumps(tokenizer))
    code, statuses = run_verify(site)
    assert code == 1
    assert "sentiment: integrity" in failing(statuses)


def test_a_model_file_swapped_for_another_variant_fails(copy_of):
    site = copy_of("swapped")
    shutil.copy(model_folder(site) / "model.onnx", model_folder(site) / "model.int8.onnx")
    code, statuses = run_verify(site)
    assert code == 1
    assert {"sentiment: integrity", "sentiment/int8: page loads"} <= failing(statuses)
    assert statuses["sentiment/fp32: output parity"] == "PASS"


def test_a_truncated_model_file_fails(copy_of):
    site = copy_of("truncated")
    path = model_folder(site) / "model.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    code, statuses = run_verify(site)
    assert code == 1
    assert {"sentiment: integrity", "sentiment/fp32: page loads"} <= failing(statuses)


def test_a_page_that_sends_text_while_predicting_fails_privacy(copy_of):
    site = copy_of("leaky")
    (site / "assets" / "leak.js").write_text(LEAK_SCRIPT)
    html = (site / "index.html").read_text()
    (site / "index.html").write_text(html.replace("</head>", '<script src="assets/leak.js"></script></head>'))
    code, statuses = run_verify(site)
    assert code == 1
    assert {"sentiment/fp32: privacy", "sentiment/int8: privacy"} <= failing(statuses)


def test_a_script_from_another_origin_fails_self_contained(copy_of):
    site = copy_of("cdn")
    html = (site / "index.html").read_text()
    tag = '<script src="https://cdn.example.net/analytics.js"></script>'
    (site / "index.html").write_text(html.replace("</head>", tag + "</head>"))
    code, statuses = run_verify(site)
    assert code == 1
    assert "sentiment/fp32: self-contained" in failing(statuses)


@pytest.mark.parametrize("case", ["not a site", "no models", "texts missing", "texts empty", "no chromium"])
def test_bad_input_exits_2_with_one_line(site, tmp_path, capsys, monkeypatch, case):
    target, extra = site, []
    if case == "not a site":
        target = tmp_path
    elif case == "no models":
        target = tmp_path / "empty-site"
        shutil.copytree(site, target)
        (target / "site.json").write_text(json.dumps({"models": [], "default_model": None}))
    elif case == "texts missing":
        extra = ["--texts", tmp_path / "nope.txt"]
    elif case == "texts empty":
        (tmp_path / "empty.txt").write_text("\n\n")
        extra = ["--texts", tmp_path / "empty.txt"]
    else:
        monkeypatch.setenv("STATICML_CHROMIUM", str(tmp_path / "no-chromium"))
    code = main(["verify", str(target), *map(str, extra)])
    err = capsys.readouterr().err
    assert code == 2
    assert len([line for line in err.splitlines() if line.startswith("staticml: error")]) == 1
    assert "Traceback" not in err
    if case == "no chromium":
        assert "apt-get install -y chromium" in err
