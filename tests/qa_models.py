"""Tiny random `*ForQuestionAnswering` models made in the test, saved locally (no hub): inputs for `import`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_hf import byte_level_tokenizer, wordpiece_tokenizer

MAX_POSITIONS = 64


def tiny_qa_model(family: str, vocab_size: int):
    import torch
    from transformers import (BertConfig, BertForQuestionAnswering, DistilBertConfig, DistilBertForQuestionAnswering, RobertaConfig,
                              RobertaForQuestionAnswering)

    torch.manual_seed(0)
    if family == "bert":
        return BertForQuestionAnswering(BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                                   intermediate_size=37, max_position_embeddings=MAX_POSITIONS))
    if family == "roberta":  # positions start after the padding id, hence 2 more
        return RobertaForQuestionAnswering(RobertaConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                                         intermediate_size=37, max_position_embeddings=MAX_POSITIONS + 2, pad_token_id=1,
                                                         bos_token_id=0, eos_token_id=2, type_vocab_size=1))
    return DistilBertForQuestionAnswering(DistilBertConfig(vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=37,
                                                           max_position_embeddings=MAX_POSITIONS))


def save_tiny_qa(folder: Path, family: str = "bert") -> Path:
    import torch

    tokenizer = byte_level_tokenizer(MAX_POSITIONS) if family == "roberta" else wordpiece_tokenizer(MAX_POSITIONS)
    model = tiny_qa_model(family, len(tokenizer))
    with torch.no_grad():  # a random head's logits are all near 0; larger ones make answers decisive, as a trained head's are
        model.qa_outputs.weight.mul_(40)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_classifier_claiming_qa(folder: Path) -> Path:
    """A sequence-classification model whose config.json claims a question-answering head."""
    import json

    from tiny_hf import save_tiny

    save_tiny(folder, "bert")
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["BertForQuestionAnswering"]
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="session", name="qa_model_dir")
def qa_model_fixture(tmp_path_factory) -> Path:
    """One tiny random BERT question-answering model, imported once per session (int8 and q4 variants too)."""
    from staticml.train.importer import import_model

    root = tmp_path_factory.mktemp("qa")
    source = save_tiny_qa(root / "hf", "bert")
    import_model(source, root / "model", name="tiny-qa", report=lambda line: None)
    return root / "model"
