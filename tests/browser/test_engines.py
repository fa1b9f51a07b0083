"""Two engines in the page (issue 12): the compact one for what `train --arch tiny` exports, onnxruntime-web
for the rest. A site whose models all run on the compact engine never asks for onnxruntime-web; a graph
with an operator it lacks runs on onnxruntime-web with the same numbers; both engines refuse a file
that does not match its sha256 in the same words, and a truncated file fails with a message."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import onnx
import pytest
from page_tools import copy_site, open_unready, replace_model_file, with_unsupported_op
from tiny_hf import toy_onnx

from staticml import parity
from staticml.browser import open_page, served
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.site import build

pytestmark = pytest.mark.browser

ORT = re.compile(r"/assets/(ort/|worker\.js)")


@pytest.fixture(scope="module")
def mixed_site(tiny_model, tmp_path_factory):
    """The tiny model, and a copy whose graphs hold an Erf (same logits): one model per engine."""
    root = tmp_path_factory.mktemp("engines")
    erf = with_unsupported_op(tiny_model, root / "erf", "sentiment-erf")
    lines: list[str] = []
    build([tiny_model, erf], root / "site", report=lines.append)
    return root / "site", lines


@pytest.fixture(scope="module")
def mixed_url(mixed_site):
    with served(mixed_site[0]) as url:
        yield url


def all_requests(context) -> list[str]:
    """Every request of the context: pages, workers and the service worker."""
    seen: list[str] = []
    context.on("request", lambda request: seen.append(request.url))
    return seen


def test_a_site_whose_models_run_on_the_compact_engine_never_fetches_onnxruntime_web(browser, site, site_url):
    assert not (site / "assets" / "ort").exists() and not (site / "assets" / "worker.js").exists()
    context = browser.new_context()
    seen = all_requests(context)
    try:
        page = context.new_page()
        page.goto(site_url)
        page.wait_for_function("() => window.staticml !== undefined")
        page.evaluate("() => window.staticml.ready")
        info = page.evaluate("window.staticml.info()")
        page.evaluate("() => window.staticml.predict(['a first text', 'and a second one'])")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")  # its precache, too
        page.wait_for_timeout(500)
        embed = context.new_page()  # the custom element
        embed.goto(site_url + "embed.html")
        embed.wait_for_function("() => customElements.get('staticml-classifier') !== undefined")
        embed.evaluate("() => document.querySelector('staticml-classifier').ready")
        assert embed.evaluate("() => document.querySelector('staticml-classifier').predict(['great'])")[0]["label"]
    finally:
        context.close()
    assert info["engine"] == "compact" and info["backend"] == "js" and info["wasm_bytes"] == 0
    assert any(u.endswith(".onnx") for u in seen) and any(u.endswith("staticml-element.js") for u in seen)
    assert [u for u in seen if ORT.search(u)] == []


def test_build_names_the_engine_of_each_model_and_why(mixed_site):
    site, lines = mixed_site
    assert "build: model 'sentiment' engine: compact for fp32, int8" in lines
    assert "build: model 'sentiment-erf' engine: onnxruntime-web for fp32, int8 (Erf not in the compact engine)" in lines
    engines = {name: json.loads((site / "models" / name / "manifest.json").read_text())["engines"]
               for name in ("sentiment", "sentiment-erf")}
    assert engines == {"sentiment": {"fp32": "compact", "int8": "compact"},
                       "sentiment-erf": {"fp32": "onnxruntime-web", "int8": "onnxruntime-web"}}
    assert (site / "assets" / "ort" / "ort-wasm-simd-threaded.wasm").is_file()


@pytest.mark.parametrize("name, variant, engine", [
    ("sentiment", "fp32", "compact"), ("sentiment", "int8", "compact"),
    ("sentiment-erf", "fp32", "onnxruntime-web"), ("sentiment-erf", "int8", "onnxruntime-web"),
])
def test_each_engine_matches_python_onnxruntime_within_1e_5(browser, mixed_site, mixed_url, name, variant, engine):
    texts = hard_texts(200) + ["", "a", "not bad at all, better than I expected"]
    context, page, requests = open_page(browser, f"{mixed_url}?model={name}&variant={variant}")
    try:
        info = page.evaluate("window.staticml.info()")
        predictions = page.evaluate("texts => window.staticml.predict(texts)", texts)
    finally:
        context.close()
    assert (info["engine"], info["variant"]) == (engine, variant)
    assert info["backend"] == ("js" if engine == "compact" else "wasm")
    assert bool([u for u in requests if ORT.search(u)]) == (engine == "onnxruntime-web")
    native = Classifier(mixed_site[0] / "models" / name, variant)
    in_page = np.array([[p["scores"][label] for label in native.labels] for p in predictions])
    report = parity.require(f"{name}/{variant} on {engine}", native.probabilities(texts), in_page, 1e-5, texts)
    print(f"\n{name}/{variant} on {engine}: {report.summary()}")


def load_error(browser, url: str) -> str:
    """The error the page shows when its model cannot be loaded (it must show one: no hang)."""
    context, page, _ = open_unready(browser, url)
    try:
        page.wait_for_selector("#error:not([hidden])", timeout=60_000)
        return page.inner_text("#error")
    finally:
        context.close()


def broken(mixed_site, tmp_path, how: str):
    """A copy of the mixed site with each model's default file broken `how`."""
    site = copy_site(mixed_site[0], tmp_path / how)
    for name in ("sentiment", "sentiment-erf"):
        folder = site / "models" / name
        manifest = json.loads((folder / "manifest.json").read_text())
        file = manifest["variants"][manifest["default_variant"]]
        data = (folder / file).read_bytes()
        if how == "tampered":  # the manifest's sha256 stays: integrity must fail
            data = data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]
            (folder / file).write_bytes(data)
            for suffix in (".br", ".gz"):
                (folder / (file + suffix)).unlink(missing_ok=True)
        elif how == "truncated":  # with a manifest that matches: the engines must see the file end early
            replace_model_file(folder, file, data[: len(data) // 2])
        elif how == "no-logits":  # a valid graph that answers "scores", as the toy import does
            toy = onnx.load(str(toy_onnx(tmp_path / f"{name}.onnx", width=2, vocab=4000, output="scores")))
            toy.ir_version = 10  # what onnxruntime-web reads
            toy = toy.SerializeToString()
            engine = None if name == "sentiment" else "onnxruntime-web"  # the toy runs on both
            replace_model_file(folder, file, toy, engine)
    return site


def test_a_model_file_that_does_not_match_its_sha256_is_refused_by_both_engines_in_the_same_words(
        browser, mixed_site, tmp_path):
    with served(broken(mixed_site, tmp_path, "tampered")) as url:
        messages = [load_error(browser, f"{url}?model={name}") for name in ("sentiment", "sentiment-erf")]
    for message in messages:
        assert "has been changed or damaged: it does not match the sha256 in manifest.json, so the page refuses to run it" in message
    same = [re.sub(r"[0-9a-f]{64}", "<sha256>", m) for m in messages]
    assert same[0] == same[1], messages


def test_a_truncated_model_file_fails_to_load_with_a_message_on_both_engines(browser, mixed_site, tmp_path):
    with served(broken(mixed_site, tmp_path, "truncated")) as url:
        compact = load_error(browser, f"{url}?model=sentiment")
        ort = load_error(browser, f"{url}?model=sentiment-erf")
    print(f"\ncompact: {compact}\nonnxruntime-web: {ort}")
    assert "model.int8.onnx is not a complete ONNX model" in compact and "truncated or damaged" in compact
    assert "model.int8.onnx: onnxruntime-web cannot load it" in ort


def test_a_graph_without_a_logits_output_is_refused_by_both_engines(browser, mixed_site, tmp_path):
    with served(broken(mixed_site, tmp_path, "no-logits")) as url:
        messages = [load_error(browser, f"{url}?model={name}") for name in ("sentiment", "sentiment-erf")]
    for message in messages:
        assert "the graph has no output named 'logits' (its outputs: scores)" in message, message


def test_onnxruntime_web_needed_by_another_variant_only_is_cached_once_used_and_works_offline(
        browser, tiny_model, tmp_path):
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    other = next(v for v in manifest["variants"] if v != manifest["default_variant"])
    mixed = with_unsupported_op(tiny_model, tmp_path / "mixed", "mixed", variants=(other,))
    build([mixed], tmp_path / "site", report=lambda _: None)
    precache = json.loads((tmp_path / "site" / "precache.json").read_text())["files"]
    assert not [f for f in precache if ORT.search("/" + f)]  # the default variant runs on the compact engine
    with served(tmp_path / "site") as url:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{url}?variant={other}")
            page.wait_for_function("() => window.staticml !== undefined")
            page.evaluate("() => window.staticml.ready")
            assert page.evaluate("window.staticml.info().engine") == "onnxruntime-web"
            page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
            page.reload()  # now under the service worker, which keeps what it serves from models/ and assets/ort/
            page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            page.evaluate("() => window.staticml.ready")
            context.set_offline(True)
            page.reload()
            page.wait_for_function("() => window.staticml !== undefined")
            page.evaluate("() => window.staticml.ready")
            assert page.evaluate("window.staticml.info().engine") == "onnxruntime-web"
            assert len(page.evaluate("() => window.staticml.predict(['offline on onnxruntime-web'])")) == 1
        finally:
            context.close()


# ---- issue 24: tabular and Keras-imported models on the compact engine (the light page) ----

def tabular_model(folder, key: str):
    """A model folder of staticml's own tabular candidate `key` (logistic_regression or gradient_boosting),
    fitted on the probe's applicants and exported by train --task tabular's skl2onnx export."""
    from tabular_probe import FEATURES, applicants, frame

    from staticml import manifest as manifest_io
    from staticml.train import tabular as train_tabular

    rows, labels = applicants(400)
    kinds = {f["name"]: f["type"] for f in FEATURES}
    pipeline = train_tabular.candidates(kinds, 0, ["Seniority"])[key].fit(frame(rows), labels)
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(train_tabular.to_onnx(pipeline, FEATURES).SerializeToString())
    manifest_io.write_model_folder(folder, name=folder.name, task="tabular-classification", labels=["bad", "good"],
                                   features=FEATURES, variants={"fp32": "model.onnx"}, default_variant="fp32", metrics={},
                                   arch=train_tabular.ARCHS[key])
    return folder


def edge_rows() -> list[dict]:
    from tabular_probe import applicants

    rows = applicants(150, seed=3)[0]
    return rows + [{"Seniority": None, "Home <type>": None, "Income": 10.0, "Records": True},
                   {"Seniority": 40, "Home <type>": "never seen", "Income": 500.0, "Records": False},
                   {"Seniority": 0, "Home <type>": "", "Income": 255.5, "Records": 1}]


@pytest.fixture(scope="module")
def tabular_sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("compact-tabular")
    sites, lines = {}, []
    for key in ("logistic_regression", "gradient_boosting"):
        model = tabular_model(root / "models" / key.replace("_", "-"), key)
        build([model], root / key, report=lines.append)
        sites[key] = (root / key, model)
    return sites, lines


@pytest.mark.parametrize("key", ["logistic_regression", "gradient_boosting"])
def test_a_tabular_site_runs_on_the_compact_engine_with_python_onnxruntime_s_probabilities(browser, tabular_sites, key):
    from staticml.tasks.tabular import rows as tabular_page

    sites, lines = tabular_sites
    site, model = sites[key]
    name = model.name
    assert f"build: model '{name}' engine: compact for fp32" in lines
    assert not (site / "assets" / "ort").exists() and not (site / "assets" / "worker.js").exists()
    rows = edge_rows()
    with served(site) as url:
        context, page, requests = open_page(browser, url)
        try:
            info = page.evaluate("window.staticml.info()")
            predictions = page.evaluate("rows => window.staticml.predict(rows)", rows)
        finally:
            context.close()
    assert (info["engine"], info["backend"], info["wasm_bytes"]) == ("compact", "js", 0)
    assert not [u for u in requests if ORT.search(u) or u.endswith(".wasm")]
    manifest = json.loads((model / "manifest.json").read_text())
    native = tabular_page.native_probabilities(model, manifest, "fp32", rows)
    in_page = np.array([[p["scores"][label] for label in manifest["labels"]] for p in predictions])
    diff = float(np.abs(native - in_page).max())
    labels_agree = all(p["label"] == manifest["labels"][int(i)] for p, i in zip(predictions, native.argmax(1)))
    print(f"\n{key} on the compact engine: max |Δp| {diff:.2e} on {len(rows)} rows, labels identical: {labels_agree}")
    assert diff <= 1e-5 and labels_agree


def test_a_tabular_graph_with_an_operator_outside_the_table_goes_to_onnxruntime_web_and_build_says_why(tabular_sites, tmp_path):
    from onnx import helper

    from staticml import manifest as manifest_io

    _, model = tabular_sites[0]["logistic_regression"]
    copy = tmp_path / "with-erf"
    shutil.copytree(model, copy)
    graph = onnx.load(str(copy / "model.onnx"))
    for node in graph.graph.node:
        node.output[:] = ["raw" if o == "probabilities" else o for o in node.output]
    graph.graph.node.extend([helper.make_node("Erf", ["raw"], ["erf"]), helper.make_node("Max", ["raw", "erf"], ["probabilities"])])
    onnx.save(graph, str(copy / "model.onnx"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest_io.write(copy, {**manifest, "name": "with-erf", "files": manifest_io.file_entries(copy, list(manifest["files"]))})
    lines: list[str] = []
    build([copy], tmp_path / "site", report=lines.append)
    assert "build: model 'with-erf' engine: onnxruntime-web for fp32 (Erf, Max not in the compact engine)" in lines
    assert (tmp_path / "site" / "assets" / "ort" / "ort-wasm-simd-threaded.wasm").is_file()


@pytest.fixture(scope="module")
def keras_compact_site(tmp_path_factory):
    pytest.importorskip("tf2onnx")
    import keras_models

    from staticml import cli

    root = tmp_path_factory.mktemp("compact-keras")
    paths = keras_models.tutorial_model(root / "sources")
    assert cli.main(["import", str(paths["keras"]), "--out", str(root / "tutorial"), "--default-variant", "int8"]) == 0
    lines: list[str] = []
    build([root / "tutorial"], root / "site", report=lines.append)
    return root / "site", root / "tutorial", lines


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["int8", "fp32"])
def test_an_imported_keras_text_model_runs_on_the_compact_engine_with_python_onnxruntime_s_probabilities(
        browser, keras_compact_site, variant):
    site, model, lines = keras_compact_site
    assert "build: model 'tutorial' engine: compact for fp32, int8" in lines
    assert not (site / "assets" / "ort").exists() and not (site / "assets" / "worker.js").exists()
    texts = hard_texts(300) + ["", "a", "<br />A MOVIE<br /><br />i LOVED!!!", "word " * 200]
    with served(site) as url:
        context, page, requests = open_page(browser, f"{url}?variant={variant}")
        try:
            info = page.evaluate("window.staticml.info()")
            predictions = page.evaluate("texts => window.staticml.predict(texts)", texts)
        finally:
            context.close()
    assert (info["engine"], info["variant"]) == ("compact", variant) and not [u for u in requests if ORT.search(u)]
    native = Classifier(model, variant)
    in_page = np.array([[p["scores"][label] for label in native.labels] for p in predictions])
    report = parity.require(f"keras {variant} on compact", native.probabilities(texts), in_page, 1e-5, texts)
    print(f"\nKeras tutorial {variant} on the compact engine: {report.summary()}")
