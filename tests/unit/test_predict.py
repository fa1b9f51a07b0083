"""Issue 17, item 3: `staticml predict` scores a file in Python as the page does, and its bad input; issue 25,
item 4: the output holds the input's columns (or --keep's), then the label and probabilities."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_tools import assert_one_line_refusal, run_output

from staticml.cli import main
from staticml import Classifier
from staticml.site import build

TEXTS = ["I love this, it made my day!", "=1+1 is a formula", "worst service ever, never again", "meh", 'a "quoted", text']


@pytest.fixture
def texts_csv(tmp_path):
    path = tmp_path / "texts.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "review"])
        writer.writerows([[i, t] for i, t in enumerate(TEXTS)] + [[99, ""]])  # the empty text is skipped
    return path


def read_scores(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_writes_the_inputs_columns_with_pythons_probabilities(tiny_model, texts_csv, capsys):
    code, out, err = run_output(capsys, "predict", tiny_model, texts_csv)
    assert code == 0, err
    classifier = Classifier(tiny_model)
    labels = classifier.labels
    rows = read_scores(out)
    assert list(rows[0]) == ["id", "review", "label", "set", *[f"p_{label}" for label in labels]]
    assert [r["id"] for r in rows] == ["0", "1", "2", "3", "4"]  # the row without a text is skipped
    # As the page's download: a text that a spreadsheet would run as a formula starts with '.
    assert [r["review"] for r in rows] == [("'" + t if t.startswith("=") else t) for t in TEXTS]
    expected = classifier.predict(TEXTS)
    assert [r["label"] for r in rows] == [p["label"] for p in expected]
    assert [json.loads(r["set"]) for r in rows] == [p["set"] for p in expected]  # issue 28: the prediction set
    got = np.array([[float(r[f"p_{label}"]) for label in labels] for r in rows])
    want = np.array([[p["scores"][label] for label in labels] for p in expected])
    assert np.abs(got - want).max() <= 5e-7
    assert "scoring column 'review'" in err[0]


def test_every_input_format_gives_the_same_scores(tiny_model, tmp_path, capsys):
    (tmp_path / "t.txt").write_text("\n".join(TEXTS) + "\n\n", encoding="utf-8")
    (tmp_path / "t.tsv").write_text("text\tn\n" + "".join(f'"{t}"\t{i}\n'.replace('"quoted"', '""quoted""')
                                                          for i, t in enumerate(TEXTS)), encoding="utf-8")
    (tmp_path / "t.jsonl").write_text("".join(json.dumps({"text": t, "n": i}) + "\n" for i, t in enumerate(TEXTS)))
    pq.write_table(pa.table({"n": list(range(len(TEXTS))), "text": TEXTS}), tmp_path / "t.parquet")
    outputs = {}
    for name in ("t.txt", "t.tsv", "t.jsonl", "t.parquet"):
        code, out, err = run_output(capsys, "predict", tiny_model, tmp_path / name, "--text-col", "text", "--keep", "text")
        assert code == 0, (name, err)
        outputs[name] = out
    assert len(set(outputs.values())) == 1, outputs
    assert len(read_scores(outputs["t.txt"])) == len(TEXTS)


def test_predict_writes_parquet_and_csv_files_and_reads_a_site(tiny_model, tiny_site, texts_csv, tmp_path, capsys):
    code, _, err = run_output(capsys, "predict", tiny_site, texts_csv, "--out", tmp_path / "scores.parquet")
    assert code == 0, err
    table = pq.read_table(tmp_path / "scores.parquet")
    labels = Classifier(tiny_model).labels
    assert table.column_names == ["id", "review", "label", "set", *[f"p_{label}" for label in labels]]
    assert table.column("set").to_pylist() == [p["set"] for p in Classifier(tiny_model).predict(TEXTS)]
    assert table.column("review").to_pylist() == TEXTS  # Parquet holds the texts as they are
    code, _, err = run_output(capsys, "predict", tiny_model, texts_csv, "--out", tmp_path / "scores.csv")
    assert code == 0, err
    from_csv = read_scores((tmp_path / "scores.csv").read_text(encoding="utf-8"))
    assert [r["label"] for r in from_csv] == table.column("label").to_pylist()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left


def test_the_python_api_is_one_import_and_import_staticml_stays_light(tiny_model):
    code = ("import sys, staticml; assert 'onnxruntime' not in sys.modules, 'import staticml loaded onnxruntime'\n"
            "from staticml import Classifier\n"
            f"print(Classifier({str(tiny_model)!r}).predict(['I love it'])[0]['label'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in Classifier(tiny_model).labels


def test_keep_names_the_columns_written_and_a_label_column_of_the_input_stays_its_own(tiny_model, tmp_path, capsys):
    data = tmp_path / "labelled.csv"
    data.write_text("id,text,label,note\n1,I love it,positive,a\n2,awful,negative,b\n", encoding="utf-8")
    code, out, err = run_output(capsys, "predict", tiny_model, data)
    assert code == 0, err
    rows = read_scores(out)
    labels = Classifier(tiny_model).labels
    assert list(rows[0]) == ["id", "text", "label", "note", "predicted_label", "set", *[f"p_{label}" for label in labels]]
    assert [r["label"] for r in rows] == ["positive", "negative"]  # the input's own labels, untouched
    assert any("predicted_label" in line for line in err)
    code, out, err = run_output(capsys, "predict", tiny_model, data, "--keep", "note,id")
    assert code == 0, err
    assert list(read_scores(out)[0]) == ["note", "id", "label", "set", *[f"p_{label}" for label in labels]]
    code, out, err = run_output(capsys, "predict", tiny_model, data, "--keep", "")
    assert code == 0, err
    assert list(read_scores(out)[0]) == ["label", "set", *[f"p_{label}" for label in labels]]
    code, out, err = run_output(capsys, "predict", tiny_model, data, "--keep", "id,customer")
    assert_one_line_refusal(code, err, "--keep: " + str(data) + " has no column 'customer' (its columns: id, text, label, note)")
    assert out == ""


def test_a_parquet_output_keeps_a_parquet_inputs_column_types(tiny_model, tmp_path, capsys):
    import datetime

    when = [datetime.datetime(2026, 1, d) for d in (1, 2, 3)]
    pq.write_table(pa.table({"n": [1, 2, 3], "when": when, "text": ["good", "bad", None]}), tmp_path / "in.parquet")
    code, _, err = run_output(capsys, "predict", tiny_model, tmp_path / "in.parquet", "--out", tmp_path / "out.parquet")
    assert code == 0, err
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.schema.field("n").type == pa.int64() and table.column("n").to_pylist() == [1, 2]
    assert table.column("when").to_pylist() == when[:2]
    code, out, err = run_output(capsys, "predict", tiny_model, tmp_path / "in.parquet")
    assert code == 0, err
    assert [r["when"] for r in read_scores(out)] == ["2026-01-01 00:00:00", "2026-01-02 00:00:00"]


# ---------------------------------------------------------------- bad input


def test_a_file_without_the_text_column_is_refused_listing_its_columns(tiny_model, texts_csv, capsys):
    code, out, err = run_output(capsys, "predict", tiny_model, texts_csv, "--text-col", "body")
    assert_one_line_refusal(code, err, "no column 'body' (its columns: id, review)")
    assert out == ""


def test_an_existing_out_file_is_refused_unless_force(tiny_model, texts_csv, tmp_path, capsys):
    out = tmp_path / "mine.csv"
    out.write_text("my own file\n")
    code, _, err = run_output(capsys, "predict", tiny_model, texts_csv, "--out", out)
    assert_one_line_refusal(code, err, "the file exists; pass --force")
    assert out.read_text() == "my own file\n"
    code, _, err = run_output(capsys, "predict", tiny_model, texts_csv, "--out", out, "--force")
    assert code == 0, err
    assert out.read_text(encoding="utf-8").startswith("id,review,label,")


@pytest.fixture(scope="module")
def tiny_site(tiny_model, tmp_path_factory):
    site = tmp_path_factory.mktemp("predict") / "site"
    build([tiny_model], site, report=lambda line: None)
    return site


def bad_predict_input(tiny_model, site, texts_csv, tmp_path) -> dict:
    """case → (model, data, more arguments, what the one line says)."""
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"text\n" + bytes(range(256)) * 10)
    xlsx = tmp_path / "t.xlsx"
    xlsx.write_bytes(b"PK")
    empty = tmp_path / "empty.csv"
    empty.write_text("text,n\n,1\n  ,2\n")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"text": "fine"}\n{"text": \n')
    scores = ["--out", tmp_path / "scores.csv"]
    return {
        "out-is-input": (tiny_model, texts_csv, ["--out", texts_csv, "--force"], "that is an input file"),
        "out-json": (tiny_model, texts_csv, ["--out", tmp_path / "scores.json"], "write a .csv or a .parquet file"),
        "out-folder": (tiny_model, texts_csv, ["--out", tmp_path / "nowhere" / "s.csv"], "no folder"),
        "binary": (tiny_model, binary, scores, "not text"),
        "unknown-type": (tiny_model, xlsx, scores, "not a file type predict reads"),
        "no-text": (tiny_model, empty, scores + ["--text-col", "text"], "column 'text' has no text in any row"),
        "bad-jsonl": (tiny_model, jsonl, scores, "line 2 is not valid JSON"),
        "missing-file": (tiny_model, tmp_path / "nope.csv", scores, "no such file"),
        "not-a-model": (tmp_path, texts_csv, scores, "manifest.json"),
        "site-unknown-model": (site, texts_csv, scores + ["--model", "nope"], "the site has no model 'nope'"),
        "model-of-a-folder": (tiny_model, texts_csv, scores + ["--model", "x"], "this is not a site"),
    }


@pytest.mark.parametrize("case", ["out-is-input", "out-json", "out-folder", "binary", "unknown-type", "no-text",
                                  "bad-jsonl", "missing-file", "not-a-model", "site-unknown-model", "model-of-a-folder"])
def test_bad_predict_input_is_one_line_and_writes_nothing(tiny_model, tiny_site, texts_csv, tmp_path, capsys, case):
    model, data, more, says = bad_predict_input(tiny_model, tiny_site, texts_csv, tmp_path)[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run_output(capsys, "predict", model, data, *more)
    assert_one_line_refusal(code, err, says)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert texts_csv.read_text(encoding="utf-8").startswith("id,review")


def test_a_face_detector_given_a_table_is_refused_naming_what_it_reads(texts_csv, tmp_path, capsys):
    from staticml.tasks.face_detection.detect import BLAZEFACE_SHORT_RANGE as SPEC

    from staticml import manifest as manifest_io

    folder = tmp_path / "face"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"never run")
    manifest_io.write_model_folder(folder, name="face", task="face-detection", labels=None, variants={"fp32": "model.onnx"},
                                   default_variant="fp32", metrics={}, arch="blazeface-short-range", detector=SPEC)
    code, _, err = run_output(capsys, "predict", folder, texts_csv, "--out", tmp_path / "s.csv")
    assert_one_line_refusal(code, err, "a face detector reads an image (.png")
    assert not (tmp_path / "s.csv").exists()


def test_serve_refuses_a_model_folder_saying_it_is_not_a_built_site(tiny_model, capsys):
    code, _, err = run_output(capsys, "serve", tiny_model)
    assert_one_line_refusal(code, err, "not a staticml site")


def test_a_command_whose_extra_is_missing_names_the_extra(tmp_path):
    """As in an environment without torch: `import torch` fails (None in sys.modules does just that)."""
    data = tmp_path / "t.csv"
    data.write_text("text,label\na,x\nb,y\n")
    code = ("import sys; sys.modules['torch'] = None\n"
            "from staticml.cli import main\n"
            f"sys.exit(main(['train', {str(data)!r}, '--text-col', 'text', '--label-col', 'label', '--out', {str(tmp_path / 'm')!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "torch is not installed" in lines[0] and "pip install 'staticml[train]'" in lines[0], lines


def test_version_names_the_onnxruntime_web_of_the_page(capsys):
    lock = json.loads((_repo() / "web" / "package-lock.json").read_text())
    ort_web = lock["packages"]["node_modules/onnxruntime-web"]["version"]
    assert main(["--version"]) == 0
    from staticml import __version__

    assert capsys.readouterr().out.strip() == f"staticml {__version__} (onnxruntime-web {ort_web})"


def _repo():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- a tabular model


@pytest.fixture(scope="module")
def tabular_model(tmp_path_factory):
    from tabular_probe import make_model_folder

    return make_model_folder(tmp_path_factory.mktemp("tabular") / "eligibility")


def applicants_csv(path, rows: list[dict]):
    from tabular_probe import FEATURES

    names = [f["name"] for f in FEATURES]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", *names])
        for i, row in enumerate(rows):
            cells = ["" if row[n] is None else ("yes" if row[n] is True else "no" if row[n] is False else row[n]) for n in names]
            writer.writerow([i, *cells])
    return path


def test_a_tabular_model_scores_each_row_by_its_feature_columns(tabular_model, tmp_path, capsys):
    from tabular_probe import applicants

    rows, _ = applicants(40, seed=3)
    data = applicants_csv(tmp_path / "applicants.csv", rows)
    code, out, err = run_output(capsys, "predict", tabular_model, data)
    assert code == 0, err
    scored = read_scores(out)
    classifier = Classifier(tabular_model)
    expected = classifier.predict(rows)
    assert [r["id"] for r in scored] == [str(i) for i in range(40)]
    assert [r["label"] for r in scored] == [p["label"] for p in expected]
    got = np.array([[float(r[f"p_{label}"]) for label in classifier.labels] for r in scored])
    want = np.array([[p["scores"][label] for label in classifier.labels] for p in expected])
    assert np.abs(got - want).max() <= 5e-7
    names = [f["name"] for f in classifier.features]
    assert list(scored[0]) == ["id", *names, "label", *[f"p_{label}" for label in classifier.labels]]  # no invented text column


def test_a_tabular_file_without_a_feature_column_or_with_a_bad_cell_is_refused(tabular_model, tmp_path, capsys):
    missing = tmp_path / "missing.csv"
    missing.write_text("Seniority,Income,Records\n5,100,no\n")
    code, _, err = run_output(capsys, "predict", tabular_model, missing)
    assert_one_line_refusal(code, err, "no column 'Home <type>' (the model needs: Seniority, Home <type>, Income, Records; "
                              "the file has: Seniority, Income, Records)")
    bad = tmp_path / "bad.csv"
    bad.write_text("Seniority,Home <type>,Income,Records\n5,owner,100,no\n5,rent,lots,no\n")
    code, _, err = run_output(capsys, "predict", tabular_model, bad, "--out", tmp_path / "s.csv")
    assert_one_line_refusal(code, err, "row 2, column 'Income': 'lots' is not a number")
    assert not (tmp_path / "s.csv").exists()
