"""`staticml verify SITE --model-folder DIR` fails a site that publishes the model's held-out data
(issue 22, item 2): the CLI, verify and staticml.leaks wired together, in a real run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from staticml import leaks

pytestmark = pytest.mark.browser


def test_verify_fails_a_site_holding_a_held_out_text_and_passes_the_others(site, tiny_model, tmp_path):
    leaked = next(t for t in json.loads((tiny_model / leaks.HELD_OUT_TEXTS).read_text(encoding="utf-8")) if len(t) > 30)
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    (copy / "credits.txt").write_text(f"Thanks to everyone who wrote: {leaked}\n", encoding="utf-8")
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "staticml", "verify", str(copy), "--model-folder", str(tiny_model),
                           "--json", str(report)], capture_output=True, text=True, timeout=600)
    checks = {c["name"]: c for c in json.loads(report.read_text())["checks"]}
    assert done.returncode == 1, done.stderr[-2000:]
    assert checks["sentiment: held-out data"]["status"] == "FAIL"
    assert "credits.txt" in checks["sentiment: held-out data"]["figure"]
    assert [name for name, c in checks.items() if c["status"] == "FAIL"] == ["sentiment: held-out data"]
