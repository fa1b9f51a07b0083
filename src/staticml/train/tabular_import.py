"""Bring your own form-data model: an ONNX graph that follows the tabular contract (with its
features.json and labels), or a fitted scikit-learn pipeline saved with skops.

A pickle (.pkl, .pickle, .joblib) is refused: unpickling runs whatever code the file holds. skops
files are loaded only when every node of their schema is a listed scikit-learn class (or a plain
value, array or dtype): a function, a call or any other type is refused naming it, before any of it
is built (skops_trust.py).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import parity, tasks
from ..tasks import tabular as tabular_task
from ..tasks.tabular import features as tabular
from ..errors import UserError
from ..output import atomic_folder, check_writable
from ..runtime import create_session
from . import archives, skops_trust, tabular as train_tabular
from .feature_info import apply_feature_info, choose_positive_label, read_feature_info

Report = Callable[[str], None]

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
SKOPS_SUFFIX = ".skops"
ONNX_TYPES = {"number": "tensor(float)", "yes-no": "tensor(float)", "category": "tensor(string)"}


def handles(source: Path, features: str | None) -> bool:
    """Whether `staticml import` should come here: a skops file, a pickle (to refuse it), or ONNX + --features."""
    return source.suffix.lower() in (*PICKLE_SUFFIXES, SKOPS_SUFFIX) or features is not None


def import_tabular(source: Path, out: Path, labels: str | None = None, features: str | None = None,
                   name: str | None = None, report: Report = print, force: bool = False,
                   positive_label: str | None = None, feature_info: str | None = None) -> dict:
    suffix = source.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise UserError(f"{source}: a pickle file is refused: loading a pickle runs any code it holds, so a "
                        "file from someone else could take over this machine; save the pipeline with skops "
                        f"(skops.io.dump(pipeline, 'pipeline{SKOPS_SUFFIX}')) and import that")
    if not source.is_file():
        raise UserError(f"{source}: no such file")
    inputs = [source] + ([Path(features)] if features else []) + ([Path(feature_info)] if feature_info else [])
    check_writable(out.absolute(), "model", force, inputs)
    form = Form(positive_label, feature_info, read_feature_info(feature_info) if feature_info else {})
    name = name or out.name
    if suffix == SKOPS_SUFFIX:
        return import_skops(source, out, labels, features, name, report, force, inputs, form)
    if suffix != ".onnx":
        raise UserError(f"{source}: --features goes with an .onnx tabular graph (or import a {SKOPS_SUFFIX} pipeline)")
    if not labels:
        raise UserError(f"{source}: give the labels in output order with --labels a,b")
    return import_onnx(source, out, _labels(labels), read_features(Path(features)), name, report, force, inputs, form)


@dataclass
class Form:
    """What the page's form says: the favourable outcome and each column's display text and range."""

    positive_label: str | None
    info_file: str | None
    info: dict[str, dict]

    def manifest_fields(self, features: list[dict], labels: list[str], labels_given: bool) -> dict:
        """features (with --feature-info merged, typical values rounded) and positive_label when known."""
        positive = choose_positive_label(labels, self.positive_label, labels if labels_given else None)
        return {"features": apply_feature_info(features, self.info, self.info_file),
                **({"positive_label": positive} if positive else {})}


def _labels(value: str) -> list[str]:
    path = Path(value)
    text = path.read_text(encoding="utf-8") if path.is_file() else value
    labels = [label.strip() for label in text.replace("\n", ",").split(",") if label.strip()]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise UserError(f"--labels {value!r}: give at least two different labels, comma-separated")
    return labels


def read_features(path: Path) -> list[dict]:
    """A features.json: the manifest's features list (or an object holding it under "features")."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise UserError(f"{path}: not valid JSON ({str(exc)[:120]})") from None
    if isinstance(value, dict) and "features" in value:
        value = value["features"]
    problem = tabular.check_features(value)
    if problem:
        raise UserError(f"{path}: features {problem}")
    return value


# ---------------------------------------------------------------- ONNX + features.json


def check_graph(path: Path, features: list[dict], labels: list[str], features_file: str) -> list[dict]:
    """The graph's inputs are the features (names, types, [batch, 1]) and its `probabilities` output
    has one column per label; returns the features in the graph's input order."""
    session = create_session(path)
    by_name = {f["name"]: f for f in features}
    graph_inputs = session.get_inputs()
    names = [i.name for i in graph_inputs]
    for graph_input in graph_inputs:
        if graph_input.name not in by_name:
            raise UserError(f"{features_file}: has no feature for the graph input '{graph_input.name}' "
                            f"(graph inputs: {', '.join(names)})")
        expected = ONNX_TYPES[by_name[graph_input.name]["type"]]
        if graph_input.type != expected:
            raise UserError(f"{features_file}: feature '{graph_input.name}' is a {by_name[graph_input.name]['type']}, "
                            f"so its graph input must be {expected}, but {path.name} has {graph_input.type}")
        dims = graph_input.shape
        if len(dims) != 2 or not (dims[1] == 1 or dims[1] is None or isinstance(dims[1], str)):
            raise UserError(f"{path}: input '{graph_input.name}' has shape {graph_input.shape}; the contract is [batch, 1]")
    extra = [f["name"] for f in features if f["name"] not in names]
    if extra:
        raise UserError(f"{features_file}: feature '{extra[0]}' is not an input of {path.name} (graph inputs: {', '.join(names)})")
    if "probabilities" not in [o.name for o in session.get_outputs()]:
        raise UserError(f"{path}: the graph has no output named 'probabilities' (outputs: "
                        f"{', '.join(o.name for o in session.get_outputs())})")
    ordered = [by_name[n] for n in names]
    _check_probabilities(session, ordered, labels, path)
    return ordered


def _check_probabilities(session, features: list[dict], labels: list[str], path: Path) -> None:
    rows = probe_rows(features)
    try:
        out = session.run(["probabilities"], tabular.feeds(features, rows))[0]
    except Exception as exc:  # onnxruntime raises several types for a graph that cannot run
        raise UserError(f"{path}: onnxruntime cannot run it on typical rows ({str(exc).splitlines()[0][:200]})") from None
    if out.ndim != 2 or out.shape[1] != len(labels):
        raise UserError(f"{path}: outputs probabilities of shape {list(out.shape)} but --labels gives "
                        f"{len(labels)} labels ({', '.join(labels)})")
    sums = out.sum(axis=1)
    if not np.all(np.isfinite(out)) or np.abs(sums - 1).max() > 1e-3 or out.min() < -1e-6:
        raise UserError(f"{path}: its 'probabilities' are not probabilities on typical rows (rows sum to "
                        f"{sums.min():.3g}..{sums.max():.3g}); the contract wants softmax/sigmoid output")


def probe_rows(features: list[dict]) -> list[dict]:
    """Typical values, each category's values in turn, and every optional value missing."""
    typical = {f["name"]: _typical(f) for f in features}
    rows = [typical]
    for f in features:
        if f["type"] == "category":
            rows += [{**typical, f["name"]: c} for c in f["categories"]]
        if f.get("optional"):
            rows.append({**typical, f["name"]: None})
    return rows


def _typical(feature: dict) -> Any:
    if "typical" in feature:
        return feature["typical"]
    if feature["type"] == "category":
        return feature["categories"][0]
    if feature["type"] == "yes-no":
        return False
    low, high = feature.get("min"), feature.get("max")
    return (low + high) / 2 if low is not None and high is not None else 0


def import_onnx(source: Path, out: Path, labels: list[str], features: list[dict], name: str, report: Report,
                force: bool, inputs: list[Path], form: Form) -> dict:
    features = check_graph(source, features, labels, str(inputs[1]))
    fields = form.manifest_fields(features, labels, labels_given=True)
    report(f"import: {source} (tabular graph, {len(features)} inputs, labels {', '.join(labels)})")
    with atomic_folder(out, "model", force, inputs) as folder:
        shutil.copyfile(source, folder / train_tabular.MODEL_FILE)
        manifest = tasks.write_model_folder(
            folder, name=name, task=tabular_task.NAME, labels=labels, **fields,
            arch="imported-onnx-tabular", variants={"fp32": train_tabular.MODEL_FILE}, default_variant="fp32",
            metrics={}, **{"import": {"source": source.name, "kind": "onnx-tabular"}})
    report(f"model folder written: {out}")
    return manifest


# ---------------------------------------------------------------- skops pipeline


def load_skops(path: Path):
    """skops.io.load of a file whose every node is on skops_trust's lists (checked from its schema
    first, after its zip directory: archives.check_archive); anything else is refused, naming the type."""
    import skops.io as sio

    archives.check_archive(path)
    trusted = skops_trust.trusted_types(path)
    try:
        pipeline = sio.load(path, trusted=trusted)
    except Exception as exc:  # a damaged file
        raise UserError(f"{path}: skops cannot load it ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    skops_trust.check_tree_predictors(pipeline, path)
    return pipeline


def check_pipeline(pipeline: Any, path: Path) -> None:
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        raise UserError(f"{path}: holds a {type(pipeline).__name__}, not a scikit-learn Pipeline; save the whole "
                        "pipeline (preprocessing + classifier) with skops")
    if not hasattr(pipeline, "predict_proba") or not hasattr(pipeline, "classes_"):
        raise UserError(f"{path}: the pipeline's last step ({type(pipeline.steps[-1][1]).__name__}) is not a "
                        "fitted classifier with predict_proba")
    if getattr(pipeline, "feature_names_in_", None) is None:
        raise UserError(f"{path}: the pipeline was fitted without column names; fit it on a pandas DataFrame so "
                        "that each input has a name")


def features_of(pipeline: Any, path: Path) -> list[dict]:
    """One feature per input column: a category when an encoder reads it (its categories from the
    encoder), else a number (typical = the imputer's value); optional when the pipeline fills it in."""
    encoded, imputed = _column_roles(pipeline.steps[0][1])
    features = []
    for column in map(str, pipeline.feature_names_in_):
        if column in encoded:
            if not all(isinstance(c, str) for c in encoded[column]):
                raise UserError(f"{path}: column '{column}' is encoded from values that are not strings; the "
                                "contract feeds categories as strings (fit the pipeline on string columns)")
            categories = sorted({c for c in encoded[column] if c})
            for category in categories:
                problem = tabular.category_text_problem(category)
                if problem:
                    raise UserError(f"{path}: column '{column}' has the category {category[:40]!r}, which {problem}; "
                                    "refit the pipeline without it")
            if not categories:
                raise UserError(f"{path}: column '{column}' has no categories")
            feature = {"name": column, "type": "category", "categories": categories, "optional": True}
        else:
            feature = {"name": column, "type": "number", "optional": column in imputed}
            if imputed.get(column) is not None and np.isfinite(imputed[column]):
                feature["typical"] = float(imputed[column])
        features.append(feature)
    return features


def _column_roles(first) -> tuple[dict[str, list], dict[str, float]]:
    """(column → categories for the encoded columns, column → imputed value for numbers with an imputer)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    encoded, imputed = {}, {}
    if not isinstance(first, ColumnTransformer):
        return encoded, imputed
    for _, transformer, columns in first.transformers_:
        if isinstance(transformer, str) or not isinstance(columns, (list, tuple, np.ndarray)):
            continue
        steps = [s for _, s in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]
        encoder = next((s for s in steps if isinstance(s, (OneHotEncoder, OrdinalEncoder))), None)
        imputer = next((s for s in steps if isinstance(s, SimpleImputer)), None)
        for j, column in enumerate(map(str, columns)):
            if encoder is not None:
                encoded[column] = list(encoder.categories_[j])
            elif imputer is not None:
                value = imputer.statistics_[j]
                imputed[column] = float(value) if isinstance(value, (int, float, np.number)) else None
    return encoded, imputed


def _frame(features: list[dict], rows: list[dict]):
    """Rows as scikit-learn reads them: float32 numbers with NaN, strings with "" for missing."""
    import pandas as pd

    feeds = tabular.feeds(features, rows)
    return pd.DataFrame({f["name"]: feeds[f["name"]][:, 0] for f in features})


def import_skops(source: Path, out: Path, labels: str | None, features_file: str | None, name: str,
                 report: Report, force: bool, inputs: list[Path], form: Form) -> dict:
    pipeline = load_skops(source)
    check_pipeline(pipeline, source)
    classes = [str(c) for c in pipeline.classes_]
    labels_ = _labels(labels) if labels else classes
    if len(labels_) != len(classes):
        raise UserError(f"--labels: {len(labels_)} labels but the pipeline has {len(classes)} classes ({', '.join(classes)})")
    features = read_features(Path(features_file)) if features_file else features_of(pipeline, source)
    columns = list(map(str, pipeline.feature_names_in_))
    if sorted(f["name"] for f in features) != sorted(columns):
        raise UserError(f"{features_file}: its features ({', '.join(f['name'] for f in features)}) are not the "
                        f"pipeline's columns ({', '.join(columns)})")
    features = sorted(features, key=lambda f: columns.index(f["name"]))
    fields = form.manifest_fields(features, labels_, labels_given=bool(labels))
    report(f"import: {source} ({' -> '.join(type(s).__name__ for _, s in pipeline.steps)}; labels {', '.join(labels_)})")
    with atomic_folder(out, "model", force, inputs) as folder:
        try:
            graph = train_tabular.to_onnx(pipeline, features)
        except UserError:
            raise
        except Exception as exc:  # skl2onnx raises several types for what it cannot convert
            raise UserError(f"{source}: skl2onnx cannot convert this pipeline ({str(exc).splitlines()[0][:200]})") from None
        path = folder / train_tabular.MODEL_FILE
        path.write_bytes(graph.SerializeToString())
        rows = probe_rows(features)
        check = parity.compare(pipeline.predict_proba(_frame(features, rows)),
                               train_tabular.onnx_probabilities(path, features, rows), train_tabular.PARITY_TOLERANCE)
        if not check.ok:
            raise UserError(f"{source}: the ONNX graph does not match the pipeline ({check.summary()})")
        report(f"import: model.onnx vs scikit-learn {check.summary().replace(' texts', ' rows')}")
        manifest = tasks.write_model_folder(
            folder, name=name, task=tabular_task.NAME, labels=labels_, **fields,
            arch="imported-sklearn-" + type(pipeline.steps[-1][1]).__name__, variants={"fp32": train_tabular.MODEL_FILE},
            default_variant="fp32", metrics={},
            **{"import": {"source": source.name, "kind": "skops", "onnx_vs_sklearn": float(f"{check.max_abs_diff:.3g}")}})
    report(f"model folder written: {out}")
    return manifest
