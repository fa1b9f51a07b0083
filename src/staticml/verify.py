"""Prove, in headless Chromium, that a built site computes what Python computes, privately and offline.

The checks common to every site live in staticml.checks; the site's task adds its own (its `verify`)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from . import leaks, tasks
from .checks import Check, check_csp
from .errors import UserError
from .provenance import signing
from .provenance.site_checks import provenance_checks
from .site_config import model_dirs, read_site
from .tasks.base import VerifyRun


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
           report: Callable[[str], None] = print, model_folders: list[Path] | None = None,
           signing_key: str | Path | None = None) -> list[Check]:
    """Run every check on every model and variant; return the checks (all PASS/SKIP means verified).
    `model_folders`: the trained model folders the site was built from, whose held-out data the
    site must not contain (staticml.leaks). `signing_key`: the owner's public key (PEM) every model
    must be signed with."""
    site = Path(site)
    config = read_site(site)
    user_texts = read_texts(texts_file)
    expected_key = signing.load_public_key(Path(signing_key)) if signing_key else None
    started = time.perf_counter()
    task = tasks.of_site(site, config)
    checks = [check_csp(site, config)]
    models = model_dirs(site, config)
    trained = {name for name, d in models.items() if not isinstance(tasks.for_model(d).train, tasks.Declined)}
    checks += [Check(**finding) for finding in leaks.held_out_findings(site, models, model_folders or [], trained)]
    checks += provenance_checks(models, expected_key)
    checks += task.verify(VerifyRun(site, config, user_texts, report))
    for check in checks:
        report(f"{check.status}  {check.name}: {check.figure}")
    passed = all(c.passed is not False for c in checks)
    report(f"verify: {'all checks passed' if passed else 'FAILED'} in {time.perf_counter() - started:.1f} s")
    if json_path:
        Path(json_path).write_text(json.dumps({"site": str(site), "passed": passed,
                                               "checks": [asdict(c) | {"status": c.status} for c in checks]},
                                              indent=2, ensure_ascii=False) + "\n")
    return checks
