"""What a model's trained part is fed: token ids, or the cached outputs of its frozen part.

A frozen pretrained encoder gives the same outputs for the same texts every time, so they are
computed once per dataset and cached on disk (`~/.cache/staticml/`, or `$STATICML_CACHE`),
keyed by a hash of the token ids and of the frozen part; training then runs on the cache.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..output import cache_dir
from ..tokenize import pad

Report = Callable[[str], None]




@dataclass
class TokenIds:
    """Token ids, padded per batch; batches are random rows (the tiny model trains on these)."""

    ids: list[list[int]]
    pad_id: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    def tensors(self, rows) -> tuple:
        import torch

        batch = pad([self.ids[i] for i in rows], self.pad_id)
        return torch.from_numpy(batch["input_ids"]), torch.from_numpy(batch["attention_mask"])

    def batches(self, rng: np.random.Generator, batch_size: int) -> list[np.ndarray]:
        return np.array_split(rng.permutation(len(self)), max(1, len(self) // batch_size))

    def in_order(self, batch_size: int) -> list[np.ndarray]:
        return [np.arange(i, min(i + batch_size, len(self))) for i in range(0, len(self), batch_size)]


@dataclass
class Cached:
    """Per-text outputs of a frozen part, stored end to end as float16.

    Pooled outputs: `values` is [texts, dim] and `lengths` is None. Token states: `values` is
    [sum of lengths, dim] and text i owns `lengths[i]` consecutive rows.
    """

    values: np.ndarray
    lengths: np.ndarray | None

    def __post_init__(self) -> None:
        self.starts = None if self.lengths is None else np.concatenate([[0], np.cumsum(self.lengths)[:-1]])

    def __len__(self) -> int:
        return len(self.values) if self.lengths is None else len(self.lengths)

    def subset(self, rows: np.ndarray) -> "Cached":
        if self.lengths is None:
            return Cached(self.values[rows], None)
        return Cached(np.concatenate([self.values[self.starts[i]:self.starts[i] + self.lengths[i]] for i in rows]),
                      self.lengths[rows])

    def tensors(self, rows) -> tuple:
        """(features float32, attention_mask): [b, dim] and [b, 1], or [b, seq, dim] and [b, seq]."""
        import torch

        rows = np.asarray(rows)
        if self.lengths is None:
            return torch.from_numpy(self.values[rows].astype(np.float32)), torch.ones(len(rows), 1, dtype=torch.int64)
        width = int(self.lengths[rows].max())
        hidden = np.zeros((len(rows), width, self.values.shape[1]), dtype=np.float32)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for j, i in enumerate(rows):
            n = self.lengths[i]
            hidden[j, :n] = self.values[self.starts[i]:self.starts[i] + n]
            mask[j, :n] = 1
        return torch.from_numpy(hidden), torch.from_numpy(mask)

    def batches(self, rng: np.random.Generator, batch_size: int) -> list[np.ndarray]:
        """Random batches of similar lengths (little padding), in random order."""
        order = rng.permutation(len(self))
        if self.lengths is None:
            return np.array_split(order, max(1, len(self) // batch_size))
        batches = []
        for pool in np.array_split(order, max(1, len(self) // (batch_size * 50))):
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            batches += np.array_split(pool, max(1, len(pool) // batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    def in_order(self, batch_size: int) -> list[np.ndarray]:
        order = np.arange(len(self)) if self.lengths is None else np.argsort(self.lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, len(self), batch_size)]


def cached_bottom(model, ids: list[list[int]], pad_id: int, identity: str, report: Report,
                  batch_size: int = 128) -> Cached:
    """`model.bottom(input_ids, attention_mask)` for every text, from the disk cache if it is there."""
    path = cache_dir() / f"{_key(ids, identity)}.npz"
    if path.is_file():
        with np.load(path) as stored:
            lengths = stored["lengths"] if "lengths" in stored else None
            report(f"encoder outputs: {len(ids)} texts from the cache ({path})")
            return Cached(stored["values"], lengths)
    cached = _compute(model, ids, pad_id, report, batch_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp-{os.getpid()}.npz")
    arrays = {"values": cached.values} | ({} if cached.lengths is None else {"lengths": cached.lengths})
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return cached


def _key(ids: list[list[int]], identity: str) -> str:
    digest = hashlib.sha256(identity.encode())
    digest.update(np.array([len(s) for s in ids], dtype=np.int64).tobytes())
    digest.update(np.array([t for s in ids for t in s], dtype=np.int64).tobytes())
    return digest.hexdigest()[:32]


def _compute(model, ids: list[list[int]], pad_id: int, report: Report, batch_size: int) -> Cached:
    import torch

    model.eval()
    order = np.argsort([len(s) for s in ids], kind="stable")  # similar lengths together: little padding
    outputs: list = [None] * len(ids)
    started = last = time.perf_counter()
    done, tokens, total_tokens = 0, 0, sum(len(s) for s in ids)
    with torch.no_grad():
        for start in range(0, len(ids), batch_size):
            rows = order[start:start + batch_size]
            batch = pad([ids[i] for i in rows], pad_id)
            out = model.bottom(torch.from_numpy(batch["input_ids"]), torch.from_numpy(batch["attention_mask"]))
            out = out.numpy().astype(np.float16)
            for j, i in enumerate(rows):
                outputs[i] = out[j] if out.ndim == 2 else out[j, :len(ids[i])]
            done, tokens = done + len(rows), tokens + int(batch["attention_mask"].sum())
            if time.perf_counter() - last > 15 or done == len(ids):
                last = time.perf_counter()
                report(f"encoder outputs: {done}/{len(ids)} texts  {eta(started, tokens, total_tokens)}")
    if outputs[0].ndim == 1:
        return Cached(np.stack(outputs), None)
    return Cached(np.concatenate(outputs), np.array([len(o) for o in outputs], dtype=np.int64))


def eta(started: float, done: float, total: float) -> str:
    """Elapsed time and the time left if the rest of the work goes at the pace so far."""
    elapsed = time.perf_counter() - started
    remaining = elapsed / max(done, 1) * (total - done)
    return f"{elapsed:.0f} s elapsed, ETA {remaining:.0f} s"
