"""Issue 16: `train --teacher` (knowledge distillation) and its bad inputs.

The teachers here are tiny models trained in a fixture on a slice of the default corpus: cheap,
but real model folders run by onnxruntime like any other teacher."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from cli_tools import run

from staticml.cli import main
from staticml.train import data, distill

ROWS_PER_LABEL = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A 900-row slice of the default corpus (300 per label) as a CSV."""
    full = data.load_default()
    picked: dict[str, list[str]] = {}
    for text, label in zip(full.texts, full.labels):
        if len(picked.setdefault(label, [])) < ROWS_PER_LABEL:
            picked[label].append(text)
    path = tmp_path_factory.mktemp("distill") / "slice.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for label, texts in picked.items():
            writer.writerows((t, label) for t in texts)
    return path


def train_cli(*argv) -> int:
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def teachers(corpus, tmp_path_factory, monkeypatch_module):
    """Tiny teachers on the slice: 3 labels in sorted order, 3 in another order, and 2 labels."""
    root = tmp_path_factory.mktemp("teachers")
    made = {}
    for name, labels in (("three", None), ("reordered", "positive,neutral,negative"), ("two", "negative,positive")):
        extra = ["--labels", labels] if labels else []
        assert train_cli("train", corpus, "--text-col", "text", "--label-col", "label", "--epochs", "15",
                         *extra, "--out", root / name) == 0
        made[name] = root / name
    return made


@pytest.fixture(scope="module")
def monkeypatch_module(tmp_path_factory):
    """One cache folder for this module's runs (the teacher-logit cache is tested to be used)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("STATICML_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield patch
    patch.undo()


def test_a_student_learns_from_a_teacher_and_the_teacher_runs_once(corpus, teachers, tmp_path, capsys):
    args = ["train", corpus, "--text-col", "text", "--label-col", "label", "--epochs", "2", "--teacher",
            teachers["three"], "--teacher-temperature", "3", "--teacher-weight", "0.5"]
    code, err = run(capsys, *args, "--out", tmp_path / "student")
    assert code == 0, err
    assert any(line.startswith("teacher outputs:") and "ETA" in line for line in err)
    assert not any("from the cache" in line for line in err), err
    metrics = json.loads((tmp_path / "student" / "manifest.json").read_text())["metrics"]
    taught = metrics["distillation"]
    assert taught["temperature"] == 3 and taught["weight"] == 0.5 and taught["teacher"]["name"] == "three"
    assert taught["teacher_seconds"] > 0 and 0.4 < taught["teacher_agrees_with_train_labels"] <= 1
    code, err = run(capsys, *args, "--out", tmp_path / "again")
    assert code == 0 and any("from the cache" in line for line in err), err
    assert json.loads((tmp_path / "again" / "manifest.json").read_text())["metrics"]["distillation"][
        "teacher_seconds"] == 0


def test_unlabeled_texts_and_augmented_copies_are_taught_held_out_texts_left_out(corpus, teachers, tmp_path, capsys):
    split = data.split(data.load(corpus, "text", "label"))
    unlabeled = tmp_path / "more.txt"
    unlabeled.write_text("\n".join(["what a lovely morning", "", "the bus is late again", split.test[0][0]]) + "\n")
    code, err = run(capsys, "train", corpus, "--text-col", "text", "--label-col", "label", "--epochs", "1",
                    "--teacher", teachers["three"], "--unlabeled", unlabeled, "--augment", "1",
                    "--out", tmp_path / "student")
    assert code == 0, err
    assert any(line.startswith("transfer texts: ") and str(unlabeled) in line for line in err), err
    taught = json.loads((tmp_path / "student" / "manifest.json").read_text())["metrics"]["distillation"]
    # the test text is left out; most training texts have an augmented copy that differs
    assert len(split.train[0]) // 2 < taught["transfer_texts"] - 2 <= len(split.train[0])


def test_a_teacher_with_more_labels_teaches_a_subset_only_when_asked(corpus, teachers, tmp_path, capsys):
    args = ["train", corpus, "--text-col", "text", "--label-col", "label", "--labels", "negative,positive",
            "--epochs", "1", "--teacher", teachers["three"]]
    code, err = run(capsys, *args, "--out", tmp_path / "refused")
    assert code == 2 and "--teacher-subset" in err[-1] and not (tmp_path / "refused").exists()
    code, err = run(capsys, *args, "--teacher-subset", "--out", tmp_path / "student")
    assert code == 0, err


@pytest.mark.parametrize("case", ["labels differ in name", "labels differ in order", "not a model folder",
                                  "unlabeled file empty", "unlabeled file binary", "unlabeled table lacks the column",
                                  "weight above 1"])
def test_bad_teacher_inputs_are_one_line_and_leave_nothing(corpus, teachers, tmp_path, capsys, case):
    not_a_model = tmp_path / "folder"
    not_a_model.mkdir()
    (not_a_model / "weights.bin").write_bytes(b"\x00\x01")
    empty, binary, table = tmp_path / "empty.txt", tmp_path / "blob.txt", tmp_path / "table.csv"
    empty.write_text("\n  \n")
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    table.write_text("sentence\nhello there\n")
    teacher, extra, says = {
        "labels differ in name": (teachers["two"], [], "its labels are negative, positive but the data's are"),
        "labels differ in order": (teachers["reordered"], [], "its labels are positive, neutral, negative"),
        "not a model folder": (not_a_model, [], "not a model folder (no manifest.json)"),
        "unlabeled file empty": (teachers["three"], ["--unlabeled", empty], "holds no text"),
        "unlabeled file binary": (teachers["three"], ["--unlabeled", binary], "this is a binary file"),
        "unlabeled table lacks the column": (teachers["three"], ["--unlabeled", table],
                                             "column 'text' (--text-col) not found"),
        "weight above 1": (teachers["three"], ["--teacher-weight", "1.5"], "--teacher-weight 1.5: must be between"),
    }[case]
    out = tmp_path / "student"
    code, err = run(capsys, "train", corpus, "--text-col", "text", "--label-col", "label", "--teacher", teacher,
                    *extra, "--out", out)
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("staticml: error: --") and says in err[0], err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".student")]


def test_each_text_is_run_through_the_teacher_once(teachers, tmp_path, monkeypatch):
    monkeypatch.setenv("STATICML_CACHE", str(tmp_path))
    teacher = distill.load_teacher(teachers["reordered"], ["positive", "neutral", "negative"])
    first, second = ["a fine day", "a bad day", "a day"], ["a day", "a new day", "a fine day"]
    lines: list[str] = []
    logits, seconds = distill.teacher_logits(teacher, first, lines.append)
    assert logits.shape == (3, 3) and seconds > 0
    again, seconds = distill.teacher_logits(teacher, second, lines.append)
    assert any(line.startswith("teacher outputs: 2 of 3 texts from the cache") for line in lines) and seconds > 0
    np.testing.assert_array_equal(again[[0, 2]], logits[[2, 0]])
    subset = distill.load_teacher(teachers["reordered"], ["positive", "negative"], subset=True)
    only, seconds = distill.teacher_logits(subset, first, lines.append)
    assert seconds == 0 and lines[-1] == f"teacher outputs: 3 texts from the cache ({next(tmp_path.iterdir())})"
    np.testing.assert_array_equal(only, logits[:, [0, 2]])


def test_teacher_options_without_a_teacher_are_refused(corpus, tmp_path, capsys):
    code, err = run(capsys, "train", corpus, "--text-col", "text", "--label-col", "label", "--augment", "2",
                    "--out", tmp_path / "m")
    assert code == 2 and err == ["staticml: error: --augment needs --teacher MODEL_DIR (it is part of learning "
                                 "from a teacher)"]


def test_kd_loss_is_hintons_mix_and_soft_only_without_a_label():
    torch.manual_seed(0)
    student, teacher = torch.randn(4, 3), torch.randn(4, 3)
    labels = torch.tensor([0, 2, distill.UNLABELED, 1])
    t, w = 2.0, 0.7
    p_teacher = torch.softmax(teacher / t, -1)
    kl = (p_teacher * (torch.log(p_teacher) - torch.log_softmax(student / t, -1))).sum(-1) * t * t
    ce = -torch.log_softmax(student, -1)[torch.arange(4), labels.clamp(min=0)]
    expected = torch.stack([w * kl[0] + (1 - w) * ce[0], w * kl[1] + (1 - w) * ce[1], kl[2],
                            w * kl[3] + (1 - w) * ce[3]]).mean()
    assert distill.kd_loss(student, teacher, labels, t, w).item() == pytest.approx(expected.item(), rel=1e-5)
    assert distill.kd_loss(teacher, teacher, torch.full((4,), distill.UNLABELED), t, w).item() == pytest.approx(0,
                                                                                                          abs=1e-6)


def test_augmented_copies_drop_or_swap_words_and_are_reproducible():
    texts = [" ".join(f"w{i}_{j}" for j in range(12)) for i in range(50)]
    first, again = distill.augmented(texts, 2, seed=1), distill.augmented(texts, 2, seed=1)
    assert first == again and 50 < len(first) <= 100 and not set(first) & set(texts)
    assert all(set(copy.split()) <= {w for t in texts for w in t.split()} for copy in first)
    assert np.mean([len(c.split()) for c in first]) < 12
