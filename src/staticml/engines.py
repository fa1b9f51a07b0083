"""Scoring on a cluster engine (Spark: staticml.spark, Ray: staticml.ray) without importing either.

What the engines share: the model folder shipped with the job as bytes and checked by sha256 where
it lands (`ModelBundle`), one runner per worker process (`runner_of`), a pandas frame scored in one
vectorised call (`score_frame`), and `predict --engine`, which writes exactly what local predict
writes: the task's own predict reads the file and writes the results, the engine only scores.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from . import tasks
from .errors import UserError
from .manifest import MANIFEST, sha256_of
from .tables import output_format
from .tasks.base import PredictRun

ENGINES = ("spark", "ray")
CONNECT_TIMEOUT = 10.0  # seconds a --master or --address gets to answer before predict gives up
SHA_MISMATCH = "failed its sha256 check on arrival"  # in the message the job fails with; found again in the engine's error


@dataclass(frozen=True)
class ModelBundle:
    """A model folder as bytes: its manifest.json and every file the manifest lists (with its sha256)."""

    name: str
    manifest: bytes
    files: dict[str, bytes] = field(repr=False)

    @classmethod
    def read(cls, model_dir: str | Path, variant: str | None = None) -> "ModelBundle":
        """The folder's files that `variant` (default: the manifest's default_variant) needs, and a manifest
        that lists only those, with the folder's sha256 for each: the other variants stay behind (MiniLM's
        fp32 and q4 are 100 MB the workers would never open). Checked against the contract here, by sha256
        where the bundle arrives."""
        folder = Path(model_dir)
        manifest = one_variant(tasks.read_model(folder), variant, folder)
        files = {name: (folder / name).read_bytes() for name in manifest["files"]}
        return cls(manifest["name"], json.dumps(manifest, ensure_ascii=False).encode(), files)

    @cached_property
    def key(self) -> str:
        """Identifies the bundle in a worker's cache by what arrived (so a changed file is never taken
        for the model already opened: it misses the cache and fails its check)."""
        digest = hashlib.sha256(self.manifest)
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()

    def __getstate__(self) -> dict:
        """Pickled without the cached key: a worker computes it from the bytes that arrived."""
        return {"name": self.name, "manifest": self.manifest, "files": self.files}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def unpack(self, folder: Path) -> Path:
        """Writes the files into `folder` and checks each against the manifest's sha256."""
        listed = json.loads(self.manifest)["files"]
        (folder / MANIFEST).write_bytes(self.manifest)
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            got, want = sha256_of(path), listed[name]["sha256"]
            if got != want:
                raise UserError(f"model '{self.name}': {name} {SHA_MISMATCH} (sha256 {got[:16]}…, manifest.json says "
                                f"{want[:16]}…): the file changed after the model folder was written, or on the way")
        return folder


def one_variant(manifest: dict, variant: str | None, where: Path) -> dict:
    """`manifest` as if `variant` were the folder's only one: its model file and the files every variant
    shares (tokenizer, licence), none of the other variants' files."""
    variants = manifest["variants"]
    chosen = variant or manifest["default_variant"]
    if chosen not in variants:
        raise UserError(f"{where}: no variant '{chosen}' (has {', '.join(variants)})")
    others = {name for v, name in variants.items() if v != chosen} - {variants[chosen]}
    # Not the signature: it signs the whole manifest, which this no longer is.
    kept = {key: value for key, value in manifest.items() if key != "signature"}
    kept.update(files={name: entry for name, entry in manifest["files"].items() if name not in others},
                variants={chosen: variants[chosen]}, default_variant=chosen)
    if "engines" in manifest:
        kept["engines"] = {v: e for v, e in manifest["engines"].items() if v == chosen}
    return tasks.validate(kept, f"{where / MANIFEST} (variant '{chosen}')")


_RUNNERS: dict[str, Any] = {}  # bundle key -> runner: one model load per worker process


def runner_of(bundle: ModelBundle, threads: int = 1) -> Any:
    """The bundle's runner in this worker process, unpacked, checked and opened on first use."""
    runner = _RUNNERS.get(bundle.key)
    if runner is None:
        folder = Path(tempfile.mkdtemp(prefix="staticml-model-"))
        try:
            bundle.unpack(folder)
            runner = tasks.for_model(folder).open(folder, threads=threads)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _RUNNERS[bundle.key] = runner
    return runner


# ---- a frame of inputs (staticml.spark.score, staticml.ray.score)

def output_columns(manifest: dict) -> list[str]:
    """The columns scoring adds, as predict names them: label, then p_<label> per label."""
    return ["label", *[f"p_{label}" for label in manifest["labels"]]]


def input_columns(manifest: dict, columns: list[str], column: str | None, where: str) -> list[str]:
    """The columns of `columns` the model reads (a text column, or a tabular model's features), or a UserError."""
    clash = [c for c in output_columns(manifest) if c in columns]
    if clash:
        raise UserError(f"{where}: already has a column '{clash[0]}', which scoring adds; rename it first")
    if reads_texts(manifest):
        name = column or "text"
        if name not in columns:
            raise UserError(f"{where}: no column '{name}' (its columns: {', '.join(columns) or 'none'}); pass column=")
        return [name]
    if column is not None:
        raise UserError(f"{where}: column= is for text models; a {manifest['task']} model reads its features' columns")
    names = [f["name"] for f in manifest["features"]]
    missing = [n for n in names if n not in columns]
    if missing:
        raise UserError(f"{where}: no column '{missing[0]}' (the model needs: {', '.join(names)})")
    return names


def reads_texts(manifest: dict) -> bool:
    """Whether the model's inputs are texts (its task's API field) rather than rows {column: value}."""
    api = tasks.get(manifest["task"]).api
    if isinstance(api, tasks.Declined):
        raise UserError(f"a {manifest['task']} model is not scored on an engine: {api.reason}")
    return api.field == "texts"


def score_frame(runner: Any, frame: Any, columns: list[str]) -> Any:
    """`frame` (pandas) with label and p_<label> added; a row with an empty text gets no label and NaN
    probabilities (predict skips it). One vectorised call per frame."""
    out = frame.copy()
    probs = np.full((len(frame), len(runner.labels)), np.nan)
    if reads_texts(runner.manifest):
        texts = frame[columns[0]]
        scored = np.array([isinstance(t, str) and bool(t.strip()) for t in texts], dtype=bool)
        items = [t for t, keep in zip(texts, scored) if keep]
    else:
        scored = np.ones(len(frame), dtype=bool)
        items = [{name: plain(value) for name, value in zip(columns, values)} for values in frame[columns].itertuples(index=False)]
    if items:
        probs[scored] = runner.probabilities(items)
    labels = np.array(runner.labels, dtype=object)
    out["label"] = np.where(scored, labels[np.nan_to_num(probs).argmax(axis=1)], None)
    for j, label in enumerate(runner.labels):
        out[f"p_{label}"] = probs[:, j]
    return out


def plain(value: Any) -> Any:
    """A cell as the runner takes it: missing (None, NaN, pandas' NA and NaT) as None, numpy scalars as Python values."""
    if value is None or (isinstance(value, float) and value != value) or type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value.item() if isinstance(value, np.generic) else value


# ---- predict --engine: the task's predict reads and writes, the engine scores

# (the bundle, each batch's items as JSON) -> each batch's probabilities as .npy bytes, in order
Job = Callable[[ModelBundle, list[str]], list[bytes]]


def score_batch(bundle: ModelBundle, items_json: str) -> bytes:
    """One batch as local predict scores it (the same runner call on the same items), for an engine's worker."""
    probs = runner_of(bundle).probabilities(json.loads(items_json))
    buffer = io.BytesIO()
    np.save(buffer, probs, allow_pickle=False)
    return buffer.getvalue()


class Recorder:
    """Stands in for the runner while the task reads the file: keeps each batch's items, checks them
    as the runner would (a bad row is refused before any job starts), answers zeros."""

    def __init__(self, runner: Any):
        self.runner, self.batches = runner, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runner, name)

    def probabilities(self, items: list) -> np.ndarray:
        self.runner.check(items)
        self.batches.append(json.dumps(items, ensure_ascii=False))
        return np.zeros((len(items), len(self.runner.labels)), dtype=np.float32)


class Replayer:
    """Stands in for the runner while the task writes the results: answers each batch with the engine's figures."""

    def __init__(self, runner: Any, results: list[np.ndarray]):
        self.runner, self.results = runner, iter(results)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runner, name)

    def probabilities(self, items: list) -> np.ndarray:
        probs = next(self.results)
        if len(probs) != len(items):  # the file changed between the two reads
            raise UserError("predict --engine: the input file changed while it was scored; run again")
        return probs


def predict_on_engine(task_predict: Callable[[PredictRun], int], run: PredictRun, job: Job) -> int:
    """Reads the file with the task's predict (recording its batches), scores them all in one engine job,
    then runs the task's predict again with the engine's figures: the output is local predict's."""
    output_format(run.out, run.force, [run.data])  # an --out that exists is refused before any work, as predict does
    recorder: list[Recorder] = []
    bundle = ModelBundle.read(run.model_dir)
    with tempfile.TemporaryDirectory(prefix="staticml-engine-") as tmp:
        suffix = run.out.suffix if run.out is not None else ".csv"
        dry = replace(run, out=Path(tmp) / f"dry{suffix}", force=True, report=lambda _line: None, progress=None,
                      scorer=lambda runner: recorder.append(Recorder(runner)) or recorder[-1])
        task_predict(dry)
    if not recorder:  # the task's predict scores without a runner (an image through a detector): nothing to hand out
        task = json.loads(bundle.manifest)["task"]
        raise UserError(f"{run.model_dir}: a {task} model's predict does not run on an engine; score it without --engine")
    results = [np.load(io.BytesIO(data), allow_pickle=False) for data in job(bundle, recorder[0].batches)]
    return task_predict(replace(run, scorer=lambda runner: Replayer(runner, results)))


def engine_failure(exc: BaseException) -> UserError | None:
    """The model check's message when an engine's job failed on it (the engine wraps it in its own error)."""
    for line in str(exc).splitlines():
        if SHA_MISMATCH in line:
            return UserError(line[line.index("model '"):].strip() if "model '" in line else line.strip())
    return None


def host_and_port(url: str, default_port: int) -> tuple[str, int] | None:
    """The host and port of a `spark://host:port` or `host:port` address (None for local modes)."""
    from urllib.parse import urlsplit

    rest = url.split("://", 1)[1] if "://" in url else url
    if not rest or rest.startswith("local") or rest == "auto":
        return None
    parts = urlsplit(f"//{rest.split(',')[0]}")
    try:
        return (parts.hostname or "127.0.0.1"), (parts.port or default_port)
    except ValueError:
        raise UserError(f"{url}: not a host:port address") from None


def check_answers(option: str, url: str, default_port: int, timeout: float = CONNECT_TIMEOUT) -> None:
    """A cluster address that does not accept a connection within `timeout` is a UserError (the
    engines themselves retry for minutes)."""
    import socket

    target = host_and_port(url, default_port)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise UserError(f"{option} {url}: nothing answers at {target[0]}:{target[1]} within {timeout:g} s ({reason})") from None
