"""Accuracy per byte: every model and variant of a site, its test macro-F1 (from its manifest's
metrics) against the bytes a visitor downloads for it (the variant's file and tokenizer.json, gzip,
as served over plain http; the build's .gz copy where there is one). TF-IDF + logistic regression,
measured by `train` on the same split, is the reference: a point if its bytes are recorded, else a
horizontal line."""

from __future__ import annotations

import gzip
from pathlib import Path

from ... import manifest as manifest_io
from ...site_config import model_dirs, read_site


def accuracy_points(site: str | Path) -> dict:
    """{"models": [{model, variant, arch, macro_f1, accuracy, wire_bytes, default}], "references": [...]}"""
    site = Path(site)
    return folder_points(model_dirs(site, read_site(site)))


def folder_points(folders: dict[str, Path]) -> dict:
    """accuracy_points for model folders by name (no site needed)."""
    points, references = [], []
    for name, model_dir in folders.items():
        manifest = manifest_io.read(model_dir)
        metrics = manifest.get("metrics") or {}
        for variant, file in manifest["variants"].items():
            measured = (metrics.get("variants") or {}).get(variant) or {}
            if "macro_f1" not in measured:
                continue  # an imported model without held-out figures
            files = [file] + ([manifest["tokenizer"]["file"]] if manifest.get("tokenizer") else [])
            points.append({"model": name, "variant": variant, "arch": manifest.get("arch"),
                           "distilled": "distillation" in metrics,
                           "macro_f1": measured["macro_f1"], "accuracy": measured.get("accuracy"),
                           "wire_bytes": sum(gzip_bytes(model_dir / f) for f in files),
                           "default": variant == manifest["default_variant"]})
        baseline = (metrics.get("baselines") or {}).get("tfidf_logreg")
        if baseline and "macro_f1" in baseline:
            references.append({"model": name, "name": "TF-IDF + logistic regression", "labels": len(manifest["labels"]),
                               "macro_f1": baseline["macro_f1"], "wire_bytes": baseline.get("bytes")})
    return {"models": points, "references": _distinct(references)}


def gzip_bytes(path: Path) -> int:
    copy = path.with_name(path.name + ".gz")
    return copy.stat().st_size if copy.is_file() else len(gzip.compress(path.read_bytes(), 6))


def _distinct(references: list[dict]) -> list[dict]:
    """One reference per figure: models trained on the same data share their baseline."""
    seen, kept = set(), []
    for ref in references:
        key = (ref["labels"], ref["macro_f1"])
        if key not in seen:
            seen.add(key)
            kept.append(ref)
    return kept


def draw(points: dict, path: Path, title: str = "Accuracy per byte") -> None:
    """One PNG: macro-F1 against bytes on the wire (log scale), one marker per model and variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(9, 5))
    colors = {name: f"C{i}" for i, name in enumerate(dict.fromkeys(p["model"] for p in points["models"]))}
    below = {name: 4 if i % 2 == 0 else -11 for i, name in enumerate(colors)}  # every other model's names below
    for point in points["models"]:
        x, y = point["wire_bytes"] / 1e6, point["macro_f1"]
        ax.scatter(x, y, s=140 if point["default"] else 70, marker="*" if point["distilled"] else "o",
                   color=colors[point["model"]], edgecolors="black" if point["default"] else "none", zorder=3)
        ax.annotate(f"{point['model']}/{point['variant']}", (x, y), textcoords="offset points", xytext=(6, below[point["model"]]),
                    fontsize=8)
    for ref in points["references"]:
        label = f"{ref['name']} ({ref['labels']} labels): {ref['macro_f1']:.3f}"
        if ref.get("wire_bytes"):
            ax.scatter(ref["wire_bytes"] / 1e6, ref["macro_f1"], marker="s", color="grey", label=label, zorder=3)
        else:
            ax.axhline(ref["macro_f1"], color="grey", linestyle="--", linewidth=1, label=label)
    ys = [p["macro_f1"] for p in points["models"]] + [r["macro_f1"] for r in points["references"]]
    ax.set_ylim(min(ys) - 0.01, max(ys) + 0.01)
    xs = [p["wire_bytes"] / 1e6 for p in points["models"]]
    low, high = min(xs) / 1.5, max(xs) * 2.5  # room for the labels on the right
    ax.set_xlim(low, high)
    ax.set_xscale("log")
    ax.set_xticks([t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200) if low <= t <= high])
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("model bytes on the wire (MB, gzip: model file + tokenizer.json; log scale)")
    ax.set_ylabel("test macro-F1")
    ax.set_title(f"{title} (★ distilled from a teacher; ringed: the default variant)")
    ax.grid(True, which="both", alpha=0.3)
    if points["references"]:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
