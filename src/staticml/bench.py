"""Browser or server? `staticml bench SITE` measures a built site in real Chromium, behind the HTTP
API and natively; what is measured is the site's task's (its `bench`), written into `out`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from . import manifest as manifest_io, tasks
from .provenance import exposure
from .site_config import model_dirs, read_site
from .tasks.base import BenchRun


def bench(site: str | Path, out: str | Path, models: list[str] | None = None, all_variants: bool = False,
          quick: bool = False, json_path: str | Path | None = None, port: int | None = None,
          progress: Callable[[str], None] | None = None, force: bool = False) -> tuple[dict, Any]:
    """Run the site's benchmark; return its report and the report as a table for the terminal."""
    site = Path(site)
    config = read_site(site)
    task = tasks.of_site(site, config)
    run = BenchRun(site, Path(out), models, all_variants, quick, Path(json_path) if json_path else None, port,
                   progress or (lambda _: None), force)
    report = task.bench(run)
    report["exposure"] = {name: exposure.model_exposure(d, manifest_io.read(d)) for name, d in model_dirs(site, config).items()
                          if models is None or name in models}
    _add_exposure(Path(out), report["exposure"])
    return report, task.bench_table(report)


def _add_exposure(out: Path, shown: dict[str, dict]) -> None:
    """What a visitor downloads of each model, added to report.json and report.md (docs/model-ip.md)."""
    if (out / "report.json").is_file():
        data = json.loads((out / "report.json").read_text(encoding="utf-8"))
        (out / "report.json").write_text(json.dumps({**data, "exposure": shown}, indent=2) + "\n", encoding="utf-8")
    if (out / "report.md").is_file():
        lines = ["", "## What a visitor downloads", "",
                 *(f"- **{name}**: {exposure.describe(name, e)}" for name, e in shown.items()),
                 "", "Anyone who can open the page can keep these files; see docs/model-ip.md for the options.", ""]
        with open(out / "report.md", "a", encoding="utf-8") as f:
            f.write("\n".join(lines))
