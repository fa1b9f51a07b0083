"""The article's model family: token embedding → masked mean pooling → dropout → linear.

Word pairs matter for sentiment ("not good"), so next to each token's embedding the model
adds an embedding of the (token, next token) pair, hashed into a fixed table inside the
graph: the page still sends plain token ids.
"""

from __future__ import annotations

import torch
from torch import nn

BIGRAM_BUCKETS = 65_536
_BIGRAM_PRIME = 1_000_003


class TinyClassifier(nn.Module):
    def __init__(self, vocab_size: int, num_labels: int, dim: int = 64, dropout: float = 0.3, bigrams: bool = True):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, dim)
        self.pairs = nn.Embedding(BIGRAM_BUCKETS, dim) if bigrams else None
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(dim, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(torch.float32)
        total = (self.tokens(input_ids) * mask).sum(dim=1)
        count = mask.sum(dim=1)
        if self.pairs is not None:
            pair_ids = (input_ids[:, :-1] * _BIGRAM_PRIME + input_ids[:, 1:]) % BIGRAM_BUCKETS
            pair_mask = mask[:, 1:] * mask[:, :-1]
            total = total + (self.pairs(pair_ids) * pair_mask).sum(dim=1)
            count = count + pair_mask.sum(dim=1)
        pooled = total / count.clamp(min=1.0)
        return self.head(self.dropout(pooled))


class TinyCNN(nn.Module):
    """Token embedding → 1-D convolutions (widths 1–3) → masked max and mean pooling → linear."""

    def __init__(self, vocab_size: int, num_labels: int, dim: int = 64, filters: int = 96, dropout: float = 0.3):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, dim)
        self.convs = nn.ModuleList(nn.Conv1d(dim, filters, width, padding=width // 2) for width in (1, 2, 3))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * 3 * filters, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        seq = input_ids.shape[1]
        mask = attention_mask.unsqueeze(1).to(torch.float32)  # [batch, 1, seq]
        x = self.dropout(self.tokens(input_ids)).transpose(1, 2)  # [batch, dim, seq]
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(x))[:, :, :seq]
            pooled.append((h * mask).sum(dim=2) / mask.sum(dim=2).clamp(min=1.0))
            pooled.append((h * mask - (1.0 - mask) * 1e4).amax(dim=2))
        return self.head(self.dropout(torch.cat(pooled, dim=1)))
