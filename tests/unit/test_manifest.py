"""The model folder's one owner: manifests that lie or reach outside their folder are refused
before a byte is written, by `build`, `api` and `serve --api` alike."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from test_cli import run, small_csv

from staticml import manifest as manifest_io, tasks

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    from staticml.cli import main

    folder = tmp_path_factory.mktemp("model") / "sentiment"
    argv = ["train", str(small_csv(folder.parent)), "--text-col", "review", "--label-col", "stars",
            "--epochs", "1", "--out", str(folder)]
    assert main(argv) == 0
    return folder


def lying_copy(model: Path, tmp_path: Path, change) -> Path:
    folder = Path(shutil.copytree(model, tmp_path / "lying"))
    data = json.loads((folder / "manifest.json").read_text())
    change(data, folder)
    (folder / "manifest.json").write_text(data if isinstance(data, str) else json.dumps(data))
    return folder


def escape_to_victim(victim: Path):
    def change(m: dict, folder: Path) -> None:
        name = "../" * 12 + str(victim).lstrip("/")
        m["files"][name] = {"sha256": hashlib.sha256(victim.read_bytes()).hexdigest(), "bytes": victim.stat().st_size}
    return change


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


CASES = {
    "a file name climbing out": (lambda victim: escape_to_victim(victim), "is not a plain file name"),
    "an absolute file name": (lambda victim: lambda m, f: m["variants"].update(fp32="/etc/passwd"),
                              "is not a plain file name"),
    "labels as a string": (lambda victim: lambda m, f: m.update(labels="ne"), "labels must be a list"),
    "duplicate labels": (lambda victim: lambda m, f: m.update(labels=["a", "a"]), "labels has duplicates"),
    "more labels than logits": (lambda victim: lambda m, f: m.update(labels=["neg", "pos", "other"]),
                                "but manifest.json has 3 labels"),
    "a variant named by a number": (lambda victim: lambda m, f: m["variants"].update(int8=5),
                                    "is not a file name"),
    "an unknown task": (lambda victim: lambda m, f: m.update(task="regression"), "task 'regression' is not one of"),
    "a hostile model name": (lambda victim: lambda m, f: m.update(name="<meta http-equiv=refresh>"),
                             "is not a usable model name"),
    "a bad sha256": (lambda victim: lambda m, f: m["files"]["tokenizer.json"].update(sha256="xyz"),
                     "needs a lowercase hex sha256"),
}


@pytest.mark.parametrize("case", CASES)
def test_build_refuses_a_lying_manifest_before_writing(case, model, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    make, says = CASES[case]
    folder = lying_copy(model, tmp_path, make(victim))
    code, err = run(capsys, "build", folder, "--out", tmp_path / "site")
    assert code == 2 and len(err.strip().splitlines()) == 1 and says in err, err
    assert victim.read_text() == "do not touch" and not (tmp_path / "site").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lying", "victim.txt"]


def test_build_refuses_a_deeply_nested_manifest(model, tmp_path, capsys):
    folder = lying_copy(model, tmp_path, lambda m, f: None)
    (folder / "manifest.json").write_text(nested(100_000))
    code, err = run(capsys, "build", folder, "--out", tmp_path / "site")
    assert code == 2 and "nested too deeply" in err


def test_build_refuses_a_link_out_of_the_model_folder(model, tmp_path, capsys):
    outside = tmp_path / "elsewhere.json"
    shutil.copy(model / "tokenizer.json", outside)
    folder = lying_copy(model, tmp_path, lambda m, f: None)
    (folder / "tokenizer.json").unlink()
    (folder / "tokenizer.json").symlink_to(outside)
    code, err = run(capsys, "build", folder, "--out", tmp_path / "site")
    assert code == 2 and "is a link out of the model folder" in err


@pytest.mark.parametrize("command", ["api", "serve"])
def test_api_refuses_labels_that_do_not_match_the_logits(command, model, tmp_path, capsys):
    folder = lying_copy(model, tmp_path, lambda m, f: m.update(labels=["neg", "pos", "other"]))
    if command == "serve":  # a site built from a good model, then its manifest changed
        site = tmp_path / "site"
        assert run(capsys, "build", model, "--out", site)[0] == 0
        shutil.copy(folder / "manifest.json", site / "models" / "sentiment" / "manifest.json")
        code, err = run(capsys, "serve", site, "--api", "--port", "0")
    else:
        code, err = run(capsys, "api", folder, "--port", "0")
    assert code == 2 and "but manifest.json has 3 labels" in err, err


def test_write_refuses_what_read_would_refuse(model, tmp_path):
    good = manifest_io.read(model)
    with pytest.raises(manifest_io.ManifestError, match="labels must be a list"):
        manifest_io.write(tmp_path, {**good, "labels": "ab"}, tasks.get(good["task"]).fields)
    with pytest.raises(manifest_io.ManifestError, match="missing field"):
        manifest_io.write(tmp_path, {"name": "m", "task": "text-classification"})
    assert not (tmp_path / "manifest.json").exists()


def test_the_page_types_name_the_same_manifest_fields():
    """web/src/types.ts's Manifest interface mirrors the manifest's fields, common and per task (the page reads what Python writes)."""
    source = (ROOT / "web" / "src" / "types.ts").read_text()
    body = re.search(r"export interface Manifest \{(.*?)\n\}", source, re.S).group(1)
    page_fields = set(re.findall(r"^\s+(\w+)\??:", body, re.M))
    assert page_fields == set(manifest_io.COMMON.checks).union(*(t.fields.checks for t in tasks.TASKS.values()))


@pytest.mark.parametrize("url", ['http://127.0.0.1:8001/" http-equiv="refresh', "http://a b/", "http://x/\n"])
def test_build_refuses_an_api_url_that_would_break_out_of_the_page(url, model, tmp_path, capsys):
    code, err = run(capsys, "build", model, "--out", tmp_path / "site", "--api-url", url)
    assert code == 2 and "--api-url" in err and not (tmp_path / "site").exists()
