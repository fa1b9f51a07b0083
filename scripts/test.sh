#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite in lanes, quickest first; a lane that fails stops
# the run there. Extra arguments go to pytest (then the wheel check is skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Lint and typecheck first: seconds, and they name the line.
.venv/bin/ruff check src tests scripts
(cd web && npm run --silent typecheck)
# The quick lane: no browser, nothing slow (about a minute or two).
.venv/bin/python -m pytest -q -m "not browser and not slow" --durations=10 "$@"
# The compact engine's and the page's own unit tests (node's test runner, against Python onnxruntime): seconds.
(cd web && npm test --silent)
# The browser and slow lane: real headless Chromium, training, TensorFlow imports (tens of minutes).
status=0
.venv/bin/python -m pytest -q --slow -m "browser or slow" --durations=25 "$@" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then exit "$status"; fi  # 5: the arguments selected none here
# The wheel with the page inside, installed without torch or node (minutes: only for the whole suite).
if [ "$#" -eq 0 ]; then bash scripts/test_wheel.sh; fi
