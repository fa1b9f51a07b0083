"""Headless Chromium (Debian's, driven by Playwright) and a site served in the background."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

from .errors import UserError
from .ports import check_port_free, free_port

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# WebGPU in headless Chromium: Debian's build then gives a SwiftShader (software, fallback) adapter.
WEBGPU_FLAGS = ("--enable-unsafe-webgpu",)


def chromium_path() -> str:
    path = os.environ.get("STATICML_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        raise UserError("Chromium not found: install it with `apt-get install -y chromium` "
                        "(or set STATICML_CHROMIUM to a Chromium binary)")
    return path


@contextlib.contextmanager
def chromium(extra_args: tuple[str, ...] = ()) -> Iterator:
    """A Playwright Browser on Debian's Chromium (never a downloaded one); `extra_args`: more
    command-line flags (e.g. a fake camera)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS + list(extra_args))
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def served(site: Path, api: bool = False, port: int | None = None) -> Iterator[str]:
    """Run `staticml serve SITE` in a child process on a free loopback port; yield its base URL."""
    if port:
        check_port_free("127.0.0.1", port)
    port = port or free_port()
    command = [sys.executable, "-m", "staticml", "serve", str(site), "--port", str(port)] + (["--api"] if api else [])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"staticml serve exited: {process.stderr.read().strip()[-500:]}")
        try:
            with urllib.request.urlopen(url + "site.json", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise UserError(f"staticml serve did not answer at {url} within {timeout:.0f} s")


def wait_until(page, condition: str, timeout_ms: int = 120_000) -> None:
    """Poll a JS expression until it is truthy. Unlike wait_for_function this needs no eval in the
    page, which the site's Content-Security-Policy rightly forbids."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(condition):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_ms} ms waiting for {condition}")
        time.sleep(0.02)


def page_probabilities(page, texts: list[str], labels: list[str]):
    """`window.staticml.predict(texts)` as a [texts, labels] array of probabilities (labels in this order)."""
    import numpy as np

    predictions = page.evaluate("texts => window.staticml.predict(texts)", texts)
    return np.array([[p["scores"][label] for label in labels] for p in predictions]).reshape(len(texts), len(labels))


def open_page(browser, url: str, timeout_ms: int = 120_000):
    """A fresh page at `url`, waited until `staticml.ready` resolves; returns (context, page, requests)."""
    context = browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    wait_until(page, "window.staticml !== undefined", timeout_ms)
    page.evaluate("() => window.staticml.ready", )
    return context, page, requests
