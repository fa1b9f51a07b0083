"""The CLI end to end on small data, and every bad input: exit 2, one line, nothing half-written."""

from __future__ import annotations

import json

import pytest
from cli_tools import run_text as run  # noqa: F401 (other test modules import it from here)

from staticml import manifest
from staticml import Classifier

POSITIVE = ["love it", "great stuff", "so happy", "wonderful day", "best ever", "really good", "amazing work"]
NEGATIVE = ["hate it", "awful stuff", "so sad", "terrible day", "worst ever", "really bad", "broken again"]


def small_csv(tmp_path, repeat: int = 6):
    path = tmp_path / "reviews.csv"
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    path.write_text("review,stars\n" + "".join(f"{t} {i},{label}\n" for i in range(repeat) for t, label in rows))
    return path


def test_train_writes_a_complete_model_folder(tmp_path, capsys):
    out = tmp_path / "model"
    code, err = run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars",
                    "--out", out, "--epochs", "2")
    assert code == 0, err
    assert "epoch 2/2" in err and "validation accuracy" in err and "baseline TF-IDF" in err
    m = manifest.read(out)
    assert m["name"] == "model" and m["labels"] == ["neg", "pos"] and m["task"] == "text-classification"
    assert set(m["variants"]) == {"fp32", "int8"} and manifest.check_integrity(out, m) == []
    assert set(m["metrics"]["variants"]["fp32"]) >= {"accuracy", "macro_f1", "bytes"}
    assert "tfidf_logreg" in m["metrics"]["baselines"]
    probabilities = Classifier(out).probabilities(["love it", "hate it"])
    assert probabilities.shape == (2, 2)
    assert abs(probabilities.sum(axis=1) - 1).max() < 1e-6


def bad_train_inputs(tmp_path):
    binary = tmp_path / "junk.csv"
    binary.write_bytes(bytes(range(256)) * 10)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    one_label = tmp_path / "one.csv"
    one_label.write_text("review,stars\n" + "".join(f"text {i},pos\n" for i in range(20)))
    blank = tmp_path / "blank.csv"
    blank.write_text("review,stars\n,pos\n   ,neg\nsomething,\n")
    good = small_csv(tmp_path)
    unknown = tmp_path / "data.xml"
    unknown.write_text("<x/>")
    return {
        "missing file": ([tmp_path / "nope.csv"], "no such file"),
        "unknown format": ([unknown], "unknown format"),
        "missing text column": ([good, "--text-col", "body"], "column 'body' (--text-col) not found; columns found: review, stars"),
        "missing label column": ([good, "--label-col", "y"], "column 'y' (--label-col) not found"),
        "empty file": ([empty], "empty"),
        "single label": ([one_label], "single label"),
        "labels not in data": ([good, "--labels", "pos,meh"], "--labels meh not in the data"),
        "binary file": ([binary], "binary file"),
        "no usable rows": ([blank], "no usable rows"),
        "one label given": ([good, "--labels", "pos"], "at least two different labels"),
    }


@pytest.mark.parametrize("case", ["missing file", "unknown format", "missing text column", "missing label column",
                                  "empty file", "single label", "labels not in data", "binary file",
                                  "no usable rows", "one label given"])
def test_bad_training_input_exits_2_with_one_line_and_no_output(tmp_path, capsys, case):
    args, message = bad_train_inputs(tmp_path)[case]
    options = {"--text-col": "review", "--label-col": "stars"}
    for flag in ("--text-col", "--label-col"):
        if flag in args:
            options[flag] = args[args.index(flag) + 1]
            args = args[:args.index(flag)] + args[args.index(flag) + 2:]
    out = tmp_path / "out"
    code, err = run(capsys, "train", *args, *[x for kv in options.items() for x in kv], "--out", out)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert message in err
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_build_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    code, err = run(capsys, "build", tmp_path, "--out", tmp_path / "site")
    assert code == 2 and "not a model folder (no manifest.json)" in err
    assert not (tmp_path / "site").exists()


def test_build_refuses_model_files_changed_after_training(tmp_path, capsys):
    model = tmp_path / "m"
    assert run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars",
               "--out", model, "--epochs", "1")[0] == 0
    (model / "tokenizer.json").write_text(json.dumps({"tampered": True}))
    code, err = run(capsys, "build", model, "--out", tmp_path / "site")
    assert code == 2 and "tokenizer.json does not match the sha256" in err
    assert not (tmp_path / "site").exists()


def test_serve_refuses_a_folder_that_is_not_a_site(tmp_path, capsys):
    code, err = run(capsys, "serve", tmp_path)
    assert code == 2 and "not a staticml site" in err


def test_build_refuses_variants_that_disagree(tmp_path, capsys):
    """An int8 file that answers differently, re-hashed into the manifest, passes sha256 but not parity."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = tmp_path / "m"
    assert run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars",
               "--out", model, "--epochs", "2")[0] == 0
    graph = onnx.load(str(model / "model.onnx"))
    bias = next(t for t in graph.graph.initializer if t.name == "head.bias")
    bias.CopyFrom(numpy_helper.from_array(np.array([-20.0, 20.0], dtype=np.float32), "head.bias"))
    onnx.save(graph, str(model / "model.int8.onnx"))  # always "pos": the fp32 model says "neg" too
    m = manifest.read(model)
    m["files"].update(manifest.file_entries(model, ["model.int8.onnx"]))
    manifest.write(model, m)
    code, err = run(capsys, "build", model, "--out", tmp_path / "site")
    assert code == 2 and "variant 'int8' disagrees with 'fp32'" in err
    assert not (tmp_path / "site").exists()
