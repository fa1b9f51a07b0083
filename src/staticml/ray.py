"""Batch scoring on Ray (`pip install 'staticml[ray]'`): `score(dataset, model)` and `predict --engine ray`.

Ray Data's `map_batches` with an actor class: each actor unpacks the model (the one variant scored, with
the files it needs: shipped with the job, checked by sha256 on arrival) and opens it once, then scores
whole pandas batches. Workers need staticml installed (the same version as the driver)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import ray
import ray.data

from . import engines
from .engines import ModelBundle

HEAD_PORT = 6379  # a Ray head's default port (ray://… clients: 10001)
# What each scoring actor reserves of Ray's CPU count (it runs one onnxruntime thread): less than one,
# so that with one actor per CPU the read and write tasks around them still get scheduled (with a
# whole CPU each, the actors hold them all and a following write_parquet waits forever).
ACTOR_CPUS = 0.5


def connect(address: str | None = None, cpus: int | None = None) -> None:
    """Joins the cluster at `address`, or starts a local Ray (on `cpus` cores, default all); an address
    that does not answer within engines.CONNECT_TIMEOUT is a UserError."""
    if ray.is_initialized():
        return
    if address:
        engines.check_answers("--address", address, 10001 if address.startswith("ray://") else HEAD_PORT)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address=address, num_cpus=None if address else cpus, include_dashboard=False, log_to_driver=False,
             logging_level=logging.WARNING, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def workers() -> int:
    """Actors to start: one per core of the cluster."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class Scorer:
    """A Ray Data actor: the model opened once, whole pandas batches scored by `engines.score_frame`."""

    def __init__(self, bundle: ModelBundle, columns: list[str]):
        self.runner, self.columns = engines.runner_of(bundle), columns

    def __call__(self, frame: Any) -> Any:
        return engines.score_frame(self.runner, frame, self.columns)


class BatchScorer:
    """A Ray Data actor for predict --engine ray: each row is one of the file's batches, as local predict batches it."""

    def __init__(self, bundle: ModelBundle):
        self.bundle = bundle
        engines.runner_of(bundle)

    def __call__(self, frame: Any) -> Any:
        return frame.assign(probs=[engines.score_batch(self.bundle, items) for items in frame["items"]])[["batch", "probs"]]


def score(dataset: ray.data.Dataset, model: str | Path | ModelBundle, column: str | None = None,
          concurrency: int | None = None, variant: str | None = None) -> ray.data.Dataset:
    """`dataset` with `label` and `p_<label>` columns added, as `staticml predict` names them (a text model
    reads `column`, default `text`; a tabular model the columns named as its features), on `concurrency`
    actors (default: one per core), scored by `variant` (default: the model's default variant; only its
    files are shipped). Lazy, as any Ray Data transformation."""
    bundle = model if isinstance(model, ModelBundle) else ModelBundle.read(model, variant)
    columns = engines.input_columns(json.loads(bundle.manifest), dataset.columns(), column, "the Dataset")
    return dataset.map_batches(Scorer, fn_constructor_args=(bundle, columns), batch_format="pandas",
                               compute=ray.data.ActorPoolStrategy(size=concurrency or workers()), num_cpus=ACTOR_CPUS)


def job(address: str | None) -> engines.Job:
    """predict --engine ray: the batches of a file, scored by actors, in order."""

    def run(bundle: ModelBundle, batches: list[str]) -> list[bytes]:
        connect(address)
        dataset = ray.data.from_items([{"batch": i, "items": items} for i, items in enumerate(batches)])
        scored = dataset.map_batches(BatchScorer, fn_constructor_args=(bundle,), batch_format="pandas", batch_size=1,
                                     compute=ray.data.ActorPoolStrategy(size=min(workers(), len(batches))), num_cpus=ACTOR_CPUS)
        try:
            rows = scored.take_all()
        except Exception as exc:  # Ray wraps an actor's error in its own (RayTaskError, …)
            raise engines.engine_failure(exc) or exc
        return [bytes(row["probs"]) for row in sorted(rows, key=lambda row: row["batch"])]

    return run
