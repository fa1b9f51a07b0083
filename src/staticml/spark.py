"""Batch scoring on Spark (`pip install 'staticml[spark]'`): `score(dataframe, model)` and `predict --engine spark`.

The model (the one variant scored, with the files it needs) travels with the job as a broadcast
variable and is checked by sha256 where it lands; each executor's Python worker opens it once and scores whole Arrow batches (`mapInPandas`).
Executors need staticml installed (the same version as the driver)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import DoubleType, StringType, StructField, StructType

from . import engines
from .engines import ModelBundle

DEFAULT_MASTER = "local[*]"
MASTER_PORT = 7077  # a standalone master's default port


def session(master: str | None = None) -> SparkSession:
    """The active Spark session, or a new one on `master` (local mode on every core by default); a
    master that does not answer within engines.CONNECT_TIMEOUT is a UserError."""
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    master = master or DEFAULT_MASTER
    engines.check_answers("--master", master, MASTER_PORT)
    # The executors' Python workers run this interpreter (it has staticml), not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master(master).appName("staticml")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def score(dataframe: DataFrame, model: str | Path | ModelBundle, column: str | None = None, variant: str | None = None) -> DataFrame:
    """`dataframe` with `label` and `p_<label>` columns added, as `staticml predict` names them (a text
    model reads `column`, default `text`; a tabular model the columns named as its features), scored by
    `variant` (default: the model's default variant; only its files are shipped). Lazy, as any Spark
    transformation; a row with an empty text gets a null label."""
    bundle = model if isinstance(model, ModelBundle) else ModelBundle.read(model, variant)
    manifest = json.loads(bundle.manifest)
    columns = engines.input_columns(manifest, dataframe.columns, column, "the DataFrame")
    added = [StructField("label", StringType()), *[StructField(f"p_{label}", DoubleType()) for label in manifest["labels"]]]
    shipped = dataframe.sparkSession.sparkContext.broadcast(bundle)

    def score_frames(frames):
        runner = engines.runner_of(shipped.value)
        for frame in frames:
            yield engines.score_frame(runner, frame, columns)

    return dataframe.mapInPandas(score_frames, StructType([*dataframe.schema.fields, *added]))


def job(master: str | None) -> engines.Job:
    """predict --engine spark: the batches of a file, scored on the executors, in order."""

    def run(bundle: ModelBundle, batches: list[str]) -> list[bytes]:
        spark = session(master)
        frame = spark.createDataFrame(list(enumerate(batches)), "batch long, items string")
        shipped = spark.sparkContext.broadcast(bundle)

        def score_frames(frames):
            for part in frames:
                yield part.assign(probs=[engines.score_batch(shipped.value, items) for items in part["items"]])[["batch", "probs"]]

        try:
            rows = frame.mapInPandas(score_frames, "batch long, probs binary").collect()
        except Exception as exc:  # Spark wraps a worker's error in its own (PythonException, Py4JJavaError)
            raise engines.engine_failure(exc) or exc
        finally:
            shipped.unpersist()
        return [bytes(row["probs"]) for row in sorted(rows, key=lambda row: row["batch"])]

    return run

