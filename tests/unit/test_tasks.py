"""The task registry: every task has each of its parts, the page has a home for it, the docs name it,
and a task × engine pair is chosen only where the task's page can run that engine."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from staticml import compact, tasks
from staticml.tasks.base import Api, Declined, Route, Task

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("task", tasks.TASKS.values(), ids=lambda t: t.name)
def test_every_task_has_each_part(task: Task):
    for part in ("open", "prepare", "verify", "bench", "bench_table", "sample", "predict"):
        assert callable(getattr(task, part)), part
    assert isinstance(task.api, (Api, Route)) or (isinstance(task.api, Declined) and task.api.reason)
    assert isinstance(task.train, Declined) and task.train.reason or callable(tasks.resolve(task.train))
    assert callable(tasks.resolve(task.demo))
    from staticml.site import PAGES

    assert task.page in PAGES and task.summary and task.fields.required


def test_task_names_are_distinct():
    assert len({t.demo_name for t in tasks.TASKS.values()}) == len(tasks.TASKS)
    assert all(name == t.name for name, t in tasks.TASKS.items())


@pytest.mark.parametrize("task", tasks.TASKS.values(), ids=lambda t: t.name)
def test_the_docs_name_every_task(task: Task):
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert task.name in architecture and f"`{task.demo_name}`" in architecture and task.demo_name in cli


def test_the_architecture_doc_names_every_command():
    from staticml.cli import parser

    commands = next(a for a in parser()._actions if a.dest == "command").choices
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert [c for c in commands if not re.search(rf"\b{c}\b", architecture)] == []


def plain_graph(path: Path) -> Path:
    """A float graph the compact engine runs: x[batch, 2] -> MatMul -> output."""
    weights = helper.make_tensor("w", TensorProto.FLOAT, [2, 2], [1, 0, 0, 1])
    node = helper.make_node("MatMul", ["x", "w"], ["probabilities"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])], [weights])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.parametrize("task", tasks.TASKS.values(), ids=lambda t: t.name)
def test_build_asks_the_task_whether_its_page_runs_the_compact_engine(task: Task, tmp_path):
    """The same small float graph goes to the compact engine only for a task whose page runs it."""
    plain_graph(tmp_path / "model.onnx")
    manifest = {"task": task.name, "variants": {"fp32": "model.onnx"}}
    chosen, reasons = compact.engines(tmp_path, manifest, task.compact_page)
    assert chosen == {"fp32": compact.COMPACT if task.compact_page else compact.ONNXRUNTIME_WEB}
    assert task.compact_page or reasons["fp32"] == [compact.PAGE_REASON]


def test_a_task_entry_is_data():
    """Adding a task is one entry: every field of Task is given by name in each task's TASK."""
    assert {f.name for f in dataclasses.fields(Task)} == set(vars(tasks.TASKS["text-classification"]))
