"""MiniLM (23 MB int8, 91 MB fp32) in real headless Chromium against Python onnxruntime.

The model is the frozen encoder with a head trained on a small sample of the corpus: these tests
are about parity and the page, not accuracy (the README reports accuracy on the full data).
"""

from __future__ import annotations

import os
import random

import pytest

from staticml import parity
from staticml.train import data
from test_offline import visit  # bytes from the network vs from the service worker
from staticml.browser import open_page, page_probabilities, served
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.site import build
from staticml.tokenize import TextEncoder
from staticml.train import TrainConfig, train

pytestmark = pytest.mark.browser

SAMPLE_ROWS = 2500
MIN_LABEL_AGREEMENT = 0.995


def sample(dataset: data.Dataset, rows: int, seed: int = 5) -> data.Dataset:
    keep = sorted(random.Random(seed).sample(range(len(dataset.texts)), min(rows, len(dataset.texts))))
    dataset.texts = [dataset.texts[i] for i in keep]
    dataset.labels = [dataset.labels[i] for i in keep]
    return dataset


@pytest.fixture(scope="module")
def minilm_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "minilm"
    train(sample(data.load_default(), SAMPLE_ROWS), out, TrainConfig(arch="minilm", name="minilm", epochs=10),
          lambda line: None)
    return out


@pytest.fixture(scope="module")
def minilm_url(minilm_model, tmp_path_factory):
    site = tmp_path_factory.mktemp("sites") / "minilm-site"
    build([minilm_model], site, report=lambda line: None)
    with served(site) as url:
        yield url


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """200 held-out tweets and 60 hard strings (emoji, CJK, over-long, empty…)."""
    return data.split(data.load_default()).test[0][:200] + hard_texts(60)


@pytest.mark.parametrize("variant", ["fp32", "int8"])
def test_page_matches_python_per_variant(browser, minilm_url, minilm_model, texts, variant):
    native = Classifier(minilm_model, variant)
    is_default = variant == native.manifest["default_variant"]
    context, page, _ = open_page(browser, f"{minilm_url}?variant={variant}")
    try:
        assert page.evaluate("window.staticml.info().variant") == variant
        report = parity.require(f"MiniLM page vs Python ({variant})", native.probabilities(texts),
                                page_probabilities(page, texts, native.labels), parity.TOLERANCE[variant],
                                texts=texts, min_agreement=MIN_LABEL_AGREEMENT if is_default else 1.0)
        print(f"\nMiniLM {variant}{' (default)' if is_default else ''}: {report.summary()}")
    finally:
        context.close()


def test_default_variant_is_a_small_one_within_a_point_of_fp32(minilm_model):
    """int8, q4 or q4-pruned: whichever is smallest of those within a point of fp32's macro-F1 and kept by the checks."""
    manifest = Classifier(minilm_model).manifest
    metrics = manifest["metrics"]["variants"]
    default = manifest["default_variant"]
    assert default != "fp32" and default in manifest["variants"]
    assert metrics[default]["bytes"] < metrics["fp32"]["bytes"] / 3
    assert metrics[default]["macro_f1"] >= metrics["fp32"]["macro_f1"] - 0.01


def test_page_tokenizer_ids_equal_python_for_minilm(browser, minilm_url, minilm_model):
    """MiniLM's shipped tokenizer.json gives the same ids in JS."""
    strings = hard_texts(520) + ["ΟΔΥΣΣΕΥΣ ΣΊΣΥΦΟΣ", "ΌΣΟ ΖΕΙΣ, ΦΑΊΝΟΥ Σ."]
    native = Classifier(minilm_model)
    expected = TextEncoder.from_model_dir(minilm_model, native.manifest).ids(strings)
    context, page, _ = open_page(browser, minilm_url)
    try:
        actual = page.evaluate("texts => window.staticml.tokenize(texts)", strings)
    finally:
        context.close()
    mismatches = [(t, e, a) for t, e, a in zip(strings, expected, actual) if e != a]
    assert not mismatches, f"{len(mismatches)} of {len(strings)} differ, first: {mismatches[0]!r}"
    assert max(len(ids) for ids in actual) == native.manifest["max_length"]


def test_a_23_mb_model_loads_with_threads_and_a_repeat_visit_does_not_download_it(browser, minilm_url):
    context = browser.new_context()
    try:
        first = visit(context, minilm_url)
        info = first["page"].evaluate("window.staticml.info()")
        # chooseThreads (web/src): up to 4 threads when cross-origin isolated
        assert info["variant"] == "int8" and info["cross_origin_isolated"]
        assert info["threads"] == min(os.cpu_count() or 1, 4) and info["threads"] >= 1
        assert info["bytes_uncompressed"] > 20_000_000  # the model's raw bytes (bytes_downloaded: on the wire)
        first["page"].evaluate("() => navigator.serviceWorker.ready")
        first["page"].close()
        repeat = visit(context, minilm_url)
        print(f"\nMiniLM int8: first visit {first['network_bytes'] / 1e6:.1f} MB on the wire, ready in "
              f"{first['load_ms']:.0f} ms; repeat visit {repeat['network_bytes'] / 1e6:.3f} MB, ready in "
              f"{repeat['load_ms']:.0f} ms")
        assert not [url for url in repeat["network_urls"] if url.endswith((".onnx", ".wasm"))]
        assert repeat["network_bytes"] < 100_000
    finally:
        context.close()
