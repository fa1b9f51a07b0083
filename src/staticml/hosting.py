"""What a built site tells its host and its service worker: `_headers` (CSP, COOP/COEP) and the
offline precache list with the build hash stamped into `sw.js`."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path
from urllib.parse import quote

HEADERS_FILE = "_headers"
PRECACHE_FILE = "precache.json"
SERVICE_WORKER = "sw.js"
BUILD_PLACEHOLDER = "__STATICML_BUILD__"
EMBED_PAGE = "embed.html"
EMBED_MODEL = 'model="models/sentiment/"'

# Cross-origin isolation lets onnxruntime-web use several threads (SharedArrayBuffer).
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# No MIME sniffing (a model's text file is never run as a script or page), and no framing by other
# origins (clickjacking): the page is meant to be embedded through the custom element, not framed.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
}
# Directives a <meta> CSP cannot carry (browsers ignore them there): added to the header only.
HEADER_ONLY_CSP = {"frame-ancestors": "'self'"}


def site_headers() -> dict[str, str]:
    """The headers every response of a site carries, but its CSP (see `content_security_policy`)."""
    return {**ISOLATION_HEADERS, **SECURITY_HEADERS}

_META_CSP = re.compile(r'<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"', re.I)


WASM_EVAL = " 'wasm-unsafe-eval'"  # in script-src: onnxruntime-web compiles WebAssembly


def forbid_webassembly(site: Path) -> None:
    """A site whose models all run on the compact engine (plain JavaScript) compiles no
    WebAssembly: its pages' policies say so."""
    for name in ("index.html", EMBED_PAGE):
        page = site / name
        if page.is_file():
            page.write_text(page.read_text(encoding="utf-8").replace(WASM_EVAL, "", 1), encoding="utf-8")


def content_security_policy(site: Path) -> str | None:
    """The policy of the page's meta tag (the one source of the site's CSP), as a header must carry it."""
    index = Path(site) / "index.html"
    if not index.is_file():
        return None
    match = _META_CSP.search(index.read_text(encoding="utf-8", errors="replace"))
    if not match:
        return None
    policy = html.unescape(match.group(1)).strip()
    # One line whatever the page held (a header cannot span lines), one space between tokens.
    directives = [" ".join(d.split()) for d in policy.split(";") if d.strip()]
    named = {d.split()[0].lower() for d in directives}
    directives += [f"{name} {value}" for name, value in HEADER_ONLY_CSP.items() if name not in named]
    return "; ".join(directives)


def write_headers(site: Path) -> None:
    """`_headers` (Netlify, Cloudflare Pages): the CSP, the isolation and security headers on every path."""
    headers = site_headers()
    policy = content_security_policy(site)
    if policy:
        headers["Content-Security-Policy"] = policy
    lines = ["/*"] + [f"  {name}: {value}" for name, value in headers.items()]
    (site / HEADERS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def point_embed_page_at(site: Path, model_path: str) -> None:
    """The example page of the custom element names the site's default model.

    The path holds the model's name, which comes from a manifest: it goes into the page as a URL
    (percent-encoded) inside an attribute and a code sample (HTML-escaped), never as markup."""
    page = site / EMBED_PAGE
    if page.is_file():
        text = page.read_text(encoding="utf-8")
        attribute = html.escape(quote(model_path, safe="/"), quote=True)
        page.write_text(text.replace(EMBED_MODEL, f'model="{attribute}"'), encoding="utf-8")


PRELOAD_AFTER = '<link rel="stylesheet" href="assets/style.css">'


def preload_default_model(site: Path, model_path: str, manifest: dict, runs_in_page: bool = True) -> None:
    """Let the browser fetch site.json and the default model's files while the script loads: they
    are known at build time, and otherwise each waits for the one before it (a round trip each).
    Only what the page's own thread reads: a preload is not shared with a worker, so the model and
    tokenizer of a model that runs in the worker (`runs_in_page` False) would cross the network twice."""
    page = site / "index.html"
    text = page.read_text(encoding="utf-8")
    model_files = ["manifest.json"]
    if runs_in_page:
        model_files += ([manifest["tokenizer"]["file"]] if "tokenizer" in manifest else []) \
            + [manifest["variants"][manifest["default_variant"]]]
    files = ["site.json"] + [model_path + name for name in model_files]
    links = "".join(f'\n  <link rel="preload" href="{html.escape(quote(f, safe="/"), quote=True)}" as="fetch" crossorigin>'
                    for f in files)
    page.write_text(text.replace(PRELOAD_AFTER, PRELOAD_AFTER + links, 1), encoding="utf-8")


def write_precache(site: Path, manifests: dict[str, dict]) -> str:
    """Write `precache.json` (the files the service worker caches, the build hash) and stamp the
    hash into `sw.js`; return the hash. Each model's other variants (and onnxruntime-web, when no
    default variant runs on it) are cached only once used."""
    if not (site / SERVICE_WORKER).is_file():
        return ""
    # Hidden files (a marker, an editor's leftovers) are never served, so never precached.
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*")
                   if p.is_file() and p.name not in (SERVICE_WORKER, PRECACHE_FILE)
                   and not is_hidden(p.relative_to(site).as_posix()))
    build = _build_hash(site, files)
    skipped = {f"models/{name}/{file}" for name, manifest in manifests.items()
               for variant, file in manifest["variants"].items() if variant != manifest["default_variant"]}
    # onnxruntime-web (in the site when some variant needs it) is precached only when a default
    # variant runs on it; otherwise the service worker caches it once a page has used it.
    if all(m.get("engines", {}).get(m["default_variant"]) == "compact" for m in manifests.values()):
        skipped |= {f for f in files if f.startswith("assets/ort/") or f == "assets/worker.js"}
    # onnxruntime-web's WebGPU build: only a page that uses WebGPU fetches it (then it is cached).
    skipped |= {f for f in files if f.startswith("assets/ort-webgpu/") or f == "assets/worker-webgpu.js"}
    precached = [quote(f) for f in files if f not in skipped and f != HEADERS_FILE]
    (site / PRECACHE_FILE).write_text(json.dumps({"build": build, "files": precached}, indent=1) + "\n", encoding="utf-8")
    sw = site / SERVICE_WORKER
    sw.write_text(sw.read_text(encoding="utf-8").replace(BUILD_PLACEHOLDER, build), encoding="utf-8")
    return build


def is_hidden(path: str) -> bool:
    """A path with a segment that starts with "." (`.env`, `.git/config`, `..`): never served."""
    return any(part.startswith(".") for part in path.replace("\\", "/").split("/"))


def _build_hash(site: Path, files: list[str]) -> str:
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256((site / name).read_bytes()).digest())
    return digest.hexdigest()[:16]
