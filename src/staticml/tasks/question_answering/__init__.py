"""Extractive question answering: a question and a passage in, the answer's span of the passage out.

The model folder holds `tokenizer.json` and graphs with inputs `input_ids`, `attention_mask` (and
`token_type_ids` where the model takes them: 0 on the question, 1 on the passage) and outputs
`start_logits`, `end_logits` [batch, sequence]. A passage longer than one window is read in
overlapping windows (`stride` tokens of overlap); answers map back to the passage's characters
through the tokenizer's offsets (windows.py, spans.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ... import manifest as manifest_io
from ..base import BenchRun, PredictRun, Report, Route, Task, VerifyRun
from .windows import MAX_CONTEXT_CHARS

NAME = "question-answering"
SAMPLE = {"question": "Where do the cars drive?",
          "context": "Driverless cars drive on the roads of Phoenix and San Francisco, carrying passengers without a driver."}
MAX_PAIRS = 32  # per API request


def _whole(least: int):
    def check(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= least
        return None if ok else f"{value!r} is not a whole number of at least {least}"
    return check


def _pair(value: Any) -> str | None:
    ok = isinstance(value, dict) and set(value) == {"prefix", "middle", "suffix"} and all(
        isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids) for ids in value.values())
    return None if ok else "must be {prefix, middle, suffix}: lists of token ids"


FIELDS = manifest_io.Fields({**manifest_io.TEXT_INPUT,
                             "stride": _whole(0),  # tokens shared by consecutive windows of a long passage
                             "max_answer_tokens": _whole(1),
                             "no_answer_below": manifest_io.probability_problem,  # the page says "no answer found" below this score
                             "pair": _pair},  # special token ids around a question and passage (windows.pair_layout)
                            required=("max_length", "tokenizer", "stride", "max_answer_tokens", "no_answer_below", "pair"))


def read_model(model_dir: str | Path) -> dict:
    manifest = manifest_io.read(model_dir, FIELDS)
    if manifest["stride"] >= manifest["max_length"] // 2:
        raise manifest_io.ManifestError(f"{Path(model_dir) / manifest_io.MANIFEST}: stride {manifest['stride']} must be below "
                                        f"half of max_length {manifest['max_length']}")
    return manifest


def open_model(model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True):
    from .runner import QuestionAnswerer

    return QuestionAnswerer(model_dir, read_model(model_dir), variant, threads, spin)


def prepare(model_dir: Path, manifest: dict, report: Report) -> dict:
    from .checks import check_variants_agree

    return check_variants_agree(model_dir, manifest, report)


def verify(run: VerifyRun) -> list:
    from .verify import verify_site

    return verify_site(run, read_model, open_model, SAMPLE)


def bench(run: BenchRun) -> dict:
    from .bench import bench_qa

    return bench_qa(run, open_model)


def bench_table(report: dict) -> Any:
    from .bench import rich_table

    return rich_table(report)


def sample(manifest: dict) -> dict:
    return SAMPLE


def predict(run: PredictRun) -> int:
    from .pairs import predict_pairs

    return predict_pairs(run, open_model(run.model_dir))


class Pair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=1000)
    context: str = Field(min_length=1, max_length=MAX_CONTEXT_CHARS)


class AnswerRequest(BaseModel):
    """`POST /v1/answer`: one pair (`question`, `context`) or a list of them (`pairs`), optionally a `model`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SAMPLE, {"pairs": [SAMPLE]}]})

    question: str | None = Field(None, min_length=1, max_length=1000, description="one question (with context)")
    context: str | None = Field(None, min_length=1, max_length=MAX_CONTEXT_CHARS,
                                description=f"the passage the answer is taken from (at most {MAX_CONTEXT_CHARS:,} characters)")
    pairs: list[Pair] | None = Field(None, min_length=1, max_length=MAX_PAIRS, description=f"up to {MAX_PAIRS} pairs instead of one")
    model: str | None = Field(None, description="a name from GET /v1/models; omit for the default model")

    @model_validator(mode="after")
    def one_form(self) -> "AnswerRequest":
        single = self.question is not None or self.context is not None
        if single and self.pairs is not None:
            raise ValueError('send either "question" and "context" or "pairs", not both')
        if self.pairs is None and (self.question is None or self.context is None):
            raise ValueError('send {"question": "...", "context": "..."} (or "pairs": [{"question": ..., "context": ...}])')
        return self


def respond(answerer, body: AnswerRequest) -> dict:
    """The page's answer shape ({answer, score, start, end, no_answer, alternatives}) for one pair; {"answers": [...]} for pairs."""
    from .windows import check_pair

    if body.pairs is None:
        check_pair(body.question, body.context)
        return answerer.answer(body.question, body.context)
    for i, pair in enumerate(body.pairs):
        check_pair(pair.question, pair.context, f"pairs[{i}]")
    return {"answers": [answerer.answer(p.question, p.context) for p in body.pairs]}


TASK = Task(
    name=NAME,
    demo_name="question-answering",
    summary="a question and a passage in, the answer's span of the passage out (SQuAD-style)",
    page="qa",
    compact_page=False,
    fields=FIELDS,
    open=open_model,
    prepare=prepare,
    verify=verify,
    bench=bench,
    bench_table=bench_table,
    sample=sample,
    predict=predict,
    api=Route("/v1/answer", AnswerRequest, respond, "The answer's span of the passage (character offsets into `context`), its score "
              "and the next-best answers, from the same ONNX file and tokenizer.json as the page; a passage longer than one "
              "window is read in overlapping windows. One pair gives one answer, `pairs` give `{\"answers\": [...]}`."),
    train="staticml.train.question_answering:train_qa",
    demo="staticml.train.question_answering:demo_qa",
)
