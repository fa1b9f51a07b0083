"""Issue 28 item 1: students that see word order export to graphs the page's compact engine runs,
and rule-labelled counterfactuals flip or keep labels as the rules say."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from staticml import compact
from staticml.runtime import create_session
from staticml.train import export
from staticml.train.counterfactual import counterfactuals, negated
from staticml.train.models.students import ConvTiny, NegationTiny, TinyTransformer

NEGATOR = 7
STUDENTS = {"conv": lambda: ConvTiny(300, 3), "negation": lambda: NegationTiny(300, 3, [NEGATOR]),
            "transformer1": lambda: TinyTransformer(300, 3, dim=64, layers=1),
            "transformer2": lambda: TinyTransformer(300, 3, dim=64, layers=2),
            "transformer2-width128-4heads": lambda: TinyTransformer(300, 3, dim=128, layers=2, heads=4)}


def batch(seed: int = 0) -> dict[str, np.ndarray]:
    ids = np.random.default_rng(seed).integers(1, 300, size=(4, 9)).astype(np.int64)
    mask = np.ones_like(ids)
    ids[1, 6:], mask[1, 6:] = 0, 0  # one padded row
    return {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("name", STUDENTS)
def test_a_student_exports_to_onnx_the_compact_engine_runs_fp32_and_int8(name, tmp_path):
    torch.manual_seed(0)
    model = STUDENTS[name]().eval()
    sample = batch()
    report = export.export_onnx(model, tmp_path / "model.onnx", sample, 1e-4)
    assert report.ok and report.label_agreement == 1.0
    export.quantize("gather-int8", tmp_path / "model.onnx", tmp_path / "model.int8.onnx")
    assert compact.unsupported(tmp_path / "model.onnx") == [] and compact.unsupported(tmp_path / "model.int8.onnx") == []
    # dynamic axes: another batch and length runs, and matches PyTorch
    other = {k: v[:2, :5] for k, v in batch(1).items()}
    with torch.no_grad():
        expected = model(*(torch.from_numpy(other[k]) for k in export.INPUTS)).numpy()
    actual = create_session(tmp_path / "model.onnx").run(["logits"], other)[0]
    assert np.abs(actual - expected).max() < 1e-4


@pytest.mark.parametrize("name", STUDENTS)
def test_padding_does_not_change_a_students_answer_but_word_order_does(name):
    torch.manual_seed(0)
    model = STUDENTS[name]().eval()
    sample = {k: torch.from_numpy(v) for k, v in batch().items()}
    with torch.no_grad():
        padded = model(sample["input_ids"][1:2], sample["attention_mask"][1:2])
        trimmed = model(sample["input_ids"][1:2, :6], sample["attention_mask"][1:2, :6])
        swapped = model(sample["input_ids"][0:1].flip(1), sample["attention_mask"][0:1])
        original = model(sample["input_ids"][0:1], sample["attention_mask"][0:1])
    assert torch.allclose(padded, trimmed, atol=1e-5)
    assert not torch.allclose(swapped, original, atol=1e-4)


def test_negation_scope_gives_the_three_tokens_after_a_negator_their_own_rows():
    torch.manual_seed(0)
    model = NegationTiny(300, 3, [NEGATOR]).eval()
    seen = []
    model.tokens.register_forward_hook(lambda _module, inputs, _out: seen.append(inputs[0].clone()))
    ids = torch.tensor([[2, 11, NEGATOR, 12, 13, 14, 15, 16]])
    with torch.no_grad():
        model(ids, torch.ones_like(ids))
    assert seen[0].tolist() == [[2, 11, NEGATOR, 312, 313, 314, 15, 16]]
    with torch.no_grad():
        plain = model(torch.tensor([[2, 12, 3]]), torch.ones(1, 3, dtype=torch.long))
        negated = model(torch.tensor([[2, NEGATOR, 12, 3]]), torch.ones(1, 4, dtype=torch.long))
        other = model(torch.tensor([[2, 11, 12, 3]]), torch.ones(1, 4, dtype=torch.long))
    assert not torch.allclose(plain, negated, atol=1e-4) and not torch.allclose(negated, other, atol=1e-4)


@pytest.mark.parametrize("text, polarity, expected", [
    ("this movie is good", "positive", "this movie is not good"),
    ("I love this song", "positive", "I don't love this song"),
    ("I hated it", "negative", "I didn't hate it"),
    ("not happy today", "negative", "happy today"),
    ("it is not bad", "positive", "it is bad"),
    ("see you at noon", "positive", None),
])
def test_negation_rules(text, polarity, expected):
    assert negated(text, polarity) == expected


def test_counterfactuals_flip_negated_labels_keep_the_final_clauses_label_and_leave_neutral_alone():
    names = ["negative", "neutral", "positive"]
    texts = ["the show is great", "my day was bad", "meeting at noon is good", "the bus is late", "I love it"]
    labels = [2, 0, 1, 1, 2]
    out, out_labels = counterfactuals(texts, labels, names, seed=0, contrast_pairs=20)
    negations = dict(zip(out[:3], out_labels[:3]))
    assert negations == {"the show is not great": 0, "my day was not bad": 2, "I don't love it": 0}
    assert not any("noon" in t for t in out)  # neutral texts are never rewritten or joined
    for text, label in zip(out[3:], out_labels[3:]):
        verdict = text.split(", but ")[-1] if ", but " in text else text.split(", ", 1)[1]
        assert label == labels[texts.index(verdict)] and label != 1
    assert counterfactuals(texts, labels, ["bad", "ok", "fine"], seed=0) == ([], [])
