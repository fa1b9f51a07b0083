"""The checks `verify` runs on any site, whatever its task: the files against their sha256, the
Content-Security-Policy, no request while the model is used, every request to the site's own
origin, and the offline reload. Each task adds its own (staticml.tasks: a task's `verify`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from . import manifest as manifest_io
from .browser import wait_until

# CSP sources that do not name another origin.
LOCAL_SOURCES = {"'self'", "'none'", "'wasm-unsafe-eval'", "'unsafe-inline'", "'unsafe-eval'", "'strict-dynamic'",
                 "blob:", "data:"}


@dataclass
class Check:
    name: str
    passed: bool | None  # None: not applicable (skipped)
    figure: str
    details: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]


def check_integrity(name: str, model_dir: Path, manifest: dict) -> Check:
    broken = manifest_io.check_integrity(model_dir, manifest)
    figure = f"{len(manifest['files'])} files match manifest sha256" if not broken else f"mismatch: {', '.join(broken)}"
    return Check(f"{name}: integrity", not broken, figure, {"mismatched": broken})


def check_privacy(label: str, requests: list[str]) -> Check:
    figure = "no network request while predicting" if not requests else f"{len(requests)} requests: {requests[:3]}"
    return Check(f"{label}: privacy", not requests, figure, {"requests": requests})


def check_self_contained(label: str, url: str, requests: list[str], site: Path) -> Check:
    """Every request went to the site's origin, and no page links elsewhere (a CSP may block such a link)."""
    origin = _origin(url)
    foreign = [r for r in requests if not r.startswith(("blob:", "data:")) and _origin(r) != origin]
    foreign += _foreign_links(site)
    figure = f"all {len(requests)} requests from the site's origin" if not foreign else f"other origins: {foreign[:3]}"
    return Check(f"{label}: self-contained", not foreign, figure, {"requests": requests, "foreign": foreign})


def _foreign_links(site: Path) -> list[str]:
    links = []
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8", errors="replace")
        links += re.findall(r'(?:src|href)\s*=\s*["\']((?:https?:)?//[^"\']+)', text, flags=re.I)
    return links


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def check_csp(site: Path, config: dict) -> Check:
    """Where the site ships a Content-Security-Policy, it must name no other origin (but its API's)."""
    policies = _csp_policies(site)
    if not policies:
        return Check("content-security-policy", None, "no policy shipped (index.html meta tag or _headers)")
    allowed = LOCAL_SOURCES | ({_origin(config["api_url"])} if config.get("api_url") else set())
    others = sorted({source for policy in policies for directive in policy.split(";")
                     for source in directive.split()[1:] if source not in allowed and not _is_hash(source)})
    figure = f"{len(policies)} policies allow only the site's own origin" if not others else f"other origins allowed: {others}"
    return Check("content-security-policy", not others, figure, {"policies": policies, "others": others})


def _csp_policies(site: Path) -> list[str]:
    html = (site / "index.html").read_text(encoding="utf-8", errors="replace")
    policies = re.findall(r'http-equiv="Content-Security-Policy"\s+content="([^"]*)"', html, flags=re.I)
    headers = site / "_headers"
    if headers.is_file():
        policies += re.findall(r"Content-Security-Policy:\s*(.+)", headers.read_text(encoding="utf-8"), flags=re.I)
    return [p.strip() for p in policies]


def _is_hash(source: str) -> bool:
    return source.startswith(("'sha256-", "'sha384-", "'sha512-", "'nonce-"))


def check_offline(browser, url: str, site: Path, works: Callable) -> Check:
    """With a service worker: after one visit, a reload with the network off still works
    (`works(page)`: what using the model means on the page, e.g. a prediction)."""
    if not (site / "sw.js").is_file():
        return Check("offline", None, "the site has no service worker (sw.js)")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        wait_until(page, "window.staticml !== undefined", 30_000)
        page.evaluate("() => window.staticml.ready")
        page.evaluate("() => navigator.serviceWorker.ready")
        page.reload()
        wait_until(page, "navigator.serviceWorker.controller !== null", 30_000)
        context.set_offline(True)
        page.reload()
        wait_until(page, "window.staticml !== undefined", 30_000)
        page.evaluate("() => window.staticml.ready")
        return Check("offline", bool(works(page)), "reload with the network off loads and works")
    except Exception as exc:  # any failure (online or offline) is the finding, not a crash
        return Check("offline", False, f"offline reload failed: {str(exc).splitlines()[0][:200]}")
    finally:
        context.close()
