"""Native inference with onnxruntime on a model folder: the reference the page is held to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from .errors import UserError


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


BATCH_SIZE = 64  # texts per run; the page uses the same batches (web/src/tasks/text/classify.ts)


def create_session(path: Path, threads: int = 0, spin: bool = True) -> ort.InferenceSession:
    """`spin=False` keeps idle worker threads from busy-waiting: a server shares its cores with I/O."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several types for a bad graph
        raise UserError(f"{path}: onnxruntime cannot load it ({str(exc).splitlines()[0][:200]})") from None


class Classifier:
    """One classifier model folder, one variant, one session: inputs in, probabilities out. A task
    says what its inputs are (texts, rows) by subclassing: `scores` (what the graph answers for a
    batch), `finish` (scores -> probabilities), `check` and `probe` (a valid input)."""

    output = "logits"  # the graph output holding one score per label

    def __init__(self, model_dir: str | Path, manifest: dict, variant: str | None = None, threads: int = 0, spin: bool = True):
        self.model_dir = Path(model_dir)
        self.manifest = manifest
        self.variant = variant or self.manifest["default_variant"]
        if self.variant not in self.manifest["variants"]:
            raise UserError(f"{self.model_dir}: no variant '{self.variant}' (has {', '.join(self.manifest['variants'])})")
        self.labels: list[str] = self.manifest["labels"]
        # Models trained before prediction sets (or too few calibration rows) answer without a set.
        self.set_threshold: float | None = (self.manifest.get("conformal") or {}).get("threshold")
        self.session = create_session(self.model_dir / self.manifest["variants"][self.variant], threads, spin)

    def check_outputs(self) -> None:
        """The graph answers `output`, one per label (run once on `probe()`, as the page does at load)."""
        where = f"{self.model_dir / self.manifest['variants'][self.variant]}"
        if self.output not in [o.name for o in self.session.get_outputs()]:
            raise UserError(f"{where}: the graph has no output named '{self.output}'")
        try:
            width = self.scores([self.probe()]).shape
        except Exception as exc:  # onnxruntime raises several types for a graph that cannot run
            raise UserError(f"{where}: onnxruntime cannot run it ({str(exc).splitlines()[0][:200]})") from None
        if len(width) != 2 or width[1] != len(self.labels):
            raise UserError(f"{where}: outputs {self.output} of shape {list(width)} but manifest.json has "
                            f"{len(self.labels)} labels ({', '.join(self.labels)})")

    @property
    def name(self) -> str:
        return self.manifest["name"]

    def probe(self) -> Any:
        raise NotImplementedError

    def scores(self, items: list) -> np.ndarray:
        raise NotImplementedError

    def finish(self, scores: np.ndarray) -> np.ndarray:
        return softmax(scores)

    def check(self, items: list) -> None:
        """Refuses inputs the model cannot take, naming the input and the problem (a UserError)."""

    def probabilities(self, items: list, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Per input and label."""
        if not items:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        self.check(items)
        return np.concatenate([self.finish(self.scores(items[i:i + batch_size])) for i in range(0, len(items), batch_size)])

    def predict(self, items: list) -> list[dict]:
        """The page's and the API's answer shape: [{label, scores: {label: probability}}], plus
        `set` (the labels of the conformal prediction set, most probable first) when the manifest
        has a conformal threshold."""
        probabilities = self.probabilities(items)
        sets = self.sets(probabilities) or [None] * len(probabilities)
        return [self._prediction(row, members) for row, members in zip(probabilities, sets)]

    def sets(self, probabilities: np.ndarray) -> list[list[str]] | None:
        """Each row's prediction set (labels by falling probability), or None without a threshold."""
        if self.set_threshold is None:
            return None
        return set_members(probabilities, self.labels, self.set_threshold)

    def _prediction(self, probs: np.ndarray, members: list[str] | None = None) -> dict:
        prediction = {"label": self.labels[int(probs.argmax())],
                      "scores": {label: float(p) for label, p in zip(self.labels, probs)}}
        if members is not None:
            prediction["set"] = members
        return prediction


def prediction_sets(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Conformal prediction sets (manifest "conformal"): per row, True for each label whose
    probability is at least `threshold`, and always for the top label (a set is never empty).
    The page computes the same (web/src/tasks/text/classify.ts predictionSet)."""
    keep = probabilities >= threshold
    keep[np.arange(len(probabilities)), probabilities.argmax(axis=-1)] = True
    return keep


def set_members(probabilities: np.ndarray, labels: list[str], threshold: float) -> list[list[str]]:
    """Each row's prediction set as labels, most probable first (ties in label order)."""
    keep = prediction_sets(probabilities, threshold)
    return [[labels[i] for i in np.argsort(-row, kind="stable") if member[i]] for row, member in zip(probabilities, keep)]
