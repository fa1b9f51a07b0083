"""Issue 16: accuracy per byte, from a site's manifests (no browser needed)."""

from __future__ import annotations

import gzip

from staticml import manifest as manifest_io
from staticml.tasks.classify.accuracy import accuracy_points, draw
from staticml.tasks.classify.report import write_markdown
from staticml.site_config import model_dirs, read_site


def test_every_variant_is_a_point_with_its_manifest_figure_and_gzip_bytes(site, tmp_path):
    model_dir = model_dirs(site, read_site(site))["sentiment"]
    manifest = manifest_io.read(model_dir)
    points = accuracy_points(site)
    assert {(p["model"], p["variant"]) for p in points["models"]} == {("sentiment", v) for v in manifest["variants"]}
    tokenizer = len(gzip.compress((model_dir / "tokenizer.json").read_bytes(), 6))
    for point in points["models"]:
        variant = point["variant"]
        assert point["macro_f1"] == manifest["metrics"]["variants"][variant]["macro_f1"]
        model_file = model_dir / manifest["variants"][variant]
        assert point["wire_bytes"] < model_file.stat().st_size + (model_dir / "tokenizer.json").stat().st_size
        assert point["wire_bytes"] > tokenizer / 2 and point["default"] == (variant == manifest["default_variant"])
    assert points["references"] == [{"model": "sentiment", "name": "TF-IDF + logistic regression", "labels": 2,
                                     "macro_f1": manifest["metrics"]["baselines"]["tfidf_logreg"]["macro_f1"],
                                     "wire_bytes": None}]
    draw(points, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = {"site": str(site), "machine": {"cpus": 2}, "seconds": 1, "text": "t", "profiles": [], "results": [],
              "accuracy_per_byte": points}
    assert "| sentiment/int8 (default) | tiny |" in write_markdown(report)
