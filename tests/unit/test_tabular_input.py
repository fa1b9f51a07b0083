"""Issue 22, item 6 (data parts): bad tables for tabular training are one line naming the column,
exit 2, nothing written, and refused before any training; `predict` reads a Latin-1 CSV."""

from __future__ import annotations

import csv

import pytest

from cli_tools import assert_nothing_left, assert_one_line_refusal, run
from test_tabular import applicants, write_csv

from staticml import Classifier
from staticml.train import tabular as train_tabular


def with_value(rows: list[dict], column: str, value) -> list[dict]:
    return [{**r, column: value} if i == 5 else r for i, r in enumerate(rows)]


def renamed(rows: list[dict], old: str, new: str) -> list[dict]:
    return [{(new if k == old else k): v for k, v in r.items()} for r in rows]


def wide(path, columns: int):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"c{j}" for j in range(columns)] + ["Status"])
        writer.writerows([[(i * j) % 7 for j in range(columns)] + ["good" if i % 2 else "bad"] for i in range(40)])
    return path


def duplicate_headers(path):
    """Two columns named Income: csv.DictReader (and pandas, which renames one Income.1) hide it."""
    rows = applicants(60)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Income", "Age", "Income", "Status"])
        writer.writerows([[r["Income"], r["Age"], r["Age"] * 3, r["Status"]] for r in rows])
    return path


def bad_tables(tmp_path) -> dict:
    """case → (data file, extra arguments, what the one line says)."""
    rows = applicants(60)
    return {
        "beyond float32": (write_csv(tmp_path / "a.csv", with_value(rows, "Ratio", "1e308")), [],
                           "column 'Ratio' has the number 1e+308, beyond float32's range"),
        "beyond float32, --numeric": (write_csv(tmp_path / "b.csv", with_value(rows, "Age", "-4e38")), ["--numeric", "Age"],
                                      "column 'Age' has the number -4e+38"),
        "2,001 columns": (wide(tmp_path / "c.csv", 2001), [], "2001 feature columns; a form model takes at most 2000"),
        "duplicate headers": (duplicate_headers(tmp_path / "d.csv"), [], "duplicate column header(s) 'Income'"),
        "bidi in a name": (write_csv(tmp_path / "e.csv", renamed(rows, "Home", "Home\u202egnp.exe")), [],
                           "column 'Home\\u202egnp.exe' has the character U+202E in its name"),
        "control in a name": (write_csv(tmp_path / "f.csv", renamed(rows, "Age", "Age\x07")), [],
                              "column 'Age\\x07' has the character U+0007"),
        "zero width in the label's name": (write_csv(tmp_path / "g.csv", renamed(rows, "Status", "Sta\u200btus")),
                                           ["--label-col", "Sta\u200btus"], "U+200B"),
        "--examples for tabular": (write_csv(tmp_path / "h.csv", rows), ["--examples", tmp_path / "h.csv"],
                                   "--examples: the tabular page shows no example rows"),
    }


@pytest.mark.parametrize("case", ["beyond float32", "beyond float32, --numeric", "2,001 columns", "duplicate headers",
                                  "bidi in a name", "control in a name", "zero width in the label's name",
                                  "--examples for tabular"])
def test_bad_table_is_one_line_before_training(tmp_path, capsys, monkeypatch, case):
    path, extra, says = bad_tables(tmp_path)[case]

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(train_tabular, "candidates", no_training)
    out = tmp_path / "model"
    label = [] if "--label-col" in extra else ["--label-col", "Status"]
    code, err = run(capsys, "train", path, "--task", "tabular", *label, *extra, "--out", out)
    assert_one_line_refusal(code, err, says)
    assert_nothing_left(out)


def test_duplicate_keys_in_a_jsonl_line_are_refused(tmp_path, capsys):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"Age": 30, "Status": "good"}\n{"Age": 31, "Age": 40, "Status": "bad"}\n', encoding="utf-8")
    code, err = run(capsys, "train", path, "--task", "tabular", "--label-col", "Status", "--out", tmp_path / "m")
    assert_one_line_refusal(code, err, "line 2 has the key 'Age' twice")


def test_a_dropped_column_with_an_odd_name_is_no_obstacle(tmp_path):
    rows = renamed(applicants(60), "Note", "Note\u202e")
    table = train_tabular.load(write_csv(tmp_path / "a.csv", rows), "Status", drop=["Note\u202e"])
    assert "Note\u202e" not in table.kinds and "Age" in table.kinds


# ---------------------------------------------------------------- predict on a Latin-1 CSV


LATIN_1 = ["Très bien, merci à vous", "Schöne Grüße aus Köln", "¡Qué mal servicio, señor!", "plain ascii text"]


def test_predict_reads_a_latin_1_csv_and_says_so(tiny_model, tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    with open(path, "w", newline="", encoding="latin-1") as f:
        csv.writer(f).writerows([["id", "text"], *enumerate(LATIN_1)])
    code, err = run(capsys, "predict", tiny_model, path, "--out", tmp_path / "scores.csv")
    assert code == 0, err
    assert f"predict: {path} is not UTF-8; read as cp1252 (Windows Latin-1)" in err
    with open(tmp_path / "scores.csv", encoding="utf-8", newline="") as f:
        scored = list(csv.DictReader(f))
    assert [r["text"] for r in scored] == LATIN_1
    expected = Classifier(tiny_model).predict(LATIN_1)
    assert [r["label"] for r in scored] == [p["label"] for p in expected]


def test_predict_on_utf_8_says_nothing_about_encodings(tiny_model, tmp_path, capsys):
    path = tmp_path / "utf8.csv"
    path.write_text("text\n" + "\n".join(LATIN_1) + "\n", encoding="utf-8")
    code, err = run(capsys, "predict", tiny_model, path, "--out", tmp_path / "scores.csv")
    assert code == 0, err
    assert not [line for line in err if "UTF-8" in line], err
