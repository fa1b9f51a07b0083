"""The parts the two landmark tasks (face-landmarks, hand-landmarks) share: predict on an image file,
build's check that each model of the pipeline runs, the native frames per second."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...errors import UserError
from ..base import PredictRun, Report

NATIVE_FRAMES = 30


def predict_lines(run: PredictRun, answer: Callable[[np.ndarray], list[dict]], what: str) -> int:
    """The image's results as JSON lines, one face or hand a line, as the page API answers."""
    from ...output import write_lines_out
    from ..face_detection import read_image

    results = answer(read_image(run.data))
    write_lines_out(run.out, "".join(json.dumps(result) + "\n" for result in results), run.force, [run.data])
    run.report(f"predict: {len(results)} {what}(s) in {run.data}")
    return 1


def check_runs(model_dir: Path, manifest: dict, report: Report, open_runner: Callable[[Path], Any], what: str) -> dict:
    """build's check: every model of the pipeline loads and the whole pipeline runs on a frame."""
    try:
        runner = open_runner(model_dir)
        size = manifest["pipeline"]["detector"]["input"]
        runner.detect(np.full((size["height"], size["width"], 3), 128, np.uint8))
    except UserError:
        raise
    except Exception as exc:  # onnxruntime's errors for a graph that does not fit the description
        raise UserError(f"{model_dir}: the {what} pipeline does not run as its manifest says ({str(exc).splitlines()[0][:200]})") from None
    report(f"build: {manifest['name']}: {what} pipeline, files {', '.join(sorted(manifest['files']))}")
    return manifest


def native_fps(answer: Callable[[np.ndarray], list[dict]], frames: list[np.ndarray]) -> dict:
    for frame in frames[:3]:
        answer(frame)
    started = time.perf_counter()
    found = sum(len(answer(frame)) for frame in frames)
    seconds = time.perf_counter() - started
    return {"frames": len(frames), "fps": round(len(frames) / seconds, 1), "found": found}

