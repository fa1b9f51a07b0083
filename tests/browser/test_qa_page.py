"""The question-answering page in headless Chromium (issue 27 items 3, 4 and 6): the same windows,
logits and answers as Python on more than 100 question/passage pairs (passages longer than one
window among them), the page's refusals, and `verify` on a question-answering site."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from qa_models import qa_model_fixture  # noqa: F401 (a fixture)

from staticml import tasks
from staticml.browser import open_page, served
from staticml.hard_texts import hard_texts
from staticml.site import build
from staticml.tasks.question_answering.verify import page_parity

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTIONS = ["Where does the river flow?", "Who built the bridge?", "When was it finished?", "How long is it?",
             "What is the café called?", "Which town is the largest?", "Why did they stop?"]


def parity_pairs(count: int = 110) -> list[tuple[str, str]]:
    """Plain English passages of growing length (up to several windows of the tiny model's 64 tokens) and hard strings."""
    hard = [t for t in hard_texts(200) if t.strip()]
    pairs = []
    for i in range(count):
        sentences = [f"In {1800 + 7 * k} the bridge number {k} over the river near town {k % 5} was finished by engineer {k}."
                     for k in range(i % 12 + 1)]
        passage = " ".join(sentences[:i % 12 + 1] + hard[i % len(hard):i % len(hard) + i % 3])
        pairs.append((QUESTIONS[i % len(QUESTIONS)], passage))
    return pairs


@pytest.fixture(scope="module")
def qa_site(qa_model_dir, tmp_path_factory):
    site = tmp_path_factory.mktemp("qa-site") / "site"
    build([qa_model_dir], site, report=lambda line: None)
    return site


@pytest.fixture(scope="module")
def qa_page(qa_site, browser):
    with served(qa_site) as url:
        context, page, requests = open_page(browser, url)
        yield page, requests
        context.close()


def test_page_matches_python_on_110_pairs(qa_page, qa_model_dir):
    page, _ = qa_page
    pairs = parity_pairs()
    result = page_parity(page, tasks.open_model(qa_model_dir, "fp32"), pairs)
    assert result.pairs == 110 and result.windows > 250, result.summary()  # many passages span several windows
    assert result.ids_differ == 0, result.examples
    assert result.max_abs_diff_logit <= 1e-4, result.summary()
    assert result.decided >= 100 and result.same_answer == result.decided, result.summary()


def test_answer_is_characters_of_the_passage_and_makes_no_request(qa_page):
    page, requests = qa_page
    before = len(requests)
    context = "Ünïcode first. " + " ".join(f"Bridge {k} spans the river at town {k}." for k in range(30))
    result = page.evaluate("([q, c]) => window.staticml.answer(q, c)", ["Which bridge?", context])
    assert context[result["start"]:result["end"]] == result["answer"] != ""
    assert 0 < result["score"] <= 1 and len(result["alternatives"]) == 3
    info = page.evaluate("window.staticml.info()")
    assert info["model"] == "tiny-qa" and info["backend"] == "wasm" and info["bytes_downloaded"] > 0
    assert requests[before:] == []


@pytest.mark.parametrize("question, context, says", [
    ("", "a passage", "question is empty"),
    ("why?", " ", "context is empty"),
    ("why?", "x" * 200_001, "the limit is 200,000"),
    ("why?", "word " * 200_000, "the limit is 200,000"),  # a megabyte
])
def test_page_refuses_empty_or_huge_inputs(qa_page, question, context, says):
    page, _ = qa_page
    message = page.evaluate("([q, c]) => window.staticml.answer(q, c).then(() => 'answered', (e) => e.message)", [question, context])
    assert says in message


def test_the_form_shows_the_answer_highlighted(qa_page):
    page, _ = qa_page
    page.fill("#passage", "The bridge over the river was finished in 1889 by the town's engineer.")
    page.fill("#question", "When was the bridge finished?")
    page.click("#ask")
    page.wait_for_selector("#answer:not([hidden])")
    shown = page.inner_text("#answer-text")
    assert shown == "No answer found" or shown == page.inner_text("#highlighted mark")
    assert page.locator("#alternatives li").count() == 3


def test_verify_passes_on_a_qa_site(qa_site):
    """`staticml verify` in its own process (its own Playwright and server), as a user's CI job runs it."""
    report = qa_site.parent / "verify.json"
    done = subprocess.run([sys.executable, "-m", "staticml", "verify", str(qa_site), "--json", str(report)],
                          capture_output=True, text=True, timeout=900)
    statuses = {c["name"]: c["status"] for c in json.loads(report.read_text())["checks"]}
    assert done.returncode == 0 and "FAIL" not in statuses.values(), statuses
    assert statuses["tiny-qa/fp32: page vs Python"] == statuses["offline"] == "PASS", statuses


def test_bench_reports_first_visit_ready_and_latency_in_page_and_native(qa_site, tmp_path):
    """`staticml bench` on a QA site (issue 27): first-visit bytes, time to ready, page and native latency for
    one question on a passage filling one window and on about 2,000 words (many windows)."""
    def bench(*options) -> subprocess.CompletedProcess:  # its own process: this one's Playwright already runs the browser fixture
        return subprocess.run([sys.executable, "-m", "staticml", "bench", str(qa_site), *map(str, options)],
                              capture_output=True, text=True, timeout=900)

    done = bench("--out", tmp_path / "bench", "--quick", "--variants")
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "bench" / "report.json").read_text())
    assert [r["variant"] for r in report["results"]] == list(tasks.read_model(qa_site / "models" / "tiny-qa")["variants"])
    for qa in report["results"]:
        assert qa["model"] == "tiny-qa" and qa["first_visit"]["brotli_bytes"] > 0 and qa["first_visit"]["ready_ms"] > 0
        for where in ("page", "native"):
            window, long = qa[where]["window"], qa[where]["long"]
            assert window["windows"] == 1 and window["tokens_per_window"] > qa["max_length"] - 8, window
            assert 1900 <= long["words"] <= 2000 and long["windows"] > 10, long
            assert window["median_ms"] > 0 and long["median_ms"] > 0
    assert (tmp_path / "bench" / "report.md").read_text().count("a long passage") == len(report["results"])
    refused = bench("--out", tmp_path / "other", "--models", "nope")
    assert refused.returncode == 2 and "no model named nope" in refused.stderr.strip().splitlines()[-1]


FAMILIES = ("roberta", "distilbert")


@pytest.fixture(scope="module")
def other_families_site(tmp_path_factory):
    """Tiny random RoBERTa (byte-level BPE, no token types) and DistilBERT (WordPiece, no token types) QA models, imported, one site."""
    from qa_models import save_tiny_qa

    from staticml.train.importer import import_model

    root = tmp_path_factory.mktemp("qa-families")
    for family in FAMILIES:
        import_model(save_tiny_qa(root / f"hf-{family}", family), root / family, name=f"tiny-{family}-qa", report=lambda line: None)
    build([root / family for family in FAMILIES], root / "site", report=lambda line: None)
    return root


@pytest.mark.parametrize("family", FAMILIES)
def test_page_matches_python_for_roberta_and_distilbert(other_families_site, browser, family):
    """The page's windows for a byte-level BPE tokenizer (offsets from the byte-to-unicode table) and a graph without
    token_type_ids: the same window ids, logits and answers as Python."""
    manifest = tasks.read_model(other_families_site / family)
    with served(other_families_site / "site") as url:
        context, page, _ = open_page(browser, f"{url}?model=tiny-{family}-qa")
        try:
            assert page.evaluate("window.staticml.info()")["model"] == f"tiny-{family}-qa"
            result = page_parity(page, tasks.open_model(other_families_site / family, "fp32"), parity_pairs(60))
        finally:
            context.close()
    if family == "roberta":
        assert manifest["pair"] == {"prefix": [0], "middle": [2, 2], "suffix": [2]}  # <s> question </s></s> passage </s>
    assert result.pairs == 60 and result.windows > 120, result.summary()
    assert result.ids_differ == 0, result.examples
    assert result.max_abs_diff_logit <= 1e-4, result.summary()
    assert result.decided >= 50 and result.same_answer == result.decided, result.summary()
