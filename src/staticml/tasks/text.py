"""Text classification: texts in, one probability per label out (the article's sentiment model).

The model folder holds `tokenizer.json` (the page tokenizes with the very same file) and graphs
with inputs `input_ids`, `attention_mask` (and `token_type_ids` as zeros where declared) and the
output `logits`; probabilities are softmax(logits)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import StringConstraints

from .. import manifest as manifest_io, parity
from ..checks import Check
from ..hard_texts import hard_texts
from ..runtime import Classifier
from ..tables import BATCH_ROWS, Batch, Source, cell, input_format, score_file
from .classify.conformal import conformal_problem
from .base import Api, BenchRun, PredictRun, Report, Task, VerifyRun

NAME = "text-classification"
FIELDS = manifest_io.Fields({**manifest_io.LABELS, **manifest_io.TEXT_INPUT,
                             # older models: the page says "not sure" below this top probability
                             "uncertain_below": manifest_io.probability_problem,
                             # newer ones: prediction sets at a stated coverage (classify/conformal.py)
                             "conformal": conformal_problem},
                            required=("labels", "max_length", "tokenizer"))
SAMPLE = "Driverless cars will make our roads so much safer, I can't wait to ride in one!"
MAX_TEXTS = 256  # per API request
MAX_CHARS = 10_000  # per text in an API request
# The page's choice when no column is named (web/src/table.ts suggestColumn).
LIKELY_TEXT_COLUMNS = ["text", "sentence", "review", "content", "comment", "message", "tweet", "body"]


def read_model(model_dir: str | Path) -> dict:
    return manifest_io.read(model_dir, FIELDS)


def model_feeds(encoder, texts: list[str], extra_inputs: dict[str, str]) -> dict[str, np.ndarray]:
    """The graph's inputs: token ids and mask, and each declared extra input (token_type_ids) as
    zeros shaped like the ids, for one sentence. The page feeds exactly the same."""
    feeds = encoder.batch(texts)
    for name in extra_inputs:
        feeds[name] = np.zeros_like(feeds["input_ids"])
    return feeds


class TextClassifier(Classifier):
    """Texts in (tokenized with the folder's tokenizer.json, as the page does), probabilities out."""

    def __init__(self, model_dir: str | Path, manifest: dict, variant: str | None = None, threads: int = 0, spin: bool = True):
        from ..tokenize import TextEncoder

        super().__init__(model_dir, manifest, variant, threads, spin)
        self.encoder = TextEncoder.from_model_dir(self.model_dir, self.manifest)
        self.extra_inputs = self.manifest.get("extra_inputs", {})
        self.check_outputs()

    def probe(self) -> str:
        return "a short text"

    def check(self, items: list) -> None:
        """The first text that is not valid Unicode (a lone surrogate cannot be encoded as UTF-8), named."""
        from ..errors import UserError

        for i, text in enumerate(items):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise UserError(f"texts[{i}] is not valid Unicode text (a lone surrogate \\u{ord(text[exc.start]):04x} "
                                f"at character {exc.start}); send UTF-8 text") from None

    def logits(self, texts: list[str]) -> np.ndarray:
        return self.session.run(["logits"], model_feeds(self.encoder, texts, self.extra_inputs))[0]

    def scores(self, items: list) -> np.ndarray:
        return self.logits(items)


def open_model(model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True) -> TextClassifier:
    return TextClassifier(model_dir, read_model(model_dir), variant, threads, spin)


# ---- build, verify, bench

def prepare(model_dir: Path, manifest: dict, report: Report) -> dict:
    from .classify.variants import check_variants_agree

    probes = hard_texts() + list(manifest.get("examples", []))
    return check_variants_agree(model_dir, manifest, report, open_model, probes)


def page_checks(page, label: str, model_dir: Path, variant: str, user_texts: list[str], backend: str) -> list[Check]:
    texts = hard_texts() + user_texts
    checks = [tokenizer_parity(page, label, model_dir, texts)]
    if backend == "webgpu":
        checks.append(on_webgpu(page, label))
    checks.append(output_parity(page, label, model_dir, variant, texts, backend))
    if read_model(model_dir).get("conformal", {}).get("threshold") is not None:
        checks.append(set_parity(page, label, model_dir, variant, texts))
    return checks


def tokenizer_parity(page, label: str, model_dir: Path, texts: list[str]) -> Check:
    from ..tokenize import TextEncoder

    expected = TextEncoder.from_model_dir(model_dir, read_model(model_dir)).ids(texts)
    actual = page.evaluate("texts => window.staticml.tokenize(texts)", texts)
    wrong = [i for i, (e, a) in enumerate(zip(expected, actual)) if e != a]
    figure = f"{len(texts) - len(wrong)}/{len(texts)} texts give identical ids"
    if wrong:
        figure += f"; first difference: {texts[wrong[0]][:60]!r}"
    return Check(f"{label}: tokenizer parity", not wrong, figure,
                 {"texts": len(texts), "mismatches": len(wrong), "examples": [texts[i] for i in wrong[:5]]})


def on_webgpu(page, label: str) -> Check:
    """The page says it runs on WebGPU (not that it fell back to WASM), and on which adapter."""
    info = page.evaluate("window.staticml.info()")
    on_gpu = info.get("backend") == "webgpu"
    adapter = info.get("adapter") or "no adapter"
    software = " (a software adapter: correctness, not speed)" if "fallback" in adapter else ""
    figure = f"runs on WebGPU, {adapter}{software}" if on_gpu else f"runs on {info.get('backend')}: {info.get('backend_reason')}"
    return Check(f"{label}: backend", on_gpu, figure, {k: info.get(k) for k in ("backend", "adapter", "backend_reason")})


def output_parity(page, label: str, model_dir: Path, variant: str, texts: list[str], backend: str = "wasm") -> Check:
    from ..browser import page_probabilities

    native = open_model(model_dir, variant)
    in_page = page_probabilities(page, texts, native.labels)
    result = parity.compare(native.probabilities(texts), in_page, parity.tolerance(variant, backend))
    figure = result.summary() + (f"; largest on {texts[result.worst_index][:60]!r}" if result.count else "")
    return Check(f"{label}: output parity", result.ok, figure,
                 asdict(result) | {"worst_text": texts[result.worst_index] if result.count else None})


SET_MARGIN = 1e-5  # a label this close to the set threshold may fall either side in float32


def set_parity(page, label: str, model_dir: Path, variant: str, texts: list[str]) -> Check:
    """The page's prediction sets are Python's, except where a probability sits at the threshold."""
    native = open_model(model_dir, variant)
    expected = native.predict(texts)
    in_page = page.evaluate("texts => window.staticml.predict(texts)", texts)
    close = [any(abs(p - native.set_threshold) < SET_MARGIN for p in e["scores"].values()) for e in expected]
    wrong = [i for i, (e, a) in enumerate(zip(expected, in_page)) if e["set"] != a.get("set") and not close[i]]
    figure = f"{len(texts) - len(wrong)}/{len(texts)} texts give the same set"
    if wrong:
        figure += f"; first difference: {texts[wrong[0]][:60]!r} (Python {expected[wrong[0]]['set']}, page {in_page[wrong[0]].get('set')})"
    return Check(f"{label}: prediction sets", not wrong, figure, {"texts": len(texts), "mismatches": len(wrong)})


def sample(manifest: dict) -> str:
    return SAMPLE


def verify(run: VerifyRun) -> list[Check]:
    from .classify.verify import verify_site

    return verify_site(run, read_model, page_checks, sample)


def bench(run: BenchRun) -> dict:
    from .classify.bench import bench_site

    return bench_site(run, open_model, lambda model_dir: ("texts", SAMPLE))


def bench_table(report: dict) -> Any:
    from .classify.report import rich_table

    return rich_table(report)


# ---- predict: a column of texts

def predict(run: PredictRun) -> int:
    classifier = run.runner(open_model(run.model_dir))

    def batches_of(source: Source, data: Path) -> tuple[Iterator[Batch], str]:
        column = pick_column(data, source.columns, source.sample, run.column)
        if run.column is None and input_format(data) != "txt":
            run.report(f"predict: scoring column '{column}' (pick another with --text-col)")
        return text_batches(source.records([column]), column), f"{data}: column '{column}'"

    return score_file(run.data, run.out, run.force, run.progress, classifier, batches_of, run.report, run.keep)


def pick_column(path: Path, columns: list[str], sample_rows: list[dict], asked: str | None) -> str:
    from ..errors import UserError

    if asked is not None:
        if asked not in columns:
            raise UserError(f"{path}: no column '{asked}' (its columns: {', '.join(columns) or 'none'}); pick one with --text-col")
        return asked
    if not columns:
        raise UserError(f"{path}: no columns (an empty header row?)")
    known = [c for c in columns if c.lower() in LIKELY_TEXT_COLUMNS]
    if known:
        return known[0]
    # The page's rule: the column with the longest cells in the first rows.
    return max(columns, key=lambda c: sum(len(cell(r.get(c)) or "") for r in sample_rows))


def text_batches(records: Iterator[dict], column: str) -> Iterator[Batch]:
    """Rows whose text is empty are skipped, as in the page; the others keep their row number."""
    batch = _text_batch()
    for number, record in enumerate(records, 1):
        text = cell(record.get(column))
        if text is None or not text.strip():
            continue
        batch.rows.append(number)
        batch.texts.append(text)
        batch.records.append(record)
        if len(batch.texts) == BATCH_ROWS:
            yield batch
            batch = _text_batch()
    if batch.texts:
        yield batch


def _text_batch() -> Batch:
    texts: list[str] = []
    return Batch([], texts, texts)  # a text model scores the texts themselves


TASK = Task(
    name=NAME,
    demo_name="text",
    summary="texts in, a label and its probability out (sentiment, topics, …)",
    page="classifier",
    compact_page=True,
    fields=FIELDS,
    open=open_model,
    prepare=prepare,
    verify=verify,
    bench=bench,
    bench_table=bench_table,
    sample=sample,
    predict=predict,
    api=Api("texts", Annotated[str, StringConstraints(max_length=MAX_CHARS)],
            f"a text model's input: 1 to {MAX_TEXTS} texts of at most {MAX_CHARS} characters each"),
    train="staticml.train.commands:train_text",
    demo="staticml.train.commands:demo_text",
)
