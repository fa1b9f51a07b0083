"""Strings from a site's author (site title, model names, labels, examples) reach the page as text,
never as markup, in Chromium itself; the element's example page keeps a hostile model name a URL."""

from __future__ import annotations

import csv
import json
import time

import pytest

from page_tools import copy_site, default_model, drop_compressed_copies, open_unready
from staticml import hosting
from staticml.browser import open_page, served

pytestmark = pytest.mark.browser

MARKUP = '<img id="injected" src="x"><b id="injected2">'
TITLE = "Reviews " + MARKUP
NAME = "m " + MARKUP
LABELS = ["neg " + MARKUP, "=HYPERLINK(\"https://elsewhere.example/\", \"pos\")"]
EXAMPLE = "An example " + MARKUP


@pytest.fixture(scope="module")
def hostile_site(site, tmp_path_factory):
    copy = copy_site(site, tmp_path_factory.mktemp("hostile") / "site")
    config = json.loads((copy / "site.json").read_text())
    config["title"] = TITLE
    # A second entry (same folder) so that the model picker is shown with the hostile name.
    config["models"].append({"name": NAME, "path": config["models"][0]["path"]})
    (copy / "site.json").write_text(json.dumps(config))
    folder, manifest = default_model(copy)
    manifest.update(name=NAME, labels=LABELS, examples=[EXAMPLE])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for path in (copy / "site.json", folder / "manifest.json"):
        drop_compressed_copies(path)
    return copy


def test_titles_names_labels_and_examples_are_shown_as_text(browser, hostile_site):
    with served(hostile_site) as url:
        context, page, _ = open_page(browser, url)
        try:
            page.click("#examples button")
            page.wait_for_selector("#bars .bar-name")
            shown = page.evaluate("""() => ({
                injected: document.querySelectorAll('#injected, #injected2, img[src="x"]').length,
                title: document.getElementById('title').textContent,
                documentTitle: document.title,
                model: document.getElementById('d-model').textContent,
                options: [...document.querySelectorAll('#model-select option')].map((o) => o.textContent),
                example: document.querySelector('#examples button').textContent,
                bars: [...document.querySelectorAll('#bars .bar-name')].map((b) => b.textContent),
            })""")
            page.set_input_files("#file-input", files=[{"name": "t.txt", "mimeType": "text/plain",
                                                        "buffer": b"I love it\nworst day ever\n"}])
            page.wait_for_function("() => !document.querySelector('#file-score').disabled")
            page.click("#file-score")
            page.wait_for_selector("#file-results:not([hidden])", timeout=60_000)
            with page.expect_download() as download:
                page.click("#file-download")
            with open(download.value.path(), encoding="utf-8", newline="") as file:
                table = list(csv.DictReader(file))
            cells = page.locator("#file-body td:nth-child(3)").all_inner_texts()
        finally:
            context.close()
    assert shown["injected"] == 0
    assert shown["title"] == TITLE and shown["documentTitle"].startswith(TITLE)
    assert shown["model"] == NAME and NAME in shown["options"]
    assert shown["example"] == EXAMPLE
    assert shown["bars"] == LABELS
    assert set(cells) <= set(LABELS)
    # In the download the formula-like label gets OWASP's leading ', the other one is as it is.
    assert {row["label"] for row in table} <= {LABELS[0], "'" + LABELS[1]}
    with_set = {"set"} if "conformal" in default_model(hostile_site)[1] else set()
    assert set(table[0]) == {"text", "label", *with_set, *(f"p_{label}" for label in LABELS)}  # the .txt file's one column kept


def test_the_embed_page_of_a_hostile_model_name_redirects_nowhere(browser, site, tmp_path):
    copy = copy_site(site, tmp_path / "site")
    hostile = "models/<meta http-equiv=refresh content=0;url=about:blank>/"
    drop_compressed_copies(copy / hosting.EMBED_PAGE)
    hosting.point_embed_page_at(copy, hostile)  # the built page still holds the default model's path
    with served(copy) as url:
        context, page, _ = open_unready(browser, url + "embed.html", loaded="() => document.readyState === 'complete'")
        try:
            time.sleep(1.5)  # a refresh with delay 0 would have left by now
            assert page.url == url + "embed.html"
            found = page.evaluate("""() => ({
                refresh: document.querySelectorAll('meta[http-equiv="refresh" i]').length,
                model: document.getElementById('widget').getAttribute('model'),
                code: document.querySelector('pre code').textContent,
            })""")
        finally:
            context.close()
    assert found["refresh"] == 0
    assert found["model"] == "models/%3Cmeta%20http-equiv%3Drefresh%20content%3D0%3Burl%3Dabout%3Ablank%3E/"
    assert found["model"] in found["code"]
