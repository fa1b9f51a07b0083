"""What a form says about each column (`--feature-info FILE` at `train --task tabular` and at import):
`{column: {label, unit, help, min, max, step}}` in JSON or YAML, merged into the manifest's features;
and the favourable outcome (`--positive-label`), whose probability the page's headline shows.

Every problem is one line naming the file and the field (exit 2)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..tasks.tabular import features as tabular

TEXT_KEYS = tuple(tabular.DISPLAY_TEXT)
NUMBER_KEYS = ("min", "max", "step")
KEYS = TEXT_KEYS + NUMBER_KEYS
YAML_SUFFIXES = (".yaml", ".yml")
LARGEST_FILE = 1 << 20


def read_feature_info(path: str | Path) -> dict[str, dict]:
    """The file's `{column: {key: value}}`, each key and value checked (not yet against a model's columns)."""
    path = Path(path)
    info = _parse(path)
    if not isinstance(info, dict) or not info:
        raise UserError(f"{path}: expected an object {{column: {{{', '.join(KEYS)}}}}}, one entry per column to describe")
    for column, entry in info.items():
        where = f"{path}: {column}"
        if not isinstance(entry, dict):
            raise UserError(f"{where}: expected an object with any of {', '.join(KEYS)}")
        for key, value in entry.items():
            _check_value(where, key, value)
        if "min" in entry and "max" in entry and entry["min"] > entry["max"]:
            raise UserError(f"{where}.min ({entry['min']}) is above its max ({entry['max']})")
    return {str(column): dict(entry) for column, entry in info.items()}


def _parse(path: Path) -> Any:
    if not path.is_file():
        raise UserError(f"{path}: no such file (--feature-info)")
    if path.stat().st_size > LARGEST_FILE:
        raise UserError(f"{path}: {path.stat().st_size:,} bytes is too large for a --feature-info file (at most {LARGEST_FILE:,})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    if path.suffix.lower() in YAML_SUFFIXES:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UserError(f"{path}: not valid YAML ({' '.join(str(exc).split())[:160]})") from None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        hint = " (a YAML file: name it .yaml or .yml)" if path.suffix.lower() != ".json" else ""
        raise UserError(f"{path}: not valid JSON ({str(exc)[:120]}){hint}") from None


def _check_value(where: str, key: Any, value: Any) -> None:
    if key not in KEYS:
        raise UserError(f"{where}.{key}: not a field of --feature-info (the fields: {', '.join(KEYS)})")
    if key in TEXT_KEYS:
        longest = tabular.DISPLAY_TEXT[key]
        if not isinstance(value, str) or not value.strip() or len(value) > longest:
            raise UserError(f"{where}.{key}: must be a non-empty string of at most {longest} characters")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > tabular.FLOAT32_MAX:
        raise UserError(f"{where}.{key}: must be a finite number, not {json.dumps(value, default=str)[:40]}")
    if key == "step" and value <= 0:
        raise UserError(f"{where}.step: must be above 0")


def apply_feature_info(features: list[dict], info: dict[str, dict] | None, path: str | Path | None) -> list[dict]:
    """The features with their display text and ranges from `info`; a typical number rounded to its step.

    Every column of `info` must be a feature, and min, max and step only go with a number."""
    info = info or {}
    names = [f["name"] for f in features]
    unknown = [column for column in info if column not in names]
    if unknown:
        raise UserError(f"{path}: {unknown[0]}: not a column of the model (its columns: {', '.join(names)})")
    described = []
    for feature in features:
        entry = info.get(feature["name"], {})
        numbers = [key for key in NUMBER_KEYS if key in entry]
        if numbers and feature["type"] != "number":
            raise UserError(f"{path}: {feature['name']}.{numbers[0]}: the column is a {feature['type']}; min, max and step go with a number")
        merged = {**feature, **entry}
        if "min" in merged and "max" in merged and merged["min"] > merged["max"]:
            raise UserError(f"{path}: {feature['name']}: min {merged['min']} is above max {merged['max']}")
        described.append(round_typical(merged))
    return described


def round_typical(feature: dict) -> dict:
    """A number's typical value as a person would type it: on its step (inside its range), else to four
    significant digits (an imputer's mean of 44.347321428571426 reads 44.35)."""
    typical = feature.get("typical")
    if feature["type"] != "number" or not isinstance(typical, (int, float)) or isinstance(typical, bool):
        return feature
    step = feature.get("step")
    if step:
        value = round(typical / step) * step
        if "min" in feature:
            value = max(value, feature["min"])
        if "max" in feature:
            value = min(value, feature["max"])
        value = round(value, 10)  # 0.30000000000000004 → 0.3
    elif typical == 0:
        value = 0.0
    else:
        value = round(typical, max(0, 3 - math.floor(math.log10(abs(typical)))))
    value = int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
    return {**feature, "typical": value}


def choose_positive_label(labels: list[str], given: str | None, order: list[str] | None) -> str | None:
    """`--positive-label`, which must be a label; else the last of `--labels` when given; else None (build warns)."""
    if given is not None:
        if given not in labels:
            raise UserError(f"--positive-label {given!r}: not one of the labels ({', '.join(labels)})")
        return given
    return order[-1] if order else None
