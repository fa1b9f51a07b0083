"""Training data for question answering (issue 27 item 5 and its bad inputs): SQuAD-format JSON v1
and v2 read, a file of another shape refused naming what is missing, answers not at their offsets
skipped and counted, the split by article, the SQuAD exact match and F1."""

from __future__ import annotations

import json

import pytest

from staticml.errors import UserError
from cli_tools import assert_one_line_refusal, run

from staticml.train.question_answering import (XQUAD, choose_no_answer_threshold, f1, length_grouped_batches, normalize, read_squad,
                                               split_by_article, warmup_then_decay)


def squad(articles: list[list[dict]]) -> dict:
    return {"version": "v2.0", "data": [{"title": f"a{i}", "paragraphs": paragraphs} for i, paragraphs in enumerate(articles)]}


def paragraph(context: str, *qas: dict) -> dict:
    return {"context": context, "qas": list(qas)}


def qa(question: str, text: str | None, start: int | None) -> dict:
    if text is None:
        return {"id": question, "question": question, "answers": [], "is_impossible": True}
    return {"id": question, "question": question, "answers": [{"text": text, "answer_start": start}]}


def write(tmp_path, document) -> object:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(document))
    return path


def test_reads_v1_and_v2_and_counts_answers_off_their_offsets(tmp_path):
    context = "Ada Lovelace wrote the first program in 1843."
    document = squad([[paragraph(context, qa("Who wrote it?", "Ada Lovelace", 0), qa("When?", "1843", 40),
                                 qa("Off by one?", "1843", 41), qa("Is there a dog?", None, None))],
                      [paragraph("Paris is in France.", qa("Where is Paris?", "France", 12))]])
    lines = []
    questions = read_squad(write(tmp_path, document), lines.append)
    assert [q.question for q in questions] == ["Who wrote it?", "When?", "Is there a dog?", "Where is Paris?"]
    assert questions[2].answers == []  # unanswerable (v2) kept
    assert lines == [f"train: {tmp_path / 'data.json'}: 1 question(s) skipped (an answer not at its offset in the passage, or none given)"]


@pytest.mark.parametrize("document, says", [
    ({"articles": []}, 'no "data" list'),
    ({"data": [{"title": "x"}]}, 'data[0] has no "paragraphs" list'),
    ({"data": [{"paragraphs": [{"qas": []}]}]}, 'data[0].paragraphs[0] needs a "context" string'),
    ({"data": [{"paragraphs": [{"context": "c", "qas": [{"answers": []}]}]}]}, 'qas[0] needs a "question" string'),
])
def test_refuses_a_file_that_is_not_squad_shaped(tmp_path, document, says):
    with pytest.raises(UserError, match="not SQuAD-shaped") as caught:
        read_squad(write(tmp_path, document), lambda line: None)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_refuses_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        read_squad(path, lambda line: None)


def test_the_shipped_xquad_splits_by_article():
    questions = read_squad(XQUAD, lambda line: None)
    assert len(questions) == 1190 and len({q.article for q in questions}) == 48
    train, held_out = split_by_article(questions)
    assert not {q.context for q in train} & {q.context for q in held_out}
    assert not {q.article for q in train} & {q.article for q in held_out}
    assert 0.1 < len(held_out) / len(questions) < 0.35


def test_exact_match_and_f1_follow_squad():
    assert normalize("The  Eiffel tower!") == "eiffel tower"
    assert f1("the Eiffel Tower", "Eiffel tower") == 1.0
    assert f1("Eiffel", "Eiffel tower") == pytest.approx(2 / 3)
    assert f1("", "") == 1.0 and f1("x", "") == 0.0


def test_train_refuses_a_file_that_is_not_squad_shaped_in_one_line(tmp_path, capsys):
    data = write(tmp_path, {"data": [{"title": "no paragraphs"}]})
    code, err = run(capsys, "train", data, "--task", "question-answering", "--out", tmp_path / "model")
    assert_one_line_refusal(code, err, 'data[0] has no "paragraphs" list')
    assert str(data) in err[0] and not (tmp_path / "model").exists()


def test_the_no_answer_threshold_is_chosen_on_training_scores():
    # SQuAD v1 (every question answerable): cut only what scored below every answer that overlapped the truth
    assert choose_no_answer_threshold([(0.02, 1.0, False), (0.01, 0.0, False), (0.3, 0.5, False)]) == 0.02
    assert choose_no_answer_threshold([(0.02, 1.0, False), (0.05, 0.0, False)]) == 0.02
    # v2: unanswerable questions that score low move it up to where saying "no answer" gains most
    scored = [(0.9, 1.0, False), (0.6, 1.0, False), (0.2, 0.0, True), (0.3, 0.0, True), (0.4, 1.0, False), (0.35, 0.0, True)]
    assert choose_no_answer_threshold(scored) == 0.4
    assert choose_no_answer_threshold([(0.5, 0.0, True)]) == 0.5  # only unanswerable: always "no answer" above 0


def test_training_batches_cover_every_window_and_group_lengths():
    torch = pytest.importorskip("torch")
    lengths = torch.tensor([10, 300, 12, 290, 11, 305, 13, 280] * 4)  # 32 windows: 2 batches of 16 a pass
    batches = length_grouped_batches(lengths, 4)
    assert len(batches) == 4 and all(len(b) == 16 for b in batches)
    for one_pass in (batches[:2], batches[2:]):
        assert sorted(torch.cat(one_pass).tolist()) == list(range(32))
        assert sorted(max(lengths[b]).item() for b in one_pass) == [13, 305]  # short windows together: a batch is cut to its longest
    rate = warmup_then_decay(100)
    assert rate(0) == pytest.approx(0.1) and rate(9) == 1.0 and rate(10) == 1.0 and rate(55) == pytest.approx(0.5) and rate(100) == 0.0


@pytest.mark.parametrize("task", ["text", "tabular"])
def test_label_col_is_still_required_where_there_are_labels(tmp_path, capsys, task):
    data = tmp_path / "data.csv"
    data.write_text("text,label\nfine,pos\nbad,neg\n")
    code, err = run(capsys, "train", data, "--task", task, "--text-col", "text", "--out", tmp_path / "model")
    assert_one_line_refusal(code, err, "--label-col is required")
