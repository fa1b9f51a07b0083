"""The boundaries: the serving side (build, serve, api, verify, bench, predict and the tasks) reads
model folders only and never imports the training side (`staticml.train`) nor torch, transformers
or scikit-learn, so a serving image stays small and starts fast; imports go one way (no circles),
no module takes a private name from another, and the stages name no task."""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import staticml
from staticml import tasks

TRAINING_LIBRARIES = ("torch", "transformers", "sklearn", "skl2onnx", "skops", "tensorflow", "keras", "tf2onnx")
# The optional engines (staticml[spark], staticml[ray]): only these modules import them.
ENGINES = {"staticml.spark": "pyspark", "staticml.ray": "ray"}
SERVING = sorted(m.name for m in pkgutil.walk_packages(staticml.__path__, "staticml.")
                 if not m.name.startswith("staticml.train") and m.name != "staticml.__main__" and m.name not in ENGINES)
SOURCE = Path(staticml.__file__).parent
STAGES = ("site", "server", "verify", "bench", "predict", "api", "cli")


def test_serving_side_modules_do_not_import_the_training_side():
    code = (f"import sys, {', '.join(SERVING)}; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {TRAINING_LIBRARIES!r} "
            "or m.startswith('staticml.train')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every `from X import name` of a staticml module, wherever it stands in the file."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module or ""
            found += [(module, alias.name) for alias in node.names if module.startswith("staticml")]
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in SOURCE.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for target, name in imports(path):
            edges[module].add(f"{target}.{name}" if f"{target}.{name}" in modules else target)
    return {m: {t for t in targets if t in modules and t != m} for m, targets in edges.items()}


def circles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Groups of modules that import each other, directly or not (strongly connected, more than one)."""
    reach = {m: set() for m in edges}
    for start in edges:
        todo = list(edges[start])
        while todo:
            module = todo.pop()
            if module not in reach[start]:
                reach[start].add(module)
                todo += edges[module]
    groups = {frozenset({m} | {o for o in reach[m] if m in reach[o]}) for m in edges}
    return [set(g) for g in groups if len(g) > 1]


def test_imports_go_one_way():
    assert circles(graph()) == []


def test_no_module_takes_a_private_name_from_another():
    taken = [(module_name(p), target, name) for p in SOURCE.rglob("*.py") for target, name in imports(p)
             if name.startswith("_") and not name.startswith("__")]
    assert taken == []


def test_the_stages_name_no_task():
    names = [t.name for t in tasks.TASKS.values()] + [t.demo_name for t in tasks.TASKS.values()]
    pattern = re.compile("|".join(rf"[\"']{re.escape(n)}[\"']" for n in names))
    found = [(stage, line.strip()) for stage in STAGES for line in (SOURCE / f"{stage}.py").read_text().splitlines()
             if pattern.search(line)]
    assert found == []


def test_the_stages_import_tasks_only_through_the_registry():
    """A stage reads a task through staticml.tasks (get, for_model, of_site…), never a task's own module."""
    task_modules = {t.open.__module__.split(".")[2] for t in tasks.TASKS.values()}
    found = [(stage, target) for stage in STAGES for target, _ in imports(SOURCE / f"{stage}.py")
             if target.startswith("staticml.tasks.") and target.split(".")[2] in task_modules]
    assert found == []


def absolute_imports(path: Path) -> set[str]:
    """The top-level packages a module imports by absolute name (`import x`, `from x import y`), anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_engine_modules_import_spark_or_ray():
    """Spark and Ray are optional extras: staticml.spark and staticml.ray import them, nothing else does
    (predict reaches those two modules only when --engine asks for them)."""
    found = [(module_name(p), engine) for p in SOURCE.rglob("*.py") for engine in set(ENGINES.values()) & absolute_imports(p)
             if module_name(p) not in ENGINES]
    assert found == []
    assert {module_name(p): ENGINES[module_name(p)] in absolute_imports(p) for p in SOURCE.rglob("*.py")
            if module_name(p) in ENGINES} == {name: True for name in ENGINES}


def test_the_serving_side_imports_no_engine():
    code = f"import sys, {', '.join(SERVING)}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'ray')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
