"""The one tokenizer definition (`tokenizer.json`) and the rule that turns texts into model inputs.

The page applies the same rule in `web/src/tasks/text/tokenize.ts`: encode without special tokens,
truncate to leave room for them, wrap with the prefix/suffix ids, pad each batch to its
longest sequence. Truncation and padding stored inside tokenizer.json are ignored on both
sides (the JS library ignores truncation, and some shipped files pad to a fixed length).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from .errors import UserError

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


def train_tokenizer(texts: list[str], vocab_size: int = 8000) -> Tokenizer:
    """A BERT-style WordPiece tokenizer trained on the given texts."""
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    # Rust lowercases a word-final Σ to σ, JavaScript to ς: the page handles that (tokenize.ts).
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True,
                                                      handle_chinese_chars=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS,
                                        show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tokenizer.decoder = decoders.WordPiece()
    return tokenizer


@dataclass
class TokenizerSpec:
    """What the manifest's `tokenizer` section records about the rule."""

    prefix_ids: list[int]
    suffix_ids: list[int]
    pad_id: int
    unk_token: str | None

    def to_json(self, file: str = "tokenizer.json") -> dict:
        return {"file": file, "prefix_ids": self.prefix_ids, "suffix_ids": self.suffix_ids,
                "pad_id": self.pad_id, "unk_token": self.unk_token}


def describe(tokenizer: Tokenizer) -> TokenizerSpec:
    """Derive the special tokens added around one sequence, the pad id and the unknown token."""
    probe = "hello"
    plain = tokenizer.encode(probe, add_special_tokens=False).ids
    full = tokenizer.encode(probe, add_special_tokens=True).ids
    start = _find(full, plain)
    if start < 0:
        raise UserError("tokenizer.json: its post-processor changes the text's tokens; cannot derive special tokens")
    return TokenizerSpec(full[:start], full[start + len(plain):], _pad_id(tokenizer), _unk_token(tokenizer))


def _find(haystack: list[int], needle: list[int]) -> int:
    for i in range(len(haystack) - len(needle) + 1):
        if haystack[i:i + len(needle)] == needle:
            return i
    return -1


def _pad_id(tokenizer: Tokenizer) -> int:
    if tokenizer.padding:
        return int(tokenizer.padding["pad_id"])
    for token in ("[PAD]", "<pad>", "<|pad|>"):
        if tokenizer.token_to_id(token) is not None:
            return tokenizer.token_to_id(token)
    return 0


def _unk_token(tokenizer: Tokenizer) -> str | None:
    return getattr(tokenizer.model, "unk_token", None)


def load_tokenizer(path: str | Path) -> Tokenizer:
    path = Path(path)
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for a bad file
        raise UserError(f"{path}: not a valid tokenizer.json ({str(exc).splitlines()[0]})") from None
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


class TextEncoder:
    """Texts → int64 `input_ids` and `attention_mask`, exactly as the page makes them."""

    def __init__(self, tokenizer: Tokenizer, spec: TokenizerSpec, max_length: int):
        self.tokenizer, self.spec, self.max_length = tokenizer, spec, max_length
        self.room = max_length - len(spec.prefix_ids) - len(spec.suffix_ids)
        if self.room < 1:
            raise UserError(f"max_length {max_length} leaves no room for text after the special tokens")

    @classmethod
    def from_model_dir(cls, model_dir: Path, manifest: dict) -> "TextEncoder":
        section = manifest["tokenizer"]
        spec = TokenizerSpec(section["prefix_ids"], section["suffix_ids"], section["pad_id"], section.get("unk_token"))
        return cls(load_tokenizer(Path(model_dir) / section["file"]), spec, manifest["max_length"])

    def ids(self, texts: list[str]) -> list[list[int]]:
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [self.spec.prefix_ids + e.ids[: self.room] + self.spec.suffix_ids for e in encodings]

    def batch(self, texts: list[str]) -> dict[str, np.ndarray]:
        return pad(self.ids(texts), self.spec.pad_id)


def pad(sequences: list[list[int]], pad_id: int) -> dict[str, np.ndarray]:
    """Pad to the longest sequence of this batch."""
    width = max((len(s) for s in sequences), default=1)
    input_ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, ids in enumerate(sequences):
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}
