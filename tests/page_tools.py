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


def with_unsupported_op(model_dir: Path, out: Path, name: str, variants: tuple[str, ...] | None = None) -> Path:
    """A copy of a model folder whose graphs (all variants, or `variants`) hold an operator the
    compact engine does not implement (Erf), computing the same logits: raw + 0·Erf(raw)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    from staticml import manifest as manifest_io

    shutil.copytree(model_dir, out)
    (out / ".staticml-output").unlink(missing_ok=True)  # no longer what `train` wrote
    manifest = json.loads((out / "manifest.json").read_text())
    for variant, file in manifest["variants"].items():
        if variants is not None and variant not in variants:
            continue
        model = onnx.load(str(out / file))
        for node in model.graph.node:
            node.output[:] = ["logits_raw" if o == "logits" else o for o in node.output]
        model.graph.initializer.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"))
        model.graph.node.extend([helper.make_node("Erf", ["logits_raw"], ["erf"]),
                                 helper.make_node("Mul", ["erf", "zero"], ["erf_0"]),
                                 helper.make_node("Add", ["logits_raw", "erf_0"], ["logits"])])
        onnx.save(model, str(out / file))
    manifest["name"] = name
    manifest["files"] = manifest_io.file_entries(out, list(manifest["files"]))
    manifest_io.write(out, manifest)
    return out


def replace_model_file(folder: Path, file: str, data: bytes, engine: str | None = None) -> None:
    """Put other bytes in a built site's model file, with a manifest that matches them (sha256 and
    size), so that the page checks them past integrity; `engine` overrides the page's engine."""
    from staticml import manifest as manifest_io

    (folder / file).write_bytes(data)
    drop_compressed_copies(folder / file)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][file] = manifest_io.file_entries(folder, [file])[file]
    if engine:
        manifest["engines"] = {variant: engine for variant in manifest["variants"]}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    drop_compressed_copies(folder / "manifest.json")
