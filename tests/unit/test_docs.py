"""The docs against the code: sizes they claim against what a build produces, every CLI command and
option named in docs/cli.md, every relative link pointing at a file that exists."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from staticml import cli
from staticml.site import precompress, web_assets
from staticml.site_config import model_dirs, read_site
from staticml.manifest import read as read_manifest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
TOLERANCE = 0.10  # a claimed size may be this far from the built one (other engineers' page changes, training noise)

# Each size the docs state, as the phrase that carries it ("The element is 24.6 KB brotli"); KB = 1,000 bytes.
ELEMENT = re.compile(r"element is ([\d.]+) KB brotli")
PAGE_SCRIPT = re.compile(r"page's script is ([\d.]+) KB brotli")
FIRST_VISIT = re.compile(r"first visit downloads ([\d.]+) KB brotli")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def claims(pattern: re.Pattern) -> list[tuple[str, float]]:
    """Every figure the README and docs/*.md state with this phrase, with the page that states it."""
    found = [(page.relative_to(ROOT).as_posix(), float(m.group(1)))
             for page in PAGES for m in pattern.finditer(page.read_text(encoding="utf-8"))]
    assert found, f"no page states /{pattern.pattern}/: the figure the docs promise is gone"
    return found


def assert_claims_match(pattern: re.Pattern, built_bytes: int) -> None:
    built_kb = built_bytes / 1000
    for page, claimed in claims(pattern):
        assert abs(claimed - built_kb) <= TOLERANCE * built_kb, (
            f"{page} says /{pattern.pattern}/ = {claimed} KB, a build gives {built_kb:.1f} KB: update the page")


def served_bytes(path: Path) -> int:
    """What `staticml serve` (or a host serving the precompressed copies) sends for a file: its `.br`
    copy when the build wrote one, the file itself otherwise (files under 1 KB are not compressed)."""
    br = path.with_name(path.name + ".br")
    return (br if br.is_file() else path).stat().st_size


def brotli_as_built(asset: str, tmp_path: Path) -> int:
    """An asset of the page bundle compressed by the build's own precompress()."""
    copy = tmp_path / Path(asset).name
    shutil.copyfile(web_assets() / asset, copy)
    precompress(tmp_path)
    return served_bytes(copy)


def test_the_element_size_in_the_docs_is_what_a_build_writes(tmp_path):
    assert_claims_match(ELEMENT, brotli_as_built("assets/staticml-element.js", tmp_path))


def test_the_page_script_size_in_the_docs_is_what_a_build_writes(tmp_path):
    assert_claims_match(PAGE_SCRIPT, brotli_as_built("assets/staticml.js", tmp_path))


def first_visit_files(site: Path) -> list[Path]:
    """What a first visit downloads: index.html, everything it links to (its script, style sheet and
    the preloads: site.json and the default model's manifest, tokenizer and default-variant file),
    the service worker and the precache list that worker reads."""
    html = (site / "index.html").read_text(encoding="utf-8")
    linked = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^":]+)"', html)
    config = read_site(site)
    model = model_dirs(site, config)[config["default_model"]]
    manifest = read_manifest(model)
    needed = {model / "manifest.json", model / manifest["variants"][manifest["default_variant"]]}
    if "tokenizer" in manifest:
        needed.add(model / manifest["tokenizer"]["file"])
    files = {site / "index.html", site / "sw.js", site / "precache.json", site / "site.json"} | {site / unquote(u) for u in linked}
    missing = needed - files
    assert not missing, f"index.html does not preload {sorted(map(str, missing))}"
    return sorted(files)


def test_the_first_visit_bytes_in_the_docs_are_what_a_built_site_sends(site):
    files = first_visit_files(site)
    assert (site / "assets" / "staticml.js") in files and all(f.is_file() for f in files)
    assert_claims_match(FIRST_VISIT, sum(served_bytes(f) for f in files))


def commands() -> dict[str, argparse.ArgumentParser]:
    """The `staticml` subcommands, from the parser the command line uses (argparse keeps them in its
    subparsers action: no public accessor)."""
    sub = next(a for a in cli.parser()._actions if isinstance(a.choices, dict))
    return dict(sub.choices)


def cli_sections() -> dict[str, str]:
    """docs/cli.md cut into its "## `staticml CMD`" sections."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^## `staticml (\S+)`", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_command_and_option_is_in_the_cli_reference():
    sections = cli_sections()
    for name, command in commands().items():
        assert name in sections, f"docs/cli.md has no section \"## `staticml {name}`\""
        for action in command._actions:
            if "-h" in action.option_strings:
                continue
            for word in action.option_strings or [action.dest]:
                assert f"`{word}`" in sections[name], f"docs/cli.md, staticml {name}: `{word}` is not described"
    assert set(sections) <= set(commands()), f"docs/cli.md describes commands that do not exist: {set(sections) - set(commands())}"


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # code blocks hold no links
    return [target for target in LINK.findall(text) if not urlsplit(target).scheme and not target.startswith("//")]


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces as -."""
    headings = re.findall(r"^#+\s+(.*)$", re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_something_that_exists(page):
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / unquote(path)).resolve() if path else page
        assert linked.exists(), f"{page.relative_to(ROOT)}: link {target} points at nothing"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.relative_to(ROOT)}: link {target}: no such heading in {linked.name}"


def test_the_readme_stays_a_front_door():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 150, "README.md is the front door: details go to docs/"
    assert readme.count("```bash\nbash scripts/setup.sh && .venv/bin/staticml demo\n```") == 1
    assert "```bash\nbash scripts/test.sh\n```" in readme
