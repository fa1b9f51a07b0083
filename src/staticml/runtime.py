"""Native inference with onnxruntime on a model folder: the reference the page is held to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from . import manifest as manifest_io, tabular
from .errors import UserError
from .tokenize import TextEncoder


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


BATCH_SIZE = 64  # texts per run; the page uses the same batches (web/src/classify.ts)


def model_feeds(encoder: TextEncoder, texts: list[str], extra_inputs: dict[str, str]) -> dict[str, np.ndarray]:
    """The graph's inputs: token ids and mask, and each declared extra input (token_type_ids) as
    zeros shaped like the ids, for one sentence. The page feeds exactly the same."""
    feeds = encoder.batch(texts)
    for name in extra_inputs:
        feeds[name] = np.zeros_like(feeds["input_ids"])
    return feeds


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
    """One model folder, one variant, one session: texts (or, for a tabular model, rows
    `{column: value}`) in, probabilities out."""

    def __init__(self, model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True):
        self.model_dir = Path(model_dir)
        self.manifest = manifest_io.read(self.model_dir)
        if self.manifest["task"] not in manifest_io.CLASSIFIERS:  # a face detector: staticml.detect.Detector
            raise UserError(f"{self.model_dir}: a {self.manifest['task']} model, not a classifier "
                            "(it runs in its camera page; the HTTP API and predict serve classifiers)")
        self.variant = variant or self.manifest["default_variant"]
        if self.variant not in self.manifest["variants"]:
            raise UserError(f"{self.model_dir}: no variant '{self.variant}' (has {', '.join(self.manifest['variants'])})")
        self.labels: list[str] = self.manifest["labels"]
        self.features: list[dict] | None = self.manifest.get("features") if self.tabular else None
        self.encoder = None if self.tabular else TextEncoder.from_model_dir(self.model_dir, self.manifest)
        self.session = create_session(self.model_dir / self.manifest["variants"][self.variant], threads, spin)
        self.extra_inputs = self.manifest.get("extra_inputs", {})
        self._check_outputs()

    @property
    def tabular(self) -> bool:
        return self.manifest["task"] == "tabular-classification"

    def _check_outputs(self) -> None:
        """The graph answers `logits` (tabular: `probabilities`), one per label (run once, as the page does at load)."""
        where = f"{self.model_dir / self.manifest['variants'][self.variant]}"
        output = "probabilities" if self.tabular else "logits"
        if output not in [o.name for o in self.session.get_outputs()]:
            raise UserError(f"{where}: the graph has no output named '{output}'")
        try:
            probe = [tabular.typical_row(self.features)] if self.tabular else ["a short text"]
            width = self._scores(probe).shape
        except Exception as exc:  # onnxruntime raises several types for a graph that cannot run
            raise UserError(f"{where}: onnxruntime cannot run it ({str(exc).splitlines()[0][:200]})") from None
        if len(width) != 2 or width[1] != len(self.labels):
            raise UserError(f"{where}: outputs {output} of shape {list(width)} but manifest.json has "
                            f"{len(self.labels)} labels ({', '.join(self.labels)})")

    @property
    def name(self) -> str:
        return self.manifest["name"]

    def logits(self, texts: list[str]) -> np.ndarray:
        return self.session.run(["logits"], model_feeds(self.encoder, texts, self.extra_inputs))[0]

    def _scores(self, items: list) -> np.ndarray:
        """What the graph answers: logits for texts, probabilities for rows."""
        if self.tabular:
            return self.session.run(["probabilities"], tabular.feeds(self.features, items))[0]
        return self.logits(items)

    def check(self, items: list) -> None:
        """Rows that break the feature schema are refused naming the row and field (tabular.RowError)."""
        if self.tabular:
            tabular.check_rows(self.features, items)

    def probabilities(self, texts: list, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Per text (or row) and label; a tabular graph's output is already probabilities."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        self.check(texts)
        finish = (lambda scores: scores) if self.tabular else softmax
        chunks = [finish(self._scores(texts[i:i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.concatenate(chunks)

    def predict(self, texts: list) -> list[dict]:
        """The page's and the API's answer shape: [{label, scores: {label: probability}}]."""
        return [self._prediction(row) for row in self.probabilities(texts)]

    def _prediction(self, probs: np.ndarray) -> dict:
        return {"label": self.labels[int(probs.argmax())],
                "scores": {label: float(p) for label, p in zip(self.labels, probs)}}
