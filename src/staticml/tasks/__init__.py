"""The task registry: one entry per task (tasks.base.Task), registered here as data, the way
archs.py registers architectures. The stages (build, serve, verify, bench, predict, api, cli) look a
task up here and call its parts; none of them names a task.

Adding a task: a module or package beside these with its `TASK`, one line in TASKS below, and its
page under web/src/tasks/ (docs/architecture.md, "Adding a task").
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

from .. import manifest as manifest_io
from ..errors import UserError
from ..site_config import model_dirs
from . import face_detection, face_landmarks, hand_landmarks, question_answering, tabular, text
from .base import Declined, Task

TASKS: dict[str, Task] = {t.name: t for t in (text.TASK, tabular.TASK, face_detection.TASK, question_answering.TASK,
                                              face_landmarks.TASK, hand_landmarks.TASK)}


def get(name: str) -> Task:
    task = TASKS.get(name)
    if task is None:
        raise UserError(f"task {name!r} is not one staticml knows ({', '.join(TASKS)})")
    return task


def by_demo_name(name: str) -> Task:
    """The task `staticml demo --task NAME` (or `train --task NAME`) means."""
    for task in TASKS.values():
        if task.demo_name == name:
            return task
    raise UserError(f"--task {name!r}: not one of {', '.join(demo_names())}")


def demo_names() -> list[str]:
    return [t.demo_name for t in TASKS.values()]


def trainable() -> list[str]:
    return [t.demo_name for t in TASKS.values() if not isinstance(t.train, Declined)]


def read_model(model_dir: str | Path) -> dict:
    """A model folder's manifest, checked against the contract and its task's own fields."""
    manifest = manifest_io.read(model_dir)
    task = TASKS.get(manifest["task"])
    if task is None:
        raise manifest_io.ManifestError(f"{Path(model_dir) / manifest_io.MANIFEST}: task {manifest['task']!r} "
                                        f"is not one of {', '.join(TASKS)}")
    return manifest_io.read(model_dir, task.fields)


def validate(manifest: Any, where: str = manifest_io.MANIFEST) -> dict:
    """manifest.validate with the task's own fields: the whole contract of a manifest."""
    task = TASKS.get(manifest.get("task")) if isinstance(manifest, dict) else None
    if isinstance(manifest, dict) and task is None and isinstance(manifest.get("task"), str):
        raise manifest_io.ManifestError(f"{where}: task {manifest['task']!r} is not one of {', '.join(TASKS)}")
    return manifest_io.validate(manifest, where, task.fields if task else manifest_io.Fields({}))


def for_model(model_dir: str | Path) -> Task:
    return TASKS[read_model(model_dir)["task"]]


def of_site(site: Path, config: dict) -> Task:
    """The task of a site's models (build puts one page, so one task kind, in a site)."""
    return for_model(model_dirs(site, config)[config["default_model"]])


def open_model(model_dir: str | Path, variant: str | None = None, threads: int = 0, spin: bool = True) -> Any:
    """The model folder's native runner (a runtime.Classifier for the classifiers): Python's reference
    for the page. `staticml.Classifier` is this."""
    return for_model(model_dir).open(model_dir, variant, threads=threads, spin=spin)


def write_model_folder(folder: Path, **fields: Any) -> dict:
    """manifest.write_model_folder, checked against the task's own fields too (trainers and importers call this)."""
    return manifest_io.write_model_folder(folder, task_fields=get(fields["task"]).fields, **fields)


def resolve(reference: str) -> Callable:
    """A "module:function" reference of a task entry (its trainer, its demo), imported when needed."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)
