"""Browser or server? `staticml bench SITE` measures a built site in real Chromium, behind the HTTP
API and natively; what is measured is the site's task's (its `bench`), written into `out`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from . import tasks
from .site_config import read_site
from .tasks.base import BenchRun


def bench(site: str | Path, out: str | Path, models: list[str] | None = None, all_variants: bool = False,
          quick: bool = False, json_path: str | Path | None = None, port: int | None = None,
          progress: Callable[[str], None] | None = None, force: bool = False) -> tuple[dict, Any]:
    """Run the site's benchmark; return its report and the report as a table for the terminal."""
    site = Path(site)
    task = tasks.of_site(site, read_site(site))
    run = BenchRun(site, Path(out), models, all_variants, quick, Path(json_path) if json_path else None, port,
                   progress or (lambda _: None), force)
    report = task.bench(run)
    return report, task.bench_table(report)
