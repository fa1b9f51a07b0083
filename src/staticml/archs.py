"""Architectures as data: one spec per architecture staticml trains or imports (in the manner of
optimum's per-model-type export configs). Adding an architecture is one `register(...)` entry
plus its test; train, export and import read these specs instead of branching on names.

Serving-side safe: nothing here imports torch (model builders import it when called).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .errors import UserError

TRAINED, IMPORTED = "trained", "imported"


@dataclass(frozen=True)
class Arch:
    name: str
    source: str  # TRAINED by `staticml train`, or IMPORTED from a Hugging Face model_type
    # ONNX logits vs PyTorch logits at export (float32 noise grows with depth and fused kernels).
    export_tolerance: float
    # How the int8 variant is made (train/export.py QUANTIZERS): "gather-int8" stores only embedding tables
    # as int8; "weights-int8" stores every large weight as int8 with float32 arithmetic. Both keep
    # page and native equal (dynamic int8 activations drifted 5e-2 page vs native on MiniLM).
    quantizer: str
    # The 4-bit variant's QUANTIZERS kind (transformers only: MatMulNBits + GatherBlockQuantized);
    # None: no q4 variant. Transformer-size models are also the ones the page may run on WebGPU.
    q4_quantizer: str | None = None
    defaults: dict = field(default_factory=dict)  # TrainConfig fields left as None
    finetune_defaults: dict = field(default_factory=dict)  # with --finetune
    positions_after_pad: bool = False  # position ids start after padding_idx (RoBERTa): fewer usable
    token_type_ids: bool = False  # the model takes token_type_ids (fed as zeros: one sentence)
    build: Callable | None = None  # (config, vocab_size, num_labels) -> torch module, for TRAINED
    pretrained_tokenizer: Callable | None = None  # () -> Tokenizer; None: WordPiece trained on the data


ARCHS: dict[str, Arch] = {}


def register(arch: Arch) -> Arch:
    ARCHS[arch.name] = arch
    return arch


def get(name: str, source: str | None = None) -> Arch:
    arch = ARCHS.get(name)
    if arch is None or (source and arch.source != source):
        known = ", ".join(a.name for a in ARCHS.values() if not source or a.source == source)
        raise UserError(f"architecture {name!r} is not supported (supported: {known})")
    return arch


def names(source: str) -> list[str]:
    return [a.name for a in ARCHS.values() if a.source == source]


def offers_webgpu(manifest_arch: str | None) -> bool:
    """Whether a model folder's `arch` ("minilm-finetuned", "imported-bert", …) is transformer-size:
    the page may run it on WebGPU, and build ships onnxruntime-web's WebGPU runtime for it."""
    name = (manifest_arch or "").removeprefix("imported-").removesuffix("-finetuned")
    return name in ARCHS and ARCHS[name].q4_quantizer is not None


def _tiny(config, vocab_size: int, num_labels: int):
    from .train.models.tiny import TinyClassifier

    width = getattr(config, "width", None)
    return TinyClassifier(vocab_size, num_labels, sparse=True, **({"dim": width} if width else {}))


def _minilm_tokenizer():
    from .train.models import minilm

    return minilm.load_tokenizer()


def _minilm(config, vocab_size: int, num_labels: int):
    from .train.models.minilm import MiniLMClassifier

    return MiniLMClassifier(num_labels, train_layers=config.train_layers if config.finetune else 0)


register(Arch(
    "tiny", TRAINED, export_tolerance=1e-5, quantizer="gather-int8", build=_tiny,
    # One thread: the tiny model's sparse updates are too small to gain from a second one.
    defaults={"epochs": 6, "batch_size": 32, "learning_rate": 1e-3, "lr_decay": False, "threads": 1},
))
register(Arch(
    # MiniLM's fp32 graph reorders float sums against PyTorch (fused kernels): ~1e-6 on logits of
    # order 1-5 is float32 noise, so it is held to 1e-4 rather than the tiny model's 1e-5.
    "minilm", TRAINED, export_tolerance=1e-4, quantizer="weights-int8", q4_quantizer="q4", build=_minilm, token_type_ids=True,
    pretrained_tokenizer=_minilm_tokenizer,
    defaults={"epochs": 30, "batch_size": 64, "learning_rate": 3e-3, "lr_decay": True, "threads": 2},
    finetune_defaults={"epochs": 0.5, "batch_size": 32, "learning_rate": 2e-4, "lr_decay": True, "threads": 2},
))
# Imported Hugging Face model types (MiniLM checkpoints are model_type "bert").
register(Arch("bert", IMPORTED, export_tolerance=1e-4, quantizer="weights-int8", q4_quantizer="q4", token_type_ids=True))
register(Arch("distilbert", IMPORTED, export_tolerance=1e-4, quantizer="weights-int8", q4_quantizer="q4"))
register(Arch("roberta", IMPORTED, export_tolerance=1e-4, quantizer="weights-int8", q4_quantizer="q4", positions_after_pad=True))
