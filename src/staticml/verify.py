"""Prove, in headless Chromium, that a built site computes what Python computes, privately and offline."""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit


from . import leaks, manifest as manifest_io, parity, tabular, tabular_page, verify_camera
from .browser import WEBGPU_FLAGS, chromium, open_page, page_probabilities, served, wait_until
from .errors import UserError
from .hard_texts import hard_texts
from .runtime import Classifier
from .site import model_dirs, read_site
from .tokenize import TextEncoder

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


def read_texts(path: str | Path | None) -> list[str]:
    if path is None:
        return []
    path = Path(path)
    try:
        texts = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read it as UTF-8 text ({exc.__class__.__name__})") from None
    if not texts:
        raise UserError(f"{path}: no texts in it (one text per line)")
    return texts


def verify(site: str | Path, texts_file: str | Path | None = None, json_path: str | Path | None = None,
           report: Callable[[str], None] = print, model_folders: list[Path] | None = None) -> list[Check]:
    """Run every check on every model and variant; return the checks (all PASS/SKIP means verified).
    `model_folders`: the trained model folders the site was built from, whose held-out data the
    site must not contain (staticml.leaks)."""
    site = Path(site)
    config = read_site(site)
    user_texts = read_texts(texts_file)
    started = time.perf_counter()
    checks = [check_csp(site, config)]
    checks += [Check(**finding) for finding in leaks.held_out_findings(site, model_dirs(site, config), model_folders or [])]
    if verify_camera.is_camera_site(site, config):  # a face detector: the fake camera's checks
        checks += verify_camera.checks(site, config, report)
    else:
        checks += _classifier_checks(site, config, user_texts, report)
    for check in checks:
        report(f"{check.status}  {check.name}: {check.figure}")
    passed = all(c.passed is not False for c in checks)
    report(f"verify: {'all checks passed' if passed else 'FAILED'} in {time.perf_counter() - started:.1f} s")
    if json_path:
        Path(json_path).write_text(json.dumps({"site": str(site), "passed": passed,
                                               "checks": [asdict(c) | {"status": c.status} for c in checks]},
                                              indent=2, ensure_ascii=False) + "\n")
    return checks


def _classifier_checks(site: Path, config: dict, user_texts: list[str], report: Callable[[str], None]) -> list[Check]:
    checks = []
    with served(site) as url:
        checks += _wasm_checks(url, site, config, user_texts, report)
        checks += _webgpu_checks(url, site, config, user_texts, report)  # a second Chromium, after the first
    return checks


def _wasm_checks(url: str, site: Path, config: dict, user_texts: list[str], report: Callable[[str], None]) -> list[Check]:
    checks = []
    with chromium() as browser:
        for name, model_dir in model_dirs(site, config).items():
            manifest = manifest_io.read(model_dir)
            checks.append(check_integrity(name, model_dir, manifest))
            for variant in manifest["variants"]:
                report(f"verify: {name} / {variant} …")
                checks += check_page(browser, url, site, name, variant, user_texts,
                                     "wasm" if "webgpu" in manifest.get("backends", []) else None)
        checks.append(check_offline(browser, url, site))
    return checks


def _webgpu_checks(url: str, site: Path, config: dict, user_texts: list[str], report: Callable[[str], None]) -> list[Check]:
    """The page forced onto WebGPU (?backend=webgpu), for each model the site ships it for, default
    variant: Chromium's WebGPU here is SwiftShader, a software adapter, so this proves the numbers,
    not the speed."""
    models = {name: manifest_io.read(d) for name, d in model_dirs(site, config).items()}
    models = {name: m for name, m in models.items() if "webgpu" in m.get("backends", [])}
    if not models:
        return []
    checks = []
    with chromium(WEBGPU_FLAGS) as browser:
        for name, manifest in models.items():
            report(f"verify: {name} / {manifest['default_variant']} on WebGPU …")
            checks += check_page(browser, url, site, name, manifest["default_variant"], user_texts, "webgpu")
    return checks


def check_integrity(name: str, model_dir: Path, manifest: dict) -> Check:
    broken = manifest_io.check_integrity(model_dir, manifest)
    figure = f"{len(manifest['files'])} files match manifest sha256" if not broken else f"mismatch: {', '.join(broken)}"
    return Check(f"{name}: integrity", not broken, figure, {"mismatched": broken})


def check_page(browser, url: str, site: Path, name: str, variant: str, user_texts: list[str],
               backend: str | None = None) -> list[Check]:
    """Tokenizer parity, output parity, privacy and self-containment for one model variant (on
    `backend` when given: ?backend=wasm|webgpu)."""
    label = f"{name}/{variant}" + ("/webgpu" if backend == "webgpu" else "")
    model_dir = model_dirs(site, read_site(site))[name]
    query = f"?model={name}&variant={variant}" + (f"&backend={backend}" if backend else "")
    try:
        context, page, requests = open_page(browser, url + query, timeout_ms=300_000 if backend == "webgpu" else 120_000)
    except Exception as exc:  # the page failed to become ready: every page check fails with the reason
        reason = str(exc).splitlines()[0][:200]
        return [Check(f"{label}: page loads", False, reason)]
    try:
        loaded = list(requests)
        if tabular_page.is_tabular(manifest_io.read(model_dir)):
            before = len(requests)
            checks = [_row_parity(page, label, model_dir, variant)]
            return checks + [_privacy(label, requests[before:]), _self_contained(label, url, loaded, site)]
        texts = hard_texts() + user_texts
        checks = [_tokenizer_parity(page, label, model_dir, texts)]
        if backend == "webgpu":
            checks.append(_on_webgpu(page, label))
        before = len(requests)
        checks.append(_output_parity(page, label, model_dir, variant, texts, backend or "wasm"))
        checks.append(_privacy(label, requests[before:]))
        checks.append(_self_contained(label, url, loaded, site))
        return checks
    finally:
        context.close()


def _tokenizer_parity(page, label: str, model_dir: Path, texts: list[str]) -> Check:
    expected = TextEncoder.from_model_dir(model_dir, manifest_io.read(model_dir)).ids(texts)
    actual = page.evaluate("texts => window.staticml.tokenize(texts)", texts)
    wrong = [i for i, (e, a) in enumerate(zip(expected, actual)) if e != a]
    figure = f"{len(texts) - len(wrong)}/{len(texts)} texts give identical ids"
    if wrong:
        figure += f"; first difference: {texts[wrong[0]][:60]!r}"
    return Check(f"{label}: tokenizer parity", not wrong, figure,
                 {"texts": len(texts), "mismatches": len(wrong), "examples": [texts[i] for i in wrong[:5]]})


def _on_webgpu(page, label: str) -> Check:
    """The page says it runs on WebGPU (not that it fell back to WASM), and on which adapter."""
    info = page.evaluate("window.staticml.info()")
    on_gpu = info.get("backend") == "webgpu"
    adapter = info.get("adapter") or "no adapter"
    software = " (a software adapter: correctness, not speed)" if "fallback" in adapter else ""
    figure = f"runs on WebGPU, {adapter}{software}" if on_gpu else f"runs on {info.get('backend')}: {info.get('backend_reason')}"
    return Check(f"{label}: backend", on_gpu, figure, {k: info.get(k) for k in ("backend", "adapter", "backend_reason")})


def _output_parity(page, label: str, model_dir: Path, variant: str, texts: list[str], backend: str = "wasm") -> Check:
    native = Classifier(model_dir, variant)
    in_page = page_probabilities(page, texts, native.labels)
    result = parity.compare(native.probabilities(texts), in_page, parity.tolerance(variant, backend))
    figure = result.summary() + (f"; largest on {texts[result.worst_index][:60]!r}" if result.count else "")
    return Check(f"{label}: output parity", result.ok, figure,
                 asdict(result) | {"worst_text": texts[result.worst_index] if result.count else None})


def _row_parity(page, label: str, model_dir: Path, variant: str) -> Check:
    """A tabular model: the page vs Python onnxruntime on rows drawn from its features, on edge rows
    and, beside a trained model (never in a built site), on its test rows."""
    manifest = manifest_io.read(model_dir)
    tests = tabular_page.test_rows(model_dir, manifest) + tabular_page.sampled_rows(manifest["features"])
    rows = tests + tabular_page.edge_rows(manifest["features"])
    expected = tabular_page.native_probabilities(model_dir, manifest, variant, rows)
    result = parity.compare(expected, tabular_page.page_probabilities(page, rows, manifest["labels"]),
                            parity.tolerance(variant))
    figure = f"{result.summary().replace(' texts', ' rows')} ({len(tests)} test or sampled rows, {len(rows) - len(tests)} edge rows)"
    if result.count and not result.ok:
        figure += f"; largest on {tabular_page.describe(rows[result.worst_index])}"
    return Check(f"{label}: output parity", result.ok, figure,
                 asdict(result) | {"test_rows": len(tests), "edge_rows": len(rows) - len(tests),
                                   "worst_row": rows[result.worst_index] if result.count else None})


def _privacy(label: str, requests: list[str]) -> Check:
    figure = "no network request while predicting" if not requests else f"{len(requests)} requests: {requests[:3]}"
    return Check(f"{label}: privacy", not requests, figure, {"requests": requests})


def _self_contained(label: str, url: str, requests: list[str], site: Path) -> Check:
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


def _offline_input(site: Path) -> list:
    """What the default model takes: a text, or for a tabular model its typical row."""
    config = read_site(site)
    manifest = manifest_io.read(model_dirs(site, config)[config["default_model"]])
    return [tabular.typical_row(manifest["features"])] if tabular_page.is_tabular(manifest) else ["works offline"]


def check_offline(browser, url: str, site: Path, works: Callable | None = None) -> Check:
    """With a service worker: after one visit, a reload with the network off still predicts
    (`works(page)`: what predicting means on the page, default a prediction of the default model's input)."""
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
        prediction = works(page) if works else page.evaluate("input => window.staticml.predict(input)", _offline_input(site))
        return Check("offline", bool(prediction), "reload with the network off loads and predicts")
    except Exception as exc:  # any failure (online or offline) is the finding, not a crash
        return Check("offline", False, f"offline reload failed: {str(exc).splitlines()[0][:200]}")
    finally:
        context.close()
