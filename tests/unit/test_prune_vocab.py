"""Vocabulary pruning (train/prune_vocab.py): the pruned tokenizer gives the remapped ids of the full
one, [UNK]'s where a token was dropped, and the pruned graph gives the full graph's logits."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from tiny_hf import save_tiny

from staticml.hard_texts import hard_texts
from staticml.runtime import create_session
from staticml.tokenize import TextEncoder, describe, load_tokenizer, pad
from staticml.train import prune_vocab

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("transformers")

KEPT_FROM = ["the quick brown fox jumps over the lazy dog", "I love this, it made my day!", "not bad at all"]
TEXTS = KEPT_FROM + hard_texts(200) + ["the lazy fox", "a brown dog, not quick", "unseen wordings everywhere"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A tiny random BERT as ONNX (input_ids, attention_mask → logits) and its WordPiece tokenizer.json."""
    import torch
    from transformers import AutoModelForSequenceClassification

    folder = save_tiny(tmp_path_factory.mktemp("prune") / "bert", "bert")
    model = AutoModelForSequenceClassification.from_pretrained(str(folder), local_files_only=True).eval()

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    sample = (torch.tensor([[2, 5, 6, 3], [2, 7, 3, 0]]), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]))
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    program = torch.onnx.export(Logits().eval(), sample, input_names=["input_ids", "attention_mask"], output_names=["logits"],
                                dynamo=True, verbose=False,
                                dynamic_shapes={n: {0: batch, 1: seq} for n in ("input_ids", "attention_mask")})
    program.save(str(folder / "model.onnx"))
    return folder


def pruned_files(folder, texts):
    rows = prune_vocab.prune_folder_files(folder / "tokenizer.json", folder / "model.onnx", texts,
                                          folder / "tokenizer.pruned.json", folder / "model.pruned.onnx")
    return rows, load_tokenizer(folder / "tokenizer.json"), load_tokenizer(folder / "tokenizer.pruned.json")


def expected_ids(full, kept: set[int], unk: int, texts: list[str]) -> list[list[int]]:
    """The rule: each token of the full tokenizer at its new row, or [UNK]'s new row if dropped."""
    new = prune_vocab.remapping(kept, unk)
    return [[new.get(i, new[unk]) for i in e.ids] for e in full.encode_batch(texts, add_special_tokens=True)]


def test_pruned_tokenizer_gives_the_remapped_ids_of_the_full_one_or_unk(tiny_bert):
    rows, full, pruned = pruned_files(tiny_bert, KEPT_FROM)
    tokenizer_json = json.loads((tiny_bert / "tokenizer.json").read_text())
    kept = prune_vocab.used_token_ids(full, KEPT_FROM) | prune_vocab.basic_token_ids(tokenizer_json)
    unk = full.token_to_id("[UNK]")
    assert rows == len(kept | {unk}) < full.get_vocab_size()
    got = [e.ids for e in pruned.encode_batch(TEXTS, add_special_tokens=True)]
    assert got == expected_ids(full, kept, unk, TEXTS)
    new = prune_vocab.remapping(kept, unk)
    dropped = [t for t in TEXTS if any(i not in kept for i in full.encode(t, add_special_tokens=False).ids)]
    assert dropped and all(new[unk] in pruned.encode(t, add_special_tokens=False).ids for t in dropped)
    # The special tokens around a text and the pad id, as the manifest records them, move with the rows.
    spec, pruned_spec = describe(full), describe(pruned)
    assert pruned_spec.prefix_ids == [new[i] for i in spec.prefix_ids] and pruned_spec.pad_id == new[spec.pad_id]
    assert max(max(ids) for ids in got) == rows - 1


def test_pruned_graph_gives_the_full_graphs_logits(tiny_bert):
    rows, full, pruned = pruned_files(tiny_bert, KEPT_FROM)
    full_encoder, pruned_encoder = TextEncoder(full, describe(full), 64), TextEncoder(pruned, describe(pruned), 64)
    full_session, pruned_session = create_session(tiny_bert / "model.onnx"), create_session(tiny_bert / "model.pruned.onnx")
    # Texts whose tokens were all kept: the same logits.
    expected = full_session.run(["logits"], full_encoder.batch(KEPT_FROM))[0]
    actual = pruned_session.run(["logits"], pruned_encoder.batch(KEPT_FROM))[0]
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    # Any text: the full model fed [UNK] in place of each dropped token.
    tokenizer_json = json.loads((tiny_bert / "tokenizer.json").read_text())
    kept = prune_vocab.used_token_ids(full, KEPT_FROM) | prune_vocab.basic_token_ids(tokenizer_json)
    unk = full.token_to_id("[UNK]")
    as_unk = [[i if i in kept else unk for i in ids] for ids in full_encoder.ids(TEXTS)]
    expected = full_session.run(["logits"], pad(as_unk, describe(full).pad_id))[0]
    actual = pruned_session.run(["logits"], pruned_encoder.batch(TEXTS))[0]
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    assert (tiny_bert / "model.pruned.onnx").stat().st_size < (tiny_bert / "model.onnx").stat().st_size


def test_a_tokenizer_that_is_not_wordpiece_is_refused():
    with pytest.raises(ValueError, match="WordPiece"):
        prune_vocab.prune_tokenizer({"model": {"type": "BPE", "vocab": {}}}, [0])
