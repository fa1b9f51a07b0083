"""Students that see word order, built only from operators the page's compact engine runs
(src/staticml/data/compact_ops.json: no Conv, no LayerNormalization, no Erf, no ReduceMax).

- `ConvTiny`: the tiny model's token and hashed word-pair embeddings, plus a width-3 convolution
  over the token embeddings written as shifted slices + one MatMul (Pad, Slice, Concat, MatMul,
  Relu), then the tiny model's attention pooling over all units (tokens, pairs, windows).
- `TinyTransformer`: token + learned position embeddings, 1–2 pre-norm encoder layers of width
  64–128 (layer norm written out as ReduceMean/Sub/Mul/Sqrt/Div, ReLU feed-forward, attention
  with the padding mask added), then masked mean pooling.

Both take `input_ids`, `attention_mask` and return logits like TinyClassifier; their last linear
layer is `head` (calibrate.fold_temperature). scripts/student_search.py measures them (docs/trust.md).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .tiny import BIGRAM_BUCKETS, TinyClassifier

_MASKED = 1e4  # subtracted from the attention score of padding


class ConvTiny(TinyClassifier):
    """TinyClassifier plus windows of three tokens (a 1-D convolution without the Conv operator)."""

    def __init__(self, vocab_size: int, num_labels: int, dim: int = 16, hidden: int = 32, dropout: float = 0.3,
                 buckets: int = BIGRAM_BUCKETS, init_std: float = 0.1, sparse: bool = False):
        super().__init__(vocab_size, num_labels, dim, dropout, buckets, init_std, sparse)
        self.window = nn.Linear(3 * dim, hidden)
        self.lift = nn.Linear(dim, hidden)  # tokens and pairs into the windows' width
        self.score = nn.Linear(hidden, 1)
        self.head = nn.Linear(hidden, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(torch.float32)  # [batch, seq, 1]
        tokens = self.tokens(input_ids) * mask
        pair_ids = (input_ids[:, :-1] * 1_000_003 + input_ids[:, 1:]) % self.buckets
        padded = nn.functional.pad(tokens, (0, 0, 1, 1))  # one zero step either side: [batch, seq + 2, dim]
        length = tokens.shape[1]
        windows = torch.cat([padded[:, :length], padded[:, 1:length + 1], padded[:, 2:length + 2]], dim=-1)
        units = torch.cat([self.lift(torch.cat([tokens, self.pairs(pair_ids)], dim=1)),
                           torch.relu(self.window(windows))], dim=1)
        keep = torch.cat([mask, mask[:, 1:] * mask[:, :-1], mask], dim=1)
        weights = torch.softmax(self.score(units) - (1.0 - keep) * _MASKED, dim=1)
        pooled = (weights * units).sum(dim=1)
        return self.head(self.dropout(pooled))


class _LayerNorm(nn.Module):
    """Layer norm from ReduceMean, Sub, Mul, Add, Sqrt, Div (the exporter's LayerNormalization op
    is not in the compact engine's table)."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centered = x - x.mean(dim=-1, keepdim=True)
        variance = (centered * centered).mean(dim=-1, keepdim=True)
        return centered / torch.sqrt(variance + self.eps) * self.weight + self.bias


class _EncoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, ffn: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = _LayerNorm(dim), _LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.up, self.down = nn.Linear(dim, ffn), nn.Linear(ffn, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, blocked: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        head_dim = dim // self.heads
        q, k, v = self.qkv(self.norm1(x)).reshape(batch, length, 3, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) - blocked  # blocked: [batch, 1, 1, seq]
        attended = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, length, dim)
        x = x + self.dropout(self.out(attended))
        return x + self.dropout(self.down(torch.relu(self.up(self.norm2(x)))))


class TinyTransformer(nn.Module):
    def __init__(self, vocab_size: int, num_labels: int, dim: int = 64, layers: int = 1, heads: int = 2,
                 max_length: int = 128, dropout: float = 0.1, init_std: float = 0.1):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, dim)
        self.positions = nn.Embedding(max_length, dim)
        for table in (self.tokens, self.positions):
            nn.init.normal_(table.weight, std=init_std)
        self.layers = nn.ModuleList(_EncoderLayer(dim, heads, 2 * dim, dropout) for _ in range(layers))
        self.norm = _LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(dim, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.to(torch.float32)
        # The first seq rows of the position table (Shape + Slice; Range and CumSum are not in the table).
        x = self.dropout(self.tokens(input_ids) + self.positions.weight[:input_ids.shape[1]])
        blocked = ((1.0 - mask) * _MASKED)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, blocked)
        x = self.norm(x) * mask.unsqueeze(-1)
        pooled = x.sum(dim=1) / (mask.sum(dim=1, keepdim=True) + 1e-6)  # every text has [CLS]: never 0
        return self.head(self.dropout(pooled))


NEGATION_SCOPE = 3  # tokens after a negator that read as negated ("not | bad at all")


class NegationTiny(TinyClassifier):
    """TinyClassifier whose token table has a second copy for negated tokens: a token within
    NEGATION_SCOPE tokens after a negator ("not", "never", the "t" of "don't") looks up row
    id + vocab_size, so "bad" and "not bad" start from different embeddings (Das and Chen 2001;
    Pang et al. 2002 mark negation scope the same way). The scope is computed inside the graph
    from the token ids (Gather, Pad, Slice, Add, Greater, Cast): the page still sends ids + mask."""

    def __init__(self, vocab_size: int, num_labels: int, negators: list[int], dim: int = 16, dropout: float = 0.3,
                 buckets: int = BIGRAM_BUCKETS, init_std: float = 0.1, sparse: bool = False):
        super().__init__(2 * vocab_size, num_labels, dim, dropout, buckets, init_std, sparse)
        self.vocab_size = vocab_size
        is_negator = torch.zeros(vocab_size)
        is_negator[negators] = 1.0
        self.register_buffer("is_negator", is_negator)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        is_negator = nn.functional.embedding(input_ids, self.is_negator.unsqueeze(-1)).squeeze(-1)  # Gather, not GatherND
        negator = nn.functional.pad(is_negator, (NEGATION_SCOPE, 0))  # [batch, scope + seq]
        length = input_ids.shape[1]
        before = sum(negator[:, NEGATION_SCOPE - k:NEGATION_SCOPE - k + length] for k in range(1, NEGATION_SCOPE + 1))
        negated = (before > 0).to(input_ids.dtype)
        return super().forward(input_ids + negated * self.vocab_size, attention_mask)
