"""The page of a tabular model in real Chromium: the form, predict(rows), file scoring and verify,
each held to Python onnxruntime on the same graph (staticml.tasks.tabular.features.feeds)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from staticml import manifest as manifest_io
from staticml.tasks.tabular import features as tabular, rows as tabular_page
from staticml.tasks.tabular.runner import FIELDS
from staticml.browser import open_page, served, wait_until
from staticml.site import build
from tabular_probe import make_model_folder

pytestmark = pytest.mark.browser

FORM_TOLERANCE = 1e-5
LABELS = ["bad", "good"]


def quiet(_line: str) -> None:
    pass


# What `--feature-info` and `--positive-label` would write (issue 25 item 1): Seniority with a display
# name and unit, Income with a help line; "good" named as the favourable outcome.
DESCRIBED = {"Seniority": {"label": "Years with employer", "unit": "years"}, "Income": {"help": "Monthly, before tax."}}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = make_model_folder(tmp_path_factory.mktemp("tabular") / "eligibility-probe")
    manifest = manifest_io.read(folder)
    manifest["features"] = [{**f, **DESCRIBED.get(f["name"], {})} for f in manifest["features"]]
    manifest_io.write(folder, {**manifest, "positive_label": "good"}, FIELDS)
    return folder


@pytest.fixture(scope="module")
def site(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("tabular-sites") / "site"
    build([model], out, report=quiet)
    return out


@pytest.fixture(scope="module")
def url(site):
    with served(site) as base:
        yield base


@pytest.fixture
def page(browser, url):
    context, page, requests = open_page(browser, url)
    page.requests = requests
    yield page
    context.close()


def python_probabilities(model, rows) -> np.ndarray:
    return tabular_page.native_probabilities(model, manifest_io.read(model), "fp32", rows)


def typical(model) -> dict:
    return tabular.typical_row(manifest_io.read(model)["features"])


def form_probability(page) -> float:
    wait_until(page, "document.querySelector('.tabular-form').dataset.pending === '0'")
    return float(page.get_attribute("#tab-probability", "data-probability"))


def test_the_form_filled_in_gives_the_python_probability(page, model):
    assert page.locator("section.classify").is_hidden()
    page.get_by_label("Years with employer (years)", exact=True).fill("12")
    page.get_by_label("Home <type>", exact=True).select_option("rent")  # the name is text, not markup
    page.get_by_label("Income", exact=True).fill("300")
    page.get_by_label("Records", exact=True).check()
    row = {"Seniority": 12, "Home <type>": "rent", "Income": 300, "Records": True}
    expected = python_probabilities(model, [row])[0][LABELS.index("good")]
    assert abs(form_probability(page) - expected) <= FORM_TOLERANCE
    assert "“good”" in page.text_content("#tab-sentence")
    moves = page.locator("#tab-moves li").all_text_contents()
    shown = ["Years with employer", "Home <type>", "Income", "Records"]  # each input by its display name
    assert moves and all(any(m.startswith(name) for name in shown) for m in moves), moves
    assert any("Records" in m for m in moves)  # a record moves a credit score


def test_an_optional_field_left_empty_and_a_required_one(page, model):
    page.locator('[data-skip="Seniority"]').check()
    assert page.get_by_label("Years with employer (years)", exact=True).is_disabled()
    row = {**typical(model), "Seniority": None}
    assert abs(form_probability(page) - python_probabilities(model, [row])[0][1]) <= FORM_TOLERANCE
    page.get_by_label("Income", exact=True).fill("")
    wait_until(page, "!document.getElementById('tab-problem').hidden")
    assert "Income" in page.text_content("#tab-problem")


def test_page_vs_python_on_every_test_row_and_the_edge_rows(page, model):
    manifest = manifest_io.read(model)
    rows = tabular_page.test_rows(model, manifest) + tabular_page.edge_rows(manifest["features"])
    assert len(rows) > 100
    in_page = tabular_page.page_probabilities(page, rows, LABELS)
    diff = np.abs(in_page - python_probabilities(model, rows)).max()
    print(f"page vs Python onnxruntime: max |Δp| {diff:.2e} on {len(rows)} rows")
    assert diff <= FORM_TOLERANCE


def test_an_unseen_category_is_scored_as_python_scores_it(page, model):
    row = {**typical(model), "Home <type>": "castle"}
    got = page.evaluate("rows => window.staticml.predict(rows)", [row])
    assert abs(got[0]["scores"]["good"] - python_probabilities(model, [row])[0][1]) <= FORM_TOLERANCE
    assert got[0]["label"] in LABELS


@pytest.mark.parametrize("change, says", [
    ({"Income": "1,200"}, "rows[0].Income must be a number or null, not a string"),
    ({"Records": "maybe"}, "rows[0].Records must be true, false, 0, 1 or null"),
    ({"Home <type>": 3}, "rows[0].Home <type> must be a string or null"),
    ({"Age": 30}, "rows[0].Age is not a feature of this model"),
    ({"Seniority": "drop"}, "rows[0].Seniority is missing"),
])
def test_a_bad_row_is_refused_naming_the_field(page, model, change, says):
    row = {**typical(model), **change}
    if change.get("Seniority") == "drop":
        del row["Seniority"]
    with pytest.raises(Exception) as failure:
        page.evaluate("rows => window.staticml.predict(rows)", [row])
    python_says = tabular.row_problem(manifest_io.read(model)["features"], [row])
    assert says in python_says and python_says in str(failure.value)  # the API's words, in the page


def test_no_request_while_predicting(page, model):
    before = len(page.requests)
    page.get_by_label("Income", exact=True).fill("250")
    form_probability(page)
    page.evaluate("rows => window.staticml.predict(rows)", tabular_page.test_rows(model, manifest_io.read(model)))
    assert page.requests[before:] == []


def test_score_a_file_one_row_per_applicant_columns_by_name(page, model):
    rows = tabular_page.test_rows(model, manifest_io.read(model))[:40]
    columns = ["id", "Records", "Income", "Home <type>", "Seniority"]  # not the model's order, one extra

    def cell(value):
        return "NA" if value is None else ("yes" if value is True else "no" if value is False else str(value))

    lines = [",".join(f'"{c}"' for c in columns)]
    lines += [",".join([str(i)] + [cell(r[c]) for c in columns[1:]]) for i, r in enumerate(rows)]
    scores = page.evaluate("csv => window.staticml.scoreFile(new File([csv], 'applicants.csv'))", "\n".join(lines))
    got = np.array([[p["scores"][label] for label in LABELS] for p in scores["predictions"]])
    assert scores["rows"] == list(range(1, len(rows) + 1))
    assert np.abs(got - python_probabilities(model, rows)).max() <= FORM_TOLERANCE


def test_a_file_without_a_column_is_refused_naming_it(page):
    with pytest.raises(Exception) as failure:
        page.evaluate("csv => window.staticml.scoreFile(new File([csv], 'a.csv'))", "Seniority,Income\n1,2\n")
    assert 'no column "Home <type>"' in str(failure.value)


def run_verify(site) -> tuple[int, dict[str, str]]:
    report = site.parent / f"{site.name}-report.json"
    done = subprocess.run([sys.executable, "-m", "staticml", "verify", str(site), "--json", str(report)],
                          capture_output=True, text=True, timeout=600)
    assert report.is_file(), done.stderr[-3000:]
    return done.returncode, {c["name"]: c["status"] for c in json.loads(report.read_text())["checks"]}


def test_verify_passes_on_a_tabular_site_and_fails_when_the_model_is_swapped(site, tmp_path):
    code, statuses = run_verify(site)
    assert code == 0 and statuses["eligibility-probe/fp32: output parity"] == "PASS", statuses
    assert statuses["offline"] == "PASS" and statuses["eligibility-probe/fp32: privacy"] == "PASS"
    swapped = tmp_path / "swapped"
    shutil.copytree(site, swapped)
    forest = make_model_folder(tmp_path / "forest", classifier="forest")
    model_file = swapped / "models" / "eligibility-probe" / "model.onnx"
    shutil.copy(forest / "model.onnx", model_file)
    for copy in (model_file.with_name("model.onnx.br"), model_file.with_name("model.onnx.gz")):
        copy.unlink(missing_ok=True)
    code, statuses = run_verify(swapped)
    assert code != 0
    assert statuses["eligibility-probe: integrity"] == "FAIL"
    assert statuses.get("eligibility-probe/fp32: page loads", statuses.get("eligibility-probe/fp32: output parity")) == "FAIL"


def test_bench_runs_on_a_tabular_site(site, tmp_path):
    """One row per prediction in the page, natively and through the API (its rows body)."""
    out = tmp_path / "bench"
    done = subprocess.run([sys.executable, "-m", "staticml", "bench", str(site), "--out", str(out), "--quick"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "report.json").read_text())["results"][0]
    assert set(result["input"]) == {"Seniority", "Home <type>", "Income", "Records"}
    assert result["engine"] == "compact" and result["page"]["threads_1"]["p50_ms"] > 0
    assert result["native"]["threads_1"]["p50_ms"] > 0 and result["server_compute"]["count"] > 0
    assert result["profiles"]["cable"]["first_visit"]["wire_bytes"] < 300_000  # the compact engine: no WASM runtime
    print(f"tabular site: first visit {result['first_visit_brotli_bytes'] / 1e6:.2f} MB (brotli), ready "
          f"{result['profiles']['cable']['first_visit']['ready_ms']:.0f} ms on cable; one prediction "
          f"{result['page']['threads_1']['p50_ms']:.2f} ms in the page, {result['native']['threads_1']['p50_ms']:.3f} ms native")


# ---- what the form says (issue 25 items 1, 2 and 8)

def test_the_headline_names_the_favourable_outcome_and_whose_answers_it_is_for(page):
    wait_until(page, "document.querySelector('.tabular-form').dataset.pending === '0'")
    assert "typical answers" in page.text_content("#tab-whose")
    assert page.text_content("#tab-probability-label") == "probability of “good” (the favourable outcome)"
    assert page.text_content("#tab-sentence").startswith("For typical answers the model says")
    page.get_by_label("Income", exact=True).fill("90")
    wait_until(page, "document.getElementById('tab-whose').textContent === 'Result for your answers'")
    assert page.text_content("#tab-sentence").startswith("For your answers the model says")
    assert page.locator('a[href="embed.html"]').count() == 0  # the embeddable element takes text, not a form


def test_range_hints_and_help_lines_are_linked_to_their_inputs(page):
    described = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-feature]')].map((input) =>
        [input.dataset.feature, (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
            .map((id) => document.getElementById(id).textContent)]))""")
    assert described["Seniority"] == ["Expected: 0 to 40 years"]
    assert described["Income"] == ["Expected: 10 to 500", "Monthly, before tax."]
    assert described["Records"] == [] and described["Home <type>"] == []


def test_the_result_is_announced_once_the_visitor_pauses(page):
    """One polite announcement per pause in editing, none per keystroke; the result block is no live region."""
    wait_until(page, "document.getElementById('tab-announce').textContent !== ''", 10_000)
    assert page.get_attribute("#tab-announce", "aria-live") == "polite" and page.get_attribute("#tab-announce", "role") == "status"
    assert page.locator(".tab-result-block[aria-live]").count() == 0
    page.evaluate("""() => { window.announced = [];
        new MutationObserver(() => window.announced.push(document.getElementById('tab-announce').textContent))
            .observe(document.getElementById('tab-announce'), { childList: true, characterData: true, subtree: true }); }""")
    income = page.get_by_label("Income", exact=True)
    income.fill("")
    income.press_sequentially("4321", delay=120)  # each keystroke scores the form again
    wait_until(page, "document.querySelector('.tabular-form').dataset.pending === '0'")
    page.wait_for_timeout(1800)  # past the pause (ANNOUNCE_AFTER_MS = 1000)
    announced = page.evaluate("window.announced")
    assert len(announced) == 1, announced
    assert announced[0].startswith(page.text_content("#tab-probability")) and "your answers" in announced[0]


def test_at_320_px_a_summary_keeps_the_result_in_view_while_editing(page):
    page.set_viewport_size({"width": 320, "height": 640})
    page.get_by_label("Years with employer (years)", exact=True).fill("7")
    wait_until(page, "document.querySelector('.tabular-form').dataset.pending === '0'")
    page.evaluate("window.scrollTo(0, 0)")
    summary = page.locator("#tab-summary")
    wait_until(page, "getComputedStyle(document.getElementById('tab-summary')).display !== 'none'", 5_000)
    box = summary.bounding_box()
    assert box["y"] + box["height"] <= 640 + 1 and box["y"] > 400  # stuck to the bottom of the screen
    assert summary.inner_text().startswith(page.text_content("#tab-probability")) and "your answers" in summary.inner_text()
    assert summary.get_attribute("aria-hidden") == "true"  # the result block and the announcement say it once
    page.locator("#tab-probability").scroll_into_view_if_needed()
    wait_until(page, "getComputedStyle(document.getElementById('tab-summary')).display === 'none'", 5_000)


YES_NO = [True, False, 1, 0, "yes", "no", "Y", "n", "true", "FALSE", "1", "0", " Yes ", "t", "f"]


def test_predict_rows_reads_yes_no_as_python_and_the_api_do(page, model):
    rows = [{**typical(model), "Records": value} for value in YES_NO]
    meant = [{**row, "Records": tabular.yes_no(row["Records"])} for row in rows]
    in_page = tabular_page.page_probabilities(page, rows, LABELS)
    assert np.abs(in_page - python_probabilities(model, rows)).max() <= FORM_TOLERANCE  # Python reads the words too
    assert np.abs(in_page - python_probabilities(model, meant)).max() <= FORM_TOLERANCE
    assert np.array_equal(in_page[4], in_page[0]) and np.array_equal(in_page[5], in_page[1])


def test_server_mode_on_a_form_says_it_sends_your_answers(browser, site, model):
    with served(site, api=True) as base:
        context, page, requests = open_page(browser, base)
        try:
            label = page.locator("label[for=server-mode]").inner_text()
            assert "sends your answers to the server" in label and "text" not in label
            assert "Your answers never leave this browser" in page.inner_text(".privacy")
            page.locator("#server-mode").check()
            assert "your answers are sent to" in page.inner_text(".privacy")
            with page.expect_request(lambda r: r.url.endswith("/v1/predict")) as sent:
                page.get_by_label("Income", exact=True).fill("333")
            assert json.loads(sent.value.post_data)["rows"][0]["Income"] == 333
            expected = python_probabilities(model, [{**typical(model), "Income": 333}])[0][LABELS.index("good")]
            wait_until(page, "document.getElementById('tab-whose').textContent === 'Result for your answers'")
            assert abs(form_probability(page) - expected) <= FORM_TOLERANCE
        finally:
            context.close()
