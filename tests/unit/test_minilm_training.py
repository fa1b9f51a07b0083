"""--arch minilm: the shipped tokenizer, and the encoder split into bottom and top."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from staticml.train.models import minilm
from staticml.tokenize import describe, pad


@pytest.fixture(scope="module")
def tokenizer():
    return minilm.load_tokenizer()


def test_the_shipped_tokenizer_is_used_as_it_is(tokenizer):
    shipped = json.loads((minilm.source_dir() / "tokenizer.json").read_text())
    ours = json.loads(tokenizer.to_str())
    assert ours["normalizer"] == shipped["normalizer"] and ours["model"]["vocab"] == shipped["model"]["vocab"]


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
