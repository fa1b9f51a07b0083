"""build's check of a classifier's variants (fp32, int8, q4): each agrees with the reference one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ... import parity
from ...errors import UserError

# Variants a site may do without: one that fails the variant check is left out, not an error.
OPTIONAL_VARIANTS = ("q4", "q4-pruned")


def check_variants_agree(model_dir: Path, manifest: dict, report: Callable[[str], None], open_model: Callable[..., Any],
                         probes: list) -> dict:
    """The Python side of parity: each variant against the reference one, on the task's probe inputs.

    Returns the manifest the site gets: an optional variant (q4) that disagrees is left out, and
    said so; any other that disagrees stops the build."""
    variants = list(manifest["variants"])
    reference = "fp32" if "fp32" in variants else variants[0]
    if len(variants) < 2:
        open_model(model_dir, reference)  # checks its outputs against the labels
        return manifest
    texts = probes
    expected = open_model(model_dir, reference).probabilities(texts)
    for variant in variants:
        if variant == reference:
            continue
        result = parity.compare(expected, open_model(model_dir, variant).probabilities(texts),
                                parity.VARIANT_TOLERANCE, parity.VARIANT_AGREEMENT)
        if not result.ok and variant in OPTIONAL_VARIANTS:
            manifest = _without_variant(manifest, variant)
            report(f"build: {manifest['name']} {variant} left out of the site: it disagrees with '{reference}' "
                   f"({result.summary()}); default variant {manifest['default_variant']}")
            continue
        if not result.ok:
            raise UserError(f"{model_dir}: variant '{variant}' disagrees with '{reference}': {result.summary()}")
        report(f"build: {manifest['name']} {variant} vs {reference}: {result.summary()}")
    return manifest


def _without_variant(manifest: dict, variant: str) -> dict:
    """The manifest without `variant` and its file; a dropped default becomes the smallest other variant."""
    file = manifest["variants"][variant]
    variants = {v: f for v, f in manifest["variants"].items() if v != variant}
    files = {f: e for f, e in manifest["files"].items() if f != file or f in variants.values()}
    default = manifest["default_variant"]
    if default == variant:
        default = min(variants, key=lambda v: files[variants[v]]["bytes"])
    return {**manifest, "variants": variants, "files": files, "default_variant": default}
