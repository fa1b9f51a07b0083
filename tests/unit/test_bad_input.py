"""Issue 10, items 6 and 7: inputs that used to end in a traceback (exit 1) or train on wrong data.

Each is refused with one line naming the file and the problem (exit 2, nothing left behind), or
its rows are skipped and counted."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_tools import assert_nothing_left, assert_one_line_refusal, run
from tiny_hf import toy_onnx

from staticml.train import data
from staticml.hard_texts import hard_texts
from staticml.tokenize import train_tokenizer

DEEP = 100_000  # far past Python's recursion limit: json.loads raises RecursionError


def deeply_nested(key: str = "t") -> str:
    return '{"%s": %s%s}' % (key, "[" * DEEP, "]" * DEEP)


# ---------------------------------------------------------------- train


def parquet(path, columns: dict):
    pq.write_table(pa.table(columns), path)
    return path


def bad_train_data(tmp_path) -> dict:
    """case → (data file, what the one line says)."""
    few = tmp_path / "few.csv"  # 3 rows per label is enough per label, 9 rows not for 3 labels in 3 parts
    few.write_text("t,l\n" + "".join(f"text {label} {i},{label}\n" for label in "abc" for i in range(3)))
    digits = tmp_path / "digits.csv"
    digits.write_text("t,l\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(40)))
    nested = tmp_path / "nested.jsonl"
    nested.write_text('{"t": "fine", "l": "a"}\n' + deeply_nested() + "\n")
    huge_number = tmp_path / "number.jsonl"
    huge_number.write_text('{"t": "fine", "l": ' + "9" * 5000 + "}\n")
    containers = tmp_path / "containers.jsonl"
    containers.write_text("".join(json.dumps({"t": value, "l": label}) + "\n" for value, label in
                                  [(["a list"], "a"), ({"an": "object"}, "b"), (12, "a"), (True, "b")]))
    label_objects = tmp_path / "label_objects.jsonl"
    label_objects.write_text("".join(json.dumps({"t": f"text {i}", "l": [i % 2]}) + "\n" for i in range(20)))
    bytes_text = parquet(tmp_path / "bytes.parquet", {"t": [b"raw bytes %d" % i for i in range(20)],
                                                      "l": ["a", "b"] * 10})
    list_text = parquet(tmp_path / "lists.parquet", {"t": [[f"text {i}"] for i in range(20)], "l": ["a", "b"] * 10})
    line_break = tmp_path / "header.csv"
    line_break.write_text('"bad\ncolumn\x01",l\nsome text,a\n')
    nan_labels = parquet(tmp_path / "nan.parquet", {"t": [f"text {i}" for i in range(20)], "l": [math.nan] * 20})
    return {
        "more labels than the split can stratify": (few, "9 rows are too few to split 3 labels"),
        "texts that are only digits": (digits, "no word occurs in more than one training text"),
        "deeply nested JSONL": (nested, "line 2 is nested too deeply"),
        "a number too long to read": (huge_number, "line 1 is not valid JSON"),
        "lists, objects, numbers as text": (containers, "no usable rows"),
        "lists as labels": (label_objects, "no usable rows"),
        "bytes as text (Parquet)": (bytes_text, "no usable rows"),
        "lists as text (Parquet)": (list_text, "no usable rows"),
        "NaN as every label (Parquet)": (nan_labels, "no usable rows"),
        "a column name with a line break": (line_break, "columns found: bad\\ncolumn\\x01, l"),
    }


@pytest.mark.parametrize("case", ["more labels than the split can stratify", "texts that are only digits",
                                  "deeply nested JSONL", "a number too long to read", "lists, objects, numbers as text",
                                  "lists as labels", "bytes as text (Parquet)",
                                  "lists as text (Parquet)", "NaN as every label (Parquet)",
                                  "a column name with a line break"])
def test_train_refuses_with_one_line(tmp_path, capsys, case):
    path, says = bad_train_data(tmp_path)[case]
    out = tmp_path / "model"
    code, err = run(capsys, "train", path, "--text-col", "t", "--label-col", "l", "--out", out)
    assert_one_line_refusal(code, err, says)
    assert str(path) in err[0]
    assert_nothing_left(out)


GOOD = [(f"good text {i}", "pos") for i in range(5)] + [(f"bad text {i}", "neg") for i in range(5)]


def test_parquet_nan_labels_are_skipped_as_missing_not_a_class(tmp_path):
    texts, labels = [t for t, _ in GOOD], [1.0 if label == "pos" else 0.0 for _, label in GOOD]
    path = parquet(tmp_path / "d.parquet", {"t": texts + ["no label", "no label either"],
                                            "l": labels + [math.nan, None]})
    dataset = data.load(path, "t", "l")
    assert dataset.label_names == ["0", "1"]  # whole floats (an int column with a gap) read as integers
    assert dataset.skipped_rows == 2 and len(dataset.texts) == len(GOOD)
    assert any("2 rows skipped: empty or missing" in note for note in dataset.notes)


@pytest.mark.parametrize("bad_text, bad_label", [
    (["a", "list"], "pos"), ({"an": "object"}, "neg"), (42, "pos"), (None, "neg"),
    ("a text", ["pos"]), ("a text", {"label": "neg"}), ("a text", None),
])
def test_jsonl_values_that_are_not_text_are_skipped_and_counted(tmp_path, bad_text, bad_label):
    rows = [{"t": t, "l": label} for t, label in GOOD] + [{"t": bad_text, "l": bad_label}] * 3
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    dataset = data.load(path, "t", "l")
    assert list(zip(dataset.texts, dataset.labels)) == GOOD  # never str(['a', 'list']) or a class "['pos']"
    assert dataset.skipped_rows == 3


def test_numbers_as_labels_are_labels(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"t": t, "l": 1 if label == "pos" else 2.5}) + "\n" for t, label in GOOD))
    assert data.load(path, "t", "l").label_names == ["1", "2.5"]


# ---------------------------------------------------------------- import


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    train_tokenizer(hard_texts(200), vocab_size=300).save(str(path))
    return path


def onnx_folder(tmp_path, tokenizer_json, files: dict):
    folder = tmp_path / "exported"
    folder.mkdir()
    toy_onnx(folder / "model.onnx", width=2, output="logits")
    (folder / "tokenizer.json").write_bytes(tokenizer_json.read_bytes())
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def hf_folder(tmp_path, config: str):
    """Weights (never read: config.json is refused first) and a config.json."""
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"not read")
    (folder / "config.json").write_text(config)
    return folder


BERT = {"model_type": "bert", "id2label": {"0": "neg", "1": "pos"}, "max_position_embeddings": 64}

BAD_IMPORTS = {
    # case: (source kind, files or config.json, extra args, what the one line says)
    "labels.json is an object": ("onnx", {"labels.json": '{"neg": 0, "pos": 1}'}, [],
                                 "labels.json: expected a JSON list of label strings"),
    "labels.json is not JSON": ("onnx", {"labels.json": "neg, pos"}, [], "labels.json: not valid JSON"),
    "labels.json nested too deeply": ("onnx", {"labels.json": "[" * DEEP + "]" * DEEP}, [],
                                      "labels.json: nested too deeply"),
    "labels.json holds numbers": ("onnx", {"labels.json": "[0, 1]"}, [], "expected a JSON list of label strings"),
    "labels.txt not UTF-8": ("onnx", {"labels.txt": b"n\xe9g\npos\xff\n"}, [], "labels.txt: not UTF-8 text"),
    "config.json nested too deeply": ("onnx", {"config.json": deeply_nested("id2label")}, [],
                                      "config.json: nested too deeply"),
    "config.json max_position_embeddings not a number": (
        "onnx", {"config.json": json.dumps({"max_position_embeddings": "lots"})}, ["--labels", "neg,pos"],
        "config.json: max_position_embeddings must be a whole number"),
    "config.json id2label keys not integers": (
        "onnx", {"config.json": json.dumps({"id2label": {"neg": "0", "pos": "1"}})}, [],
        "config.json: id2label keys must be the integers 0..1"),
    "tokenizer_config.json not UTF-8": ("onnx", {"tokenizer_config.json": b"\xff\xfe{}"}, ["--labels", "neg,pos"],
                                        "tokenizer_config.json: not UTF-8 text"),
    "HF config.json nested too deeply": ("hf", deeply_nested("id2label"), [], "config.json: nested too deeply"),
    "HF max_position_embeddings not a number": ("hf", json.dumps({**BERT, "max_position_embeddings": "512"}), [],
                                                "config.json: max_position_embeddings must be a whole number"),
    "HF max_position_embeddings a fraction": ("hf", json.dumps({**BERT, "max_position_embeddings": 64.5}), [],
                                              "config.json: max_position_embeddings must be a whole number"),
    "HF id2label keys not integers": ("hf", json.dumps({**BERT, "id2label": {"zero": "neg", "one": "pos"}}), [],
                                      "config.json: id2label keys must be the integers 0..1"),
    "HF id2label a list": ("hf", json.dumps({**BERT, "id2label": ["neg", "pos"]}), [],
                           "config.json: id2label must be an object"),
    "HF id2label values not strings": ("hf", json.dumps({**BERT, "id2label": {"0": ["neg"], "1": "pos"}}), [],
                                       "config.json: id2label values must be label strings"),
    "HF config.json a list": ("hf", "[1, 2]", [], "config.json: expected a JSON object"),
}


@pytest.mark.parametrize("case", list(BAD_IMPORTS))
def test_import_refuses_with_one_line(tmp_path, capsys, tokenizer_json, case):
    kind, content, args, says = BAD_IMPORTS[case]
    source = onnx_folder(tmp_path, tokenizer_json, content) if kind == "onnx" else hf_folder(tmp_path, content)
    out = tmp_path / "model"
    code, err = run(capsys, "import", source, *args, "--out", out)
    assert_one_line_refusal(code, err, says)
    assert str(source) in err[0]
    assert_nothing_left(out)


# ---------------------------------------------------------------- ports


@pytest.mark.parametrize("argv", [["serve", "SITE", "--port", "99999"], ["serve", "SITE", "--port", "-1"],
                                  ["api", "SITE", "--port", "65536"], ["demo", "--no-serve", "--port", "http"],
                                  ["bench", "SITE", "--port", "1e3"]])
def test_a_port_out_of_range_is_one_line(tmp_path, capsys, argv):
    code, err = run(capsys, *[str(tmp_path) if a == "SITE" else a for a in argv])
    assert_one_line_refusal(code, err, f"argument --port: '{argv[-1]}' is not a port")
    assert list(tmp_path.iterdir()) == []
