"""--arch minilm: the shipped tokenizer with the Σ fix, and the encoder split into bottom and top."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from staticml.hard_texts import hard_texts
from staticml.models import minilm
from staticml.tokenize import describe, load_tokenizer, pad


@pytest.fixture(scope="module")
def tokenizer():
    return minilm.load_tokenizer()


def test_sigma_fix_leaves_python_ids_unchanged(tokenizer):
    shipped = load_tokenizer(minilm.source_dir() / "tokenizer.json")
    texts = hard_texts(600) + ["ΟΔΥΣΣΕΥΣ ΣΊΣΥΦΟΣ"]
    assert [e.ids for e in tokenizer.encode_batch(texts)] == [e.ids for e in shipped.encode_batch(texts)]
    normalizer = json.loads(tokenizer.to_str())["normalizer"]
    assert normalizer["type"] == "Sequence" and normalizer["normalizers"][0]["type"] == "Replace"


def test_special_tokens_and_no_fixed_padding(tokenizer):
    spec = describe(tokenizer)
    assert (spec.prefix_ids, spec.suffix_ids, spec.pad_id) == ([101], [102], 0)
    assert len(tokenizer.encode("short", add_special_tokens=False).ids) == 1  # not padded to 128


@pytest.mark.parametrize("train_layers", [0, 2])
def test_bottom_then_top_is_the_encoder_with_mean_pooling(tokenizer, train_layers):
    torch.manual_seed(0)
    model = minilm.MiniLMClassifier(3, train_layers=train_layers).eval()
    texts = ["I love it", "this is a much longer text, with padding for the short one", "meh"]
    spec = describe(tokenizer)
    batch = pad([spec.prefix_ids + e.ids + spec.suffix_ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)],
                spec.pad_id)
    ids, mask = torch.from_numpy(batch["input_ids"]), torch.from_numpy(batch["attention_mask"])
    with torch.no_grad():
        reference = model.encoder(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
        expected = model.head(minilm.mean_pool(reference.last_hidden_state, mask))
        actual = model.top(model.bottom(ids, mask), mask)
        single = model(ids[2:3, : int(mask[2].sum())], mask[2:3, : int(mask[2].sum())])
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(single.numpy(), actual[2:3].numpy(), atol=1e-5)  # padding changes nothing
    trained = {name.split(".")[3] for name, p in model.named_parameters() if p.requires_grad and name.startswith("encoder.")}
    assert trained == {str(i) for i in range(6 - train_layers, 6)}
