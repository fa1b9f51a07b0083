"""The HTTP API on a real server: `staticml serve SITE --api` in a child process, on uvicorn."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from staticml import parity
from staticml.train import data
from staticml.api import MAX_TEXTS, batch_dependent
from staticml.tasks.text import MAX_CHARS
from staticml.browser import open_page, served
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.site_config import model_dirs, read_site


# The site's model trains on the whole default corpus (about 20 s) before the first test here.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_url(site):
    with served(site, api=True) as url:
        yield url


@pytest.fixture(scope="module")
def classifier(site) -> Classifier:
    return Classifier(model_dirs(site, read_site(site))["sentiment"])


def some_texts(count: int = 60) -> list[str]:
    held_out = data.split(data.load_default(keep_labels=["negative", "positive"])).test[0][:count]
    return held_out + [t for t in hard_texts(count) if len(t) <= MAX_CHARS]


def post(url: str, body: object = None, content: bytes | None = None, content_type: str = "application/json"):
    payload = content if content is not None else json.dumps(body).encode()
    return httpx.post(url + "v1/predict", content=payload, headers={"content-type": content_type}, timeout=30)


def probabilities(predictions: list[dict], labels: list[str]) -> np.ndarray:
    return np.array([[p["scores"][label] for label in labels] for p in predictions])


def test_predict_matches_python_onnxruntime(api_url, classifier):
    texts = some_texts()
    response = post(api_url, {"texts": texts})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    parity.require("API vs Classifier", classifier.probabilities(texts), probabilities(predictions, classifier.labels),
                   tolerance=1e-6, texts=texts)
    assert [p["label"] for p in predictions] == [p["label"] for p in classifier.predict(texts)]
    # issue 28: the prediction set beside the label, the same as Python's, the label always in it
    assert [p["set"] for p in predictions] == [p["set"] for p in classifier.predict(texts)]
    assert all(p["set"] and p["set"][0] == p["label"] for p in predictions)


@pytest.mark.browser
def test_api_matches_the_page(browser, api_url, classifier):
    texts = some_texts()
    context, page, _ = open_page(browser, api_url)
    try:
        in_page = page.evaluate("texts => window.staticml.predict(texts)", texts)
    finally:
        context.close()
    from_api = post(api_url, {"texts": texts}).json()["predictions"]
    report = parity.require("API vs page", probabilities(in_page, classifier.labels),
                            probabilities(from_api, classifier.labels), tolerance=1e-4, texts=texts)
    assert [p["label"] for p in from_api] == [p["label"] for p in in_page]
    print(f"\nAPI vs page: {report.summary()}")


def test_models_health_and_openapi(api_url, classifier):
    models = httpx.get(api_url + "v1/models").json()
    assert models["default"] == "sentiment"
    assert models["models"] == [{"name": "sentiment", "task": "text-classification", "input": "texts", "labels": classifier.labels,
                                 "variant": classifier.variant,
                                 "max_length": classifier.manifest["max_length"], "micro_batching": True}]
    assert httpx.get(api_url + "healthz").json()["status"] == "ok"
    paths = httpx.get(api_url + "openapi.json").json()["paths"]
    assert {"/v1/predict", "/v1/models", "/healthz"} <= set(paths)


def test_site_is_still_served_with_isolation_headers(api_url):
    page = httpx.get(api_url)
    assert page.status_code == 200 and "staticml" in page.text
    assert page.headers["cross-origin-embedder-policy"] == "require-corp"
    assert httpx.get(api_url + "site.json").json()["api_url"] == "./"  # the page offers server mode


BAD_INPUTS = {
    # name: (request, status, words the message must contain)
    "empty list": (dict(body={"texts": []}), 422, ["send at least one"]),
    "non-string item": (dict(body={"texts": ["ok", 3]}), 422, ["texts[1]", "must be a string"]),
    "texts not a list": (dict(body={"texts": "hello"}), 422, ["texts", "list of strings"]),
    "1 MB text": (dict(body={"texts": ["a" * 1_000_000]}), 422, ["texts[0]", f"{MAX_CHARS}"]),
    "10,000 texts": (dict(body={"texts": ["a"] * 10_000}), 422, ["10000", f"at most {MAX_TEXTS}"]),
    "body over 2 MB": (dict(body={"texts": ["a" * 9_000] * 250}), 413, ["2 MB"]),
    "malformed JSON": (dict(content=b'{"texts": ["a"'), 400, ["not valid JSON"]),
    "body not an object": (dict(body=["a", "b"]), 422, ["JSON object"]),
    "missing texts": (dict(body={"model": "sentiment"}), 422, ["texts is missing"]),
    "unknown field": (dict(body={"texts": ["a"], "text": "b"}), 422, ["text is not a field"]),
    "wrong content type": (dict(body={"texts": ["a"]}, content_type="text/plain"), 415, ["application/json"]),
    "unknown model": (dict(body={"texts": ["a"], "model": "nope"}), 404, ["nope", "known models: sentiment"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_4xx_saying_what_to_change(api_url, case):
    request, status, words = BAD_INPUTS[case]
    response = post(api_url, **request)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, detail


def test_the_server_answers_after_bad_input(api_url):
    for request, _, _ in BAD_INPUTS.values():
        post(api_url, **request)
    assert post(api_url, {"texts": ["still here"]}).status_code == 200


def test_concurrent_requests_are_batched_and_answers_do_not_change(api_url):
    texts = some_texts(20)[:40]
    alone = [post(api_url, {"texts": [t]}).json()["predictions"][0] for t in texts]
    before = httpx.get(api_url + "healthz").json()["models"]["sentiment"]

    # Own threads, not asyncio.run: the session's Playwright browser may own this thread's event loop.
    with ThreadPoolExecutor(len(texts)) as pool:
        together = list(pool.map(lambda t: post(api_url, {"texts": [t]}).json()["predictions"][0], texts))
    after = httpx.get(api_url + "healthz").json()["models"]["sentiment"]
    requests, batches = after["requests"] - before["requests"], after["batches"] - before["batches"]
    assert requests == len(texts)
    assert batches < requests and after["largest_batch"] > 1, after
    labels = list(alone[0]["scores"])
    assert np.abs(probabilities(together, labels) - probabilities(alone, labels)).max() <= 1e-6


def test_schemathesis_finds_no_server_error_and_no_schema_violation(api_url, tmp_path):
    cli = Path(sys.executable).parent / "schemathesis"
    run = subprocess.run([str(cli), "run", api_url + "openapi.json", "--checks", "all", "--max-examples", "60",
                          "--workers", "1", "--seed", "1"], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-4000:]


def test_model_with_dynamically_quantized_matmuls_is_not_batched(tiny_model, tmp_path):
    """Dynamic int8 quantizes activations per batch, so a text's answer would depend on its
    neighbours: such a model answers each request alone, even when requests arrive together."""
    import asyncio
    import shutil

    from staticml import manifest
    from staticml.train import export
    from staticml.api import Batcher, BatchSettings

    folder = Path(shutil.copytree(tiny_model, tmp_path / "dynamic"))
    export.quantize_int8(folder / "model.onnx", folder / "model.int8.onnx", op_types=["MatMul", "Gemm"])
    m = manifest.read(folder)
    m["files"].update(manifest.file_entries(folder, ["model.int8.onnx"]))
    manifest.write(folder, {**m, "default_variant": "int8"})
    assert batch_dependent(folder / "model.int8.onnx")
    settings = BatchSettings(max_texts=64, max_wait_ms=50)
    dynamic, plain = Batcher(Classifier(folder), settings), Batcher(Classifier(folder, "fp32"), settings)

    async def together(batcher: Batcher) -> list[list[dict]]:
        return await asyncio.gather(*(batcher.predict([t]) for t in some_texts(10)[:16]))

    # Own thread, not this one: the session's Playwright browser may own this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        for batcher in (dynamic, plain):
            assert len(pool.submit(asyncio.run, together(batcher)).result()) == 16
    assert not dynamic.micro_batching and dynamic.stats.requests == 16 and dynamic.stats.largest_batch == 1
    assert plain.micro_batching and plain.stats.largest_batch > 1  # the same arrival, batched


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "staticml", *args], capture_output=True, text=True, timeout=60)


def test_api_cli_missing_model_folder(tmp_path):
    result = run_cli("api", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "missing" in result.stderr


@pytest.mark.parametrize("command", ["api", "serve"])
def test_port_in_use(command, tiny_model, site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        target = str(tiny_model) if command == "api" else str(site)
        result = run_cli(command, target, "--port", port, *(["--api"] if command == "serve" else []))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and port in result.stderr


@pytest.mark.browser
def test_page_server_mode_is_opt_in_and_labelled(browser, api_url, site_url):
    context, page, _ = open_page(browser, site_url)  # a site without an API offers no server mode
    assert page.locator("#server-mode").count() == 0
    context.close()

    context, page, requests = open_page(browser, api_url)
    try:
        toggle = page.locator("#server-mode")
        assert not toggle.is_checked()
        assert "sends your text to the server" in page.locator("label[for=server-mode]").inner_text()
        page.fill("#text", "I love this")
        expect(page.locator("#label")).not_to_have_text("—")
        assert not [r for r in requests if "/v1/" in r]  # default: local

        toggle.check()
        assert "sent to" in page.locator(".privacy").inner_text()
        with page.expect_request(lambda r: r.url.endswith("/v1/predict")):
            page.fill("#text", "I hate this")
        requests.clear()
        page.evaluate("window.staticml.predict(['the page API stays local'])")
        assert requests == []
    finally:
        context.close()


def test_build_with_api_url_lets_the_page_connect_to_it(tiny_model, tmp_path):
    from staticml.site import build

    build([tiny_model], tmp_path / "remote", api_url="http://127.0.0.1:9/api", report=lambda _: None)
    assert "connect-src 'self' http://127.0.0.1:9;" in (tmp_path / "remote" / "index.html").read_text()
    assert read_site(tmp_path / "remote")["api_url"] == "http://127.0.0.1:9/api/"
    build([tiny_model], tmp_path / "same", api_url="/api/", report=lambda _: None)
    assert "connect-src 'self';" in (tmp_path / "same" / "index.html").read_text()
