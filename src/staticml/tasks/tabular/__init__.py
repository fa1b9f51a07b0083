"""Tabular classification: form data in (one value per column), one probability per label out
(the article's eligibility check, answered without the answers leaving the page).

The model folder's manifest lists its `features` (number, category, yes-no); its graph has one
input per feature, named as the column, `[batch, 1]`, and the output `probabilities`; all
preprocessing (imputation, scaling, one-hot encoding) is inside the graph."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ... import parity
from ...checks import Check
from ...errors import UserError
from ...tables import BATCH_ROWS, Batch, Source, cell, score_file
from ..base import Api, BenchRun, PredictRun, Report, Task, VerifyRun
from . import rows as probe_rows
from .features import positive_label_problem, typical_row, yes_no
from .runner import FIELDS, open_model, read_model

NAME = "tabular-classification"
MAX_ROWS = 256  # per API request
# A tabular model's cells as the page reads them (web/src/tasks/tabular/rows.ts cellValue).
MISSING_WORDS = {"", "na", "n/a", "nan", "null", "none", "-"}


def prepare(model_dir: Path, manifest: dict, report: Report) -> dict:
    from ..classify.variants import check_variants_agree

    problem = positive_label_problem(manifest)
    if problem:
        raise UserError(f"{Path(model_dir) / 'manifest.json'}: {problem}")
    if "positive_label" not in manifest:
        report(f"build: warning: model '{manifest['name']}' names no favourable outcome; the form's headline shows the probability "
               f"of its last label, '{manifest['labels'][-1]}' (name it with --positive-label at train or import)")
    probes = probe_rows.sampled_rows(manifest["features"]) + probe_rows.edge_rows(manifest["features"])
    return check_variants_agree(model_dir, manifest, report, open_model, probes)


def page_checks(page, label: str, model_dir: Path, variant: str, user_texts: list[str], backend: str) -> list[Check]:
    return [row_parity(page, label, model_dir, variant)]


def row_parity(page, label: str, model_dir: Path, variant: str) -> Check:
    """A tabular model: the page vs Python onnxruntime on rows drawn from its features, on edge rows
    and, beside a trained model (never in a built site), on its test rows."""
    manifest = read_model(model_dir)
    tests = probe_rows.test_rows(model_dir, manifest) + probe_rows.sampled_rows(manifest["features"])
    rows = tests + probe_rows.edge_rows(manifest["features"])
    expected = probe_rows.native_probabilities(model_dir, manifest, variant, rows)
    result = parity.compare(expected, probe_rows.page_probabilities(page, rows, manifest["labels"]),
                            parity.tolerance(variant))
    figure = f"{result.summary().replace(' texts', ' rows')} ({len(tests)} test or sampled rows, {len(rows) - len(tests)} edge rows)"
    if result.count and not result.ok:
        figure += f"; largest on {probe_rows.describe(rows[result.worst_index])}"
    return Check(f"{label}: output parity", result.ok, figure,
                 asdict(result) | {"test_rows": len(tests), "edge_rows": len(rows) - len(tests),
                                   "worst_row": rows[result.worst_index] if result.count else None})


def sample(manifest: dict) -> dict:
    return typical_row(manifest["features"])


def verify(run: VerifyRun) -> list[Check]:
    from ..classify.verify import verify_site

    return verify_site(run, read_model, page_checks, sample)


def bench(run: BenchRun) -> dict:
    from ..classify.bench import bench_site

    return bench_site(run, open_model, lambda model_dir: ("rows", sample(read_model(model_dir))))


def bench_table(report: dict) -> Any:
    from ..classify.report import rich_table

    return rich_table(report)


# ---- predict: a file whose columns are named as the features

def predict(run: PredictRun) -> int:
    classifier = run.runner(open_model(run.model_dir))
    if run.column is not None:
        raise UserError(f"--text-col: {run.model_dir} is a tabular model; it reads the columns named as its features")

    def batches_of(source: Source, data: Path) -> tuple[Iterator[Batch], str]:
        match_columns(data, source.columns, classifier.features)
        names = [f["name"] for f in classifier.features]
        return row_batches(source.records(names), classifier.features, data), str(data)

    return score_file(run.data, run.out, run.force, run.progress, classifier, batches_of, run.report, run.keep)


def row_batches(records: Iterator[dict], features: list[dict], path: Path) -> Iterator[Batch]:
    """A tabular model's rows: every record is a row, its cells read as the features' values."""
    batch = Batch([], [], [])
    for number, record in enumerate(records, 1):
        row = {f["name"]: feature_value(f, cell(record.get(f["name"])), number, path) for f in features}
        batch.rows.append(number)
        batch.texts.append(describe_row(features, row))
        batch.items.append(row)
        batch.records.append(record)
        if len(batch.items) == BATCH_ROWS:
            yield batch
            batch = Batch([], [], [])
    if batch.items:
        yield batch


def match_columns(path: Path, columns: list[str], features: list[dict]) -> None:
    names = [f["name"] for f in features]
    missing = [n for n in names if n not in columns]
    if missing:
        raise UserError(f"{path}: no column '{missing[0]}' (the model needs: {', '.join(names)}; "
                        f"the file has: {', '.join(columns) or 'none'})")


def feature_value(feature: dict, text: str | None, row: int, path: Path):
    """One cell as a feature's value, as the page reads it; a cell that is not one names the row and column."""
    text = (text or "").strip()
    if text.lower() in MISSING_WORDS:
        return None
    if feature["type"] == "category":
        return text
    where = f"{path}: row {row}, column '{feature['name']}'"
    if feature["type"] == "yes-no":
        if yes_no(text) is not None:
            return yes_no(text)
        raise UserError(f"{where}: {text!r} is not yes or no")
    try:
        number = float(text) if "_" not in text else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise UserError(f"{where}: {text!r} is not a number")
    return number


def describe_row(features: list[dict], row: dict) -> str:
    """The page's short description of a row (web/src/tasks/tabular/rows.ts describeRow)."""
    return " · ".join(f"{f['name']} {_shown(f, row[f['name']])}" for f in features)


def _shown(feature: dict, value) -> str:
    if value is None:
        return "not given"
    if feature["type"] == "yes-no":
        return "yes" if value in (True, 1) else "no"
    if isinstance(value, float):  # as JavaScript's String(number): 5, not 5.0
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return str(value)


TASK = Task(
    name=NAME,
    demo_name="tabular",
    summary="form data in (one value per column), a label and its probability out (an eligibility check)",
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
    api=Api("rows", dict[str, Any], f"a tabular model's input: 1 to {MAX_ROWS} rows {{column: value}} with every feature "
            "of GET /v1/models (number, string, true/false or null)"),
    train="staticml.train.commands:train_tabular",
    demo="staticml.train.commands:demo_tabular",
)
