"""Helpers for browser tests of the page: a page that may fail to load, a broken copy of a site."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# Predicates are functions, not expressions: Playwright evaluates expression strings with eval,
# which the site's Content-Security-Policy (rightly) forbids.
STATICML_DEFINED = "() => window.staticml !== undefined"


def open_unready(browser, url: str, viewport: dict | None = None, loaded: str = STATICML_DEFINED):
    """A fresh page at `url`, waited until `loaded` holds but not for the model: (context, page, requests)."""
    context = browser.new_context(viewport=viewport) if viewport else browser.new_context()
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_function(loaded, timeout=60_000)
    return context, page, requests


def settle(page, expression: str) -> str:
    """'ok' when the promise `expression` resolves, else its error message."""
    return page.evaluate(f"() => ({expression}).then(() => 'ok', (e) => e.message)")


def copy_site(site: Path, target: Path) -> Path:
    shutil.copytree(site, target)
    return target


def default_model(site: Path) -> tuple[Path, dict]:
    """The folder and manifest of the site's default model."""
    config = json.loads((site / "site.json").read_text())
    folder = site / next(m["path"] for m in config["models"] if m["name"] == config["default_model"])
    return folder, json.loads((folder / "manifest.json").read_text())


def default_model_file(site: Path) -> Path:
    """The default variant's ONNX file of the site's default model (what the page downloads)."""
    folder, manifest = default_model(site)
    return folder / manifest["variants"][manifest["default_variant"]]


def drop_compressed_copies(path: Path) -> None:
    """The host would serve an intact .br/.gz copy of a file the test broke: remove them."""
    for suffix in (".br", ".gz"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
