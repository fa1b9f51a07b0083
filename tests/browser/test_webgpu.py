"""WebGPU when the page can use it, WASM otherwise, and the page computes what Python computes on both.

A tiny imported BERT (tests/tiny_hf.py) keeps this fast; headless Chromium's only WebGPU adapter is
SwiftShader (software, a fallback adapter), given with --enable-unsafe-webgpu: WebGPU is forced
with ?backend=webgpu, and the automatic choice stays on WASM there (a fallback adapter is slower).
"""

from __future__ import annotations

import os
import shutil

import pytest
from tiny_hf import save_tiny

from staticml import cli, parity
from staticml.browser import CHROMIUM_FLAGS, WEBGPU_FLAGS, chromium_path, open_page, page_probabilities, served
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.site import build

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("transformers")
pytestmark = pytest.mark.browser

TEXTS = ["I loved it", "terrible, never again", ""] + hard_texts(60)


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    root = tmp_path_factory.mktemp("webgpu")
    assert cli.main(["import", str(save_tiny(root / "bert-hf", "bert")), "--out", str(root / "bert")]) == 0
    return root / "bert"


@pytest.fixture(scope="module")
def site(bert, tmp_path_factory):
    out = tmp_path_factory.mktemp("webgpu-site") / "site"
    build([bert], out, report=lambda _: None)
    return out


@pytest.fixture(scope="module")
def url(site):
    with served(site) as base:
        yield base


@pytest.fixture(scope="module")
def webgpu_browser(browser):
    """A second Chromium, from the same Playwright, with WebGPU on (SwiftShader)."""
    gpu = browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS + list(WEBGPU_FLAGS))
    yield gpu
    gpu.close()


def info_and_parity(page, model_dir, variant):
    native = Classifier(model_dir, variant)
    result = parity.compare(native.probabilities(TEXTS), page_probabilities(page, TEXTS, native.labels),
                            parity.tolerance(variant, "webgpu"))
    return page.evaluate("window.staticml.info()"), result


def test_the_site_ships_webgpu_for_a_transformer_but_never_precaches_it(site):
    assert (site / "assets" / "ort-webgpu" / "ort-wasm-simd-threaded.asyncify.wasm").is_file()
    assert (site / "assets" / "worker-webgpu.js").is_file()
    precached = (site / "precache.json").read_text()
    assert "ort-webgpu" not in precached and "worker-webgpu" not in precached


@pytest.mark.parametrize("variant", ["q4", "int8"])
def test_forced_webgpu_on_swiftshader_matches_python(webgpu_browser, url, bert, variant):
    context, page, requests = open_page(webgpu_browser, f"{url}?variant={variant}&backend=webgpu", timeout_ms=300_000)
    try:
        info, result = info_and_parity(page, bert, variant)
        panel = page.inner_text("#d-backend")
    finally:
        context.close()
    assert info["backend"] == "webgpu", info["backend_reason"]
    assert "swiftshader" in info["adapter"] and "fallback adapter" in info["adapter"]
    assert "WebGPU" in panel
    assert any("/assets/ort-webgpu/" in r for r in requests) and not any("/assets/ort/" in r for r in requests)
    assert result.ok, f"WebGPU vs Python: {result.summary()}; worst text {TEXTS[result.worst_index]!r}"


def test_a_fallback_adapter_is_not_chosen_by_itself(webgpu_browser, url):
    context, page, requests = open_page(webgpu_browser, f"{url}?variant=q4", timeout_ms=300_000)
    try:
        info = page.evaluate("window.staticml.info()")
    finally:
        context.close()
    assert info["backend"] == "wasm" and "fallback" in info["backend_reason"]
    assert not any("ort-webgpu" in r for r in requests)


def test_without_webgpu_the_page_runs_on_wasm_and_never_fetches_the_webgpu_build(browser, url, bert):
    context, page, requests = open_page(browser, f"{url}?variant=q4", timeout_ms=300_000)
    try:
        info, result = info_and_parity(page, bert, "q4")
    finally:
        context.close()
    assert info["backend"] == "wasm" and info["adapter"] is None
    assert "no WebGPU adapter" in info["backend_reason"]
    assert not any("ort-webgpu" in r or "worker-webgpu" in r for r in requests)
    assert result.ok, result.summary()


def asked_for_webgpu(browser, url: str) -> tuple[dict, str, list]:
    """The page opened with ?backend=webgpu: its info(), its model panel's backend line, one prediction."""
    context, page, _ = open_page(browser, f"{url}?backend=webgpu", timeout_ms=300_000)
    try:
        return (page.evaluate("window.staticml.info()"), page.inner_text("#d-backend"),
                page.evaluate("window.staticml.predict(['fine'])"))
    finally:
        context.close()


def test_backend_webgpu_without_webgpu_falls_back_with_a_visible_note(browser, url):
    info, panel, predicted = asked_for_webgpu(browser, url)
    assert info["backend"] == "wasm"
    assert "WebGPU was asked for" in panel and "WASM instead" in panel
    assert predicted[0]["label"] in ("negative", "neutral", "positive")


def test_broken_webgpu_falls_back_to_wasm_by_itself(webgpu_browser, site, tmp_path):
    """The WebGPU build's WASM is missing from the site (a host that dropped the big file):
    the WebGPU worker fails, and the page loads the model on WASM and says why."""
    broken = tmp_path / "broken"
    shutil.copytree(site, broken)
    for path in (broken / "assets" / "ort-webgpu").glob("*.wasm*"):
        path.unlink()
    with served(broken) as base:
        info, panel, predicted = asked_for_webgpu(webgpu_browser, base)
    assert info["backend"] == "wasm"
    assert info["backend_reason"].startswith("WebGPU failed (") and "fell back to WASM" in info["backend_reason"]
    assert "fell back to WASM" in panel
    assert len(predicted) == 1
