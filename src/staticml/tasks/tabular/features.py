"""Form data on the serving side (no scikit-learn here): the manifest's `features` list, the rows a
caller sends (`[{column: value}]`), and what the ONNX graph is fed for them.

The contract (README, "Form data"): one graph input per feature, named as the column, `[batch, 1]`;
float32 for "number" and "yes-no" (yes = 1, no = 0), string for "category". A missing value
(null) is NaN for a number or yes-no and "" for a category; the graph handles both (imputation and
unknown categories are inside it), so null is accepted for every column. An unseen category string
is allowed too (the one-hot encoder ignores it).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from ...errors import UserError

TYPES = ("number", "category", "yes-no")
MISSING_CATEGORY = ""
# A yes/no value as the training data may have it, the same in the page (web/src/tasks/tabular/rows.ts),
# predict(rows), the API and `staticml predict`: true/false, 1/0, or one of these words (any case).
# (the pairs train reads as a yes/no column: staticml.train.tabular.YES_NO_PAIRS)
YES_WORDS = frozenset({"yes", "y", "true", "t", "1"})
NO_WORDS = frozenset({"no", "n", "false", "f", "0"})
YES_NO_VALUES = 'true, false, 0, 1 or null (or "yes", "no", "y", "n")'
# What a form shows beside a feature (`--feature-info`): display name, unit, a help line; lengths a form can hold.
DISPLAY_TEXT = {"label": 80, "unit": 24, "help": 300}
FLOAT32_MAX = float(np.finfo(np.float32).max)


class RowError(UserError):
    """A row that breaks the feature schema; the message names the row and the field."""


# ---- the manifest's "features" field ----

def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= FLOAT32_MAX if isinstance(value, int) else math.isfinite(value)


def _feature_problem(feature: Any) -> str | None:
    if not isinstance(feature, dict):
        return "is not an object"
    if not isinstance(feature.get("name"), str) or not feature["name"] or not feature["name"].isprintable():
        return "needs a name (a non-empty printable string: the column and the graph input)"
    kind = feature.get("type")
    if kind not in TYPES:
        return f"type {kind!r} is not one of {', '.join(TYPES)}"
    if not isinstance(feature.get("optional", False), bool):
        return "optional must be true or false"
    for key, longest in DISPLAY_TEXT.items():
        if key in feature and not (isinstance(feature[key], str) and feature[key].strip() and len(feature[key]) <= longest):
            return f"{key} must be a non-empty string of at most {longest} characters"
    if kind == "number":
        return _number_problem(feature)
    if kind == "category":
        return _category_problem(feature)
    if "typical" in feature and not isinstance(feature["typical"], bool):
        return "typical must be true or false"
    return None


def _number_problem(feature: dict) -> str | None:
    for key in ("min", "max", "step", "typical"):
        if key in feature and not _finite(feature[key]):
            return f"{key} must be a finite number"
    if "min" in feature and "max" in feature and feature["min"] > feature["max"]:
        return "min is above max"
    if "step" in feature and feature["step"] <= 0:
        return "step must be above 0"
    return None


def _category_problem(feature: dict) -> str | None:
    categories = feature.get("categories")
    if not isinstance(categories, list) or not categories or not all(isinstance(c, str) and c for c in categories):
        return "categories must be a non-empty list of non-empty strings"
    if len(set(categories)) != len(categories):
        return "categories has duplicates"
    for category in categories:
        problem = category_text_problem(category)
        if problem:
            return f"category {category[:40]!r} {problem}"
    if "typical" in feature and feature["typical"] not in categories:
        return "typical is not one of its categories"
    return None


def category_text_problem(value: str) -> str | None:
    """Why a category's text cannot reach every runtime as it is, or None. A lone surrogate has no
    UTF-8 encoding (Python's onnxruntime refuses it, the page's TextEncoder would turn it into U+FFFD);
    onnxruntime-web hands string tensors to its WASM as NUL-terminated C strings, so a U+0000 ends
    the text there ("a\\0b" would reach the graph as "a")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"holds a lone surrogate \\u{ord(value[exc.start]):04x} at character {exc.start}: not valid Unicode "
                "text (it has no UTF-8 encoding)")
    if "\x00" in value:
        return (f"holds the character U+0000 at character {value.index(chr(0))}: the page's onnxruntime-web reads a "
                "string only up to it")
    return None


def check_features(value: Any) -> str | None:
    """The manifest check (manifest.FIELDS): a list of feature objects with distinct names."""
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of {name, type, ...} objects"
    for i, feature in enumerate(value):
        problem = _feature_problem(feature)
        if problem:
            name = feature.get("name") if isinstance(feature, dict) else None
            return f"[{i}]{f' ({name!r})' if isinstance(name, str) else ''}: {problem}"
    names = [f["name"] for f in value]
    if len(set(names)) != len(names):
        return f"has duplicate names ({', '.join(sorted({n for n in names if names.count(n) > 1}))})"
    return None


# ---- rows ----

def _value_problem(feature: dict, value: Any) -> str | None:
    if value is None:
        return None
    kind = feature["type"]
    if kind == "number":
        return _number_value_problem(value)
    if kind == "category":
        return _category_value_problem(value)
    return None if yes_no(value) is not None else f"must be {YES_NO_VALUES}, not {_yes_no_shown(value)}"


def yes_no(value: Any) -> bool | None:
    """A yes/no value as True or False; None when it is not one (null is checked before)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in YES_WORDS else False if word in NO_WORDS else None
    return None


def _yes_no_shown(value: Any) -> str:
    return json.dumps(value[:40], ensure_ascii=False) if isinstance(value, str) else _json_value(value)


def _number_value_problem(value: Any) -> str | None:
    """A number the graph's float32 input holds as it is: finite and within float32's range. A huge
    integer is compared as an integer (float() of it raises OverflowError)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"must be a number or null, not {_json_type(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number or null (null for a missing value), not {_json_type(value)}"
    if abs(value) > FLOAT32_MAX:
        return f"is {_short_number(value)}, beyond the model's float32 range (at most ±{FLOAT32_MAX:.4g})"
    return None


def _category_value_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string or null, not {_json_type(value)}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"is not valid Unicode text (a lone surrogate \\u{ord(value[exc.start]):04x} at character {exc.start}); "
                "send UTF-8 text")
    return None


def _short_number(value: int | float) -> str:
    if isinstance(value, int) and abs(value) >= 10**20:  # str() of a huge int is slow, and refused past 4,300 digits
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return repr(value)


def _json_type(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "infinity"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _json_value(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _short_number(value) if isinstance(value, int) or math.isfinite(value) else _json_type(value)
    return _json_type(value)


def row_problem(features: list[dict], rows: Any) -> str | None:
    """Why `rows` does not fit the schema (naming the row and the field), or None."""
    if not isinstance(rows, list):
        return f"rows must be a list of {{column: value}} objects, not {_json_type(rows)}"
    names = [f["name"] for f in features]
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            return f"rows[{i}] must be an object {{column: value}}, not {_json_type(row)}"
        unknown = [key for key in row if key not in names]
        if unknown:
            return f"rows[{i}].{unknown[0]} is not a feature of this model (features: {', '.join(names)})"
        missing = [name for name in names if name not in row]
        if missing:
            return f"rows[{i}].{missing[0]} is missing (every feature must be present; null when unknown)"
        for feature in features:
            problem = _value_problem(feature, row[feature["name"]])
            if problem:
                return f"rows[{i}].{feature['name']} {problem}"
    return None


def positive_label_problem(manifest: dict) -> str | None:
    """positive_label, when given, is one of the labels (the page's headline is its probability)."""
    label = manifest.get("positive_label")
    if label is None or label in manifest.get("labels", []):
        return None
    return f"positive_label {label!r} is not one of the labels ({', '.join(map(str, manifest.get('labels', [])))})"


def check_rows(features: list[dict], rows: Any) -> None:
    problem = row_problem(features, rows)
    if problem:
        raise RowError(problem)


def _column(feature: dict, values: list[Any]) -> np.ndarray:
    if feature["type"] == "category":
        return np.array([MISSING_CATEGORY if v is None else v for v in values], dtype=object).reshape(-1, 1)
    if feature["type"] == "yes-no":
        values = [None if v is None else yes_no(v) for v in values]
    numbers = [math.nan if v is None else float(v) for v in values]
    return np.array(numbers, dtype=np.float32).reshape(-1, 1)


def feeds(features: list[dict], rows: list[dict]) -> dict[str, np.ndarray]:
    """The graph's inputs for checked rows: {column: [n, 1] float32 or string array}."""
    return {f["name"]: _column(f, [row[f["name"]] for row in rows]) for f in features}


def typical_row(features: list[dict]) -> dict:
    """A row of typical values (a missing value where a feature gives none)."""
    return {f["name"]: f.get("typical") for f in features}
