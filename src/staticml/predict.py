"""`staticml predict`: a file of inputs scored in Python by a model folder (or a site's model), the
way the model's task reads and writes it (its `predict`: the page's "Score a file" for classifiers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import tasks
from .engines import ENGINES, Job, predict_on_engine
from .errors import UserError
from .site_config import SITE_CONFIG, model_dirs, read_site
from .tasks.base import PredictRun


def model_folder(path: str | Path, model: str | None = None) -> Path:
    """A model folder as given, or the folder of a site's model (`model`, or the site's default)."""
    path = Path(path)
    if not (path / SITE_CONFIG).is_file():
        if model is not None:
            raise UserError(f"{path}: --model picks a model of a site, and this is not a site (no {SITE_CONFIG})")
        return path
    config = read_site(path)
    folders = model_dirs(path, config)
    name = model or config.get("default_model") or next(iter(folders))
    if name not in folders:
        raise UserError(f"{path}: the site has no model '{name}' (it has {', '.join(folders)})")
    return folders[name]


def predict_file(model: str | Path, data: str | Path, out: str | Path | None = None, column: str | None = None,
                 model_name: str | None = None, force: bool = False, report: Callable[[str], None] = print,
                 progress: Callable[[int, int], None] | None = None, keep: list[str] | None = None,
                 engine: str | None = None, cluster: str | None = None) -> int:
    """Score `data` with the model; write the results to `out` (stdout without it): the input's
    columns (or those named in `keep`), then the label and probabilities. Returns the number of
    inputs scored. `out` appears complete or not at all."""
    folder = model_folder(model, model_name)
    task = tasks.for_model(folder)
    run = PredictRun(folder, Path(data), Path(out) if out is not None else None, column, force, report, progress,
                     keep=keep)
    if engine is None:
        return task.predict(run)
    return predict_on_engine(task.predict, run, engine_job(engine, cluster))


def engine_job(engine: str, cluster: str | None) -> Job:
    """The scoring job of `engine` (imported only here: Spark and Ray are optional extras)."""
    if engine == "spark":
        from . import spark

        return spark.job(cluster)
    if engine == "ray":
        from . import ray

        return ray.job(cluster)
    raise UserError(f"--engine {engine}: not an engine staticml runs on ({', '.join(ENGINES)})")
