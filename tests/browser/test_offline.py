"""Offline after one visit (service worker, build-hashed cache), a repeat visit without downloads,
and the headers a static host is told to send."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest

from page_tools import STATICML_DEFINED, copy_site
from staticml.browser import served
from staticml.hosting import content_security_policy
from staticml.site import build

pytestmark = pytest.mark.browser


def visit(context, url: str) -> dict:
    """Open `url` in the context until ready; the bytes that came from the network (not from the
    service worker) and the page's own time to ready."""
    page = context.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(STATICML_DEFINED)
    page.evaluate("() => window.staticml.ready")
    wall = time.perf_counter() - started
    network = [r for r in responses if not r.from_service_worker]
    return {"page": page, "load_ms": page.evaluate("window.staticml.info().load_ms"), "wall_s": wall,
            "network_bytes": sum(r.request.sizes()["responseBodySize"] for r in network),
            "network_urls": [r.url for r in network]}


def cache_names(page) -> list[str]:
    return page.evaluate("() => caches.keys()")


def test_after_one_visit_the_page_loads_and_predicts_offline(browser, site_url):
    context = browser.new_context()
    try:
        first = visit(context, site_url)
        first["page"].evaluate("() => navigator.serviceWorker.ready")
        first["page"].close()
        repeat = visit(context, site_url)
        page = repeat["page"]
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        print(f"\nfirst visit: {first['network_bytes'] / 1e6:.2f} MB from the network, ready in "
              f"{first['load_ms']:.0f} ms; repeat visit: {repeat['network_bytes'] / 1e6:.3f} MB "
              f"({len(repeat['network_urls'])} requests), ready in {repeat['load_ms']:.0f} ms")
        assert first["network_bytes"] > 100_000  # page, runtime and model (no WASM on the compact engine)
        assert not [u for u in repeat["network_urls"] if re.search(r"\.(onnx|wasm)$", u)]  # cache hits
        assert repeat["network_bytes"] < 100_000

        context.set_offline(True)
        requests: list[str] = []
        page.reload()
        page.wait_for_function(STATICML_DEFINED)
        page.evaluate("() => window.staticml.ready")
        page.on("request", lambda request: requests.append(request.url))
        predictions = page.evaluate("() => window.staticml.predict(['works offline', 'no network at all'])")
        assert len(predictions) == 2
        assert requests == []  # after ready, predicting asks nothing of anyone, not even the service worker
    finally:
        context.close()


def test_a_new_build_replaces_the_old_cache(browser, site, tiny_model, tmp_path):
    target = copy_site(site, tmp_path / "site")
    with served(target) as url:
        context = browser.new_context()
        try:
            page = visit(context, url)["page"]
            page.evaluate("() => navigator.serviceWorker.ready")
            old = cache_names(page)
            assert len(old) == 1 and old[0].startswith("staticml-")
            # Another build at the same place: the page's CSP (and so the build hash) changes.
            build([tiny_model], target, api_url="http://127.0.0.1:9/", report=lambda _: None)
            page.reload()
            page.wait_for_function(STATICML_DEFINED)
            deadline = time.monotonic() + 30
            new = cache_names(page)  # one read per check: two could see the old cache, then old + new
            while (len(new) != 1 or new == old) and time.monotonic() < deadline:
                page.wait_for_timeout(200)
                new = cache_names(page)
            assert len(new) == 1 and new != old
            page.reload()  # now served by the new worker, from the new cache
            page.wait_for_function(STATICML_DEFINED)
            page.evaluate("() => window.staticml.ready")
            assert page.evaluate("document.getElementById('server-mode') !== null")  # the new build's page
        finally:
            context.close()


def test_headers_file_and_serve_send_the_same_policy(site, tiny_model, tmp_path):
    headers = (site / "_headers").read_text()
    assert headers.startswith("/*\n")
    assert "Cross-Origin-Opener-Policy: same-origin" in headers
    assert "Cross-Origin-Embedder-Policy: require-corp" in headers
    policy = re.search(r"Content-Security-Policy: (.+)", headers)[1]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy  # all compact: no WebAssembly
    with served(site) as url, urllib.request.urlopen(url) as response:
        assert response.headers["Content-Security-Policy"] == policy
        assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"

    with_api = tmp_path / "with-api"
    build([tiny_model], with_api, api_url="https://api.example.org/v1/", report=lambda _: None)
    assert "connect-src 'self' https://api.example.org;" in (with_api / "_headers").read_text()
    assert "connect-src 'self' https://api.example.org;" in content_security_policy(with_api)
