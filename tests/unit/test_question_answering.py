"""Question answering in Python: import of a `*ForQuestionAnswering` folder, windows over long passages,
answers mapped back to characters, `predict` on JSONL pairs, and the bad inputs of issue 27."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from cli_tools import assert_import_refused, assert_one_line_refusal, run, run_output
from qa_models import qa_model_fixture, save_tiny_classifier_claiming_qa  # noqa: F401 (a fixture)

from staticml import tasks
from staticml.tasks.question_answering.spans import best_spans
from staticml.tasks.question_answering.windows import MAX_CONTEXT_CHARS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

LONG = " ".join(f"Sentence {i} says that the river number {i} flows to the sea near town {i}." for i in range(40))


def pytorch_logits(folder, question: str, context: str, max_length: int, stride: int):
    """transformers' own tokenizer (overflowing windows with stride) and model: the reference."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(str(folder), local_files_only=True).eval()
    encoded = tokenizer(question, context, truncation="only_second", max_length=max_length, stride=stride,
                        return_overflowing_tokens=True, padding="longest", return_tensors="pt", return_token_type_ids=True)
    encoded.pop("overflow_to_sample_mapping")
    with torch.no_grad():
        out = model(**encoded)
    return encoded["input_ids"].numpy(), out.start_logits.numpy(), out.end_logits.numpy()


def test_import_writes_start_and_end_logits_and_variants(qa_model_dir):
    manifest = tasks.read_model(qa_model_dir)
    assert manifest["task"] == "question-answering"
    section = manifest["import"]
    # q4 is kept only where it gives fp32's answers (a 32-wide random model's may not): either way it was made and checked
    assert {"fp32", "int8"} <= set(manifest["variants"]) and "q4_vs_fp32" in section
    q4 = section["q4_vs_fp32"]
    assert ("q4" in manifest["variants"]) == (q4["same_answer"] >= 0.8 * q4["pairs"])
    assert section["onnx_vs_pytorch"]["max_abs_diff_logit"] <= 1e-4
    assert section["onnx_vs_pytorch"]["pairs"] >= 12
    assert section["onnx_vs_pytorch"]["same_answer"] == section["onnx_vs_pytorch"]["pairs"]
    assert section["int8_vs_fp32"]["same_answer"] >= 0.8 * section["int8_vs_fp32"]["pairs"]
    sizes = [(qa_model_dir / manifest["variants"][v]).stat().st_size for v in ("fp32", "int8", "q4") if v in manifest["variants"]]
    assert sizes == sorted(sizes, reverse=True)


def test_windows_and_logits_match_transformers_on_a_long_passage(qa_model_dir):
    """The runner's windows are transformers' overflowing windows, and its logits PyTorch's."""
    source = qa_model_dir.parent / "hf"  # the folder the model was imported from
    answerer = tasks.open_model(qa_model_dir, "fp32")
    question = "Where does river 7 flow?"
    found = answerer.windows(question, LONG)
    ids, start, end = pytorch_logits(source, question, LONG, answerer.max_length, answerer.stride)
    assert len(found) == len(ids) > 3
    for window, row in zip(found, ids):
        assert window.ids == [int(i) for i in row[:len(window.ids)]]
    ours_start, ours_end = answerer.logits(found)
    mask = ids != 0
    assert np.abs(ours_start[mask] - start[mask]).max() < 1e-4
    assert np.abs(ours_end[mask] - end[mask]).max() < 1e-4


def test_answers_are_characters_of_the_passage(qa_model_dir):
    answerer = tasks.open_model(qa_model_dir)
    context = "  Café résumé: " + LONG + " 中文 ends here."
    result = answerer.answer("Which town?", context)
    assert set(result) >= {"answer", "score", "start", "end", "no_answer", "alternatives"}
    assert 0 <= result["start"] < result["end"] <= len(context)
    assert result["answer"] == context[result["start"]:result["end"]] and result["answer"].strip()
    assert 0 < result["score"] <= 1
    scores = [result["score"]] + [a["score"] for a in result["alternatives"]]
    assert scores == sorted(scores, reverse=True) and len(result["alternatives"]) == 3


def test_the_answer_in_a_later_window_is_found(qa_model_dir):
    """A span in the last window of a passage maps to its characters there (spans.py on made-up logits)."""
    answerer = tasks.open_model(qa_model_dir)
    context = LONG + " The answer is zebra."
    found = answerer.windows("what?", context)
    first, last = context.index("zebra"), context.index("zebra") + len("zebra")
    spans = found[-1].spans
    start_token = next(i for i, s in enumerate(spans) if s is not None and s[0] == first)
    end_token = next(i for i, s in enumerate(spans) if s is not None and s[1] == last)
    start = np.zeros((len(found), answerer.max_length), dtype=np.float32)
    end = np.zeros_like(start)
    start[-1, start_token], end[-1, end_token] = 20.0, 20.0
    best = best_spans(found, start, end, answerer.max_answer_tokens, 1)[0]
    assert len(found) > 3 and context[best.start:best.end] == "zebra"


@pytest.mark.parametrize("question, context, says", [
    ("", "a passage", "question is empty"),
    ("why?", "   ", "context is empty"),
    ("why?", "word " * (MAX_CONTEXT_CHARS // 4), "the limit is"),
])
def test_refuses_empty_or_huge_inputs(qa_model_dir, question, context, says):
    from staticml.errors import UserError

    with pytest.raises(UserError, match=says):
        tasks.open_model(qa_model_dir).answer(question, context)


def test_predict_writes_answers_for_jsonl_pairs(qa_model_dir, tmp_path, capsys):
    pairs = [{"question": "Which river?", "context": LONG}, {"question": "Who?", "context": "Ada wrote the first program."}]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    out = tmp_path / "answers.jsonl"
    code, err = run(capsys, "predict", qa_model_dir, data, "--out", out)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    answerer = tasks.open_model(qa_model_dir)
    assert [r["row"] for r in rows] == [1, 2]
    for row, pair in zip(rows, pairs):
        expected = answerer.answer(pair["question"], pair["context"])
        assert (row["answer"], row["start"], row["end"]) == (expected["answer"], expected["start"], expected["end"])


def test_predict_refuses_a_row_without_a_question(qa_model_dir, tmp_path, capsys):
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"question": "ok?", "context": "fine"}) + "\n" + json.dumps({"context": "no question"}) + "\n")
    code, err = run(capsys, "predict", qa_model_dir, data, "--out", tmp_path / "answers.jsonl")
    assert_one_line_refusal(code, err, "line 2")
    assert "question" in err[0]
    assert not (tmp_path / "answers.jsonl").exists()


def test_predict_refuses_a_megabyte_passage_naming_its_line(qa_model_dir, tmp_path, capsys):
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"question": "ok?", "context": "fine"}) + "\n" + json.dumps({"question": "why?", "context": "word " * 200_000}) + "\n")
    code, err = run(capsys, "predict", qa_model_dir, data, "--out", tmp_path / "answers.jsonl")
    assert_one_line_refusal(code, err, "line 2: context has 1,000,000 characters; the limit is 200,000")
    assert not (tmp_path / "answers.jsonl").exists()


def test_import_refuses_a_head_that_is_not_question_answering(tmp_path, capsys):
    source = save_tiny_classifier_claiming_qa(tmp_path / "hf")
    assert_import_refused(capsys, tmp_path / "out", source, says="not a question-answering head", after_progress=True)


def test_predict_to_stdout(qa_model_dir, tmp_path, capsys):
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"question": "Who?", "context": "Ada wrote the first program."}) + "\n")
    code, out, err = run_output(capsys, "predict", qa_model_dir, data)
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["answer"]


def test_a_qa_site_ships_no_webgpu_runtime(qa_model_dir, tmp_path):
    """The QA page's worker runs onnxruntime-web on WASM only: its site holds none of the WebGPU build (about 27 MB),
    though a BERT-size classifier's site would (site.PAGES says which runtimes each page loads)."""
    from staticml.archs import offers_webgpu
    from staticml.site import WEBGPU_ASSETS, build

    assert offers_webgpu(tasks.read_model(qa_model_dir)["arch"])  # the model alone would be offered WebGPU
    build([qa_model_dir], tmp_path / "site", report=lambda line: None)
    site = tmp_path / "site"
    shipped = [str(p.relative_to(site)) for p in site.rglob("*")]
    assert (site / "assets" / "qa-worker.js").is_file() and any(name.startswith("assets/ort/") for name in shipped)
    assert not [name for name in shipped if "webgpu" in name.lower()], shipped
    assert not any(name.startswith(WEBGPU_ASSETS) for name in shipped)
    manifest = json.loads((site / "models" / "tiny-qa" / "manifest.json").read_text())
    assert manifest["backends"] == ["wasm"]
