"""build, serve, verify and bench never import torch or transformers (a serving image stays small)."""

from __future__ import annotations

import subprocess
import sys


def test_serving_side_modules_do_not_import_training_libraries():
    code = ("import sys, staticml.cli, staticml.site, staticml.server, staticml.api, staticml.verify, staticml.bench, "
            "staticml.bench_report, staticml.runtime; "
            "print(sorted(m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
