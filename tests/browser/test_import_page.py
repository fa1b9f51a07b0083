"""Imported models in the page: probabilities equal Python's, token_type_ids fed as zeros on both sides."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tiny_hf import export_with_token_types, save_tiny

from staticml import cli, parity
from staticml.browser import open_page, page_probabilities, served
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.site import build

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("transformers")
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, Path]:
    """One tiny BERT imported twice: from its HF folder (zeros inside the graph) and from an ONNX
    export that keeps token_type_ids as an input (the page feeds zeros: manifest extra_inputs);
    and a tiny RoBERTa, whose byte-level BPE tokenizer the page must match too."""
    root = tmp_path_factory.mktemp("import-page")
    source = save_tiny(root / "bert-hf", "bert")
    onnx_folder = root / "bert-onnx"
    onnx_folder.mkdir()
    export_with_token_types(source, onnx_folder / "model.onnx")
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(source / name, onnx_folder / name)
    models = {"bert-hf": source, "bert-onnx": onnx_folder, "roberta-hf": save_tiny(root / "roberta-hf", "roberta")}
    for name, folder in models.items():
        assert cli.main(["import", str(folder), "--out", str(root / "models" / name)]) == 0
    return {name: root / "models" / name for name in models}


@pytest.fixture(scope="module")
def import_site_url(imported, tmp_path_factory):
    site = tmp_path_factory.mktemp("import-site") / "site"
    build(list(imported.values()), site, report=lambda _: None)
    with served(site) as url:
        yield url


@pytest.mark.parametrize("name, variant", [("bert-hf", "fp32"), ("bert-onnx", "fp32"), ("bert-hf", "int8"), ("roberta-hf", "fp32")])
def test_imported_model_in_page_matches_python(browser, imported, import_site_url, name, variant):
    native = Classifier(imported[name], variant)
    assert ("extra_inputs" in native.manifest) == (name == "bert-onnx")
    texts = ["I loved it", "terrible, never again", ""] + hard_texts(120)
    context, page, _ = open_page(browser, f"{import_site_url}?model={name}&variant={variant}")
    try:
        assert page.evaluate("window.staticml.info()")["model"] == name
        in_page = page_probabilities(page, texts, native.labels)
        ids = page.evaluate("texts => window.staticml.tokenize(texts)", texts)
    finally:
        context.close()
    assert ids == native.encoder.ids(texts)
    report = parity.require(f"{name}: page vs Python ({variant})", native.probabilities(texts), in_page,
                            parity.TOLERANCE[variant], texts)
    print(f"\n{name} {variant}: {report.summary()}")


def test_both_imports_compute_the_same_model(imported):
    texts = hard_texts(40)
    a, b = (Classifier(imported[n], "fp32").probabilities(texts) for n in ("bert-hf", "bert-onnx"))
    parity.require("HF import vs ONNX import", a, b, 1e-5, texts)
