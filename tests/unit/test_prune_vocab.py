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


def corpus_ids(folder, texts) -> set[int]:
    """The ids `texts` use and the special ones: the tiny vocabulary is all whole words and short
    pieces, which the general set (basic_token_ids) would keep entirely."""
    tokenizer_json = json.loads((folder / "tokenizer.json").read_text())
    full = load_tokenizer(folder / "tokenizer.json")
    return prune_vocab.used_token_ids(full, texts) | {added["id"] for added in tokenizer_json["added_tokens"]}


def pruned_files(folder, texts):
    tokenizer_json = json.loads((folder / "tokenizer.json").read_text())
    kept = corpus_ids(folder, texts)
    unk = tokenizer_json["model"]["vocab"]["[UNK]"]
    rows = prune_vocab.prune_graph(folder / "model.onnx", folder / "model.pruned.onnx", kept, len(tokenizer_json["model"]["vocab"]), unk)
    (folder / "tokenizer.pruned.json").write_text(json.dumps(prune_vocab.prune_tokenizer(tokenizer_json, kept)))
    return rows, load_tokenizer(folder / "tokenizer.json"), load_tokenizer(folder / "tokenizer.pruned.json")


def expected_ids(full, kept: set[int], unk: int, texts: list[str]) -> list[list[int]]:
    """The rule: each token of the full tokenizer at its new row, or [UNK]'s new row if dropped."""
    new = prune_vocab.remapping(kept, unk)
    return [[new.get(i, new[unk]) for i in e.ids] for e in full.encode_batch(texts, add_special_tokens=True)]


def test_pruned_tokenizer_gives_the_remapped_ids_of_the_full_one_or_unk(tiny_bert):
    rows, full, pruned = pruned_files(tiny_bert, KEPT_FROM)
    kept = corpus_ids(tiny_bert, KEPT_FROM)
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
    kept = corpus_ids(tiny_bert, KEPT_FROM)
    unk = full.token_to_id("[UNK]")
    as_unk = [[i if i in kept else unk for i in ids] for ids in full_encoder.ids(TEXTS)]
    expected = full_session.run(["logits"], pad(as_unk, describe(full).pad_id))[0]
    actual = pruned_session.run(["logits"], pruned_encoder.batch(TEXTS))[0]
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    assert (tiny_bert / "model.pruned.onnx").stat().st_size < (tiny_bert / "model.onnx").stat().st_size


def test_a_tokenizer_that_is_not_wordpiece_is_refused():
    with pytest.raises(ValueError, match="WordPiece"):
        prune_vocab.prune_tokenizer({"model": {"type": "BPE", "vocab": {}}}, [0])


def full_ids_with_unk(folder, texts):
    """The full tokenizer's ids of `texts` with [UNK] in place of each token outside KEPT_FROM's."""
    full = load_tokenizer(folder / "tokenizer.json")
    kept, unk = corpus_ids(folder, KEPT_FROM), full.token_to_id("[UNK]")
    encoder = TextEncoder(full, describe(full), 64)
    return encoder, [[i if i in kept else unk for i in ids] for ids in encoder.ids(texts)]


def test_the_renumbering_inside_the_graph_takes_the_full_tokenizers_ids(tiny_bert):
    """The variant a model folder ships: the same tokenizer.json as fp32, the pruned table and a
    Gather of new rows by input_ids; the answers of the full model with dropped tokens as [UNK]."""
    size = load_tokenizer(tiny_bert / "tokenizer.json").get_vocab_size()
    kept, unk = corpus_ids(tiny_bert, KEPT_FROM), load_tokenizer(tiny_bert / "tokenizer.json").token_to_id("[UNK]")
    rows = prune_vocab.prune_graph_with_remap(tiny_bert / "model.onnx", tiny_bert / "model.remap.onnx", kept, size, unk)
    assert rows == len(kept | {unk}) < size
    encoder, as_unk = full_ids_with_unk(tiny_bert, TEXTS)
    expected = create_session(tiny_bert / "model.onnx").run(["logits"], pad(as_unk, encoder.spec.pad_id))[0]
    actual = create_session(tiny_bert / "model.remap.onnx").run(["logits"], encoder.batch(TEXTS))[0]
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_pruned_mixed_precision_stays_close_to_the_pruned_fp32(tiny_bert):
    """4-bit MatMuls in blocks of 32, one MatMul kept int8, int8 embedding rows: logits within a
    tenth of their spread of the pruned fp32 graph's (16 levels a block on random weights)."""
    import onnx

    from staticml.train import export

    size = load_tokenizer(tiny_bert / "tokenizer.json").get_vocab_size()
    kept, unk = corpus_ids(tiny_bert, KEPT_FROM), load_tokenizer(tiny_bert / "tokenizer.json").token_to_id("[UNK]")
    source, target = tiny_bert / "model.remap32.onnx", tiny_bert / "model.mixed.onnx"
    prune_vocab.prune_graph_with_remap(tiny_bert / "model.onnx", source, kept, size, unk)
    weights = [n.input[1] for n in onnx.load(str(source)).graph.node if n.op_type == "MatMul"]
    export.quantize_q4(source, target, block_size=32, tables="int8", int8_matmuls=(weights[0],))
    graph = onnx.load(str(target)).graph
    ops = [n.op_type for n in graph.node]
    assert "MatMulNBits" in ops and f"{weights[0]}_int8" in {i.name for i in graph.initializer}
    assert any(n.op_type == "Gather" and n.input[0].endswith("_rows") for n in graph.node)  # the renumbering, untouched
    encoder = TextEncoder(load_tokenizer(tiny_bert / "tokenizer.json"), describe(load_tokenizer(tiny_bert / "tokenizer.json")), 64)
    feeds = encoder.batch(TEXTS)
    expected = create_session(source).run(["logits"], feeds)[0]
    actual = create_session(target).run(["logits"], feeds)[0]
    assert 0 < np.abs(actual - expected).max() < 0.1 * (expected.max() - expected.min())


def test_minilm_export_writes_the_pruned_variant_with_its_own_figures(tiny_bert, tmp_path):
    """write_variants for arch minilm (here a tiny BERT in its place): q4-pruned beside fp32/int8/q4,
    measured on the test split, the embedding cut to the training and validation texts' tokens and the general ones."""
    import shutil

    import torch
    from transformers import AutoModelForSequenceClassification

    from staticml.train import export
    from staticml.train.data import Split
    from staticml.train.text import write_variants

    bert = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert), local_files_only=True).eval()

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).logits

    shutil.copy(tiny_bert / "tokenizer.json", tmp_path / "tokenizer.json")
    tokenizer = load_tokenizer(tmp_path / "tokenizer.json")
    texts = hard_texts(60)
    parts = Split((KEPT_FROM, [0, 1, 2]), (["the lazy dog"], [0]), (texts, [i % 3 for i in range(len(texts))]),
                  ["negative", "neutral", "positive"])
    lines: list[str] = []
    result = write_variants(Logits().eval(), TextEncoder(tokenizer, describe(tokenizer), 64), parts, tmp_path, lines.append, "minilm")
    assert result["variants"][export.PRUNED_VARIANT] == "model.q4-pruned.onnx"
    kept, _, size = prune_vocab.kept_ids(tmp_path / "tokenizer.json", KEPT_FROM + ["the lazy dog"])
    assert any(f"cut to {len(kept)} rows" in line for line in lines)
    figures = result["metrics"][export.PRUNED_VARIANT]
    assert 0 <= figures["macro_f1"] <= 1 and figures["bytes"] == (tmp_path / "model.q4-pruned.onnx").stat().st_size


def test_the_general_set_keeps_whole_words_and_characters_and_drops_unused_ascii_pieces():
    vocab = {"[PAD]": 0, "[UNK]": 1, "[unused0]": 2, "trailing": 3, "##llo": 4, "##s": 5, "##ια": 6, "istanbul": 7, "##ab": 8}
    tokenizer_json = {"model": {"type": "WordPiece", "vocab": vocab}, "added_tokens": [{"id": 0}, {"id": 1}]}
    assert prune_vocab.basic_token_ids(tokenizer_json) == {0, 1, 3, 5, 6, 7, 8}


def test_float16_table_scales_give_the_float32_scales_answers_in_fewer_bytes(tiny_bert):
    """q4-pruned stores its embedding rows' 4-bit block scales as float16 (a Cast back to float32 that
    the session folds): the logits stay within float16 rounding of the float32-scale graph's."""
    import onnx

    from staticml.train import export

    size = load_tokenizer(tiny_bert / "tokenizer.json").get_vocab_size()
    kept, unk = corpus_ids(tiny_bert, KEPT_FROM), load_tokenizer(tiny_bert / "tokenizer.json").token_to_id("[UNK]")
    source, float32_scales = tiny_bert / "model.remap16.onnx", tiny_bert / "model.q4rows.onnx"
    prune_vocab.prune_graph_with_remap(tiny_bert / "model.onnx", source, kept, size, unk)
    export.quantize_q4(source, float32_scales, block_size=32, table_block=32, min_elements=256)
    export.halve_table_scales(float32_scales, tiny_bert / "model.q4rows16.onnx")
    graph = onnx.load(str(tiny_bert / "model.q4rows16.onnx")).graph
    initializers = {i.name: i for i in graph.initializer}
    scales = [n.input[2] for n in graph.node if n.op_type == "GatherBlockQuantized"]
    assert scales and all(s not in initializers for s in scales)  # each is now a Cast's output
    halved = [initializers[f"{s}16"] for s in scales]
    assert all(h.data_type == onnx.TensorProto.FLOAT16 for h in halved)
    encoder = TextEncoder(load_tokenizer(tiny_bert / "tokenizer.json"), describe(load_tokenizer(tiny_bert / "tokenizer.json")), 64)
    feeds = encoder.batch(TEXTS)
    expected = create_session(float32_scales).run(["logits"], feeds)[0]
    actual = create_session(tiny_bert / "model.q4rows16.onnx").run(["logits"], feeds)[0]
    assert 0 < np.abs(actual - expected).max() < 1e-2 * (expected.max() - expected.min())
    before = {i.name: i for i in onnx.load(str(float32_scales)).graph.initializer}
    assert [len(h.raw_data) for h in halved] == [len(before[s].raw_data) // 2 for s in scales]  # half the bytes
