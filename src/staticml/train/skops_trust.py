"""Which parts of a .skops file staticml lets skops build, decided from the file's schema.json
before skops loads anything.

skops rebuilds objects from a tree of nodes; several kinds of node call what the file names
(a ConstructorFromReduceNode or LossNode calls it with arguments from the file, a FunctionNode or
TypeNode imports it, an NdArrayNode calls it on an array, a DictNode calls its key types). A name
such as `sklearn.utils._testing.check_output` is inside scikit-learn's package but is
`subprocess.check_output`; `sklearn.datasets._olivetti_faces.remove` is `os.remove`. So trust goes
by node kind and exact name: each kind of node may name only the types on its list below, every
one a class whose own `__module__` is the one the file names (checked after importing it), and the
nodes that call a function (functions, methods, partials, reductions, operators) are refused.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from functools import cache
from pathlib import Path

from ..errors import UserError

SCHEMA = "schema.json"
BUILTIN_VALUES = ("builtins.str", "builtins.int", "builtins.float", "builtins.bool")
# scikit-learn's helper classes that the estimators below hold once fitted (by defining module).
SKLEARN_HELPERS = (
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",  # its nodes are checked: check_tree_predictors
    "sklearn._loss.loss.HalfBinomialLoss", "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.link.LogitLink", "sklearn._loss.link.HalfLogitLink", "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.Interval",
)
SKLEARN_LOSSES = ("sklearn._loss._loss.CyHalfBinomialLoss", "sklearn._loss._loss.CyHalfMultinomialLoss")
LISTED = ("Pipeline, ColumnTransformer, SimpleImputer, StandardScaler, MinMaxScaler, RobustScaler, OneHotEncoder, "
          "OrdinalEncoder, LogisticRegression, HistGradientBoostingClassifier")


def sklearn_estimators() -> list[type]:
    """The estimators and transformers a .skops pipeline may hold (FunctionTransformer only as
    ColumnTransformer's passthrough: a function it would call is a FunctionNode, which is refused)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (FunctionTransformer, LabelEncoder, MinMaxScaler, OneHotEncoder, OrdinalEncoder,
                                       RobustScaler, StandardScaler)

    return [Pipeline, ColumnTransformer, SimpleImputer, MissingIndicator, StandardScaler, MinMaxScaler, RobustScaler,
            OneHotEncoder, OrdinalEncoder, LabelEncoder, FunctionTransformer, LogisticRegression,
            HistGradientBoostingClassifier]


@cache
def allowed_by_node() -> dict[str, frozenset[str]]:
    """skops node kind → the type names a node of that kind may carry."""
    import numpy as np

    scalars = {f"numpy.{t.__name__}" for t in set(np.sctypeDict.values()) if t.__module__ == "numpy"}
    bit_generators = {f"numpy.random.{name}" for name in dir(np.random)
                      if isinstance(getattr(np.random, name), type) and issubclass(getattr(np.random, name), np.random.BitGenerator)
                      and getattr(np.random, name) is not np.random.BitGenerator}
    classes = {f"{c.__module__}.{c.__name__}" for c in sklearn_estimators()} | set(SKLEARN_HELPERS)
    return {
        "DictNode": frozenset({"builtins.dict"}),
        "ListNode": frozenset({"builtins.list"}),
        "TupleNode": frozenset({"builtins.tuple"}),
        "SliceNode": frozenset({"builtins.slice"}),
        "JsonNode": frozenset(BUILTIN_VALUES),
        "TypeNode": frozenset(set(BUILTIN_VALUES) | scalars),
        "NdArrayNode": frozenset({"numpy.ndarray"} | scalars),
        "DTypeNode": frozenset({"numpy.dtype"}),
        "RandomStateNode": frozenset({"numpy.random.mtrand.RandomState"}),
        "RandomGeneratorNode": frozenset({"numpy.random._generator.Generator"} | bit_generators),
        "ObjectNode": frozenset(classes),
        "LossNode": frozenset(SKLEARN_LOSSES),
    }


def trusted_types(path: Path) -> list[str]:
    """Check every node of the file's schema; return the names skops asks to trust (all of them on
    the lists above). Raises UserError naming the first type that is not, before anything is built."""
    import skops.io as sio

    for loader, name in schema_types(read_schema(path), path):
        check_type(loader, name, path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises several types for a file that is not its format
        raise UserError(f"{path}: not a skops file ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    everything = set().union(*allowed_by_node().values())
    for name in untrusted:  # what skops would build beyond its defaults (e.g. a bit generator named in a state)
        if name not in everything:
            raise refusal(path, name, "a type")
    return untrusted


def read_schema(path: Path):
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(SCHEMA)
        return json.loads(text)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise UserError(f"{path}: not a skops file ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{path}: not a skops file ({SCHEMA} is not valid JSON: {str(exc)[:120]})") from None


def schema_types(schema, path: Path) -> list[tuple[str, str]]:
    """(node kind, type name) for every dict of the schema that skops could read as a node, in file order."""
    found, stack = [], [schema]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "__loader__" in value:
                loader, module, name = value.get("__loader__"), value.get("__module__"), value.get("__class__")
                if not all(isinstance(v, str) for v in (loader, module, name)):
                    raise UserError(f"{path}: not a skops file (a node without a type name)")
                found.append((loader, f"{module}.{name}"))
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return found


def check_type(loader: str, name: str, path: Path) -> None:
    allowed = allowed_by_node().get(loader)
    if allowed is None:
        raise refusal(path, name, f"a {loader}, which calls what the file names")
    if name not in allowed:
        raise refusal(path, name, "a class" if loader == "ObjectNode" else f"in a {loader}")
    if loader in ("ObjectNode", "LossNode"):
        check_defined_where_named(name, path)


def check_defined_where_named(name: str, path: Path) -> None:
    """The object the name resolves to is a class whose own module is the one named (not a re-export)."""
    module, _, attribute = name.rpartition(".")
    try:
        value = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        raise refusal(path, name, "not in this scikit-learn") from None
    if not isinstance(value, type) or value.__module__ != module or value.__name__ != attribute:
        raise refusal(path, name, "not a class defined there")


def refusal(path: Path, name: str, what: str) -> UserError:
    return UserError(f"{path}: refused the type '{name}' ({what}): staticml loads only scikit-learn pipelines of "
                     f"{LISTED} and their parts; nothing in the file was run")


def check_tree_predictors(pipeline, path: Path) -> None:
    """HistGradientBoosting's trees are walked by compiled code without bounds checks: every split's
    children must come after it inside the tree (no loop, no index out of it) and read a feature the
    model has. Categorical splits are refused (skl2onnx does not convert them)."""
    import numpy as np

    for _, step in getattr(pipeline, "steps", []):
        features = getattr(step, "n_features_in_", None)
        for predictors in getattr(step, "_predictors", None) or []:
            for predictor in predictors:
                nodes = getattr(predictor, "nodes", None)
                if not isinstance(nodes, np.ndarray) or nodes.ndim != 1 or len(nodes) == 0 or nodes.dtype.names is None \
                        or not {"left", "right", "feature_idx", "is_leaf", "is_categorical"} <= set(nodes.dtype.names):
                    raise UserError(f"{path}: a damaged gradient-boosting tree (no node table)")
                index = np.arange(len(nodes))
                split = nodes["is_leaf"] == 0
                for child in ("left", "right"):
                    if np.any(split & ((nodes[child] <= index) | (nodes[child] >= len(nodes)))):
                        raise UserError(f"{path}: a damaged gradient-boosting tree (a split points outside its tree)")
                if not isinstance(features, int) or np.any(split & ((nodes["feature_idx"] < 0) | (nodes["feature_idx"] >= features))):
                    raise UserError(f"{path}: a damaged gradient-boosting tree (a split reads a feature the model lacks)")
                if np.any(split & (nodes["is_categorical"] != 0)):
                    raise UserError(f"{path}: gradient boosting with categorical splits is not supported (use OneHotEncoder)")
