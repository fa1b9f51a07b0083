"""A form-data model on Python onnxruntime: rows {column: value} in, probabilities out, fed by the
contract's rule (features.feeds); rows that break the feature schema are refused naming the field."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import manifest as manifest_io
from ...runtime import Classifier
from . import features



def _positive_label(value) -> str | None:
    return None if isinstance(value, str) and value else "must be one of the labels (a non-empty string)"


# positive_label: the favourable outcome, whose probability the page's headline shows (absent: the last label).
FIELDS = manifest_io.Fields({**manifest_io.LABELS, "features": features.check_features, "positive_label": _positive_label},
                            required=("labels", "features"))


def read_model(model_dir: str | Path) -> dict:
    manifest = manifest_io.read(model_dir, FIELDS)
    problem = features.positive_label_problem(manifest)
    if problem:
        raise manifest_io.ManifestError(f"{Path(model_dir) / manifest_io.MANIFEST}: {problem}")
    return manifest


class TabularClassifier(Classifier):
    output = "probabilities"  # the graph's output already is probabilities

    def __init__(self, model_dir: str | Path, manifest: dict, variant: str | None = None, threads: int = 0, spin: bool = True):
        super().__init__(model_dir, manifest, variant, threads, spin)
        self.features: list[dict] = self.manifest["features"]
        self.check_outputs()

    def probe(self) -> dict:
        return features.typical_row(self.features)

    def scores(self, items: list) -> np.ndarray:
        return self.session.run(["probabilities"], features.feeds(self.features, items))[0]

    def finish(self, scores: np.ndarray) -> np.ndarray:
        return scores

    def check(self, items: list) -> None:
        """Rows that break the feature schema are refused naming the row and field (features.RowError)."""
        features.check_rows(self.features, items)


def open_model(model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True) -> TabularClassifier:
    return TabularClassifier(model_dir, read_model(model_dir), variant, threads, spin)
