"""The accuracy-per-byte chart (`bench`'s accuracy_per_byte.png) for model folders, without a site
or a browser: `python scripts/accuracy_per_byte.py NAME=MODEL_DIR ... --out chart.png [--json points.json]`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from staticml.tasks.classify.accuracy import draw, folder_points


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="+", help="NAME=MODEL_DIR")
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="Accuracy per byte")
    p.add_argument("--json")
    args = p.parse_args()
    points = folder_points({m.split("=", 1)[0]: Path(m.split("=", 1)[1]) for m in args.models})
    draw(points, Path(args.out), args.title)
    if args.json:
        Path(args.json).write_text(json.dumps(points, indent=1) + "\n")
    for point in points["models"]:
        print(f"{point['model']}/{point['variant']}: macro-F1 {point['macro_f1']:.4f}  {point['wire_bytes'] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
