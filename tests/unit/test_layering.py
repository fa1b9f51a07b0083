"""The boundary: the serving side (build, serve, api, verify, bench) reads model folders only. It
never imports the training side (`staticml.train`) nor torch, transformers or scikit-learn, so a
serving image stays small and starts fast."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import staticml

TRAINING_LIBRARIES = ("torch", "transformers", "sklearn", "skl2onnx", "skops", "tensorflow", "keras", "tf2onnx")
SERVING = sorted(f"staticml.{m.name}" for m in pkgutil.iter_modules(staticml.__path__)
                 if not m.ispkg and m.name not in ("__main__",))


def test_serving_side_modules_do_not_import_the_training_side():
    code = (f"import sys, {', '.join(SERVING)}; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {TRAINING_LIBRARIES!r} "
            "or m.startswith('staticml.train')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
