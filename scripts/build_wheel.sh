#!/usr/bin/env bash
# Build staticml's sdist and wheel into dist/ (or the folder given), the page inside: the bundle,
# the service worker and onnxruntime-web's files, which `npm run build` writes into the git-ignored
# src/staticml/web_assets (package-data in pyproject.toml). Building needs node (`npm ci` in web/,
# as scripts/setup.sh does) and the dev .venv; installing the wheel needs neither node nor torch.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-dist}")"
log="$(mktemp)"
(cd web && npm run --silent build >"$log" 2>&1) || { cat "$log"; exit 1; }
rm -rf build
# The wheel is built from the sdist (build's default): so the sdist is proven to carry the page too.
.venv/bin/python -m build --no-isolation --outdir "$out" . >"$log" 2>&1 || { cat "$log"; exit 1; }
rm -f "$log"
wheel=$(ls -t "$out"/staticml-*.whl | head -1)
.venv/bin/python - "$wheel" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["index.html", "sw.js", "bundle.json", "assets/staticml.js", "assets/worker.js",
        "assets/ort/ort-wasm-simd-threaded.mjs", "assets/ort/ort-wasm-simd-threaded.wasm"]
missing = [n for n in need if f"staticml/web_assets/{n}" not in names]
if missing:
    sys.exit(f"build_wheel: {sys.argv[1]} lacks web_assets/{', '.join(missing)}")
PY
echo "build_wheel: $wheel ($(du -k "$wheel" | cut -f1) KB) and $(ls -t "$out"/staticml-*.tar.gz | head -1)"
