"""A first visit downloads each file of the site once (issue 31), on every engine: the compact engine
in the page, onnxruntime-web in its worker, onnxruntime-web on WebGPU. Counted at the HTTP server
(staticml.wire), which sees the page's, its workers' and its service worker's requests alike,
during the visit and for 10 s after ready (while the service worker fills its offline cache).

Also here: a tabular model whose features are named `__proto__`, `constructor` and `toString` works
in the page, and a model file damaged in the offline cache is evicted and downloaded again (issue 22,
item 6)."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest
from onnx_tabular import FEATURES, expected_yes, import_model

from page_tools import default_model_file
from staticml.browser import CHROMIUM_FLAGS, WEBGPU_FLAGS, chromium_path, open_page, wait_until
from staticml.site import build
from staticml.wire import counted, first_visit

pytestmark = pytest.mark.browser

# Big enough that the browser's HTTP cache does not hide a second download (random bytes: they do
# not compress); the 22M-parameter MiniLM is 21 MB in int8.
PADDING_BYTES = 24_000_000


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def tabular_site(tmp_path_factory):
    """A tabular model on onnxruntime-web (in the worker), its features named like JS internals."""
    root = tmp_path_factory.mktemp("download-once")
    model = import_model(root / "model", "internals", PADDING_BYTES)
    build([model], root / "site", report=quiet)
    manifest = json.loads((root / "site" / "models" / "internals" / "manifest.json").read_text())
    assert set(manifest["engines"].values()) == {"onnxruntime-web"}  # the worker path (LabelEncoder is ai.onnx.ml)
    return root / "site"


def assert_each_file_once(visit: dict, model_path: str) -> None:
    sent = [s for s in visit["sent"] if s["status"] in (200, 206)]
    print(f"\nfirst visit: {visit['before_ready_bytes'] / 1e6:.3f} MB before ready, "
          f"{visit['after_ready_bytes'] / 1e6:.3f} MB in the {visit['after_ready_s']:.0f} s after; "
          + ", ".join(f"{s['path']} {s['bytes']}" for s in sent))
    assert visit["sent_twice"] == {}, f"sent more than once: {visit['sent_twice']}"
    assert [s["path"] for s in sent].count(model_path) == 1


def test_the_compact_engine_site_downloads_each_file_once(browser, site):
    visit = first_visit(browser, site)
    assert_each_file_once(visit, "/" + default_model_file(site).relative_to(site).as_posix())
    assert "/precache.json" in [s["path"] for s in visit["sent"]]  # the service worker did fill its cache


def test_an_onnxruntime_web_site_downloads_each_file_once(browser, tabular_site):
    visit = first_visit(browser, tabular_site)
    model = "/" + default_model_file(tabular_site).relative_to(tabular_site).as_posix()
    assert_each_file_once(visit, model)
    paths = [s["path"] for s in visit["sent"] if s["status"] == 200]
    assert "/assets/ort/ort-wasm-simd-threaded.wasm" in paths and "/precache.json" in paths
    # The model crossed once, before ready: what the service worker holds came from the worker's download.
    assert visit["before_ready_bytes"] > PADDING_BYTES and visit["after_ready_bytes"] < 200_000


@pytest.fixture(scope="module")
def webgpu_site(tmp_path_factory):
    pytest.importorskip("transformers")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tiny_hf import save_tiny

    from staticml import cli

    root = tmp_path_factory.mktemp("download-once-webgpu")
    assert cli.main(["import", str(save_tiny(root / "bert-hf", "bert")), "--out", str(root / "bert")]) == 0
    build([root / "bert"], root / "site", report=quiet)
    return root / "site"


def test_a_webgpu_visit_downloads_each_file_once(browser, webgpu_site):
    gpu = browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS + list(WEBGPU_FLAGS))
    try:
        visit = first_visit(gpu, webgpu_site, "?backend=webgpu")
    finally:
        gpu.close()
    assert_each_file_once(visit, "/" + default_model_file(webgpu_site).relative_to(webgpu_site).as_posix())
    assert "/assets/worker-webgpu.js" in [s["path"] for s in visit["sent"]]  # it did run on WebGPU


def test_features_named_like_object_internals_work_in_the_page(browser, tabular_site):
    with counted(tabular_site) as (url, _log):
        context, page, _ = open_page(browser, url)
        try:
            rows = [{"__proto__": 7, "constructor": "c", "toString": False},
                    {"__proto__": 0, "constructor": "a", "toString": True}]
            # As JSON: Playwright rebuilds an argument object by assignment, which drops a "__proto__" key.
            predictions = page.evaluate("text => window.staticml.predict(JSON.parse(text))", json.dumps(rows))
            for row, prediction in zip(rows, predictions):
                assert prediction["scores"]["yes"] == pytest.approx(expected_yes(row), abs=1e-5)
            # The form starts at the typical row and scores it as soon as the page is ready.
            wait_until(page, "document.querySelector('#tabular form')?.dataset.pending === '0'")
            typical = {f["name"]: f["typical"] for f in FEATURES}
            shown = float(page.locator("#tab-probability").get_attribute("data-probability"))
            assert shown == pytest.approx(expected_yes(typical), abs=1e-5)
            missing = page.evaluate("() => window.staticml.predict([{toString: true, constructor: 'a'}]).then(() => '', e => e.message)")
            assert "rows[0].__proto__ is missing" in missing
        finally:
            context.close()


CACHED_SHA256 = """async ([key]) => {
  for (const name of await caches.keys()) {
    if (!name.startsWith('staticml-') || name === 'staticml-downloads') continue;
    const hit = await (await caches.open(name)).match(key);
    if (!hit) return null;
    const digest = await crypto.subtle.digest('SHA-256', await hit.arrayBuffer());
    return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
  }
  return null;
}"""

POISON = """async ([key]) => {
  for (const name of await caches.keys()) {
    if (name.startsWith('staticml-') && name !== 'staticml-downloads') {
      await (await caches.open(name)).put(key, new Response(new Uint8Array([1, 2, 3, 4]), {headers: {'content-type': 'application/octet-stream'}}));
    }
  }
}"""


def cached_sha256(page, key: str, expected: str, timeout_s: float = 20.0) -> str | None:
    """The sha256 of the service worker's cached copy of `key`, once it is `expected` or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while (found := page.evaluate(CACHED_SHA256, [key])) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return found


def test_a_model_file_damaged_in_the_offline_cache_is_evicted_and_downloaded_again(browser, tabular_site):
    model = default_model_file(tabular_site)
    path = "/" + model.relative_to(tabular_site).as_posix()
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    with counted(tabular_site) as (url, log):
        context, page, _ = open_page(browser, url)
        try:
            key = url.rstrip("/") + path
            page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
            assert cached_sha256(page, key, sha) == sha  # the offline copy is the checked download

            page.evaluate(POISON, [key])
            log.clear()
            page.reload()
            wait_until(page, "window.staticml !== undefined")
            assert page.evaluate("() => window.staticml.ready.then(() => 'ok', e => e.message)") == "ok"
            assert page.evaluate("navigator.serviceWorker.controller !== null")
            assert [s.path for s in log.bodies()].count(path) == 1  # downloaded again, once
            assert cached_sha256(page, key, sha) == sha  # the cache holds the good file again

            # Offline, a damaged copy cannot be replaced: the page says so instead of running it.
            page.evaluate(POISON, [key])
            context.set_offline(True)
            page.reload()
            wait_until(page, "window.staticml !== undefined")
            error = page.evaluate("() => window.staticml.ready.then(() => 'ok', e => e.message)")
            assert "model.onnx" in error and error != "ok"
        finally:
            context.close()
