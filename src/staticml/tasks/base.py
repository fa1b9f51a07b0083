"""What a task is: one entry per task, holding everything that differs between tasks, so that the
stages (build, serve, verify, bench, predict, api, cli) read it instead of branching on task names.

A task's parts that need heavy libraries (onnxruntime, Chromium, the training side) are imported
when called, so reading the registry stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..manifest import Fields

Report = Callable[[str], None]


@dataclass(frozen=True)
class Declined:
    """A part a task does not offer, and why (the completeness test accepts it only with a reason)."""

    reason: str


@dataclass(frozen=True)
class Api:
    """The task's place in the HTTP API: the request field its inputs go in (`texts`, `rows`), the
    pydantic type of one input, and its description in the OpenAPI document."""

    field: str
    item: Any
    description: str


@dataclass(frozen=True)
class Route:
    """A task served on a route of its own rather than /v1/predict (question answering: POST /v1/answer):
    the path, the pydantic request body (it has an optional `model` field), `respond(runner, body)` → the
    JSON answer (run in worker threads, several requests at once, so the runner must be thread-safe; a
    UserError there is the request's fault: 422), and the route's description in the OpenAPI document."""

    path: str
    body: type
    respond: Callable[[Any, Any], Any]
    description: str


@dataclass(frozen=True)
class VerifyRun:
    """What `verify` gives a task: the site, its site.json, the user's extra texts, a progress line."""

    site: Path
    config: dict
    user_texts: list[str]
    report: Report


@dataclass(frozen=True)
class BenchRun:
    """What `bench` gives a task: the site, where the report goes and the command's options."""

    site: Path
    out: Path
    models: list[str] | None
    all_variants: bool
    quick: bool
    json_path: Path | None
    port: int | None
    progress: Report
    force: bool


@dataclass(frozen=True)
class PredictRun:
    """What `predict` gives a task: a model folder, the input file and where the results go."""

    model_dir: Path
    data: Path
    out: Path | None
    column: str | None
    force: bool
    report: Report
    progress: Callable[[int, int], None] | None
    keep: list[str] | None = None  # the input columns the output holds (None: all)
    # predict --engine: the stand-in scoring the opened runner's batches elsewhere (staticml.engines); None: the runner itself
    scorer: Callable[[Any], Any] | None = None

    def runner(self, classifier: Any) -> Any:
        """What the task's predict scores with: the runner it opened, or the engine's stand-in for it."""
        return self.scorer(classifier) if self.scorer else classifier


@dataclass(frozen=True)
class Task:
    name: str  # the manifest's "task"
    demo_name: str  # `staticml demo --task NAME` (and `train --task NAME` where it trains)
    summary: str  # one line, for --help and the docs
    page: str  # the web bundle's page this task's sites get: "classifier" or "video" (site.PAGES)
    compact_page: bool  # the page can run this task's graphs on the compact engine (else onnxruntime-web)
    fields: Fields  # the manifest fields of this task, on top of manifest.COMMON
    # (model_dir, variant=None, threads=0, spin=True) -> the native runner, Python's reference for the page
    open: Callable[..., Any]
    prepare: Callable[[Path, dict, Report], dict]  # build's checks of a model folder; the manifest its site gets
    verify: Callable[[VerifyRun], list]  # the page's checks on a site of this task (list of checks.Check)
    bench: Callable[[BenchRun], dict]  # measures a site of this task; writes the report into BenchRun.out
    bench_table: Callable[[dict], Any]  # the bench report as a rich table, for the terminal
    sample: Callable[[dict], Any]  # one input of a model (its manifest given): bench and the offline check
    predict: Callable[[PredictRun], int]  # scores a file, returns how many inputs it scored
    api: Api | Route | Declined  # Route: a route of its own instead of /v1/predict
    # "module:function" on the training side (never imported by the serving side), resolved when run:
    train: str | Declined  # (args, report) -> None: `staticml train --task demo_name`
    demo: str  # (args, workdir, report) -> the demo's model folder, written inside workdir
