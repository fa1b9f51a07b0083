"""model folder(s) → static site: page, JS bundle, models (and onnxruntime-web's WASM runtime when a
model needs it), nothing from elsewhere."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from . import archs, compact, hosting, manifest as manifest_io, output, site_extras, tasks
from .errors import UserError
from .provenance import terms as provenance
from .site_config import SITE_CONFIG

WEB_ASSETS = Path(__file__).parent / "web_assets"
COMPRESSIBLE = {".wasm", ".mjs", ".js", ".onnx", ".json", ".css", ".html", ".txt"}
MIN_COMPRESS_BYTES = 1024
# onnxruntime-web (its WASM, its loader and the worker that runs it): in a site only if one of its
# model variants cannot run on the page's compact engine.
ORT_ASSETS = ("assets/ort", "assets/worker.js")
BUNDLE_INFO = "bundle.json"  # the bundle's versions (staticml --version), not part of a site
# onnxruntime-web's WebGPU build (its 27 MB WASM and the worker that loads it): only in a site with a
# transformer-size model (archs.offers_webgpu), and fetched by a page only when it uses WebGPU.
WEBGPU_ASSETS = ("assets/ort-webgpu", "assets/worker-webgpu.js")


def web_assets() -> Path:
    if not (WEB_ASSETS / "index.html").is_file():
        raise UserError(f"{WEB_ASSETS}: the page bundle is not built; run `npm ci && npm run build` in web/ (scripts/setup.sh does)")
    return WEB_ASSETS


def build(model_dirs: list[Path], out: Path, api_url: str | None = None, report: Callable[[str], None] = print,
          force: bool = False, terms: provenance.Terms | None = None, title: str | None = None,
          description: str | None = None, extra: Path | None = None) -> dict:
    """Write a static site at `out` (atomically) holding the page and every model; `terms` (licence,
    author, source, card) apply to every model, over what its folder records."""
    if not model_dirs:
        raise UserError("build: give at least one model folder")
    title = site_extras.check_text("--title", title, site_extras.MAX_TITLE_CHARS)
    description = site_extras.check_text("--description", description, site_extras.MAX_DESCRIPTION_CHARS)
    manifests = [(Path(d), tasks.read_model(d)) for d in model_dirs]
    _check_names([m["name"] for _, m in manifests])
    signed = [str(d) for d, m in manifests if "signature" in m]
    if terms is not None and terms.given() and signed:
        raise UserError(f"{signed[0]}: the model is signed, and its licence and author are part of what is signed: "
                        "give --license/--author/--source-url/--card to train or import, then sign")
    inputs = [*model_dirs, *([extra] if extra is not None else [])]
    output.check_writable(Path(out).absolute(), "site", force, inputs)
    own_files = site_extras.extra_files(extra, Path(out).absolute(), report)
    for i, (model_dir, manifest) in enumerate(manifests):
        broken = manifest_io.check_integrity(model_dir, manifest)
        if broken:
            raise UserError(f"{model_dir}: {manifest_io.mismatch_text(broken)}")
        _check_runs_in_the_page(model_dir, manifest)
        manifests[i] = (model_dir, tasks.get(manifest["task"]).prepare(model_dir, manifest, report))
    page = page_of([m for _, m in manifests])
    api_url = _normalize_api_url(api_url)
    engines = {manifest["name"]: compact.engines(model_dir, manifest, tasks.get(manifest["task"]).compact_page)
               for model_dir, manifest in manifests}
    needs_ort = any(compact.ONNXRUNTIME_WEB in chosen.values() for chosen, _ in engines.values())
    webgpu_page = "webgpu" in PAGES[page]["backends"]  # a page whose workers never load WebGPU gets none of its files
    backends = {m["name"]: ["wasm", "webgpu"] if webgpu_page and archs.offers_webgpu(m.get("arch")) and compact.ONNXRUNTIME_WEB
                in engines[m["name"]][0].values() else ["wasm"] for _, m in manifests}
    needs_webgpu = any("webgpu" in b for b in backends.values())
    assets = web_assets()
    with output.atomic_folder(out, "site", force, inputs, extra=own_files) as folder:
        shutil.copytree(assets, folder, dirs_exist_ok=True, ignore=_without(assets, (BUNDLE_INFO,) + (() if needs_ort else ORT_ASSETS)
                                                                      + (() if needs_webgpu else WEBGPU_ASSETS)))
        _keep_page(folder, page)
        site_extras.personalize_page(folder / "index.html", title, description)
        if api_url:
            _allow_connect_to(folder / "index.html", api_url)
        if not needs_ort:
            hosting.forbid_webassembly(folder)
        site_manifests = {}
        for model_dir, manifest in manifests:
            chosen, missing = engines[manifest["name"]]
            site_manifests[manifest["name"]] = _copy_model(model_dir, {**manifest, "backends": backends[manifest["name"]]},
                                                           folder / "models" / manifest["name"], chosen)
            site_manifests[manifest["name"]] = _ship_terms(folder / "models" / manifest["name"], site_manifests[manifest["name"]],
                                                           terms, report)
            report(f"build: model '{manifest['name']}' ({_model_bytes(manifest) / 1e6:.2f} MB, variants {', '.join(manifest['variants'])})")
            report(f"build: model '{manifest['name']}' engine: {compact.describe(chosen, missing)}")
        config = {
            "models": [{"name": m["name"], "path": f"models/{m['name']}/"} for _, m in manifests],
            "default_model": manifests[0][1]["name"],
            "api_url": api_url,
        }
        if title is not None:
            config["title"] = title  # the page sets its heading from it (as text)
        (folder / SITE_CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        hosting.point_embed_page_at(folder, config["models"][0]["path"])
        if PAGES[page]["preload"]:  # a page whose worker fetches the model itself: a preload would be a second download
            default = manifests[0][1]
            in_page = engines[default["name"]][0].get(default["default_variant"]) == "compact"
            hosting.preload_default_model(folder, config["models"][0]["path"], default, runs_in_page=in_page)
        hosting.write_headers(folder)
        site_extras.copy_extra(folder, own_files, report)
        build_hash = hosting.write_precache(folder, site_manifests)
        report(f"build: _headers (CSP, COOP/COEP) and offline cache list written (build {build_hash})")
        precompress(folder)
        report(f"build: site written to {out} ({folder_bytes(folder) / 1e6:.2f} MB, "
               f"{folder_bytes(folder, exclude='models') / 1e6:.2f} MB without models)")
    return config


# The pages of the bundle: a site gets the one its models' task runs on (tasks.Task.page), as its
# index.html: "classifier" (a text box or a form, predictions), "video" (a camera loop, detections).
# "backends": the onnxruntime-web builds the page's workers can load (build ships WebGPU's only where it is listed).
PAGES = {
    "classifier": {"index": "index.html", "preload": True, "backends": ("wasm", "webgpu"),
                   "files": ("index.html", "embed.html", "assets/staticml.js", "assets/staticml-element.js",
                             "assets/worker.js", "assets/worker-webgpu.js")},
    "video": {"index": "camera.html", "preload": False, "backends": ("wasm",),
               "files": ("camera.html", "assets/camera.js", "assets/camera-worker.js", "assets/camera.css",
                         "assets/landmarks-worker.js")},
    # a passage box and a question box, the answer highlighted (question answering), its worker on onnxruntime-web
    "qa": {"index": "qa.html", "preload": False, "backends": ("wasm",),
           "files": ("qa.html", "assets/qa.js", "assets/qa-worker.js", "assets/qa.css")},
}


def page_of(manifests: list[dict]) -> str:
    """The page the models' tasks run on (tasks.Task.page); one page per site."""
    pages = {m["task"]: tasks.get(m["task"]).page for m in manifests}
    if len(set(pages.values())) > 1:
        raise UserError(f"build: {', '.join(sorted(pages))} models run on different pages "
                        f"({', '.join(sorted(set(pages.values())))}); build a site for each")
    return next(iter(pages.values()))


def _keep_page(folder: Path, page: str) -> None:
    """Only this page's files stay in the site, its HTML as index.html."""
    for other, spec in PAGES.items():
        if other != page:
            for name in spec["files"]:
                if name not in PAGES[page]["files"]:
                    path = folder / name
                    path.unlink(missing_ok=True)
    index = PAGES[page]["index"]
    if index != "index.html":
        (folder / index).replace(folder / "index.html")


def _check_runs_in_the_page(model_dir: Path, manifest: dict) -> None:
    """Every variant runs on the compact engine or on onnxruntime-web: never a page that cannot run it
    (the compact engine runs standard operators only, so what onnxruntime-web lacks, neither has)."""
    for file in manifest["variants"].values():
        missing = compact.onnxruntime_web_missing(model_dir / file)
        if missing:
            raise UserError(f"{model_dir / file}: onnxruntime-web has no kernel for operator(s) {', '.join(missing)}; "
                            "the page cannot run this graph (export it with standard ONNX / ai.onnx.ml operators)")


def _normalize_api_url(api_url: str | None) -> str | None:
    """An http(s) URL or a path, ending in "/" so that the page can resolve "v1/predict" against it."""
    if api_url is None:
        return None
    parts = urlsplit(api_url)
    if any(c.isspace() or c in "\"'<>`\\" for c in api_url) \
            or parts.scheme not in ("", "http", "https") or (parts.scheme and not parts.netloc) or parts.query or parts.fragment:
        raise UserError(f"--api-url {api_url!r}: give an http(s) URL or a path, like http://127.0.0.1:8001/")
    return api_url if api_url.endswith("/") else api_url + "/"


def _allow_connect_to(index_html: Path, api_url: str) -> None:
    """The page's CSP lets it fetch only from its own origin: add the API's origin when it is another."""
    parts = urlsplit(api_url)
    if not parts.scheme:
        return
    html = index_html.read_text(encoding="utf-8")
    if "connect-src 'self'" not in html:
        raise UserError(f"{index_html}: no \"connect-src 'self'\" in its Content-Security-Policy to extend")
    html = html.replace("connect-src 'self'", f"connect-src 'self' {parts.scheme}://{parts.netloc}", 1)
    index_html.write_text(html, encoding="utf-8")


def precompress(folder: Path) -> None:
    """Write `.br` and `.gz` next to each large text or binary asset, for hosts that serve them as-is."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in COMPRESSIBLE and path.stat().st_size >= MIN_COMPRESS_BYTES:
            data = path.read_bytes()
            for suffix, compressed in ((".br", _cached_brotli(data)), (".gz", gzip.compress(data, 9, mtime=0))):
                if len(compressed) < 0.9 * len(data):  # fp32 weights barely compress: not worth a copy
                    path.with_name(path.name + suffix).write_bytes(compressed)


def _cached_brotli(data: bytes) -> bytes:
    """Brotli at quality 9 takes seconds on the 14 MB WASM file: keep results by content hash."""
    import brotli

    cached = output.cache_dir() / "brotli" / (hashlib.sha256(data).hexdigest() + ".br")
    if cached.is_file():
        return cached.read_bytes()
    compressed = brotli.compress(data, quality=9)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(compressed)
    tmp.replace(cached)
    return compressed


def _check_names(names: list[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"build: two models are named {', '.join(duplicates)}; names must differ")


def _copy_model(model_dir: Path, manifest: dict, target: Path, engines: dict[str, str]) -> dict:
    """The model's files, and its manifest with the page's engine per variant; returns that manifest."""
    target.mkdir(parents=True)
    for name in manifest["files"]:
        shutil.copy2(model_dir / name, target / name)
    site_manifest = {**manifest, "engines": engines}
    manifest_io.write(target, site_manifest, tasks.get(manifest["task"]).fields)
    return site_manifest


def _ship_terms(target: Path, manifest: dict, terms: provenance.Terms | None, report: Callable[[str], None]) -> dict:
    """build's --license, --author, --source-url, --card over the model's own; a warning when it has no licence."""
    if terms is not None and terms.given():
        manifest = provenance.record(target, manifest, terms, tasks.get(manifest["task"]).fields, report=lambda _: None)
    if not provenance.has_license(manifest):
        report(f"build: warning: model '{manifest['name']}' has no licence (--license SPDX-ID or --license-file); "
               "visitors get its weights without terms")
    return manifest


def _without(root: Path, paths: tuple[str, ...]) -> Callable[[str, list[str]], list[str]]:
    """A copytree `ignore` that leaves out these paths (relative to `root`)."""
    skip = {root / p for p in paths}
    return lambda folder, names: [n for n in names if Path(folder) / n in skip]


def _model_bytes(manifest: dict) -> int:
    return sum(entry["bytes"] for entry in manifest["files"].values())


def folder_bytes(folder: Path, exclude: str | None = None) -> int:
    """Bytes of the site's files, not counting the precompressed copies."""
    return sum(p.stat().st_size for p in folder.rglob("*")
               if p.is_file() and p.suffix not in (".br", ".gz")
               and not (exclude and p.relative_to(folder).parts[0] == exclude))
