"""The element's example page names the site's default model: the name (from a manifest) goes
into the page as a URL and as text, never as markup."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from staticml import hosting
from staticml.errors import UserError
from staticml.site import WEB_ASSETS, build

HOSTILE = [
    '<meta http-equiv=refresh content=0;url=https://elsewhere.example/>',
    'x" onmouseover="alert(1)',
    "x' autofocus onfocus='alert(1)",
    "</code></pre><script src=https://elsewhere.example/x.js></script>",
    "a&amp;b #?%",
]


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of <code>."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.code = ""
        self._in_code = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_code = self._in_code or tag == "code"

    def handle_endtag(self, tag):
        self._in_code = self._in_code and tag != "code"

    def handle_data(self, data):
        if self._in_code:
            self.code += data


def embed_page_for(tmp_path: Path, model_path: str) -> Page:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(WEB_ASSETS / hosting.EMBED_PAGE, site / hosting.EMBED_PAGE)
    hosting.point_embed_page_at(site, model_path)
    return Page((site / hosting.EMBED_PAGE).read_text(encoding="utf-8"))


ORIGINAL = Page((WEB_ASSETS / hosting.EMBED_PAGE).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_model_name_stays_a_url_and_text(tmp_path, name):
    path = f"models/{name}/"
    page = embed_page_for(tmp_path, path)
    # The same elements with the same attributes as the page as shipped: nothing added.
    assert [tag for tag, _ in page.tags] == [tag for tag, _ in ORIGINAL.tags]
    assert [a for t, a in page.tags if t != "staticml-classifier"] == [a for t, a in ORIGINAL.tags if t != "staticml-classifier"]
    element = next(attrs for tag, attrs in page.tags if tag == "staticml-classifier")
    assert set(element) == {"id", "model", "label"}
    assert element["model"] == quote(path, safe="/")  # percent-encoded: no quote, bracket or space left
    assert f'model="{quote(path, safe="/")}"' in page.code  # the sample shows the same markup


def test_a_plain_name_is_written_as_it_is(tmp_path):
    page = embed_page_for(tmp_path, "models/reviews-v2_en/")
    assert next(a for t, a in page.tags if t == "staticml-classifier")["model"] == "models/reviews-v2_en/"


def test_a_site_built_from_a_hostile_name_has_no_injected_markup(tiny_model, tmp_path):
    """End to end: `build` either refuses the name or writes it as a URL."""
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["name"] = 'x"><meta http-equiv="refresh" content="0;url=about:blank">'
    (model / "manifest.json").write_text(json.dumps(manifest))
    try:
        build([model], tmp_path / "site", report=lambda _: None)
    except UserError as refused:
        assert "name" in str(refused)
        return
    page = Page((tmp_path / "site" / hosting.EMBED_PAGE).read_text(encoding="utf-8"))
    assert [tag for tag, _ in page.tags] == [tag for tag, _ in ORIGINAL.tags]
    assert not any(a.get("http-equiv", "").lower() == "refresh" for t, a in page.tags if t == "meta")
