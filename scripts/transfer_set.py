"""Write a transfer set for distillation (issue 28): texts without labels that the teacher labels
(`student_search.py ... unlabeled=FILE`), one text per line.

- counterfactual variants of training texts (`staticml.train.counterfactual`: negated sentiment
  words, "A, but B" / "Although A, B" joins), whose rule labels are dropped: the teacher labels
  them instead, so the student sees negation and contrast without the rules' label noise;
- a sample of augmented copies (`distill.augmented`: words dropped or swapped with the next);
- with --spans K, K random spans of one to five consecutive words of each training text (Tang et
  al. 2019's n-gram sampling): labelled by the teacher, they tell a bag-of-words student what each
  short phrase ("not bad", "could be better") means on its own.

The source texts are the training texts of both the 3-label and the binary split of the default
corpus (so neither student's held-out split, nor a text derived from one, enters the set); a
variant equal to any held-out text is left out.

    python scripts/transfer_set.py --augmented 8000 --out /tmp/transfer.txt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from staticml.train import data
from staticml.train.counterfactual import counterfactuals
from staticml.train.distill import augmented


def training_texts_of_both_splits() -> tuple[list[str], list[int], list[str], set[str]]:
    """The 3-label training texts that are also binary training texts, their labels, the label
    names, and every held-out text of either split."""
    three = data.split(data.load_default())
    binary = data.split(data.load_default(keep_labels=["negative", "positive"]))
    binary_train = set(binary.train[0])
    pairs = [(t, y) for t, y in zip(*three.train) if t in binary_train or three.labels[y] == "neutral"]
    held = set(three.validation[0] + three.test[0] + binary.validation[0] + binary.test[0])
    pairs = [(t, y) for t, y in pairs if t not in held]
    return [t for t, _ in pairs], [y for _, y in pairs], three.labels, held


def spans(texts: list[str], per_text: int, rng: np.random.Generator, longest: int = 5) -> list[str]:
    """`per_text` random runs of 1..longest consecutive words of each text (of texts with more words)."""
    out = []
    for text in texts:
        words = text.split()
        for _ in range(per_text if len(words) > 1 else 0):
            n = int(rng.integers(1, min(longest, len(words) - 1) + 1))
            start = int(rng.integers(0, len(words) - n + 1))
            out.append(" ".join(words[start:start + n]))
    return out


def transfer_set(augmented_rows: int, seed: int, per_text_spans: int = 0) -> list[str]:
    texts, labels, names, held = training_texts_of_both_splits()
    variants, _ = counterfactuals(texts, labels, names, seed)
    copies = augmented(texts, 1, seed)
    rng = np.random.default_rng(seed)
    sample = [copies[i] for i in rng.choice(len(copies), size=min(augmented_rows, len(copies)), replace=False)]
    extra = variants + sample + spans(texts, per_text_spans, rng)
    return [t for t in dict.fromkeys(extra) if t not in held and t.splitlines() == [t] and t.strip() == t]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--augmented", type=int, default=8000, help="how many augmented copies to sample")
    p.add_argument("--spans", type=int, default=0, help="random spans of 1-5 words per training text")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    texts = transfer_set(args.augmented, args.seed, args.spans)
    args.out.write_text("\n".join(texts) + "\n", encoding="utf-8")
    print(f"{len(texts)} texts written to {args.out}")


if __name__ == "__main__":
    main()
