"""Size/quality frontier of the tiny model: bytes on the wire vs held-out quality.

For each training point (vocabulary size, embedding width, hashed-pair buckets) and seed, the
tiny model is trained twice on the default tweet corpus — negative/positive (binary accuracy,
what the demo ships) and negative/neutral/positive (3-label macro-F1) — exactly as
`staticml.train` trains it. Each trained model is then shipped in several ways, without
retraining ("post" steps, applied to the embedding tables before export):

- `int8`: Gather tables as uint8 with all 256 values (onnxruntime's quantize_dynamic: one scale
  and zero point per table, DequantizeLinear after Gather), the rest float32;
- `int8-<k>bit`: the same file with each table rounded onto 2^k of its byte values
  (`export.coarsen_tables`): the same format, graph and ops, fewer distinct bytes, so
  gzip/brotli code them in ~k bits. The tiny model ships `int8-4bit`;
- `rows4bit`: a real 4-bit format simulated (symmetric 15 levels per row): accuracy from a float
  file holding the 4-bit values, bytes from packed nibbles + a float16 scale per row;
- `+prune`: rows never seen in the training split (token ids, pair buckets) set to zero first.

Every variant is a real ONNX file: its accuracy is measured with onnxruntime on the fixed test
split, its size raw, gzip -9 and brotli -q 11; tokenizer.json is measured the same way.
Results are cached in the JSON file (key: task, point, seed, post), so a rerun with a larger
grid trains only the new points.

    .venv/bin/python scripts/tiny_frontier.py                        # the default grid, seed 13
    .venv/bin/python scripts/tiny_frontier.py --points 3000x64x16384 2000x32x8192 --seeds 13 14
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import brotli
import numpy as np

from staticml import archs
from staticml.train import data, export, features
from staticml.train import text as train
from staticml.runtime import create_session, softmax
from staticml.tokenize import TextEncoder, describe, pad, train_tokenizer

ROOT = Path(__file__).resolve().parent.parent
TASKS = {"binary": ["negative", "positive"], "3label": None}
DEFAULT_POINTS = ["3000x64x16384", "3000x48x16384", "3000x32x16384", "3000x16x16384", "3000x64x8192", "3000x64x4096",
                  "3000x32x8192", "2000x64x16384", "2000x32x8192"]
DEFAULT_POSTS = ["int8", "int8-6bit", "int8-5bit", "int8-4bit"]
DEFAULT_POINT, MAIN_POST = "3000x16x16384", "int8-4bit"  # the shipped point; the post labelled in the chart
POST_STYLES = {"int8": {"marker": "o", "s": 28}, "int8-4bit": {"marker": "^", "s": 36},
               "int8-5bit": {"marker": ".", "s": 14, "alpha": 0.5}, "int8-6bit": {"marker": ".", "s": 14, "alpha": 0.5},
               "rows4bit": {"marker": "x", "s": 30}}


@dataclass(frozen=True)
class Point:
    vocab: int
    dim: int
    buckets: int

    @classmethod
    def parse(cls, text: str) -> "Point":
        vocab, dim, buckets = (int(x) for x in text.split("x"))
        return cls(vocab, dim, buckets)

    def __str__(self) -> str:
        return f"{self.vocab}x{self.dim}x{self.buckets}"


# ---------------------------------------------------------------- training

_PARTS: dict[str, data.Split] = {}


def parts_for(task: str) -> data.Split:
    if task not in _PARTS:
        _PARTS[task] = data.split(data.load_default(keep_labels=TASKS[task]))
    return _PARTS[task]


def train_point(parts: data.Split, point: Point, seed: int):
    """(model, encoder, training ids, fit seconds), the way `staticml.train.train` trains the tiny model."""
    import torch

    from staticml.train.models.tiny import TinyClassifier

    config = train.resolved(train.TrainConfig(vocab_size=point.vocab, seed=seed))
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    tokenizer = train_tokenizer(parts.train[0], config.vocab_size)
    encoder = TextEncoder(tokenizer, describe(tokenizer), config.max_length)
    model = TinyClassifier(tokenizer.get_vocab_size(), len(parts.labels), dim=point.dim, buckets=point.buckets,
                           sparse=True)
    train_ids, val_ids = encoder.ids(parts.train[0]), encoder.ids(parts.validation[0])
    pad_id = encoder.spec.pad_id
    seconds = train.fit(model, features.TokenIds(train_ids, pad_id), parts.train[1],
                        features.TokenIds(val_ids, pad_id), parts.validation[1], config, lambda _: None)
    return model, encoder, train_ids, seconds


# ---------------------------------------------------------------- post steps

def seen_rows(model, train_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the token rows and pair buckets that the training split ever uses."""
    from staticml.train.models import tiny

    tokens = np.zeros(model.tokens.num_embeddings, bool)
    pairs = np.zeros(model.buckets, bool)
    for ids in train_ids:
        ids = np.asarray(ids, np.int64)
        tokens[ids] = True
        pairs[(ids[:-1] * tiny._BIGRAM_PRIME + ids[1:]) % model.buckets] = True
    return tokens, pairs


def with_tables(model, change):
    """A copy of `model` whose embedding tables are `change(name, table)`."""
    import torch

    shipped = copy.deepcopy(model).eval()
    for name, table in (("tokens", shipped.tokens), ("pairs", shipped.pairs)):
        with torch.no_grad():
            table.weight.copy_(torch.from_numpy(change(name, table.weight.detach().numpy().copy())))
    return shipped


def pruned(model, seen: tuple[np.ndarray, np.ndarray]):
    """Rows never seen in training set to zero (they still hold their random init)."""
    masks = {"tokens": seen[0], "pairs": seen[1]}
    return with_tables(model, lambda name, w: np.where(masks[name][:, None], w, 0.0).astype(np.float32))


def rows_4bit(model):
    """Simulated 4-bit rows: each row on a symmetric 15-level grid (max |row| / 7)."""
    def quantize(_, table):
        scale = np.abs(table).max(axis=1, keepdims=True) / 7
        scale[scale == 0] = 1.0
        return (np.clip(np.rint(table / scale), -7, 7) * scale).astype(np.float32)
    return with_tables(model, quantize)


def packed_4bit_bytes(model, rest: bytes) -> bytes:
    """What a 4-bit file would hold: packed nibbles + a float16 scale per row, and the `rest` of the file."""
    parts = []
    for table in (model.tokens, model.pairs):
        w = table.weight.detach().numpy()
        scale = np.abs(w).max(axis=1, keepdims=True) / 7
        scale[scale == 0] = 1.0
        q = (np.clip(np.rint(w / scale), -7, 7) + 8).astype(np.uint8).reshape(-1)
        q = np.concatenate([q, np.zeros(len(q) % 2, np.uint8)])
        parts += [(q[0::2] | (q[1::2] << 4)).tobytes(), scale.astype(np.float16).tobytes()]
    return b"".join(parts) + rest


# ---------------------------------------------------------------- measuring

def wire_bytes(payload: bytes) -> dict:
    return {"raw": len(payload), "gzip": len(gzip.compress(payload, 9)), "brotli": len(brotli.compress(payload, quality=11))}


def test_batches(encoder: TextEncoder, parts: data.Split) -> tuple[list[dict], list[int]]:
    """The test split in length-sorted batches of 256, as `train.write_variants` evaluates it."""
    ids = encoder.ids(parts.test[0])
    order = np.argsort([len(x) for x in ids], kind="stable")
    batches = [pad([ids[j] for j in order[i:i + 256]], encoder.spec.pad_id) for i in range(0, len(order), 256)]
    return batches, [parts.test[1][j] for j in order]


def evaluate(path: Path, batches: list[dict], labels: list[int]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    session = create_session(path, threads=1)
    predicted = np.concatenate([softmax(session.run(["logits"], b)[0]).argmax(-1) for b in batches])
    return {"accuracy": round(float(accuracy_score(labels, predicted)), 4),
            "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4)}


def _sample(batches: list[dict]) -> dict:
    return {k: v[:8] for k, v in batches[len(batches) // 2].items()}


def int8_file(model, batches: list[dict], folder: Path) -> Path:
    """Export fp32 ONNX (checked against PyTorch) and quantize its tables to int8, all 256 values."""
    export.export_onnx(model, folder / "model.onnx", _sample(batches), archs.get("tiny").export_tolerance)
    export.quantize_int8(folder / "model.onnx", folder / "model.int8.onnx", op_types=["Gather"])  # 8-bit tables
    return folder / "model.int8.onnx"


def shipped_file(model, post: str, seen, batches: list[dict], folder: Path) -> tuple[Path, bytes]:
    """(ONNX file to evaluate, the bytes that would go on the wire) for one post variant.

    `folder` is shared by the posts of one trained model: each int8 export is made once.
    """
    base, _, flag = post.partition("+")
    int8 = folder / (flag or "plain") / "model.int8.onnx"
    source = pruned(model, seen) if flag == "prune" else model
    if not int8.exists():
        int8.parent.mkdir()
        int8_file(source, batches, int8.parent)
    if base == "int8":
        return int8, int8.read_bytes()
    if base == "rows4bit":  # accuracy: a float file holding the 4-bit values; bytes: packed nibbles
        path = int8.parent / "rows4bit.onnx"
        export.export_onnx(rows_4bit(source), path, _sample(batches), archs.get("tiny").export_tolerance)
        return path, packed_4bit_bytes(source, graph_without_tables(int8))
    path = int8.parent / f"{base}.onnx"  # int8-<k>bit: what the tiny model ships with k = 4
    shutil.copyfile(int8, path)
    export.coarsen_tables(path, int(base.split("-")[1].removesuffix("bit")))
    return path, path.read_bytes()


def graph_without_tables(path: Path) -> bytes:
    """The ONNX file's bytes without its two quantized embedding tables (graph, head, scales)."""
    import onnx

    model = onnx.load(str(path))
    for tensor in model.graph.initializer:
        if tensor.name.endswith("_quantized"):
            tensor.ClearField("raw_data")
    return model.SerializeToString()


def measure_point(task: str, point: Point, seed: int, posts: list[str]) -> list[dict]:
    """Train one point once and measure every post variant of it."""
    parts = parts_for(task)
    started = time.perf_counter()
    model, encoder, train_ids, seconds = train_point(parts, point, seed)
    seen = seen_rows(model, train_ids)
    batches, labels = test_batches(encoder, parts)
    tokenizer_bytes = wire_bytes(encoder.tokenizer.to_str().encode())
    params = sum(p.numel() for p in model.parameters())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for post in posts:
            path, payload = shipped_file(model, post, seen, batches, Path(tmp))
            rows.append({"task": task, "point": str(point), "seed": seed, "post": post, "params": params,
                         "unseen_tokens": int((~seen[0]).sum()), "unseen_buckets": int((~seen[1]).sum()),
                         "model": wire_bytes(payload), "tokenizer": tokenizer_bytes,
                         **evaluate(path, batches, labels), "train_seconds": round(seconds, 1)})
    print(f"  {task} {point} seed {seed}: trained in {seconds:.0f} s, measured in "
          f"{time.perf_counter() - started - seconds:.0f} s", flush=True)
    return rows


# ---------------------------------------------------------------- the sweep and its report

def key(row: dict) -> tuple:
    return row["task"], row["point"], row["seed"], row["post"]


def sweep(points: list[Point], seeds: list[int], posts: list[str], tasks: list[str], cache: Path) -> list[dict]:
    rows = json.loads(cache.read_text())["runs"] if cache.exists() else []
    done = {key(r) for r in rows}
    for point in points:
        for seed in seeds:
            for task in tasks:
                missing = [p for p in posts if (task, str(point), seed, p) not in done]
                if missing:
                    rows += measure_point(task, point, seed, missing)
                    save(rows, cache)
    return rows


def summary(rows: list[dict]) -> list[dict]:
    """One line per (point, post): sizes of the binary model, accuracy and F1 averaged over seeds."""
    lines = {}
    for row in rows:
        line = lines.setdefault((row["point"], row["post"]), {"point": row["point"], "post": row["post"],
                                                              "params": row["params"], "acc": [], "f1": []})
        if row["task"] == "binary":
            line.update(model=row["model"], tokenizer=row["tokenizer"])
            line["acc"].append(row["accuracy"])
        else:
            line["f1"].append(row["macro_f1"])
    out = []
    for line in lines.values():
        if "model" not in line:
            continue
        line["wire_gzip"] = line["model"]["gzip"] + line["tokenizer"]["gzip"]
        line["accuracy"] = float(np.mean(line["acc"])) if line["acc"] else None
        line["macro_f1"] = float(np.mean(line["f1"])) if line["f1"] else None
        out.append(line)
    return sorted(out, key=lambda s: s["wire_gzip"])


def table(lines: list[dict]) -> str:
    def fmt(values: list[float]) -> str:
        if not values:
            return "–"
        return f"{np.mean(values):.4f}" + (f" (n={len(values)}, {min(values):.3f}–{max(values):.3f})" if len(values) > 1 else "")

    head = ("| vocab×dim×buckets | shipped | params | int8 raw | gzip | brotli | tokenizer.json gzip "
            "| binary accuracy | 3-label macro-F1 |\n|---|---|---:|---:|---:|---:|---:|---|---|")
    body = [f"| {s['point']} | {s['post']} | {s['params']:,} | {s['model']['raw'] / 1e3:.0f} KB "
            f"| {s['model']['gzip'] / 1e3:.0f} KB | {s['model']['brotli'] / 1e3:.0f} KB | {s['tokenizer']['gzip'] / 1e3:.1f} KB "
            f"| {fmt(s['acc'])} | {fmt(s['f1'])} |" for s in lines]
    return "\n".join([head, *body])


def is_default(line: dict) -> bool:
    """The shipped default: DEFAULT_POINT with export.TABLE_BITS-bit tables."""
    return line["point"] == DEFAULT_POINT and line["post"] == f"int8-{export.TABLE_BITS}bit"


def chart(lines: list[dict], path: Path) -> None:
    """Two panels (binary accuracy, 3-label macro-F1) vs gzip bytes; int8 → int8-4bit joined per point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, metric, bar, title in ((axes[0], "accuracy", 0.88, "binary accuracy (negative/positive)"),
                                   (axes[1], "macro_f1", 0.732, "3-label macro-F1")):
        shown = [s for s in lines if s[metric] is not None]
        by = {(s["point"], s["post"]): s for s in shown}
        for s in shown:
            if s["post"] == "int8" and (s["point"], MAIN_POST) in by:
                other = by[(s["point"], MAIN_POST)]
                ax.plot([s["wire_gzip"] / 1e3, other["wire_gzip"] / 1e3], [s[metric], other[metric]], color="grey", lw=0.6)
        for post, style in POST_STYLES.items():
            mine = [s for s in shown if s["post"] == post]
            ax.scatter([s["wire_gzip"] / 1e3 for s in mine], [s[metric] for s in mine], label=post, **style)
        for s in (s for s in shown if s["post"] == MAIN_POST or is_default(s)):
            ax.annotate(s["point"] + (f" {s['post']} (default)" if is_default(s) else ""),
                        (s["wire_gzip"] / 1e3, s[metric]), fontsize=6.5, xytext=(3, 3), textcoords="offset points")
        ax.axhline(bar, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("int8 model file + tokenizer.json, KB gzip")
        ax.set_title(f"{title}, mean over seeds", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("tiny model (vocab×width×buckets): bytes on the wire vs held-out quality", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def save(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": rows, "summary": summary(rows)}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", nargs="+", default=DEFAULT_POINTS, help="vocab x dim x buckets, e.g. 3000x64x16384")
    parser.add_argument("--seeds", nargs="+", type=int, default=[13])
    parser.add_argument("--posts", nargs="+", default=DEFAULT_POSTS)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "tiny_frontier", help="writes OUT.json and OUT.png")
    args = parser.parse_args()
    cache = args.out.with_suffix(".json")
    rows = sweep([Point.parse(p) for p in args.points], args.seeds, args.posts, args.tasks, cache)
    save(rows, cache)
    lines = summary(rows)
    print(table(lines))
    chart(lines, args.out.with_suffix(".png"))
    print(f"written: {cache} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
