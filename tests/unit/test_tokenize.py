"""The tokenization rule shared with the page."""

from __future__ import annotations

import pytest
from tokenizers import Tokenizer

from staticml.hard_texts import hard_texts
from staticml.tokenize import TextEncoder, describe, load_tokenizer, pad, train_tokenizer

CORPUS = ["I love this car", "this is not good at all", "driverless cars are the future", "never trust a robot"] * 50


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(CORPUS, vocab_size=200)


def test_special_tokens_are_derived_from_the_post_processor(tokenizer):
    spec = describe(tokenizer)
    assert spec.prefix_ids == [tokenizer.token_to_id("[CLS]")]
    assert spec.suffix_ids == [tokenizer.token_to_id("[SEP]")]
    assert spec.pad_id == tokenizer.token_to_id("[PAD]")
    assert spec.unk_token == "[UNK]"


def test_rule_equals_the_rust_tokenizers_own_truncation(tokenizer):
    encoder = TextEncoder(tokenizer, describe(tokenizer), max_length=16)
    reference = Tokenizer.from_str(tokenizer.to_str())
    reference.enable_truncation(16)
    texts = hard_texts(200)
    assert encoder.ids(texts) == [e.ids for e in reference.encode_batch(texts)]
    assert max(map(len, encoder.ids(texts))) == 16


def test_batch_is_padded_to_its_longest_text(tokenizer):
    batch = TextEncoder(tokenizer, describe(tokenizer), 128).batch(["love", "this is not good at all", ""])
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert ids.shape == mask.shape and ids.shape[0] == 3
    assert mask[1].all() and mask.sum(axis=1).tolist() == [3, ids.shape[1], 2]
    assert (ids[mask == 0] == describe(tokenizer).pad_id).all()
    assert str(ids.dtype) == "int64"


def test_rust_lowercases_a_final_capital_sigma_to_sigma(tokenizer):
    """The fact the page's rule relies on (tokenize.ts lowercases Σ to σ first, as JavaScript would
    give ς at a word's end); the browser tokenizer test compares the ids of such strings."""
    assert tokenizer.normalizer.normalize_str("ΟΔΥΣΣΕΥΣ ΣΟΦΙΑ") == "οδυσσευσ σοφια"
    assert "ΟΔΥΣΣΕΥΣ".lower() == "οδυσσευς"  # what JavaScript's toLowerCase gives too


def test_saved_tokenizer_loads_without_padding_or_truncation(tokenizer, tmp_path):
    tokenizer.enable_padding(length=128)
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    loaded = load_tokenizer(tmp_path / "tokenizer.json")
    assert loaded.padding is None and loaded.truncation is None
    tokenizer.no_padding()


def test_pad_of_an_empty_batch_has_no_rows():
    assert pad([], 0)["input_ids"].shape == (0, 1)
