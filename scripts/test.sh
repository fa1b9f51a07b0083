#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Lint and typecheck first: seconds, and they name the line.
.venv/bin/ruff check src tests scripts
(cd web && npm run --silent typecheck)
exec .venv/bin/python -m pytest -q "$@"
