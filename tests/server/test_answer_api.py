"""Issue 27: `POST /v1/answer` on a real `staticml api` process with the tiny random QA model: the same
answers as Python's runner (one pair, several pairs, passages longer than one window), bad input refused
with a 4xx that says what to change (never a 5xx), one bad request never failing another, the route in
/openapi.json, and a QA model beside a classifier each on its own route."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from qa_models import qa_model_fixture  # noqa: F401 (a fixture)

from staticml.ports import free_port
from staticml.tasks import question_answering as qa
from staticml.tasks.question_answering.windows import MAX_CONTEXT_CHARS

# Two real `staticml api` processes and the tiny QA model imported first: over 20 s in all.
pytestmark = pytest.mark.slow

SENTENCE = "The river Elbe flows from the Czech mountains through Dresden and Hamburg into the North Sea. "
LONG = SENTENCE * 40 + "The bridge was built in 1871 by the engineer Anna Weber. " + SENTENCE * 20
PAIRS = [qa.SAMPLE,
         {"question": "Who built the bridge?", "context": LONG},
         {"question": "Où est la tour?", "context": "La tour Eiffel est à Paris, près de la Seine. 東京タワーは東京にあります。"}]


@contextlib.contextmanager
def staticml_api(*models: Path, options: tuple[str, ...] = ()) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "staticml", "api", *map(str, models), "--port", str(port), *options],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while not ready(url):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "staticml api did not start"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def ready(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(url + "healthz", timeout=2).status_code == 200
    return False


def answer(url: str, body: object) -> httpx.Response:
    return httpx.post(url + "v1/answer", json=body, timeout=60)


@pytest.fixture(scope="module")
def qa_url(qa_model_dir) -> Iterator[str]:
    with staticml_api(qa_model_dir) as url:
        yield url


@pytest.fixture(scope="module")
def answerer(qa_model_dir):
    return qa.open_model(qa_model_dir)


def same_answer(got: dict, expected: dict) -> None:
    assert (got["answer"], got["start"], got["end"], got["no_answer"]) == (
        expected["answer"], expected["start"], expected["end"], expected["no_answer"])
    assert got["score"] == pytest.approx(expected["score"], rel=1e-9, abs=1e-12)
    assert [(a["answer"], a["start"], a["end"]) for a in got["alternatives"]] == [
        (a["answer"], a["start"], a["end"]) for a in expected["alternatives"]]


def test_one_pair_and_several_pairs_give_python_runners_answers(qa_url, answerer):
    assert len(answerer.windows(PAIRS[1]["question"], PAIRS[1]["context"])) > 3  # the long passage spans several windows
    for pair in PAIRS:
        response = answer(qa_url, pair)
        assert response.status_code == 200, response.text
        got = response.json()
        same_answer(got, answerer.answer(pair["question"], pair["context"]))
        assert got["answer"] == pair["context"][got["start"]:got["end"]] and got["answer"]
    response = answer(qa_url, {"pairs": PAIRS, "model": "tiny-qa"})
    assert response.status_code == 200, response.text
    for got, pair in zip(response.json()["answers"], PAIRS, strict=True):
        same_answer(got, answerer.answer(pair["question"], pair["context"]))


@pytest.mark.parametrize("body, status, says", [
    ({"question": "", "context": "text"}, 422, "question"),
    ({"question": "   ", "context": "text"}, 422, "question is empty"),
    ({"question": "what?", "context": " \n "}, 422, "context is empty"),
    ({"question": "what?", "context": "x" * (MAX_CONTEXT_CHARS + 1)}, 422, f"more than {MAX_CONTEXT_CHARS} characters"),
    ({"question": "what?", "context": "word " * 200_000}, 422, f"more than {MAX_CONTEXT_CHARS} characters"),  # a megabyte
    ({"question": "what? " * 100, "context": "text"}, 422, "tokens"),
    ({"question": "what?"}, 422, '"context"'),
    ({"question": "what?", "context": "text", "pairs": [qa.SAMPLE]}, 422, 'send either "question" and "context" or "pairs", not both'),
    ({"pairs": []}, 422, "pairs"),
    ({"pairs": [qa.SAMPLE] * (qa.MAX_PAIRS + 1)}, 422, "pairs"),
    ({"pairs": [qa.SAMPLE, {"question": "why?", "context": "  "}]}, 422, "pairs[1]: context is empty"),
    ({"question": 3, "context": "text"}, 422, "question must be a string"),
    ({**qa.SAMPLE, "model": "nope"}, 404, "unknown model 'nope'"),
    ([1, 2], 422, "JSON object"),
    ({**qa.SAMPLE, "texts": ["a"]}, 422, "texts is not a field of POST /v1/answer's body"),
    ({"pairs": [{**qa.SAMPLE, "answer": "x"}]}, 422, "pairs.0.answer is not a field"),
])
def test_bad_input_is_a_4xx_that_says_what_to_change(qa_url, body, status, says):
    response = answer(qa_url, body)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]


def test_a_body_that_is_not_json_is_refused(qa_url):
    response = httpx.post(qa_url + "v1/answer", content=b"{not json", headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 400 and "not valid JSON" in response.json()["detail"]
    response = httpx.post(qa_url + "v1/answer", content=b"question", headers={"content-type": "text/plain"}, timeout=30)
    assert response.status_code == 415


def test_bad_requests_at_the_same_time_never_fail_good_ones(qa_url, answerer):
    bad = {"question": "what? " * 100, "context": LONG}
    bodies = [PAIRS[i % 3] if i % 2 else bad for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda body: answer(qa_url, body), bodies))
    for body, response in zip(bodies, responses):
        if body is bad:
            assert response.status_code == 422, response.text
        else:
            assert response.status_code == 200, response.text
            same_answer(response.json(), answerer.answer(body["question"], body["context"]))


def test_openapi_documents_the_answer_route(qa_url):
    document = httpx.get(qa_url + "openapi.json", timeout=10).json()
    assert "/v1/answer" in document["paths"] and "/v1/predict" not in document["paths"]  # no model here is served by /v1/predict
    route = document["paths"]["/v1/answer"]["post"]
    assert "overlapping windows" in route["description"]
    schema = document["components"]["schemas"]["AnswerRequest"]
    assert {"question", "context", "pairs", "model"} <= set(schema["properties"])
    models = httpx.get(qa_url + "v1/models", timeout=10).json()["models"]
    assert [(m["name"], m["task"], m["input"]) for m in models] == [("tiny-qa", "question-answering", "/v1/answer")]


def test_a_classifier_and_a_qa_model_each_on_their_own_route(qa_model_dir, tiny_model, answerer):
    with staticml_api(tiny_model, qa_model_dir) as url:
        texts = httpx.post(url + "v1/predict", json={"texts": ["I love this"]}, timeout=30)
        assert texts.status_code == 200 and texts.json()["predictions"][0]["label"]
        got = answer(url, qa.SAMPLE)  # no "model": the first model that answers questions
        assert got.status_code == 200, got.text
        same_answer(got.json(), answerer.answer(qa.SAMPLE["question"], qa.SAMPLE["context"]))
        wrong = httpx.post(url + "v1/predict", json={"texts": ["hi"], "model": "tiny-qa"}, timeout=30)
        assert wrong.status_code == 422 and "POST /v1/answer" in wrong.json()["detail"]
        classifier = httpx.get(url + "v1/models", timeout=10).json()["models"][0]["name"]
        wrong = answer(url, {**qa.SAMPLE, "model": classifier})
        assert wrong.status_code == 422 and "tiny-qa" in wrong.json()["detail"]
        paths = httpx.get(url + "openapi.json", timeout=10).json()["paths"]
        assert {"/v1/predict", "/v1/answer"} <= set(paths)


def test_a_short_question_is_not_queued_behind_a_long_passage(qa_model_dir):
    """Requests to one QA model run side by side (one worker process, so both reach the same model): a short one
    sent while three passages of 150,000 characters (thousands of windows each) are being read comes back first."""
    long_body = {"pairs": [{"question": "Who built the bridge?", "context": (SENTENCE * 1600)[:150_000]}] * 3}
    with staticml_api(qa_model_dir, options=("--workers", "1")) as url, ThreadPoolExecutor(1) as pool:
        began = time.monotonic()
        slow = pool.submit(lambda: (httpx.post(url + "v1/answer", json=long_body, timeout=600), time.monotonic()))
        time.sleep(1.0)  # the long request is being read
        short, short_done = answer(url, qa.SAMPLE), time.monotonic()
        long_response, long_done = slow.result()
    assert short.status_code == 200 and long_response.status_code == 200, (short.text, long_response.text[:200])
    assert len(long_response.json()["answers"]) == 3 and long_done - began > 2, "the long request is too quick to show anything"
    assert short_done < long_done - 0.5, (short_done - began, long_done - began)
