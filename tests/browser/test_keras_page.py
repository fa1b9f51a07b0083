"""The TensorFlow tutorial's Keras model, imported from .keras and .h5, and the tutorial's own export (its
custom_standardization translated into tokenizer.json normalizers), in the page: the page's token ids are
TextVectorization's and its probabilities Keras' (|Δp| <= 1e-5) on >= 1000 held-out texts of the default corpus
plus hard, HTML, punctuation and non-ASCII texts."""

from __future__ import annotations

import importlib.util
import time

import pytest

from staticml import cli, parity
from staticml.browser import open_page, page_probabilities, served
from staticml.site import build
from staticml.train.tf_standardize import PROBES

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ("tensorflow", "keras", "tf2onnx")),
                                 reason="needs the keras extra (pip install staticml[keras])")]
KERAS_TOLERANCE = 1e-5
HARD = ["", "   ", "WORD " * 400, "Ünïcödé ÉCOLE Σίσυφος ΣΑΣ", "a\u00a0b c\u3000d e\x0bf\x1cg", "don't!!! #tag @user http://x.y/z?q=1",
        "tab\tand\nnew\rlines", "emoji 🎉🎉 and 中文"]


@pytest.fixture(scope="module")
def keras_site(tmp_path_factory):
    import keras_models

    root = tmp_path_factory.mktemp("keras-page")
    paths = keras_models.tutorial_model(root / "sources")
    started = time.perf_counter()
    assert cli.main(["import", str(paths["keras"]), "--out", str(root / "models" / "tutorial-keras")]) == 0
    print(f"\nimport .keras: {time.perf_counter() - started:.1f} s wall")
    assert cli.main(["import", str(paths["h5"]), "--vocabulary", str(paths["vocabulary"]),
                     "--out", str(root / "models" / "tutorial-h5")]) == 0
    export = keras_models.tutorial_export_model(root / "sources")  # custom_standardization, registered here
    assert cli.main(["import", str(export), "--out", str(root / "models" / "tutorial-export")]) == 0
    names = ["tutorial-keras", "tutorial-h5", "tutorial-export"]
    build([root / "models" / name for name in names], root / "site", report=lambda _: None)
    sources = {"tutorial-keras": paths["keras"], "tutorial-h5": paths["keras"], "tutorial-export": export}
    with served(root / "site") as url:
        yield url, sources, keras_models, root / "models"


@pytest.mark.parametrize("name, variant", [("tutorial-keras", "fp32"), ("tutorial-h5", "fp32"), ("tutorial-export", "fp32")])
def test_page_matches_keras_on_held_out_texts(browser, keras_site, name, variant):
    import keras

    from staticml.train.keras_import import keras_probabilities, vectorizer_ids

    url, sources, km, _ = keras_site
    texts = km.corpus()[2] + HARD + PROBES + ["<br />A MOVIE<br /><br />i LOVED!!!", "It's $5.99 (cheap) — <b>wow</b>"]
    model = keras.saving.load_model(str(sources[name]), compile=False)
    layer = next(layer for layer in model.layers if isinstance(layer, keras.layers.TextVectorization))
    expected, expected_ids = keras_probabilities(model, "sigmoid", texts, km.tf), vectorizer_ids(layer, texts, km.tf)
    context, page, _ = open_page(browser, f"{url}?model={name}&variant={variant}")
    try:
        info = page.evaluate("window.staticml.info()")
        in_page = page_probabilities(page, texts, ["negative", "positive"])
        ids = page.evaluate("texts => window.staticml.tokenize(texts)", texts)
        alone = page_probabilities(page, [""], ["negative", "positive"])  # a batch of one empty text: no ids at all
    finally:
        context.close()
    assert info["model"] == name
    assert ids == expected_ids
    report = parity.require(f"{name}: page vs Keras", expected, in_page, KERAS_TOLERANCE, texts)
    assert (expected.argmax(1) == in_page.argmax(1)).all()
    parity.require("empty text alone", expected[texts.index("")][None], alone, KERAS_TOLERANCE)
    print(f"\n{name} ({info.get('backend')}): page vs Keras {report.summary()}; token ids identical on {len(texts)} texts")


def test_page_int8_matches_python_int8(browser, keras_site):
    """The imported int8 variant (int8 weights, float arithmetic) computes in the page what it computes in Python."""
    from staticml import Classifier

    url, _, km, models = keras_site
    texts = km.corpus()[2][:300] + HARD
    context, page, _ = open_page(browser, f"{url}?model=tutorial-keras&variant=int8")
    try:
        in_page = page_probabilities(page, texts, ["negative", "positive"])
        folder = page.evaluate("window.staticml.info()")["model"]
    finally:
        context.close()
    assert folder == "tutorial-keras"
    native = Classifier(models / "tutorial-keras", "int8").probabilities(texts)
    parity.require("int8: page vs Python", native, in_page, parity.TOLERANCE["int8"], texts)
