"""Issue 25, item 7: a CSV a spreadsheet saved with ';' between cells (a European locale) is read as
such by train (text and tabular) and predict, the same as its comma-separated twin."""

from __future__ import annotations

import csv
import io

from cli_tools import run_output
from test_tabular import applicants

from staticml.tables import csv_delimiter
from staticml.train import data, tabular as train_tabular

ROWS = [("great product; would buy", "pos"), ("awful support", "neg"), ("loved it", "pos"), ("never again", "neg")]


def write(path, rows: list[tuple], header: tuple, delimiter: str):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_header_row_decides_the_delimiter():
    assert csv_delimiter("text;label\r\n") == ";"
    assert csv_delimiter("text,label\n") == ","
    assert csv_delimiter('"a;b;c",label\n') == ","  # semicolons inside a quoted name do not count
    assert csv_delimiter("text\n") == ","


def test_train_reads_a_semicolon_csv_of_texts_as_its_comma_twin(tmp_path):
    semicolons = data.load(write(tmp_path / "s.csv", ROWS, ("text", "label"), ";"), "text", "label")
    commas = data.load(write(tmp_path / "c.csv", ROWS, ("text", "label"), ","), "text", "label")
    assert list(zip(semicolons.texts, semicolons.labels)) == list(zip(commas.texts, commas.labels)) == ROWS


def test_tabular_training_reads_a_semicolon_csv_with_decimal_commas_in_quotes(tmp_path):
    rows = applicants(40)
    columns = list(rows[0])
    table = [[r[c] for c in columns] for r in rows]
    semicolons = train_tabular.load(write(tmp_path / "s.csv", table, tuple(columns), ";"), "Status")
    commas = train_tabular.load(write(tmp_path / "c.csv", table, tuple(columns), ","), "Status")
    assert semicolons.kinds == commas.kinds and "Income" in semicolons.kinds


def test_predict_reads_a_semicolon_csv_and_says_so(tiny_model, tmp_path, capsys):
    texts = [(1, t) for t, _ in ROWS]
    code, from_semicolons, err = run_output(capsys, "predict", tiny_model, write(tmp_path / "s.csv", texts, ("id", "text"), ";"))
    assert code == 0, err
    assert any("separated by semicolons" in line for line in err), err
    code, from_commas, err = run_output(capsys, "predict", tiny_model, write(tmp_path / "c.csv", texts, ("id", "text"), ","))
    assert code == 0, err
    assert from_semicolons == from_commas
    assert [r["text"] for r in csv.DictReader(io.StringIO(from_semicolons))] == [t for t, _ in ROWS]
