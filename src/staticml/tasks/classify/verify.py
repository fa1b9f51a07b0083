"""verify on a classifier site (text, form data): per model and variant, in headless Chromium, the
task's parity checks on the page, then privacy (no request while predicting) and self-containment;
the default variant again on WebGPU where the site ships it; and the offline reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ...browser import WEBGPU_FLAGS, chromium, open_page, served
from ...checks import Check, check_integrity, check_offline, check_privacy, check_self_contained
from ...site_config import model_dirs
from ..base import VerifyRun

# (page, label, model_dir, variant, user_texts, backend) -> the task's parity checks on an open page
PageChecks = Callable[[Any, str, Path, str, list[str], str], list[Check]]


def verify_site(run: VerifyRun, read_model: Callable[[Path], dict], page_checks: PageChecks, sample: Callable[[dict], Any]) -> list[Check]:
    checks = []
    with served(run.site) as url:
        checks += _wasm_checks(url, run, read_model, page_checks, sample)
        checks += _webgpu_checks(url, run, read_model, page_checks)  # a second Chromium, after the first
    return checks


def _wasm_checks(url: str, run: VerifyRun, read_model: Callable[[Path], dict], page_checks: PageChecks,
                 sample: Callable[[dict], Any]) -> list[Check]:
    checks = []
    with chromium() as browser:
        for name, model_dir in model_dirs(run.site, run.config).items():
            manifest = read_model(model_dir)
            checks.append(check_integrity(name, model_dir, manifest))
            for variant in manifest["variants"]:
                run.report(f"verify: {name} / {variant} …")
                checks += check_page(browser, url, run, name, variant, page_checks,
                                     "wasm" if "webgpu" in manifest.get("backends", []) else None)
        default = read_model(model_dirs(run.site, run.config)[run.config["default_model"]])
        predicts = lambda page: page.evaluate("input => window.staticml.predict(input)", [sample(default)])  # noqa: E731
        checks.append(check_offline(browser, url, run.site, predicts))
    return checks


def _webgpu_checks(url: str, run: VerifyRun, read_model: Callable[[Path], dict], page_checks: PageChecks) -> list[Check]:
    """The page forced onto WebGPU (?backend=webgpu), for each model the site ships it for, default
    variant: Chromium's WebGPU here is SwiftShader, a software adapter, so this proves the numbers,
    not the speed."""
    models = {name: read_model(d) for name, d in model_dirs(run.site, run.config).items()}
    models = {name: m for name, m in models.items() if "webgpu" in m.get("backends", [])}
    if not models:
        return []
    checks = []
    with chromium(WEBGPU_FLAGS) as browser:
        for name, manifest in models.items():
            run.report(f"verify: {name} / {manifest['default_variant']} on WebGPU …")
            checks += check_page(browser, url, run, name, manifest["default_variant"], page_checks, "webgpu")
    return checks


def check_page(browser, url: str, run: VerifyRun, name: str, variant: str, page_checks: PageChecks,
               backend: str | None = None) -> list[Check]:
    """The task's parity checks, then privacy and self-containment, for one model variant (on
    `backend` when given: ?backend=wasm|webgpu)."""
    label = f"{name}/{variant}" + ("/webgpu" if backend == "webgpu" else "")
    model_dir = model_dirs(run.site, run.config)[name]
    query = f"?model={name}&variant={variant}" + (f"&backend={backend}" if backend else "")
    try:
        context, page, requests = open_page(browser, url + query, timeout_ms=300_000 if backend == "webgpu" else 120_000)
    except Exception as exc:  # the page failed to become ready: every page check fails with the reason
        reason = str(exc).splitlines()[0][:200]
        return [Check(f"{label}: page loads", False, reason)]
    try:
        loaded = list(requests)
        before = len(requests)
        checks = page_checks(page, label, model_dir, variant, run.user_texts, backend or "wasm")
        return checks + [check_privacy(label, requests[before:]), check_self_contained(label, url, loaded, run.site)]
    finally:
        context.close()
