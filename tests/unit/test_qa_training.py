"""Training data for question answering (issue 27 item 5 and its bad inputs): SQuAD-format JSON v1
and v2 read, a file of another shape refused naming what is missing, answers not at their offsets
skipped and counted, the split by article, the SQuAD exact match and F1."""

from __future__ import annotations

import json

import pytest

from staticml.errors import UserError
from staticml.train.question_answering import XQUAD, f1, normalize, read_squad, split_by_article


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
