"""One parity check, used by export, build, verify and the tests alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Every tolerance of the project but the per-architecture export ones (archs.py), in one place.
# Largest absolute probability difference allowed between two runs of one variant (page vs
# native, API vs native); a variant not listed gets the int8 one.
TOLERANCE = {"fp32": 1e-4, "int8": 1e-3}
# A smaller variant may move probabilities (int8 weights) but must keep the reference's answers:
# a label may flip only where the reference's top two are within VARIANT_TOLERANCE of each other.
VARIANT_TOLERANCE = 0.25
# The page on WebGPU against Python's CPU onnxruntime: other kernels, other float sums.
WEBGPU_TOLERANCE = 1e-3
VARIANT_AGREEMENT = 0.95
# An imported ONNX file of unknown architecture against the PyTorch model it came from.
IMPORT_TOLERANCE = 1e-4


def tolerance(variant: str, backend: str = "wasm") -> float:
    allowed = TOLERANCE.get(variant, TOLERANCE["int8"])
    return max(allowed, WEBGPU_TOLERANCE) if backend == "webgpu" else allowed


@dataclass
class ParityReport:
    max_abs_diff: float
    label_agreement: float
    worst_index: int
    count: int
    tolerance: float
    min_agreement: float = 1.0

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance and self.label_agreement >= self.min_agreement

    def summary(self) -> str:
        return (f"max |Δp| {self.max_abs_diff:.2e} (tolerance {self.tolerance:.2g}), "
                f"labels agree {self.label_agreement:.2%} on {self.count} texts")


class ParityError(Exception):
    """Two runs that should compute the same thing did not."""

    def __init__(self, what: str, report: ParityReport, text: str | None = None):
        detail = f" (worst text: {text[:80]!r})" if text is not None else ""
        super().__init__(f"{what}: {report.summary()}{detail}")
        self.report = report


def compare(reference: np.ndarray, candidate: np.ndarray, tolerance: float, min_agreement: float = 1.0) -> ParityReport:
    reference, candidate = np.asarray(reference, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    if reference.shape != candidate.shape:
        raise ValueError(f"shapes differ: {reference.shape} vs {candidate.shape}")
    if reference.size == 0:
        return ParityReport(0.0, 1.0, -1, 0, tolerance, min_agreement)
    diff = np.abs(reference - candidate).max(axis=-1)
    # A near-tie (top two within the tolerance) may fall either way without being a disagreement.
    top_two = np.sort(reference, axis=-1)[:, -2:] if reference.shape[-1] > 1 else np.zeros((len(reference), 2))
    tie = (top_two[:, 1] - top_two[:, 0]) <= tolerance
    agree = ((reference.argmax(axis=-1) == candidate.argmax(axis=-1)) | tie).mean()
    return ParityReport(float(diff.max()), float(agree), int(diff.argmax()), len(reference), tolerance, min_agreement)


def require(what: str, reference: np.ndarray, candidate: np.ndarray, tolerance: float,
            texts: list[str] | None = None, min_agreement: float = 1.0) -> ParityReport:
    report = compare(reference, candidate, tolerance, min_agreement)
    if not report.ok:
        raise ParityError(what, report, texts[report.worst_index] if texts else None)
    return report
