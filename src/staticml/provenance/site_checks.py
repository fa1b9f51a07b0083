"""verify's provenance checks of a built site: each model's signature against its files (and the
owner's key when given), and what a visitor can take of it."""

from __future__ import annotations

from pathlib import Path

from .. import manifest as manifest_io
from ..checks import Check
from . import exposure, signing


def provenance_checks(models: dict[str, Path], expected_key: str | None = None) -> list[Check]:
    """Per model: "signature" (PASS signed and intact, SKIP unsigned, FAIL otherwise) and "exposure"."""
    checks = []
    for name, model_dir in models.items():
        manifest = manifest_io.read(model_dir)
        result = signing.check(model_dir, manifest, expected_key)
        passed = False if expected_key and result.status == "unsigned" else result.passed
        checks.append(Check(f"{name}: signature", passed, result.message, {"status": result.status}))
        shown = exposure.model_exposure(model_dir, manifest)
        checks.append(Check(f"{name}: exposure", True, exposure.describe(name, shown), shown))
    return checks
