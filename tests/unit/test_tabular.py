"""Form data (issue 13): train --task tabular on a small made-up table, the serving side's row checks,
and each bad input of the issue (one line naming the column or file, exit 2, nothing half-written)."""

from __future__ import annotations

import csv
import json

import numpy as np
import onnx
import pytest

from cli_tools import assert_nothing_left, assert_one_line_refusal, run

from staticml import manifest
from staticml.tasks.tabular import features as tabular
from staticml import Classifier
from staticml.train import tabular as train_tabular

ROWS = 300
UNSEEN = "castle"


def applicants(rows: int = ROWS, seed: int = 0) -> list[dict]:
    """Loan applicants: the label depends on income, age, records and home; plus the columns a form
    cannot use (an id, free text, a constant, an empty and an all-"NA" column)."""
    rng = np.random.default_rng(seed)
    table = []
    for i in range(rows):
        income = int(rng.integers(200, 3000))
        age = int(rng.integers(18, 70))
        records = bool(rng.random() < 0.2)
        home = str(rng.choice(["owner", "rent", "parents"]))
        score = income / 1000 + age / 40 - 2 * records + (home == "owner") + rng.normal(0, 0.5)
        table.append({
            "id": f"A{i:05d}", "Income": f"{income:,}" if i % 3 else str(income), "Age": age,
            "Records": "yes" if records else "no", "Home": home, "Ratio": round(float(rng.random()), 2),
            "Note": f"applicant {i} wrote a long note about their reasons number {i * 7}",
            "Country": "ES", "Empty": "", "Unknown": "NA", "Status": "good" if score > 2.2 else "bad"})
    for i in range(0, rows, 25):
        table[i]["Income"] = "n/a"
    return table


def write_csv(path, rows: list[dict]):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def with_unseen_category(rows: list[dict]) -> list[dict]:
    """Home = UNSEEN in a few rows of the test split only (the split depends on the labels alone)."""
    columns = list(rows[0])
    table = train_tabular.from_records(rows, columns, "x", "Status")
    test = train_tabular.split(table).test[:3]
    return [{**row, "Home": UNSEEN} if i in set(test) else row for i, row in enumerate(rows)]


@pytest.fixture(scope="module")
def trained_log(tmp_path_factory) -> tuple[str, object]:
    """(what training reported, the model folder)."""
    folder = tmp_path_factory.mktemp("tabular")
    data = write_csv(folder / "applicants.csv", with_unseen_category(applicants()))
    lines: list[str] = []
    table = train_tabular.load(data, "Status")
    train_tabular.train(table, folder / "model", name="model", report=lines.append)
    return "\n".join(lines), folder / "model"


@pytest.fixture(scope="module")
def trained(trained_log):
    return trained_log[1]


def test_train_command_with_features_and_overrides(tmp_path, capsys, trained):
    out = tmp_path / "model"
    code, err = run(capsys, "train", trained.parent / "applicants.csv", "--task", "tabular", "--label-col", "Status",
                    "--features", "Income,Age,Home,Records", "--categorical", "Age", "--out", out)
    assert code == 0, err
    kinds = {f["name"]: f["type"] for f in manifest.read(out)["features"]}
    assert kinds == {"Income": "number", "Age": "category", "Home": "category", "Records": "yes-no"}
    assert any(line.startswith("shipped: ") for line in err)


def test_train_writes_a_contract_following_model_folder(trained):
    m = manifest.read(trained)
    assert m["task"] == "tabular-classification" and m["labels"] == ["bad", "good"]
    assert manifest.check_integrity(trained, m) == []
    kinds = {f["name"]: f["type"] for f in m["features"]}
    assert kinds == {"Income": "number", "Age": "number", "Records": "yes-no", "Home": "category", "Ratio": "number"}
    income = next(f for f in m["features"] if f["name"] == "Income")
    assert income["step"] == 1 and income["min"] >= 200 and income["max"] <= 2999 and income["optional"] is True
    assert next(f for f in m["features"] if f["name"] == "Ratio")["step"] == 0.01
    graph = onnx.load(str(trained / "model.onnx"))
    assert [i.name for i in graph.graph.input] == [f["name"] for f in m["features"]]
    assert [o.name for o in graph.graph.output] == ["probabilities"]
    types = {i.name: i.type.tensor_type.elem_type for i in graph.graph.input}
    assert types["Home"] == onnx.TensorProto.STRING and types["Income"] == onnx.TensorProto.FLOAT
    metrics = m["metrics"]
    assert set(metrics["candidates"]) == {"logistic_regression", "gradient_boosting"}
    for figures in [*metrics["candidates"].values(), metrics["baselines"]["majority_class"]]:
        assert set(figures) >= {"accuracy", "roc_auc", "log_loss", "ece"}
    for figures in metrics["candidates"].values():
        assert figures["onnx_vs_sklearn"] <= 1e-5 and figures["bytes"] > 0
    assert metrics["candidates"]["logistic_regression"]["roc_auc"] > metrics["baselines"]["majority_class"]["roc_auc"]


def test_left_out_columns_and_text_numbers_are_reported(trained_log):
    err, _ = trained_log
    for column, why in [("id", "identifier"), ("Note", "free text"), ("Country", "same value"),
                        ("Empty", "no values"), ("Unknown", "no values")]:
        assert any(f"column '{column}' left out" in line and why in line for line in err.splitlines()), (column, err)
    assert "Income (number)" in err  # "1,200" read as 1200, "n/a" as missing


def test_category_seen_only_in_the_test_split_is_treated_as_unknown(trained, trained_log):
    err, _ = trained_log
    assert f"'Home': 1 values never seen in the training split (e.g. '{UNSEEN}')" in err
    m = manifest.read(trained)
    assert UNSEEN not in next(f for f in m["features"] if f["name"] == "Home")["categories"]
    classifier = Classifier(trained)
    row = tabular.typical_row(m["features"])
    unseen, missing = classifier.probabilities([{**row, "Home": UNSEEN}, {**row, "Home": None}])
    assert np.allclose(unseen, missing)  # no Home was missing in training: both are "no known home"


def test_test_rows_are_the_test_split_and_match_python(trained):
    m = manifest.read(trained)
    rows = json.loads((trained / "test_rows.json").read_text())
    assert len(rows) == m["metrics"]["data"]["test_rows"] and tabular.row_problem(m["features"], rows) is None
    assert any(row["Income"] is None for row in rows) or all(row["Income"] is not None for row in rows)
    predictions = Classifier(trained).predict(rows)
    assert len(predictions) == len(rows) and {p["label"] for p in predictions} <= {"bad", "good"}


@pytest.mark.parametrize("row, says", [
    ({"Income": 100, "Age": 30, "Records": False, "Home": "rent"}, "rows[0].Ratio is missing"),
    ({"Income": 100, "Age": 30, "Records": False, "Home": "rent", "Ratio": 0.5, "Pets": 2}, "rows[0].Pets is not a feature"),
    ({"Income": "100", "Age": 30, "Records": False, "Home": "rent", "Ratio": 0.5}, "rows[0].Income must be a number"),
    ({"Income": 100, "Age": 30, "Records": "maybe", "Home": "rent", "Ratio": 0.5}, "rows[0].Records must be true, false"),
    ({"Income": 100, "Age": 30, "Records": False, "Home": 3, "Ratio": 0.5}, "rows[0].Home must be a string"),
])
def test_rows_that_break_the_schema_are_refused_naming_the_field(trained, row, says):
    with pytest.raises(tabular.RowError, match=says.replace("[", r"\[").replace("]", r"\]")):
        Classifier(trained).predict([row])


def test_null_is_accepted_for_every_feature(trained):
    m = manifest.read(trained)
    (prediction,) = Classifier(trained).predict([{f["name"]: None for f in m["features"]}])
    assert abs(sum(prediction["scores"].values()) - 1) < 1e-5


# ---------------------------------------------------------------- bad input


def bad_tables(tmp_path) -> dict:
    """case → (data file, extra arguments, what the one line says)."""
    good = applicants(60)
    one_class = [{**r, "Status": "good"} for r in good]
    many = [{**r, "Status": f"class{i % 300}"} for i, r in enumerate(applicants(900))]
    only_junk = [{"id": r["id"], "Note": r["Note"], "Status": r["Status"]} for r in good]
    return {
        "no label column": (write_csv(tmp_path / "a.csv", good), ["--label-col", "Decision"], "column 'Decision' (--label-col) not found"),
        "one class": (write_csv(tmp_path / "b.csv", one_class), ["--label-col", "Status"], "single label ['good']"),
        "hundreds of classes": (write_csv(tmp_path / "c.csv", many), ["--label-col", "Status"], "300 distinct labels"),
        "no usable column": (write_csv(tmp_path / "d.csv", only_junk), ["--label-col", "Status"], "no usable feature column"),
        "unknown --features": (write_csv(tmp_path / "e.csv", good), ["--label-col", "Status", "--features", "Age,Pets"],
                               "column 'Pets' (--features) not found"),
        "--numeric on text": (write_csv(tmp_path / "f.csv", good), ["--label-col", "Status", "--numeric", "Home"],
                              "column 'Home' (--numeric) has a value that is not a number"),
        "--features and --drop": (write_csv(tmp_path / "g.csv", good),
                                  ["--label-col", "Status", "--features", "Age", "--drop", "Home"], "not both"),
        "no --text-col for text": (write_csv(tmp_path / "h.csv", good), ["--label-col", "Status", "--task", "text"],
                                   "--text-col is required"),
    }


@pytest.mark.parametrize("case", ["no label column", "one class", "hundreds of classes", "no usable column",
                                  "unknown --features", "--numeric on text", "--features and --drop",
                                  "no --text-col for text"])
def test_bad_table_is_one_line_exit_2_nothing_written(tmp_path, capsys, case):
    path, extra, says = bad_tables(tmp_path)[case]
    out = tmp_path / "model"
    task = [] if "--task" in extra else ["--task", "tabular"]
    code, err = run(capsys, "train", path, *task, *extra, "--out", out)
    assert_one_line_refusal(code, err, says)
    assert_nothing_left(out)


@pytest.mark.parametrize("value, number", [("1,200", 1200.0), (" 3.5 ", 3.5), ("-1,234,567.25", -1234567.25),
                                           (7, 7.0), ("1,20", None), ("abc", None), ("inf", None), (True, None)])
def test_numbers_written_as_text(value, number):
    assert train_tabular.parse_number(value) == number


@pytest.mark.parametrize("value", ["", " ", "NA", "n/a", "N/A", "null", "None", "?", None, float("nan")])
def test_missing_words(value):
    assert train_tabular.is_missing(value)


def test_a_mostly_numeric_column_reads_stray_words_as_missing():
    raw = [str(i) for i in range(100)] + ["unknown"]
    values, kind, note = train_tabular.read_column("x.csv", "Debt", raw)
    assert kind == "number" and np.isnan(values[-1]) and "'unknown'" in note and "read as missing" in note


def test_selection_prefers_the_smaller_model_for_a_small_gain():
    sizes = {"logistic_regression": 2_000, "gradient_boosting": 200_000}
    assert train_tabular.choose({"logistic_regression": 0.850, "gradient_boosting": 0.854}, sizes)[0] == "logistic_regression"
    assert train_tabular.choose({"logistic_regression": 0.850, "gradient_boosting": 0.860}, sizes)[0] == "gradient_boosting"
    assert train_tabular.choose({"logistic_regression": 0.86, "gradient_boosting": 0.85}, sizes)[0] == "logistic_regression"


@pytest.mark.parametrize("features, says", [
    ([], "non-empty list"),
    ([{"name": "a", "type": "date"}], "type 'date'"),
    ([{"name": "a", "type": "category", "categories": []}], "categories"),
    ([{"name": "a", "type": "number", "min": 5, "max": 1}], "min is above max"),
    ([{"name": "a", "type": "number"}, {"name": "a", "type": "yes-no"}], "duplicate names"),
    ([{"name": "a", "type": "category", "categories": ["x"], "typical": "y"}], "typical"),
])
def test_manifest_features_check(features, says):
    assert says in tabular.check_features(features)


# ---------------------------------------------------------------- import


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory):
    """A fitted scikit-learn pipeline on the made-up table, saved with skops (and as a pickle)."""
    import collections
    import pickle

    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    folder = tmp_path_factory.mktemp("pipeline")
    table = train_tabular.from_records(applicants(), list(applicants()[0]), "x", "Status")
    pipeline = train_tabular.candidates(table.kinds, 0)["logistic_regression"].fit(table.frame, table.labels)
    sio.dump(pipeline, folder / "pipeline.skops")
    sio.dump(pipeline.steps[-1][1], folder / "classifier.skops")
    sio.dump(make_pipeline(FunctionTransformer(collections.Counter)), folder / "untrusted.skops")
    (folder / "pipeline.pkl").write_bytes(pickle.dumps(pipeline))
    return folder, pipeline, table


def test_import_skops_pipeline_matches_scikit_learn(pipeline_file, tmp_path, capsys):
    folder, pipeline, table = pipeline_file
    out = tmp_path / "imported"
    code, err = run(capsys, "import", folder / "pipeline.skops", "--out", out)
    assert code == 0, err
    m = manifest.read(out)
    assert m["labels"] == ["bad", "good"] and [f["name"] for f in m["features"]] == list(table.kinds)
    home = next(f for f in m["features"] if f["name"] == "Home")
    assert home["type"] == "category" and home["categories"] == ["owner", "parents", "rent"]
    rows = train_tabular.rows_of(table, m["features"], np.arange(40))
    got = Classifier(out).probabilities(rows)
    assert np.abs(got - pipeline.predict_proba(table.frame.iloc[:40])).max() <= 1e-5


def test_import_tabular_onnx_with_features_json(trained, tmp_path, capsys):
    m = manifest.read(trained)
    features = tmp_path / "features.json"
    features.write_text(json.dumps(m["features"][::-1]))  # any order: the graph's order is kept
    out = tmp_path / "imported"
    code, err = run(capsys, "import", trained / "model.onnx", "--features", features, "--labels", "bad,good", "--out", out)
    assert code == 0, err
    rows = json.loads((trained / "test_rows.json").read_text())
    assert [f["name"] for f in manifest.read(out)["features"]] == [f["name"] for f in m["features"]]
    assert np.array_equal(Classifier(out).probabilities(rows), Classifier(trained).probabilities(rows))


def bad_imports(tmp_path, trained, pipeline_file) -> dict:
    """case → (arguments, what the one line says)."""
    folder = pipeline_file[0]
    features = manifest.read(trained)["features"]

    def features_file(name: str, value) -> str:
        path = tmp_path / name
        path.write_text(json.dumps(value))
        return str(path)

    onnx_file = str(trained / "model.onnx")
    wrong_type = [{**f, "type": "number"} if f["name"] == "Home" else f for f in features]
    wrong_type = [{k: v for k, v in f.items() if k not in ("categories", "typical")} if f["name"] == "Home" else f
                  for f in wrong_type]
    return {
        "pickle": ([folder / "pipeline.pkl"], "loading a pickle runs any code it holds"),
        "joblib": ([tmp_path / "model.joblib"], "a pickle file is refused"),
        "skops not a pipeline": ([folder / "classifier.skops"], "holds a LogisticRegression, not a scikit-learn Pipeline"),
        "not a skops file": ([features_file("x.skops", [1])], "not a skops file"),
        "skops asks for other code": ([folder / "untrusted.skops"], "refused the type 'collections.Counter'"),
        "feature not in graph": ([onnx_file, "--features", features_file("a.json", features + [{"name": "Pets", "type": "number"}]),
                                  "--labels", "bad,good"], "feature 'Pets' is not an input of model.onnx"),
        "graph input without feature": ([onnx_file, "--features", features_file("b.json", features[1:]), "--labels", "bad,good"],
                                        f"has no feature for the graph input '{features[0]['name']}'"),
        "wrong type": ([onnx_file, "--features", features_file("c.json", wrong_type), "--labels", "bad,good"],
                       "feature 'Home' is a number, so its graph input must be tensor(float)"),
        "bad features.json": ([onnx_file, "--features", features_file("d.json", [{"name": "x", "type": "date"}]),
                               "--labels", "bad,good"], "type 'date'"),
        "labels do not match": ([onnx_file, "--features", features_file("e.json", features), "--labels", "a,b,c"],
                                "but --labels gives 3 labels"),
        "no labels": ([onnx_file, "--features", features_file("f.json", features)], "--labels"),
    }


@pytest.mark.parametrize("case", ["pickle", "joblib", "skops not a pipeline", "not a skops file", "skops asks for other code",
                                  "feature not in graph",
                                  "graph input without feature", "wrong type", "bad features.json",
                                  "labels do not match", "no labels"])
def test_bad_import_is_one_line_exit_2_nothing_written(tmp_path, capsys, trained, pipeline_file, case):
    argv, says = bad_imports(tmp_path, trained, pipeline_file)[case]
    out = tmp_path / "imported"
    code, err = run(capsys, "import", *argv, "--out", out)
    assert_one_line_refusal(code, err, says)
    assert_nothing_left(out)


# ---------------------------------------------------------------- the HTTP API


@pytest.fixture(scope="module")
def api_url(trained):
    """`staticml api MODEL` in a child process on a free loopback port."""
    import subprocess
    import sys
    import time

    import httpx

    from staticml.server import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(trained), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(url + "healthz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_api_predicts_rows_as_python_does(api_url, trained):
    import httpx

    rows = json.loads((trained / "test_rows.json").read_text())[:50]
    answer = httpx.post(api_url + "v1/predict", json={"rows": rows}, timeout=30)
    assert answer.status_code == 200, answer.text
    got = np.array([[p["scores"][label] for label in ("bad", "good")] for p in answer.json()["predictions"]])
    assert np.abs(got - Classifier(trained).probabilities(rows)).max() <= 1e-6
    info = httpx.get(api_url + "v1/models").json()["models"][0]
    assert info["task"] == "tabular-classification" and [f["name"] for f in info["features"]] == list(rows[0])
    assert "rows" in json.dumps(httpx.get(api_url + "openapi.json").json()["components"]["schemas"])


@pytest.mark.parametrize("change, says", [
    ({"Pets": 2}, "rows[0].Pets is not a feature"),
    ({"Income": "1,200"}, "rows[0].Income must be a number or null, not a string"),
    ({"Records": "maybe"}, "rows[0].Records must be true, false, 0, 1 or null"),
    ({"Home": ["rent"]}, "rows[0].Home must be a string or null, not a list"),
    (None, "rows[0].Age is missing"),
])
def test_api_refuses_rows_naming_the_field(api_url, trained, change, says):
    import httpx

    row = json.loads((trained / "test_rows.json").read_text())[0]
    row = {k: v for k, v in row.items() if k != "Age"} if change is None else {**row, **change}
    answer = httpx.post(api_url + "v1/predict", json={"rows": [row]}, timeout=30)
    assert answer.status_code == 422 and says in answer.json()["detail"], answer.text
    texts = httpx.post(api_url + "v1/predict", json={"texts": ["a"]}, timeout=30)
    assert texts.status_code == 422 and "rows is missing" in texts.json()["detail"]


def test_default_data_is_credit_data():
    table = train_tabular.load_default()
    assert len(table.labels) == 4454 and sorted(set(table.labels)) == ["bad", "good"]
    assert table.kinds == {"Seniority": "number", "Home": "category", "Time": "number", "Age": "number",
                           "Marital": "category", "Records": "yes-no", "Job": "category", "Expenses": "number",
                           "Income": "number", "Assets": "number", "Debt": "number", "Amount": "number",
                           "Price": "number"}
    assert int(np.isnan(table.frame["Income"]).sum()) == 381 and int((table.frame["Home"] == "").sum()) == 6
