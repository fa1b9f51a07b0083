"""A category holding text the page cannot encode (issue 24, bad input): a lone surrogate (no UTF-8
encoding) or U+0000 (onnxruntime-web hands string tensors to its WASM as NUL-terminated C strings,
so "a\\0b" would reach the graph as "a"). Refused in one line naming the file and the column, exit 2,
nothing written: in a training table, in a .skops pipeline, in an ONNX import's features.json."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from cli_tools import assert_import_refused, assert_nothing_left, assert_one_line_refusal, run
from onnx_tabular import FEATURES, LABELS, graph

from staticml.tasks.tabular.features import category_text_problem, check_features

BAD = {"nul": ("a\x00b", "U+0000"), "surrogate": ("a\ud800b", "lone surrogate \\ud800")}


@pytest.mark.parametrize("kind", BAD)
def test_the_manifest_check_names_the_category(kind):
    value, says = BAD[kind]
    assert says in category_text_problem(value)
    features = [{**FEATURES[1], "categories": ["a", value, "c"]}]
    assert says in check_features(features) and "'constructor'" in check_features(features)
    assert category_text_problem("café 中文 🎉 \t") is None


@pytest.mark.parametrize("kind", BAD)
def test_a_training_table_with_such_a_category_is_refused(kind, tmp_path, capsys):
    value, says = BAD[kind]
    rng = np.random.default_rng(1)
    data = tmp_path / "rows.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for _ in range(120):
            city = str(rng.choice(["north", "south", value]))
            f.write(json.dumps({"city": city, "age": float(rng.uniform(18, 80)), "label": str(rng.choice(["no", "yes"]))}) + "\n")
    out = tmp_path / "model"
    code, err = run(capsys, "train", "--task", "tabular", data, "--label-col", "label", "--out", out)
    assert_one_line_refusal(code, err, says)
    assert str(data) in err[0] and "column 'city'" in err[0]
    assert_nothing_left(out)


@pytest.mark.parametrize("kind", BAD)
def test_a_skops_pipeline_with_such_a_category_is_refused(kind, tmp_path, capsys):
    import pandas as pd
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    value, says = BAD[kind]
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"city": pd.Series(rng.choice(["north", "south", value], 120), dtype=object),
                          "age": rng.uniform(18, 80, 120)})
    pipeline = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])],
                                                    remainder="passthrough")),
                         ("clf", LogisticRegression())]).fit(frame, rng.choice(["no", "yes"], 120))
    source = tmp_path / "pipeline.skops"
    sio.dump(pipeline, source)
    assert_import_refused(capsys, tmp_path / "model", source, says=says)


def test_an_onnx_import_whose_features_json_holds_such_a_category_is_refused(tmp_path, capsys):
    onnx.save(graph(), str(tmp_path / "form.onnx"))
    features = [{**f, "categories": ["a", "b\x00", "c"]} if f["type"] == "category" else f for f in FEATURES]
    (tmp_path / "features.json").write_text(json.dumps(features), encoding="utf-8")
    assert_import_refused(capsys, tmp_path / "model", tmp_path / "form.onnx", "--features", tmp_path / "features.json",
                          "--labels", ",".join(LABELS), says="U+0000")
