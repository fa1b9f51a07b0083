"""Issue 25, item 5: a site can be the user's: `build --title/--description` (escaped in the page),
`--extra DIR` (CNAME, favicon.ico, robots.txt carried over by the next build) and
`--pages-workflow REPO` (a GitHub Pages workflow publishing the site)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
import yaml
from cli_tools import assert_one_line_refusal, run_output

from staticml import output

HOSTILE_TITLE = '</title><script>alert("title")</script> & <b>bold</b> \\1'
HOSTILE_DESCRIPTION = '"><img src=x onerror=alert(1)> it\'s <em>yours</em> \\g<0>'


class PageText(HTMLParser):
    """What a browser reads from the page: <title>, the heading, the description (meta and line), the tags."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[str] = []
        self.meta: dict[str, str] = {}
        self.text: dict[str, str] = {}
        self.inside: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "meta" and "name" in attrs:
            self.meta[attrs["name"]] = attrs.get("content", "")
        key = {"title": "title", "h1": "h1"}.get(tag) or ("description" if attrs.get("class") == "description" else None)
        self.inside.append(key or "")

    def handle_endtag(self, tag):
        if self.inside:
            self.inside.pop()

    def handle_data(self, data):
        if self.inside and self.inside[-1]:
            self.text[self.inside[-1]] = self.text.get(self.inside[-1], "") + data


def build(capsys, model, out, *more):
    return run_output(capsys, "build", model, "--out", out, *more)


def test_title_and_description_reach_the_page_as_text(tiny_model, tmp_path, capsys):
    code, _, err = build(capsys, tiny_model, tmp_path / "plain")
    assert code == 0, err
    code, _, err = build(capsys, tiny_model, tmp_path / "site", "--title", HOSTILE_TITLE, "--description", HOSTILE_DESCRIPTION)
    assert code == 0, err
    page = PageText((tmp_path / "site" / "index.html").read_text(encoding="utf-8"))
    plain = PageText((tmp_path / "plain" / "index.html").read_text(encoding="utf-8"))
    assert page.text["title"] == HOSTILE_TITLE and page.text["h1"] == HOSTILE_TITLE
    assert page.meta["description"] == HOSTILE_DESCRIPTION and page.text["description"] == HOSTILE_DESCRIPTION
    # No tag came in with them: the page has the plain page's tags plus the meta and the line.
    assert sorted(page.tags) == sorted(plain.tags + ["meta", "p"])
    assert json.loads((tmp_path / "site" / "site.json").read_text())["title"] == HOSTILE_TITLE  # the page sets it as text
    assert "title" not in json.loads((tmp_path / "plain" / "site.json").read_text())


@pytest.mark.parametrize("option, value, says", [
    ("--title", "two\nlines", "--title: holds a line break"),
    ("--title", " ", "--title: empty"),
    ("--description", "x" * 501, "--description: 501 characters; at most 500"),
])
def test_a_bad_title_or_description_is_refused_before_building(option, value, says, tiny_model, tmp_path, capsys):
    code, _, err = build(capsys, tiny_model, tmp_path / "site", option, value)
    assert_one_line_refusal(code, err, says)
    assert not (tmp_path / "site").exists()


@pytest.fixture
def extra(tmp_path):
    folder = tmp_path / "public"
    (folder / ".well-known").mkdir(parents=True)
    (folder / "CNAME").write_text("models.example.org\n")
    (folder / "favicon.ico").write_bytes(b"\0\0\1\0icon")
    (folder / ".well-known" / "security.txt").write_text("Contact: mailto:me@example.org\n")
    return folder


def test_extra_files_are_in_the_site_and_survive_a_rebuild(tiny_model, extra, tmp_path, capsys):
    site = tmp_path / "site"
    code, _, err = build(capsys, tiny_model, site, "--extra", extra)
    assert code == 0, err
    assert (site / "CNAME").read_text() == "models.example.org\n" and (site / "favicon.ico").read_bytes() == b"\0\0\1\0icon"
    marker = json.loads((site / output.MARKER).read_text())
    assert marker["extra"] == [".well-known/security.txt", "CNAME", "favicon.ico"]
    assert {"CNAME", "favicon.ico"} <= set(marker["files"])
    # A rebuild without --extra replaces the site and keeps the files; one with --extra takes the folder's.
    code, _, err = build(capsys, tiny_model, site)
    assert code == 0, err
    assert (site / "CNAME").read_text() == "models.example.org\n" and (site / ".well-known" / "security.txt").is_file()
    assert any("keeping .well-known/security.txt, CNAME, favicon.ico" in line for line in err)
    (extra / "CNAME").write_text("new.example.org\n")
    code, _, err = build(capsys, tiny_model, site, "--extra", extra)
    assert code == 0, err
    assert (site / "CNAME").read_text() == "new.example.org\n"


def test_a_file_added_by_hand_is_still_refused_and_the_message_points_at_extra(tiny_model, tmp_path, capsys):
    site = tmp_path / "site"
    assert build(capsys, tiny_model, site)[0] == 0
    (site / "CNAME").write_text("by hand\n")
    code, _, err = build(capsys, tiny_model, site)
    assert_one_line_refusal(code, err, "'CNAME' was not written by staticml; to keep a file of yours in the site")
    assert "--extra" in err[0] and (site / "CNAME").read_text() == "by hand\n"


def test_extra_files_that_would_replace_the_sites_own_or_are_links_are_refused(tiny_model, extra, tmp_path, capsys):
    (extra / "index.html").write_text("<p>mine</p>")
    code, _, err = build(capsys, tiny_model, tmp_path / "site", "--extra", extra)
    assert code == 2 and "Traceback" not in "".join(err)
    assert "--extra: 'index.html' would replace the site's own index.html" in err[-1]
    assert not (tmp_path / "site").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]
    (extra / "index.html").unlink()
    (extra / "secret").symlink_to("/etc/hostname")
    code, _, err = build(capsys, tiny_model, tmp_path / "site", "--extra", extra)
    assert_one_line_refusal(code, err, "'secret' is a symbolic link")
    code, _, err = build(capsys, tiny_model, tmp_path / "site", "--extra", tmp_path / "nope")
    assert_one_line_refusal(code, err, "not a folder")
    code, _, err = build(capsys, tiny_model, extra / "site", "--extra", extra)
    assert_one_line_refusal(code, err, "holds --out")
    assert not (extra / "site").exists()


# ---------------------------------------------------------------- GitHub Pages


def test_pages_workflow_publishes_the_site_folder_of_the_repository(tiny_model, tmp_path, capsys):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/trunk\n")
    code, _, err = build(capsys, tiny_model, repo / "docs" / "my site", "--pages-workflow", repo)
    assert code == 0, err
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "pages.yml").read_text())
    trigger = workflow[True]  # YAML 1.1 reads the key `on` as true; GitHub reads it as "on"
    assert trigger["push"]["branches"] == ["trunk"] and "docs/my site/**" in trigger["push"]["paths"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = workflow["jobs"]["deploy"]["steps"]
    assert [s.get("uses", "").split("@")[0] for s in steps] == [
        "actions/checkout", "actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"]
    assert steps[2]["with"]["path"] == "docs/my site"
    assert workflow["jobs"]["deploy"]["environment"]["name"] == "github-pages"


def test_pages_workflow_refuses_a_site_outside_the_repository_and_keeps_a_different_workflow(tiny_model, tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    code, _, err = build(capsys, tiny_model, tmp_path / "site", "--pages-workflow", repo)
    assert_one_line_refusal(code, err, "is not inside it")
    assert not (tmp_path / "site").exists()
    mine = repo / ".github" / "workflows" / "pages.yml"
    mine.parent.mkdir(parents=True)
    mine.write_text("name: mine\n")
    code, _, err = build(capsys, tiny_model, repo / "site", "--pages-workflow", repo)
    assert_one_line_refusal(code, err, "exists and differs; pass --force")
    assert mine.read_text() == "name: mine\n" and not (repo / "site").exists()


def test_the_workflow_in_the_deploy_guide_is_the_one_build_writes():
    import re
    from pathlib import Path

    from staticml.github_pages import workflow_text

    guide = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    documented = re.search(r"```yaml\n(.*?)```", guide, re.S)[1]
    assert yaml.safe_load(documented) == yaml.safe_load(workflow_text("site", "main"))


def test_every_page_a_site_can_get_takes_a_title_and_a_description(tmp_path):
    """A page added to site.PAGES keeps the hooks --title and --description need (title, h1#title, viewport meta)."""
    import shutil

    from staticml.site import PAGES, web_assets
    from staticml.site_extras import personalize_page

    for name, spec in PAGES.items():
        source = web_assets() / spec["index"]
        if not source.is_file():
            pytest.skip(f"the page bundle has no {spec['index']} (npm run build)")
        page = tmp_path / f"{name}.html"
        shutil.copyfile(source, page)
        personalize_page(page, HOSTILE_TITLE, HOSTILE_DESCRIPTION)
        shown = PageText(page.read_text(encoding="utf-8"))
        assert shown.text["title"] == shown.text["h1"] == HOSTILE_TITLE, name
        assert shown.meta["description"] == shown.text["description"] == HOSTILE_DESCRIPTION, name
