"""Small Hugging Face models and ONNX graphs made in the test, saved locally (no hub): inputs for `import`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from staticml.hard_texts import hard_texts
from staticml.tokenize import train_tokenizer

LABELS = ["negative", "neutral", "positive"]


def corpus() -> list[str]:
    return hard_texts(200) + ["the quick brown fox jumps over the lazy dog"] * 5


def wordpiece_tokenizer(max_length: int):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=train_tokenizer(corpus(), vocab_size=300), unk_token="[UNK]",
                                   pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", model_max_length=max_length)


def byte_level_tokenizer(max_length: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    tokenizer.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", model_max_length=max_length)


def tiny_model(family: str, vocab_size: int):
    import torch
    from transformers import (BertConfig, BertForSequenceClassification, DistilBertConfig,
                              DistilBertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification)

    labels = {"id2label": dict(enumerate(LABELS)), "label2id": {label: i for i, label in enumerate(LABELS)}}
    torch.manual_seed(0)
    if family == "bert":
        return BertForSequenceClassification(BertConfig(
            vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
            max_position_embeddings=64, **labels))
    if family == "distilbert":
        return DistilBertForSequenceClassification(DistilBertConfig(
            vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=37, max_position_embeddings=64, **labels))
    return RobertaForSequenceClassification(RobertaConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=66, pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1, **labels))


def save_tiny(folder: Path, family: str) -> Path:
    tokenizer = byte_level_tokenizer(64) if family == "roberta" else wordpiece_tokenizer(64)
    tiny_model(family, len(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def toy_onnx(path: Path, width: int = 3, vocab: int = 400, extra: tuple[str, ...] = (), output: str = "scores") -> Path:
    """input_ids (+ extra int64 inputs) → embedding → masked sum → float [batch, width]."""
    rng = np.random.default_rng(0)
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
            for n in ("input_ids", "attention_mask", *extra)]
    nodes, ids = [], "input_ids"
    for name in extra:  # make every extra input required: it takes part in the computation
        nodes.append(helper.make_node("Mul", [name, "zero"], [f"{name}_0"]))
        nodes.append(helper.make_node("Add", [ids, f"{name}_0"], [f"ids_{name}"]))
        ids = f"ids_{name}"
    nodes += [
        helper.make_node("Gather", ["table", ids], ["emb"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "last"], ["mask3"]),
        helper.make_node("Mul", ["emb", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "seq_axis"], [output], keepdims=0),
    ]
    initializers = [
        helper.make_tensor("table", TensorProto.FLOAT, [vocab, width], rng.normal(size=vocab * width).tolist()),
        helper.make_tensor("zero", TensorProto.INT64, [], [0]),
        helper.make_tensor("last", TensorProto.INT64, [1], [-1]),
        helper.make_tensor("seq_axis", TensorProto.INT64, [1], [1]),
    ]
    graph = helper.make_graph(nodes, "toy", ints, [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", width])],
                              initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def export_with_token_types(model_dir: Path, path: Path) -> Path:
    """The BERT of `model_dir` as ONNX with token_type_ids as a third graph input (as Optimum exports it)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), local_files_only=True).eval()

    class Logits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = (torch.tensor([[2, 5, 6, 3], [2, 7, 3, 0]]), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]), torch.zeros(2, 4, dtype=torch.long))
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    program = torch.onnx.export(Logits(), sample, input_names=names, output_names=["logits"], dynamo=True,
                                dynamic_shapes={n: {0: batch, 1: seq} for n in names}, verbose=False)
    program.save(str(path))
    return path
