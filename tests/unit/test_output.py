"""`--out` never deletes or overwrites what staticml did not write, for every command that has it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_cli import run, small_csv

from staticml import output

TRAIN = ("--text-col", "review", "--label-col", "stars", "--epochs", "1")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model") / "sentiment"
    assert run_quiet("train", small_csv(folder.parent), *TRAIN, "--out", folder) == 0
    return folder


def run_quiet(*argv) -> int:
    from staticml.cli import main

    return main([str(a) for a in argv])


def user_folder(path: Path) -> Path:
    """A folder of someone's own files, as `--out` might name by mistake."""
    (path / "notes").mkdir(parents=True)
    (path / "thesis.txt").write_text("years of work")
    (path / "notes" / "todo.md").write_text("- back up")
    return path


def snapshot(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def hidden_leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def commands(model: Path, data: Path) -> dict[str, tuple]:
    return {"train": ("train", data, *TRAIN), "build": ("build", model), "demo": ("demo", "--no-serve")}


@pytest.mark.parametrize("command", ["train", "build", "demo"])
def test_out_refuses_a_folder_of_user_files(command, model, tmp_path, capsys):
    target = user_folder(tmp_path / "mine")
    before = snapshot(target)
    code, err = run(capsys, *commands(model, small_csv(tmp_path))[command], "--out", target)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "staticml did not write it" in err and "--force" in err
    assert snapshot(target) == before and hidden_leftovers(tmp_path) == []


def test_import_refuses_a_folder_of_user_files(tmp_path, capsys):
    from tiny_hf import save_tiny

    source = save_tiny(tmp_path / "bert", "bert")
    target = user_folder(tmp_path / "mine")
    before = snapshot(target)
    code, err = run(capsys, "import", source, "--out", target)
    assert code == 2 and "staticml did not write it" in err
    assert snapshot(target) == before


def test_build_replaces_its_own_previous_site(model, tmp_path, capsys):
    site = tmp_path / "site"
    assert run(capsys, "build", model, "--out", site)[0] == 0
    marker = json.loads((site / output.MARKER).read_text())
    assert marker["kind"] == "site" and "index.html" in marker["files"]
    (site / "index.html").touch()  # same bytes: still what staticml wrote
    assert run(capsys, "build", model, "--out", site)[0] == 0
    assert (site / "site.json").is_file() and hidden_leftovers(tmp_path) == []


@pytest.mark.parametrize("name, says", [("CNAME", "'CNAME' was not written by staticml"),
                                         ("index.html", "'index.html' was changed after staticml wrote it")])
def test_build_keeps_a_file_the_user_added_or_changed_in_a_previous_site(name, says, model, tmp_path, capsys):
    site = tmp_path / "site"
    assert run(capsys, "build", model, "--out", site)[0] == 0
    (site / name).write_text("the user's own")
    code, err = run(capsys, "build", model, "--out", site)
    assert code == 2 and says in err
    assert (site / name).read_text() == "the user's own"


def test_train_replaces_its_own_model_but_not_a_site(model, tmp_path, capsys):
    data = small_csv(tmp_path)
    out = tmp_path / "m"
    assert run(capsys, "train", data, *TRAIN, "--out", out)[0] == 0
    assert run(capsys, "train", data, *TRAIN, "--out", out)[0] == 0
    site = tmp_path / "site"
    assert run(capsys, "build", model, "--out", site)[0] == 0
    code, err = run(capsys, "train", data, *TRAIN, "--out", site)
    assert code == 2 and "holds a staticml site output, not a model" in err


def test_force_replaces_user_files_but_never_the_current_or_home_folder(model, tmp_path, capsys, monkeypatch):
    target = user_folder(tmp_path / "mine")
    assert run(capsys, "build", model, "--out", target, "--force")[0] == 0
    assert not (target / "thesis.txt").exists() and (target / "index.html").is_file()
    project = user_folder(tmp_path / "project")
    monkeypatch.chdir(project)
    for out in (".", str(project.parent), str(Path.home()), "/"):
        code, err = run(capsys, "build", model, "--out", out, "--force")
        assert code == 2, out
        assert "current folder" in err or "root or home" in err, err
    assert (project / "thesis.txt").read_text() == "years of work"


def test_out_may_not_hold_an_input(model, tmp_path, capsys):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data = shutil.copy(small_csv(tmp_path), data_dir / "reviews.csv")
    code, err = run(capsys, "train", data, *TRAIN, "--out", data_dir, "--force")
    assert code == 2 and "holds the input" in err and Path(data).is_file()
    code, err = run(capsys, "build", model, "--out", model.parent, "--force")
    assert code == 2 and "holds the input" in err and (model / "manifest.json").is_file()


def test_out_refuses_a_symbolic_link(model, tmp_path, capsys):
    real = user_folder(tmp_path / "real")
    os.symlink(real, tmp_path / "link")
    code, err = run(capsys, "build", model, "--out", tmp_path / "link", "--force")
    assert code == 2 and "symbolic link" in err and (real / "thesis.txt").is_file()


def test_an_empty_folder_is_used(model, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run(capsys, "build", model, "--out", tmp_path / "empty")[0] == 0
    assert (tmp_path / "empty" / "index.html").is_file()


def test_a_failed_write_leaves_the_previous_output_untouched(model, tmp_path, capsys):
    site = tmp_path / "site"
    assert run(capsys, "build", model, "--out", site)[0] == 0
    before = snapshot(site)
    with pytest.raises(RuntimeError):
        with output.atomic_folder(site, "site") as folder:
            (folder / "half.txt").write_text("new")
            raise RuntimeError("disk full")
    assert snapshot(site) == before and hidden_leftovers(tmp_path) == []
