"""The built site in real headless Chromium, served by `staticml serve`, against Python onnxruntime."""

from __future__ import annotations

import json
import re

import pytest

from staticml import parity
from staticml.train import data
from staticml.browser import open_page, page_probabilities, wait_until
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.site_config import model_dirs, read_site
from staticml.tokenize import TextEncoder

pytestmark = pytest.mark.browser


def held_out_texts(count: int) -> list[str]:
    parts = data.split(data.load_default(keep_labels=["negative", "positive"]))
    return parts.test[0][:count]


@pytest.fixture(scope="module")
def model_dir(site):
    return model_dirs(site, read_site(site))["sentiment"]


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_page_probabilities_match_python_onnxruntime(browser, site_url, model_dir, variant):
    texts = held_out_texts(120) + hard_texts(60)
    context, page, _ = open_page(browser, f"{site_url}?variant={variant}")
    try:
        assert page.evaluate("window.staticml.info().variant") == variant
        native = Classifier(model_dir, variant)
        in_page = page_probabilities(page, texts, native.labels)
        report = parity.require(f"page vs Python ({variant})", native.probabilities(texts), in_page,
                                tolerance=1e-5, texts=texts)
        print(f"\n{variant}: {report.summary()}")
    finally:
        context.close()


def test_page_tokenizer_ids_equal_python_tokenizers(browser, site_url, model_dir):
    texts = hard_texts(520) + held_out_texts(100)
    manifest = Classifier(model_dir).manifest
    expected = TextEncoder.from_model_dir(model_dir, manifest).ids(texts)
    context, page, _ = open_page(browser, site_url)
    try:
        actual = page.evaluate("texts => window.staticml.tokenize(texts)", texts)
    finally:
        context.close()
    mismatches = [(t, e, a) for t, e, a in zip(texts, expected, actual) if e != a]
    assert len(texts) >= 500
    assert not mismatches, f"{len(mismatches)} of {len(texts)} differ, first: {mismatches[0]!r}"
    assert max(len(ids) for ids in actual) == manifest["max_length"]  # over-long texts were truncated


def test_page_makes_no_request_while_predicting(browser, site_url):
    context, page, requests = open_page(browser, site_url)
    try:
        before = len(requests)
        texts = held_out_texts(100)
        for i in range(0, len(texts), 10):
            page.evaluate("texts => window.staticml.predict(texts)", texts[i:i + 10])
        page.evaluate("() => window.staticml.predict(['one more, typed by hand'])")
        assert requests[before:] == []
        assert before > 0  # the request log works: loading the page did make requests
    finally:
        context.close()


def test_typing_in_the_text_box_shows_the_prediction(browser, site_url, model_dir):
    context, page, _ = open_page(browser, site_url)
    try:
        page.fill("#text", "")
        page.locator("#text").type("I love this so much, best day ever!")
        wait_until(page, "document.querySelector('#label').textContent.trim() === 'positive'", 10_000)
        assert page.locator("#bars li").count() == 2
        page.fill("#text", "This is terrible, I hate it.")
        wait_until(page, "document.querySelector('#label').textContent.trim() === 'negative'", 10_000)
    finally:
        context.close()


def test_info_reports_the_loaded_model(browser, site_url, model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    model_file = manifest["files"][manifest["variants"][manifest["default_variant"]]]
    tokenizer_file = manifest["files"][manifest["tokenizer"]["file"]]
    context, page, _ = open_page(browser, site_url)
    try:
        info = page.evaluate("window.staticml.info()")
    finally:
        context.close()
    assert info["model"] == "sentiment"
    # The tiny model runs on the page's compact engine, on the page's own thread (issue 12); models
    # on onnxruntime-web report "wasm" and its threads (tests/browser/test_engines.py).
    assert info["engine"] == "compact" and info["backend"] == "js"
    assert info["threads"] == 1
    assert info["wasm_bytes"] == 0
    assert info["model_bytes"] == model_file["bytes"] and info["load_ms"] > 0
    assert info["bytes_uncompressed"] == model_file["bytes"] + tokenizer_file["bytes"]
    assert 0 < info["bytes_downloaded"] <= info["bytes_uncompressed"]  # on the wire: compressed (test_wire_figures.py)


def test_first_visit_preloads_the_default_model_and_fetches_each_file_once(browser, site_url, site):
    """build lists site.json and the default model's files as preloads (they would otherwise wait
    for one another); the page's own fetches must reuse them, not download them again."""
    html = (site / "index.html").read_text()
    preloaded = re.findall(r'<link rel="preload" href="([^"]+)" as="fetch" crossorigin>', html)
    assert preloaded[0] == "site.json" and preloaded[-1].endswith(".onnx") and len(preloaded) == 4
    context, page, requests = open_page(browser, site_url)
    context.close()
    for name in preloaded:
        assert sum(url == site_url + name for url in requests) == 1, (name, requests)
