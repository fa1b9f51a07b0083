"""Issue 17, item 4: a built site on the hosts people deploy to, each served as that host would.

- A host that applies `_headers` (Netlify, Cloudflare Pages): cross-origin isolated from the first
  load, the CSP header as in the page.
- A host that sends no such headers (GitHub Pages, a bucket), the site under a sub-path
  (`/project/`): the first load runs on one thread; the service worker then serves the site with
  COOP/COEP and the page reloads once, isolated, with several threads; never a reload loop.
The model runs on onnxruntime-web (a graph the compact engine lacks an operator for), where
threads matter."""

from __future__ import annotations

import time

import pytest
from page_tools import STATICML_DEFINED, with_unsupported_op
from static_hosts import host

from staticml.hosting import HEADERS_FILE, content_security_policy
from staticml.site import build

pytestmark = pytest.mark.browser

PROJECT = "project"
READY = "() => window.staticml !== undefined && window.staticml.info().load_ms > 0"


@pytest.fixture(scope="module")
def ort_site(tiny_model, tmp_path_factory):
    """A site whose model runs on onnxruntime-web, inside a folder as a project site would be."""
    root = tmp_path_factory.mktemp("hosts")
    model = with_unsupported_op(tiny_model, root / "erf", "sentiment-erf")
    build([model], root / "pages" / PROJECT, report=lambda line: None)
    return root / "pages" / PROJECT


def loaded(page) -> dict:
    page.wait_for_function(STATICML_DEFINED, timeout=60_000)
    page.evaluate("() => window.staticml.ready")
    return page.evaluate("""async () => ({isolated: self.crossOriginIsolated, threads: window.staticml.info().threads,
        engine: window.staticml.info().engine, label: (await window.staticml.predict(['I love it']))[0].label})""")


def navigations(page) -> list[str]:
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url) if frame == page.main_frame else None)
    return seen


def wait_for(page, condition, timeout: float = 60.0) -> None:
    """Playwright delivers events while it waits (a plain sleep would not let it)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(200)


def test_a_host_that_applies_headers_files_isolates_the_first_load(browser, ort_site):
    with host(ort_site, headers_file=ort_site / HEADERS_FILE) as url:
        context = browser.new_context()
        try:
            page = context.new_page()
            response = page.goto(url)
            assert response.headers["content-security-policy"] == content_security_policy(ort_site)
            assert response.headers["cross-origin-embedder-policy"] == "require-corp"
            first = loaded(page)
            print(f"\n_headers host, first load: isolated {first['isolated']}, {first['threads']} threads")
            assert first["engine"] == "onnxruntime-web" and first["isolated"] is True
            assert first["threads"] >= 2 or page.evaluate("navigator.hardwareConcurrency") < 2
        finally:
            context.close()


def test_on_a_host_without_headers_the_service_worker_isolates_the_page_after_one_reload(browser, ort_site):
    with host(ort_site.parent) as root:
        url = f"{root}{PROJECT}/"
        context = browser.new_context()
        try:
            page = context.new_page()
            seen = navigations(page)
            response = page.goto(url)
            assert "cross-origin-embedder-policy" not in response.headers  # the host sends none
            first = loaded(page)
            assert first["isolated"] is False and first["threads"] == 1 and first["engine"] == "onnxruntime-web"
            wait_for(page, lambda: len(seen) >= 2)  # the service worker took control: one reload
            page.wait_for_function(READY, timeout=60_000)
            after = loaded(page)
            cores = page.evaluate("navigator.hardwareConcurrency")
            print(f"\nheader-less host under /{PROJECT}/: threads {first['threads']} before, {after['threads']} after "
                  f"the service worker's isolation ({cores} cores)")
            assert after["isolated"] is True and after["label"] == first["label"]
            assert after["threads"] == min(cores, 4) or cores < 2
            scope = page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).scope")
            assert scope == url  # the worker's scope is the project's folder, not the host's root
            page.wait_for_timeout(2000)
            assert len(seen) == 2, seen  # isolated: no further reload
            page.reload()
            assert loaded(page)["isolated"] is True  # every later visit is isolated from the start
        finally:
            context.close()


def test_a_page_the_service_worker_cannot_isolate_reloads_at_most_once(browser, ort_site):
    """A host whose own COEP says unsafe-none (the worker never overrides a host's headers): the
    page stays on one thread and reloads once, not in a loop."""
    with host(ort_site.parent, extra={"Cross-Origin-Embedder-Policy": "unsafe-none"}) as root:
        context = browser.new_context()
        try:
            page = context.new_page()
            seen = navigations(page)
            page.goto(f"{root}{PROJECT}/")
            assert loaded(page)["isolated"] is False
            wait_for(page, lambda: len(seen) >= 2)
            page.wait_for_function(READY, timeout=60_000)
            page.wait_for_timeout(3000)
            assert len(seen) == 2, seen
            assert loaded(page) == {**loaded(page), "isolated": False, "threads": 1}
        finally:
            context.close()


def test_staticml_predict_writes_what_the_pages_score_a_file_downloads(browser, site, site_url, tmp_path):
    """The same CSV (blank texts, formulas, quotes, line breaks) scored by the page and by `predict`:
    the same header, rows, texts and labels, probabilities within 1e-5 (both print six decimals)."""
    import csv

    from staticml.browser import open_page
    from staticml.predict import predict_file

    texts = ["I love it", "", "=1+1 formula", 'say "hi", twice', "line one\nline two", "  ", "worst ever", "@SUM(A1)"]
    data = tmp_path / "texts.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", "text"], *[[i, t] for i, t in enumerate(texts)]])
    predict_file(site, data, tmp_path / "python.csv", report=lambda line: None)
    context, page, _ = open_page(browser, site_url)
    try:
        page.set_input_files("#file-input", str(data))
        page.wait_for_function("() => !document.querySelector('#file-score').disabled", timeout=30_000)
        page.click("#file-score")
        page.wait_for_selector("#file-results:not([hidden])", timeout=60_000)
        with page.expect_download() as download:
            page.click("#file-download")
        with open(download.value.path(), encoding="utf-8", newline="") as f:
            in_page = list(csv.reader(f))
    finally:
        context.close()
    with open(tmp_path / "python.csv", encoding="utf-8", newline="") as f:
        in_python = list(csv.reader(f))
    assert in_python[0] == in_page[0] and len(in_python) == len(in_page) == 7  # two blank texts skipped
    first_p = next(i for i, name in enumerate(in_page[0]) if name.startswith("p_"))  # id, text, label (and set) before
    for ours, theirs in zip(in_python[1:], in_page[1:]):
        assert ours[:first_p] == theirs[:first_p]
        assert max(abs(float(a) - float(b)) for a, b in zip(ours[first_p:], theirs[first_p:])) <= 1e-5
