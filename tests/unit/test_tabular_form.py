"""What the eligibility form says (issue 25 item 1): the favourable outcome (`--positive-label`, stored in
the manifest, default the last of `--labels`, build warns when it had to guess), `--feature-info`
(JSON or YAML; its bad inputs are one line naming the file and field, exit 2), typical values on their
step, and yes/no values read the same by predict(rows), the API and `staticml predict`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time

import numpy as np
import pytest

from cli_tools import assert_nothing_left, assert_one_line_refusal, run, run_text

from staticml import Classifier, manifest as manifest_io
from staticml.tasks.tabular import features as tabular
from staticml.tasks.tabular.runner import FIELDS, read_model
from staticml.train import tabular as train_tabular
from staticml.train.feature_info import round_typical
from tabular_probe import make_model_folder

ROWS = 240
FEATURE_INFO = """\
Income:
  label: Monthly income
  unit: €
  help: Before tax.
  step: 10
Age:
  label: Age
  unit: years
  min: 18
  max: 90
Records:
  label: Past arrears on record
"""


def applicants(rows: int = ROWS, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    table = []
    for _ in range(rows):
        income, age, records = int(rng.integers(200, 3000)), int(rng.integers(20, 70)), bool(rng.random() < 0.25)
        score = income / 1000 + age / 40 - 2 * records + rng.normal(0, 0.5)
        table.append({"Income": income, "Age": age, "Records": "yes" if records else "no",
                      "Home": str(rng.choice(["owner", "rent"])), "Status": "approved" if score > 2.2 else "declined"})
    return table


def write_csv(path, rows: list[dict]):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("form")
    write_csv(folder / "applicants.csv", applicants())
    (folder / "info.yaml").write_text(FEATURE_INFO, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def model(data):
    """Trained with --labels approved,declined --positive-label approved --feature-info info.yaml."""
    out = data / "model"
    code = subprocess.run([sys.executable, "-m", "staticml", "train", str(data / "applicants.csv"), "--task", "tabular",
                           "--label-col", "Status", "--labels", "declined,approved", "--feature-info", str(data / "info.yaml"),
                           "--out", str(out)], capture_output=True, text=True)
    assert code.returncode == 0, code.stderr
    return out


def test_train_stores_the_favourable_outcome_and_what_the_form_says(model):
    manifest = read_model(model)
    assert manifest["labels"] == ["declined", "approved"]  # --labels: this output order
    assert manifest["positive_label"] == "approved"  # the last of --labels
    features = {f["name"]: f for f in manifest["features"]}
    assert features["Income"]["label"] == "Monthly income" and features["Income"]["unit"] == "€"
    assert features["Income"]["help"] == "Before tax." and features["Income"]["step"] == 10
    assert features["Income"]["typical"] % 10 == 0  # the training median, on the step the file gives
    assert (features["Age"]["min"], features["Age"]["max"]) == (18, 90)  # the file's range over the data's
    assert features["Records"]["label"] == "Past arrears on record" and "label" not in features["Home"]


def test_positive_label_given_and_the_build_warning_when_guessed(data, model, tmp_path, capsys):
    out = tmp_path / "model"
    code, err = run_text(capsys, "train", data / "applicants.csv", "--task", "tabular", "--label-col", "Status",
                         "--positive-label", "declined", "--out", out)
    assert code == 0, err
    assert read_model(out)["positive_label"] == "declined" and read_model(out)["labels"] == ["approved", "declined"]
    code, err = run_text(capsys, "build", out, "--out", tmp_path / "site")
    assert code == 0 and "favourable" not in err, err  # named: nothing to warn about
    guessed = make_model_folder(tmp_path / "guessed")  # written without positive_label
    code, err = run_text(capsys, "build", guessed, "--out", tmp_path / "site2")
    assert code == 0 and "names no favourable outcome" in err and "'good'" in err, err


def test_train_without_a_favourable_outcome_says_so(data, tmp_path, capsys):
    lines: list[str] = []
    table = train_tabular.load(data / "applicants.csv", "Status")
    train_tabular.train(table, tmp_path / "m", report=lines.append)
    assert "positive_label" not in read_model(tmp_path / "m")
    assert any("no favourable outcome named" in line and "'declined'" in line for line in lines), lines


def test_the_manifest_field_is_checked(model, tmp_path):
    good = manifest_io.read(model)
    with pytest.raises(manifest_io.ManifestError, match="positive_label must be one of the labels"):
        manifest_io.validate({**good, "positive_label": 3}, "m.json", FIELDS)
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    (copy / "manifest.json").write_text(json.dumps({**good, "positive_label": "maybe"}), encoding="utf-8")
    with pytest.raises(manifest_io.ManifestError, match=r"manifest.json: positive_label 'maybe' is not one of the labels"):
        read_model(copy)


@pytest.mark.parametrize("name, content, says", [
    ("info.json", "{not json", "info.json: not valid JSON"),
    ("info.yaml", "Income: [unclosed", "info.yaml: not valid YAML"),
    ("info.json", "[1, 2]", "info.json: expected an object {column:"),
    ("info.json", '{"Pets": {"label": "Pets"}}', "info.json: Pets: not a feature column"),
    ("info.json", '{"Income": {"colour": "red"}}', "info.json: Income.colour: not a field of --feature-info"),
    ("info.json", '{"Income": {"label": 3}}', "info.json: Income.label: must be a non-empty string"),
    ("info.json", '{"Income": {"unit": "' + "x" * 40 + '"}}', "info.json: Income.unit: must be a non-empty string of at most 24"),
    ("info.json", '{"Income": {"min": "low"}}', 'info.json: Income.min: must be a finite number, not "low"'),
    ("info.json", '{"Income": {"step": 0}}', "info.json: Income.step: must be above 0"),
    ("info.json", '{"Income": {"min": 9, "max": 1}}', "info.json: Income.min (9) is above its max (1)"),
    ("info.json", '{"Income": "monthly"}', "info.json: Income: expected an object"),
    ("info.yaml", "Home:\n  min: 1\n", "info.yaml: Home.min: the column is a category"),
    ("info.json", None, "info.json: no such file"),
])
def test_bad_feature_info_is_one_line_naming_the_file_and_field(data, tmp_path, capsys, name, content, says):
    info = tmp_path / name
    if content is not None:
        info.write_text(content, encoding="utf-8")
    out = tmp_path / "model"
    code, err = run(capsys, "train", data / "applicants.csv", "--task", "tabular", "--label-col", "Status",
                    "--feature-info", info, "--out", out)
    assert_one_line_refusal(code, err, says)
    assert str(info) in err[0]
    assert_nothing_left(out)


@pytest.mark.parametrize("args, says", [
    (["--positive-label", "maybe"], "--positive-label 'maybe': not one of the labels (approved, declined)"),
    (["--labels", "approved,pending"], "--labels pending not in the data"),
])
def test_bad_positive_label_or_labels(data, tmp_path, capsys, args, says):
    out = tmp_path / "model"
    code, err = run(capsys, "train", data / "applicants.csv", "--task", "tabular", "--label-col", "Status", *args, "--out", out)
    assert_one_line_refusal(code, err, says)
    assert_nothing_left(out)


def test_a_text_model_refuses_the_form_options(data, tmp_path, capsys):
    code, err = run(capsys, "train", data / "applicants.csv", "--text-col", "Home", "--label-col", "Status",
                    "--positive-label", "approved", "--out", tmp_path / "m")
    assert_one_line_refusal(code, err, "--positive-label goes with --task tabular")


@pytest.mark.parametrize("feature, typical", [
    ({"type": "number", "typical": 44.347321428571426}, 44.35),  # an imputer's mean, no step known
    ({"type": "number", "typical": 44.347321428571426, "step": 1}, 44),
    ({"type": "number", "typical": 0.3000000004, "step": 0.1}, 0.3),
    ({"type": "number", "typical": 4.26, "step": 0.25}, 4.25),
    ({"type": "number", "typical": 1234.5, "step": 100, "min": 1500}, 1500),  # on the step, inside the range
    ({"type": "number", "typical": 0.000123456}, 0.0001235),
])
def test_typical_numbers_are_rounded_to_their_step(feature, typical):
    assert round_typical({"name": "x", **feature})["typical"] == typical


# ---------------------------------------------------------------- import


@pytest.fixture(scope="module")
def skops_file(data):
    """A pipeline whose imputer fills the mean (a typical value of many digits), saved with skops."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    table = train_tabular.load(data / "applicants.csv", "Status")
    numbers = [n for n, kind in table.kinds.items() if kind != "category"]
    pre = ColumnTransformer([("num", SimpleImputer(strategy="mean"), numbers),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["Home"])])
    pipeline = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=300))]).fit(table.frame, table.labels)
    sio.dump(pipeline, data / "pipeline.skops")
    return data / "pipeline.skops"


def test_import_takes_the_form_options_and_rounds_typical_values(skops_file, data, tmp_path, capsys):
    code, err = run_text(capsys, "import", skops_file, "--out", tmp_path / "plain")
    assert code == 0, err
    plain = {f["name"]: f for f in read_model(tmp_path / "plain")["features"]}
    assert "positive_label" not in read_model(tmp_path / "plain")  # build will warn
    assert "min" not in plain["Income"] and "max" not in plain["Income"]  # no training data: no range
    assert len(repr(plain["Income"]["typical"]).replace(".", "").lstrip("0")) <= 4  # four significant digits
    code, err = run_text(capsys, "import", skops_file, "--feature-info", data / "info.yaml", "--positive-label", "approved",
                         "--out", tmp_path / "described")
    assert code == 0, err
    manifest = read_model(tmp_path / "described")
    described = {f["name"]: f for f in manifest["features"]}
    assert manifest["positive_label"] == "approved"
    assert (described["Age"]["min"], described["Age"]["max"]) == (18, 90)  # ranges from --feature-info
    assert described["Income"]["typical"] % 10 == 0 and described["Income"]["label"] == "Monthly income"
    code, err = run(capsys, "import", skops_file, "--positive-label", "maybe", "--out", tmp_path / "bad")
    assert_one_line_refusal(code, err, "--positive-label 'maybe': not one of the labels")
    assert_nothing_left(tmp_path / "bad")


# ---------------------------------------------------------------- yes/no values, the same everywhere

YES_NO = [(True, True), (False, False), (1, True), (0, False), ("yes", True), ("no", False), ("Y", True), ("n", False),
          ("true", True), ("FALSE", False), ("1", True), ("0", False), (" Yes ", True), ("t", True), ("f", False)]


def rows_with(model, values) -> list[dict]:
    typical = tabular.typical_row(read_model(model)["features"])
    return [{**typical, "Records": value} for value in values]


def test_python_predict_rows_reads_yes_no_values_as_the_training_data_had_them(model):
    given, meant = zip(*YES_NO)
    classifier = Classifier(model)
    assert np.array_equal(classifier.probabilities(rows_with(model, given)), classifier.probabilities(rows_with(model, meant)))
    with pytest.raises(tabular.RowError, match=r'rows\[0\].Records must be true, false, 0, 1 or null \(or "yes", "no", "y", "n"\), not "maybe"'):
        classifier.predict(rows_with(model, ["maybe"]))


def test_staticml_predict_reads_the_same_words(model, tmp_path, capsys):
    given = [g for g, _ in YES_NO if isinstance(g, str)]
    meant = [m for g, m in YES_NO if isinstance(g, str)]
    rows = rows_with(model, given)
    write_csv(tmp_path / "in.csv", rows)
    code, err = run(capsys, "predict", model, tmp_path / "in.csv", "--out", tmp_path / "out.csv")
    assert code == 0, err
    with open(tmp_path / "out.csv", newline="") as f:
        got = [float(r["p_approved"]) for r in csv.DictReader(f)]
    expected = Classifier(model).probabilities(rows_with(model, meant))[:, 1]
    assert np.abs(np.array(got) - expected).max() <= 1e-6


@pytest.fixture(scope="module")
def api_url(model):
    import httpx

    from staticml.server import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(model), "--port", str(port)],
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


def test_the_api_reads_the_same_words(api_url, model):
    import httpx

    given, meant = zip(*YES_NO)
    answer = httpx.post(api_url + "v1/predict", json={"rows": rows_with(model, given)}, timeout=30)
    assert answer.status_code == 200, answer.text
    got = np.array([[p["scores"][label] for label in ("declined", "approved")] for p in answer.json()["predictions"]])
    assert np.abs(got - Classifier(model).probabilities(rows_with(model, meant))).max() <= 1e-6
    refused = httpx.post(api_url + "v1/predict", json={"rows": rows_with(model, ["maybe"])}, timeout=30)
    assert refused.status_code == 422 and 'rows[0].Records must be true, false, 0, 1 or null' in refused.json()["detail"]
