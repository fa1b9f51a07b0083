#!/usr/bin/env bash
# CI (issue 17): the wheel carries the page and serves without torch or node. Builds the wheel,
# installs it into a fresh virtualenv (no torch: the base dependencies must not pull it), trains a
# small model folder with the dev .venv, then with the wheel's staticml: build, verify, predict,
# serve --api; a command whose extra is missing names it. Prints the wheel's size and install time.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'kill ${trainer:-} ${server:-} 2>/dev/null || true; rm -rf "$work"' EXIT

# The model folder, made by the training environment while the wheel is built and installed.
data="$(.venv/bin/python -c 'from staticml.train.data import default_data_path; print(default_data_path())')"
nice -n 10 .venv/bin/staticml train "$data" --text-col text --label-col sentiment --labels negative,positive \
  --epochs 0.2 --out "$work/model" >"$work/train.log" 2>&1 &
trainer=$!
bash scripts/build_wheel.sh "$work/dist"
wheel="$(ls "$work"/dist/staticml-*.whl)"
.venv/bin/python -m venv "$work/venv"  # the same Python as the dev .venv, none of its packages
started=$(date +%s%N)
"$work/venv/bin/pip" install -qq "$wheel"
echo "test_wheel: wheel $(du -k "$wheel" | cut -f1) KB; installed with its dependencies in $(( ($(date +%s%N) - started) / 1000000 )) ms" \
     "($(du -sm "$work/venv" | cut -f1) MB virtualenv)"
sml="$work/venv/bin/staticml"
if "$work/venv/bin/python" -c "import torch" 2>/dev/null; then echo "test_wheel: torch is importable in the wheel's environment" >&2; exit 1; fi
"$sml" --version | grep -q "onnxruntime-web" || { echo "test_wheel: --version names no onnxruntime-web" >&2; exit 1; }
wait "$trainer" || { cat "$work/train.log"; exit 1; }


# A command that needs an extra says which, in one line, exit 2.
set +e
"$sml" train "$data" --text-col text --label-col sentiment --out "$work/m2" 2>"$work/extra.err"
code=$?
set -e
if [ "$code" != 2 ] || [ "$(wc -l <"$work/extra.err")" != 1 ] || ! grep -q "staticml\[train\]" "$work/extra.err"; then
  echo "test_wheel: train without torch: exit $code, $(cat "$work/extra.err")" >&2; exit 1
fi

cd "$work"  # nothing below may rely on the checkout
"$sml" build model --out site 2>/dev/null
"$sml" verify site >verify.log 2>&1 || { cat verify.log; exit 1; }
"$sml" predict site "$data" --out scores.parquet 2>predict.log || { cat predict.log; exit 1; }
echo "test_wheel: $(tail -1 predict.log)"
port="$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$sml" serve site --api --port "$port" >serve.log 2>&1 &
server=$!
"$work/venv/bin/python" - "http://127.0.0.1:$port/" <<'PY'
import json, sys, time, urllib.request
base = sys.argv[1]
for _ in range(100):  # the server is up within seconds
    try:
        urllib.request.urlopen(base + "healthz", timeout=2)
        break
    except OSError:
        time.sleep(0.2)
page = urllib.request.urlopen(base, timeout=5)
assert page.headers["Cross-Origin-Embedder-Policy"] == "require-corp", dict(page.headers)
urllib.request.urlopen(base + "sw.js", timeout=5)
request = urllib.request.Request(base + "v1/predict", json.dumps({"texts": ["I love it"]}).encode(),
                                 {"content-type": "application/json"})
assert "label" in json.load(urllib.request.urlopen(request, timeout=10))["predictions"][0]
PY
echo "test_wheel: ok (build, verify, predict and serve --api from the wheel; no torch; train names its extra)"
