"""`build --pages-workflow REPO`: a GitHub Actions workflow in the repository REPO that publishes the
built site folder on GitHub Pages on every push that changes it (docs/deploy.md, "GitHub Pages")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .output import write_file_whole

WORKFLOW = Path(".github") / "workflows" / "pages.yml"

TEMPLATE = """\
# Written by `staticml build --pages-workflow`: publishes the built site {site} on GitHub Pages
# whenever a push to {branch} changes it. Once, in the repository's Settings > Pages, set
# "Source" to "GitHub Actions". Commit the site folder (the models are in it).
name: Publish the staticml site on GitHub Pages

on:
  push:
    branches: [{branch}]
    paths: [{site_glob}, {workflow}]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  deploy:
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deployment.outputs.page_url }}}}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/configure-pages@v5
      - uses: actions/upload-pages-artifact@v3
        with:
          path: {site}
      - id: deployment
        uses: actions/deploy-pages@v4
"""


@dataclass
class PagesWorkflow:
    path: Path  # REPO/.github/workflows/pages.yml
    text: str

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_file_whole(self.path, self.text)


def planned_workflow(repo: Path, site: Path, force: bool) -> PagesWorkflow:
    """The workflow for publishing `site` from the repository `repo`; checked before the build runs:
    the site must lie inside the repository, and an existing different workflow is kept unless `force`."""
    if not repo.is_dir():
        raise UserError(f"--pages-workflow {repo}: not a folder (give the root of the site's git repository)")
    root, folder = repo.resolve(), site.absolute().resolve()
    if folder == root or root not in folder.parents:
        raise UserError(f"--pages-workflow {repo}: --out {site} is not inside it; build the site into a folder of the repository")
    text = workflow_text(folder.relative_to(root).as_posix(), default_branch(root))
    path = root / WORKFLOW
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UserError(f"--pages-workflow: {path} is not a plain file")
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") != text and not force:
        raise UserError(f"--pages-workflow: {path} exists and differs; pass --force to replace it")
    return PagesWorkflow(path, text)


def workflow_text(site: str, branch: str) -> str:
    """The workflow publishing the folder `site` (relative to the repository's root) pushed to `branch`."""
    quoted = json.dumps  # a JSON string is a YAML double-quoted scalar: any folder name stays one value
    return TEMPLATE.format(site=quoted(site), site_glob=quoted(f"{site}/**"), branch=quoted(branch),
                           workflow=quoted(WORKFLOW.as_posix()))


def default_branch(repo: Path) -> str:
    """The branch checked out in `repo` (its .git/HEAD), else main."""
    try:
        head = (repo / ".git" / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return "main"
    prefix = "ref: refs/heads/"
    return head[len(prefix):] if head.startswith(prefix) and head[len(prefix):] else "main"
