"""One bad request never fails another (issue 22 item 4): `staticml api` on a real uvicorn server on
loopback, with a tabular model trained here, micro-batching requests that arrive within 20 ms.
Bad rows (a lone surrogate, 1e300, a 400-digit integer, NaN, random rows from hypothesis) sent among
innocent concurrent requests: the bad one gets a 4xx naming its field, every innocent one a 200
with the same probabilities as Python onnxruntime, and nothing gets a 5xx."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import numpy as np
import onnx
import pytest
from async_tools import run_in_own_loop
from hypothesis import HealthCheck, event, given, settings, strategies as st
from onnx import TensorProto, helper, numpy_helper

from staticml import cli
from staticml.api import ApiError, Batcher, BatchSettings
from staticml import Classifier
from staticml.tasks.tabular.runner import TabularClassifier, read_model
from staticml.server import free_port
from staticml.train import tabular as train_tabular

FEATURES = ("Income", "Age", "Records", "Home")


def applicants(count: int = 240, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        income, age = int(rng.integers(200, 3000)), int(rng.integers(18, 70))
        records, home = bool(rng.random() < 0.2), str(rng.choice(["owner", "rent", "parents"]))
        score = income / 1000 + age / 40 - 2 * records + (home == "owner") + rng.normal(0, 0.5)
        rows.append({"Income": income, "Age": age, "Records": "yes" if records else "no", "Home": home,
                     "Status": "good" if score > 2.2 else "bad"})
    return rows


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("isolation")
    with open(folder / "applicants.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(applicants(1)[0]))
        writer.writeheader()
        writer.writerows(applicants())
    train_tabular.train(train_tabular.load(folder / "applicants.csv", "Status"), folder / "model", name="model",
                        report=lambda line: None)
    return folder / "model"


@contextlib.contextmanager
def api_server(model_dir: Path) -> Iterator[str]:
    """`staticml api MODEL` in a child process (one worker: /healthz counts its batches); requests within 20 ms of each other share a batch."""
    port = free_port()
    env = {**os.environ, "STATICML_API_MAX_WAIT_MS": "20"}
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", str(model_dir), "--port", str(port), "--workers", "1"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "healthz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "staticml api did not start"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def api_url(model):
    with api_server(model) as url:
        yield url


@pytest.fixture(scope="module")
def innocent(model) -> tuple[list[dict], np.ndarray]:
    """Good rows and what Python onnxruntime says for each."""
    rows = json.loads((model / "test_rows.json").read_text())[:20]
    return rows, Classifier(model).probabilities(rows)


def body(value: Any) -> bytes:
    """JSON as a client could send it: NaN, Infinity and lone surrogates (escaped) included."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


async def post_all(url: str, bodies: list[bytes]) -> list[httpx.Response]:
    """All the bodies at once, each on its own connection."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return await asyncio.gather(*(client.post("v1/predict", content=b, headers={"content-type": "application/json"})
                                      for b in bodies))


def batch_stats(url: str, model: str = "model") -> dict:
    return httpx.get(url + "healthz").json()["models"][model]


def check_innocent(responses: list[httpx.Response], expected: np.ndarray, labels: list[str]) -> None:
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * len(responses), [(r.status_code, r.text[:200]) for r in responses if r.status_code != 200][:3]
    for i, response in enumerate(responses):
        got = [response.json()["predictions"][0]["scores"][label] for label in labels]
        assert np.abs(np.array(got) - expected[i % len(expected)]).max() <= 1e-6


BAD_VALUES = {  # the probe's three, and their relatives
    "lone surrogate": ({"Home": "\ud800"}, "rows[0].Home is not valid Unicode text"),
    "surrogate inside": ({"Home": "own\udfffer"}, "rows[0].Home is not valid Unicode text"),
    "1e300": ({"Income": 1e300}, "rows[0].Income is 1e+300, beyond the model's float32 range"),
    "400 digits": ({"Age": 10**400}, "rows[0].Age is an integer of about 401 digits, beyond the model's float32 range"),
    "NaN": ({"Income": math.nan}, "rows[0].Income must be a finite number or null"),
    "-Infinity": ({"Age": -math.inf}, "rows[0].Age must be a finite number or null"),
    "yes-no of 400 digits": ({"Records": 10**400}, "rows[0].Records must be true, false, 0, 1 or null"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_a_bad_row_fails_only_its_own_request(api_url, model, innocent, case):
    change, says = BAD_VALUES[case]
    rows, expected = innocent
    guilty = body({"rows": [{**rows[0], **change}]})
    bodies = [body({"rows": [rows[i % len(rows)]]}) for i in range(200)]
    for at in range(0, 200, 20):  # ten copies of the bad request spread among 200 innocent ones
        bodies.insert(at, guilty)
    before = batch_stats(api_url)
    responses = run_in_own_loop(post_all(api_url, bodies))
    bad = [r for b, r in zip(bodies, responses) if b == guilty]
    assert {r.status_code for r in bad} == {422}, bad[0].text
    assert all(says in r.json()["detail"] for r in bad), bad[0].text
    check_innocent([r for b, r in zip(bodies, responses) if b != guilty], expected, Classifier(model).labels)
    assert batch_stats(api_url)["largest_batch"] > 1 and batch_stats(api_url)["batches"] - before["batches"] < 200  # batched


def test_a_batch_that_fails_anyway_is_rerun_one_request_at_a_time(model, innocent):
    """Should a batch fail despite the checks (a graph that fails on one row), its requests run
    alone: the one at fault gets a 422, the others their answers."""
    rows, expected = innocent

    class FailsOnOneRow(TabularClassifier):
        def predict(self, items: list) -> list[dict]:
            if any(row.get("Home") == "explodes" for row in items):
                raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : a node failed")
            return super().predict(items)

    batcher = Batcher(FailsOnOneRow(model, read_model(model), spin=False), BatchSettings(max_texts=32, max_wait_ms=50))
    jobs = [[rows[i]] for i in range(10)] + [[{**rows[0], "Home": "explodes"}]] + [[rows[i]] for i in range(10, 20)]

    async def together() -> list:
        return await asyncio.gather(*(batcher.predict(job) for job in jobs), return_exceptions=True)

    outcomes = run_in_own_loop(together())
    failed = [o for o in outcomes if isinstance(o, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], ApiError) and failed[0].status == 422, failed
    assert "cannot score this input (RuntimeError" in failed[0].detail
    answered = [o for o in outcomes if not isinstance(o, Exception)]
    got = np.array([[o[0]["scores"][label] for label in batcher.classifier.labels] for o in answered])
    assert np.abs(got - expected).max() <= 1e-6
    assert batcher.stats.requests == 20


def overflowing_model(root: Path) -> Path:
    """A tabular graph whose answer for two large numbers within float32's range is NaN:
    P(yes) = sigmoid(10·x − 10·y), and 10 × 3e38 overflows to infinity, ∞ − ∞ = NaN."""
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", 1]) for name in ("x", "y")]
    output = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])
    consts = [numpy_helper.from_array(np.array(v, dtype=np.float32), k) for k, v in {"ten": 10.0, "one": 1.0}.items()]
    nodes = [helper.make_node("Mul", ["x", "ten"], ["tx"]), helper.make_node("Mul", ["y", "ten"], ["ty"]),
             helper.make_node("Sub", ["tx", "ty"], ["d"]), helper.make_node("Sigmoid", ["d"], ["p"]),
             helper.make_node("Sub", ["one", "p"], ["q"]), helper.make_node("Concat", ["q", "p"], ["probabilities"], axis=1)]
    graph = helper.make_model(helper.make_graph(nodes, "overflow", inputs, [output], consts), opset_imports=[helper.make_opsetid("", 17)])
    graph.ir_version = 8
    onnx.save(graph, str(root / "overflow.onnx"))
    features = [{"name": name, "type": "number", "optional": False, "typical": 1} for name in ("x", "y")]
    (root / "features.json").write_text(json.dumps(features))
    out = root / "overflow"
    assert cli.main(["import", str(root / "overflow.onnx"), "--features", str(root / "features.json"),
                     "--labels", "no,yes", "--out", str(out)]) == 0
    return out


def test_probabilities_that_are_not_numbers_are_a_4xx_for_that_request_only(tmp_path):
    model_dir = overflowing_model(tmp_path)
    innocent = [{"x": float(i), "y": 1.0} for i in range(8)]
    expected = Classifier(model_dir).probabilities(innocent)
    guilty = body({"rows": [{"x": 1.0, "y": 2.0}, {"x": 3e38, "y": 3e38}]})
    bodies = [body({"rows": [innocent[i % 8]]}) for i in range(100)]
    for at in range(0, 100, 10):
        bodies.insert(at, guilty)
    with api_server(model_dir) as url:
        responses = run_in_own_loop(post_all(url, bodies))
        assert batch_stats(url, "overflow")["largest_batch"] > 2
    bad = [r for b, r in zip(bodies, responses) if b == guilty]
    assert {r.status_code for r in bad} == {422}, bad[0].text
    assert "rows[1]: the model's probabilities for it are not numbers (NaN)" in bad[0].json()["detail"]
    check_innocent([r for b, r in zip(bodies, responses) if b != guilty], expected, ["no", "yes"])


def test_quoted_input_with_a_lone_surrogate_is_still_a_4xx(api_url, innocent):
    """Error messages quote the request (an unknown column, a model name): a surrogate there must not make the answer a 500."""
    row = innocent[0][0]
    unknown_column = httpx.post(api_url + "v1/predict", content=body({"rows": [{**row, "\ud800x": 1}]}),
                                headers={"content-type": "application/json"})
    unknown_model = httpx.post(api_url + "v1/predict", content=body({"rows": [row], "model": "m\udfff"}),
                               headers={"content-type": "application/json"})
    assert unknown_column.status_code == 422 and "rows[0].\\ud800x is not a feature" in unknown_column.json()["detail"]
    assert unknown_model.status_code == 404 and "unknown model 'm\\udfff'" in unknown_model.json()["detail"]


def test_an_integer_too_long_to_parse_is_a_400(api_url):
    response = httpx.post(api_url + "v1/predict", content=b'{"rows": [{"Income": ' + b"9" * 5000 + b"}]}",
                          headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text


# ---- random rows (hypothesis) ----

ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=12)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**600, max_value=10**600),
                         st.floats(allow_nan=True, allow_infinity=True), ANY_TEXT)
ANY_JSON = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                        max_leaves=6)
PLAUSIBLE = {  # values of the right kind, often at the edges, so that rows get past the checks
    "Income": st.one_of(st.floats(-4e38, 4e38), st.integers(-10**40, 10**40), st.sampled_from([0, 1e38, -3.4e38, 3.4e38])),
    "Age": st.one_of(st.floats(allow_nan=False, width=32), st.integers(-(2**64), 2**64)),
    "Records": st.sampled_from([True, False, 0, 1, 0.0, 1.0, None]),
    "Home": st.one_of(st.sampled_from(["owner", "rent", "parents", "", "castle"]), ANY_TEXT),
}


def rarely(one_in: int) -> st.SearchStrategy[bool]:
    return st.sampled_from([False] * (one_in - 1) + [True])  # integers() would favour the bounds


@st.composite
def random_rows(draw) -> list[dict]:
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        row = {name: draw(ANY_JSON if draw(rarely(12)) else PLAUSIBLE[name]) for name in FEATURES}
        if draw(rarely(20)):
            row.pop(draw(st.sampled_from(FEATURES)))
        if draw(rarely(20)):
            row[draw(ANY_TEXT)] = draw(ANY_JSON)
        rows.append(row)
    return rows


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=random_rows())
def test_random_rows_get_a_4xx_or_a_200_and_never_fail_innocent_requests(api_url, model, innocent, rows):
    good, expected = innocent
    guilty = body({"rows": rows})
    bodies = [guilty] + [body({"rows": [good[i]]}) for i in range(8)]
    responses = run_in_own_loop(post_all(api_url, bodies))
    answer = responses[0]
    event(f"{answer.status_code} {answer.json().get('detail', '')[:60]}")  # pytest --hypothesis-show-statistics
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.status_code == 200:
        for prediction in answer.json()["predictions"]:
            assert all(0 <= p <= 1 for p in prediction["scores"].values())
    else:
        assert answer.json()["detail"]
    check_innocent(responses[1:], expected, Classifier(model).labels)


# ---- the text API ----

@pytest.mark.slow
def test_a_lone_surrogate_in_a_text_fails_only_its_own_request(tiny_model):
    texts = ["what a lovely day", "this is the worst", "fine I guess", "never again"]
    expected = Classifier(tiny_model).probabilities(texts)
    guilty = body({"texts": ["ok \ud800 then"]})
    bodies = [body({"texts": [texts[i % len(texts)]]}) for i in range(100)]
    for at in range(0, 100, 10):
        bodies.insert(at, guilty)
    with api_server(tiny_model) as url:
        responses = run_in_own_loop(post_all(url, bodies))
    bad = [r for b, r in zip(bodies, responses) if b == guilty]
    assert {r.status_code for r in bad} == {422} and "texts[0] is not valid Unicode text" in bad[0].json()["detail"]
    check_innocent([r for b, r in zip(bodies, responses) if b != guilty], expected, Classifier(tiny_model).labels)
