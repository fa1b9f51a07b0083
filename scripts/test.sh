#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Lint and typecheck first: seconds, and they name the line.
.venv/bin/ruff check src tests scripts
(cd web && npm run --silent typecheck)
# The compact engine's unit tests (per operator, against Python onnxruntime): seconds.
(cd web && npm test --silent)
.venv/bin/python -m pytest -q --slow "$@"
# The wheel with the page inside, installed without torch or node (minutes: only for the whole suite).
if [ "$#" -eq 0 ]; then bash scripts/test_wheel.sh; fi
