"""Issue 25, item 5, in Chromium: a site built with a hostile --title and --description shows them
as text (no element, no script from them), and the files of --extra are served from the site's root."""

from __future__ import annotations

import pytest

from staticml.browser import open_page, served
from staticml.site import build

pytestmark = pytest.mark.browser

MARKUP = '<img id="injected" src="x" onerror="window.ran=1"><script>window.ran=2</script>'
TITLE = "Loans </title>" + MARKUP
DESCRIPTION = 'Runs here "> ' + MARKUP


@pytest.fixture(scope="module")
def own_site(tiny_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("own")
    (root / "public").mkdir()
    (root / "public" / "CNAME").write_text("models.example.org\n")
    (root / "public" / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    build([tiny_model], root / "site", report=lambda line: None, title=TITLE, description=DESCRIPTION, extra=root / "public")
    return root / "site"


def test_a_hostile_title_and_description_are_text_and_extra_files_are_served(browser, own_site):
    with served(own_site) as url:
        context, page, _ = open_page(browser, url)
        try:
            shown = page.evaluate("""async () => ({
                injected: document.querySelectorAll('#injected, img[src="x"]').length,
                ran: window.ran ?? null,
                heading: document.getElementById('title').textContent,
                documentTitle: document.title,
                line: document.querySelector('header .description').textContent,
                meta: document.querySelector('meta[name="description"]').content,
                cname: await (await fetch('CNAME')).text(),
                robots: (await fetch('robots.txt')).status,
                works: (await window.staticml.predict(['I love it']))[0].label,
            })""")
        finally:
            context.close()
    assert shown["injected"] == 0 and shown["ran"] is None
    assert shown["heading"] == TITLE and shown["documentTitle"].startswith(TITLE)
    assert shown["line"] == DESCRIPTION and shown["meta"] == DESCRIPTION
    assert shown["cname"] == "models.example.org\n" and shown["robots"] == 200
    assert shown["works"]
