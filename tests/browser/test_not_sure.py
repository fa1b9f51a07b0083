"""Issue 16, then issue 28 item 3: what the page's result says when the model is unsure.

A model with prediction sets (manifest "conformal"): one label as it is, two as "positive or
neutral", all as "not sure". A model trained before sets (manifest "uncertain_below" only): "not
sure (leans X)" below that threshold, as before."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from staticml import Classifier
from staticml.browser import open_page, served, wait_until
from staticml.site import build
from staticml.site_config import model_dirs, read_site
from staticml.train import TrainConfig, data, train

pytestmark = pytest.mark.browser


def quiet(_line: str) -> None:
    pass


def held_out(keep_labels: list[str] | None = None, count: int = 400) -> list[str]:
    return data.split(data.load_default(keep_labels=keep_labels)).test[0][:count]


def shown(page, text: str, label_is: str) -> tuple[str, str]:
    page.fill("#text", text)  # fires "input", as typing does
    try:
        wait_until(page, f"document.querySelector('#label').textContent === {label_is!r}", 10_000)
    except TimeoutError:
        pass  # the assertion shows what the page says instead
    return page.locator("#label").inner_text().strip(), page.locator("#score").inner_text().strip()


def first_with_set_size(classifier: Classifier, texts: list[str], size: int) -> tuple[str, list[str]]:
    for text, prediction in zip(texts, classifier.predict(texts)):
        if len(prediction["set"]) == size:
            return text, prediction["set"]
    raise AssertionError(f"no held-out text with a set of {size} labels")


def test_a_binary_model_says_not_sure_when_its_set_holds_both_labels(browser, site, site_url):
    classifier = Classifier(model_dirs(site, read_site(site))["sentiment"])
    assert 0 < classifier.manifest["conformal"]["threshold"] < 0.5  # a set holds both labels near a tie
    texts = held_out(["negative", "positive"])
    unsure, _ = first_with_set_size(classifier, texts, 2)
    sure, (sure_label,) = first_with_set_size(classifier, texts, 1)
    context, page, _ = open_page(browser, site_url)
    try:
        label, score = shown(page, unsure, "not sure")
        assert label == "not sure" and "the model is not sure" in score and "90% of the time" in score, (label, score)
        page.screenshot(path=str(site.parent / "not_sure.png"))
        label, score = shown(page, sure, sure_label)
        assert label == sure_label and "not sure" not in score, (label, score)
    finally:
        context.close()


@pytest.fixture(scope="module")
def three_label_site(tmp_path_factory):
    """A 3-label model on a slice of the corpus (enough rows for a calibration split), built and served."""
    full = data.load_default()
    texts, labels, seen = [], [], {}
    for text, label in zip(full.texts, full.labels):
        if seen.get(label, 0) < 1500:
            seen[label] = seen.get(label, 0) + 1
            texts.append(text)
            labels.append(label)
    work = tmp_path_factory.mktemp("three")
    train(data.Dataset(texts, labels, source="corpus slice"), work / "mood", TrainConfig(name="mood", epochs=2), quiet)
    build([work / "mood"], work / "site", report=quiet)
    with served(work / "site") as url:
        yield work / "mood", url


@pytest.mark.slow
def test_a_three_label_model_names_both_labels_of_a_two_label_set(browser, three_label_site):
    model_dir, url = three_label_site
    classifier = Classifier(model_dir)
    texts = held_out()
    two, members = first_with_set_size(classifier, texts, 2)
    context, page, _ = open_page(browser, url)
    try:
        in_page = page.evaluate("texts => window.staticml.predict(texts)", [two])[0]
        assert in_page["set"] == members, (in_page, members)
        label, score = shown(page, two, f"{members[0]} or {members[1]}")
        assert label == f"{members[0]} or {members[1]}", (label, score)
        assert f"cannot choose between {members[0]} and {members[1]}" in score, score
    finally:
        context.close()


@pytest.mark.slow
def test_a_model_without_sets_keeps_the_old_not_sure_threshold(browser, tiny_model, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(tiny_model, old)
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["conformal"]
    manifest["uncertain_below"] = 0.75
    (old / "manifest.json").write_text(json.dumps(manifest))
    classifier = Classifier(old)
    texts = held_out(["negative", "positive"])
    top = classifier.probabilities(texts).max(-1)
    assert "set" not in classifier.predict(texts[:1])[0]
    tie = texts[int(np.argmin(top))]
    build([old], tmp_path / "site", report=quiet)
    with served(tmp_path / "site") as url:
        context, page, _ = open_page(browser, url)
        try:
            page.fill("#text", tie)
            wait_until(page, "document.querySelector('#label').textContent.startsWith('not sure (leans ')", 10_000)
            assert "the model is not sure" in page.locator("#score").inner_text()
        finally:
            context.close()
