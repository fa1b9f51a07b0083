"""Hostile model files are refused in one line, exit 2, and nothing they hold runs (issue 22):
a .skops whose schema calls a function re-exported inside scikit-learn, zip bombs and escaping
names in .skops/.keras archives, and damaged .tflite files (read in a child process with limits)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cli_tools import assert_nothing_left, assert_one_line_refusal, run

from staticml.errors import UserError
from staticml.train import archives

STATICML = [sys.executable, "-m", "staticml"]


# ---------------------------------------------------------------- .skops that would run code


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory):
    """Real pipelines as `staticml train --task tabular` builds them, fitted and saved with skops."""
    import pandas as pd
    import skops.io as sio

    from staticml.train import tabular as train_tabular

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"income": rng.normal(50, 10, 200), "age": rng.integers(18, 80, 200).astype(float),
                          "home": rng.choice(["owner", "rent", "parents"], 200)})
    labels = (frame["income"] + rng.normal(0, 5, 200) > 50).map({True: "good", False: "bad"})
    folder = tmp_path_factory.mktemp("skops")
    kinds = {"income": "number", "age": "number", "home": "category"}
    for name, pipeline in train_tabular.candidates(kinds, 0).items():
        sio.dump(pipeline.fit(frame, labels), folder / f"{name}.skops")
    return folder


def text_node(value) -> dict:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": json.dumps(value), "is_json": True}


def call_node(loader: str, function: str, *args) -> dict:
    """A skops node that, when built, calls `function` with `args` (how skops restores a reduce)."""
    module, _, name = function.rpartition(".")
    arguments = {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": [text_node(a) for a in args]}
    if loader == "ConstructorFromReduceNode":
        return {"__class__": name, "__module__": module, "__loader__": loader, "content": arguments}
    empty_dict = {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "content": {},
                  "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": []}}
    return {"__class__": name, "__module__": module, "__loader__": loader, "__reduce__": {"args": arguments}, "content": empty_dict}


def with_node(source: Path, target: Path, node: dict) -> Path:
    """A copy of a real skops file whose Pipeline's `memory` attribute is `node`."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "schema.json":
                schema = json.loads(data)
                schema["content"]["content"]["memory"] = node
                data = json.dumps(schema).encode()
            copy.writestr(info, data)
    return target


def test_the_crafted_file_runs_its_command_when_skops_trusts_it(pipelines, tmp_path):
    """The hostile file is real: skops itself, told to trust what the file names, runs the command."""
    import skops.io as sio

    marker = tmp_path / "marker"
    hostile = with_node(pipelines / "logistic_regression.skops", tmp_path / "p.skops",
                        call_node("ConstructorFromReduceNode", "sklearn.utils._testing.check_output", ["touch", str(marker)]))
    sio.load(hostile, trusted=sio.get_untrusted_types(file=hostile))
    assert marker.exists()


@pytest.mark.parametrize("loader", ["ConstructorFromReduceNode", "LossNode"])
def test_a_skops_file_that_would_write_a_marker_is_refused(pipelines, tmp_path, capsys, loader):
    marker = tmp_path / "marker"
    hostile = with_node(pipelines / "logistic_regression.skops", tmp_path / "pipeline.skops",
                        call_node(loader, "sklearn.utils._testing.check_output", ["touch", str(marker)]))
    code, err = run(capsys, "import", hostile, "--out", tmp_path / "out")
    assert_one_line_refusal(code, err, "refused the type 'sklearn.utils._testing.check_output'")
    assert not marker.exists()
    assert_nothing_left(tmp_path / "out")


def test_a_skops_file_that_would_delete_a_file_is_refused(pipelines, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    hostile = with_node(pipelines / "gradient_boosting.skops", tmp_path / "pipeline.skops",
                        call_node("ConstructorFromReduceNode", "sklearn.datasets._olivetti_faces.remove", str(victim)))
    code, err = run(capsys, "import", hostile, "--out", tmp_path / "out")
    assert_one_line_refusal(code, err, "refused the type 'sklearn.datasets._olivetti_faces.remove'")
    assert victim.read_text() == "keep me"
    assert_nothing_left(tmp_path / "out")


@pytest.mark.parametrize("node, named", [
    ({"__class__": "check_output", "__module__": "sklearn.utils._testing", "__loader__": "FunctionNode"},
     "sklearn.utils._testing.check_output"),
    ({"__class__": "check_output", "__module__": "sklearn.utils._testing", "__loader__": "TypeNode"},
     "sklearn.utils._testing.check_output"),
    ({"__class__": "check_output", "__module__": "sklearn.utils._testing", "__loader__": "NdArrayNode", "type": "json",
      "content": [], "shape": text_node([0])}, "sklearn.utils._testing.check_output"),
    ({"__class__": "OrderedDict", "__module__": "collections", "__loader__": "DictNode", "content": {},
      "key_types": {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": []}}, "collections.OrderedDict"),
    ({"__class__": "KNeighborsClassifier", "__module__": "sklearn.neighbors._classification", "__loader__": "ObjectNode"},
     "sklearn.neighbors._classification.KNeighborsClassifier"),
])
def test_any_node_naming_a_type_off_the_list_is_refused(pipelines, tmp_path, capsys, node, named):
    hostile = with_node(pipelines / "logistic_regression.skops", tmp_path / "pipeline.skops", node)
    code, err = run(capsys, "import", hostile, "--out", tmp_path / "out")
    assert_one_line_refusal(code, err, f"refused the type '{named}'")


def test_a_gradient_boosting_tree_pointing_outside_itself_is_refused_not_a_crash(pipelines, tmp_path):
    """Its trees are walked by compiled code without bounds checks: a child index out of the tree is refused."""
    import skops.io as sio

    pipeline = sio.load(pipelines / "gradient_boosting.skops", trusted=sio.get_untrusted_types(file=pipelines / "gradient_boosting.skops"))
    nodes = pipeline.steps[-1][1]._predictors[0][0].nodes
    nodes["left"][np.flatnonzero(nodes["is_leaf"] == 0)[0]] = 10**9
    sio.dump(pipeline, tmp_path / "pipeline.skops")
    done = subprocess.run([*STATICML, "import", tmp_path / "pipeline.skops", "--out", tmp_path / "out"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "a split points outside its tree" in done.stderr


def test_real_pipelines_still_import(pipelines, tmp_path, capsys):
    for name in ("logistic_regression", "gradient_boosting"):
        code, err = run(capsys, "import", pipelines / f"{name}.skops", "--out", tmp_path / name)
        assert code == 0, err
        assert (tmp_path / name / "model.onnx").is_file()


# ---------------------------------------------------------------- zip archives


def zeros_member(path: Path, megabytes: int, name: str = "weights.bin") -> Path:
    """A zip archive holding `megabytes` MB of zeros, written in 1 MB pieces (the test never holds it)."""
    block = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("schema.json", "{}")
        with archive.open(name, "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(block)
    return path


def peak_of_import(path: Path, out: Path) -> tuple[subprocess.CompletedProcess, float]:
    """`staticml import PATH` in a child; its peak resident memory in MB (ru_maxrss of children, KB on Linux)."""
    command = [*STATICML, "import", str(path), "--out", str(out)]
    code = ("import resource, subprocess, sys; "
            f"done = subprocess.run({command!r}, capture_output=True, text=True); sys.stdout.write(done.stderr); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    return done, int(done.stderr.strip().splitlines()[-1]) / 1024


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".skops", ".keras"])
def test_a_2_mb_file_that_unpacks_to_2_gb_is_refused_in_little_memory(tmp_path, suffix):
    bomb = zeros_member(tmp_path / f"model{suffix}", 2048)
    assert bomb.stat().st_size < 3e6
    done, peak_mb = peak_of_import(bomb, tmp_path / "out")
    assert done.returncode == 2 and done.stdout.count("\n") == 1, done.stdout
    assert "refused: the member 'weights.bin' unpacks to 2.1 GB" in done.stdout
    assert peak_mb < 300, peak_mb
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("suffix", [".skops", ".keras"])
def test_a_member_that_inflates_a_thousand_times_is_refused(tmp_path, capsys, suffix):
    bomb = zeros_member(tmp_path / f"model{suffix}", 64)
    code, err = run(capsys, "import", bomb, "--out", tmp_path / "out")
    assert_one_line_refusal(code, err, "times its packed size")
    assert_nothing_left(tmp_path / "out")


@pytest.mark.parametrize("name", ["../../escape.json", "/etc/escape.json", "a/../../escape.json", "C:/escape.json"])
def test_a_member_named_outside_the_archive_is_refused(tmp_path, capsys, name):
    archive = tmp_path / "model.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr(zipfile.ZipInfo(name), "{}")
    code, err = run(capsys, "import", archive, "--out", tmp_path / "out")
    assert_one_line_refusal(code, err, "points outside the archive's folder")


def test_too_many_members_are_refused_before_zipfile_lists_them(tmp_path, capsys, monkeypatch):
    archive = tmp_path / "pipeline.skops"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(archives.MAX_MEMBERS + 1):
            z.writestr(f"{i}.npy", b"")
    listed = []
    monkeypatch.setattr(zipfile.ZipFile, "infolist", lambda self: listed.append(1) or [])
    code, err = run(capsys, "import", archive, "--out", tmp_path / "out")
    assert_one_line_refusal(code, err, f"holds {archives.MAX_MEMBERS + 1:,} members")
    assert listed == []


def test_members_that_together_unpack_past_the_limit_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 3_000_000)
    archive = tmp_path / "pipeline.skops"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(4):
            z.writestr(f"{i}.npy", np.random.default_rng(i).bytes(1_000_000))
    with pytest.raises(UserError, match=r"its members unpack to 4.0 MB \(at most 3.0 MB\)"):
        archives.check_archive(archive)


# ---------------------------------------------------------------- .tflite read in a child process


def damaged_detectors(folder: Path) -> dict[str, Path]:
    """The real face detector cut short, with bytes flipped, and a TFL3 header over random bytes."""
    from face_frames import tflite_model

    good = tflite_model().read_bytes()
    rng = np.random.default_rng(1)
    flipped = bytearray(good)
    for i in rng.integers(8, len(good), 64):
        flipped[i] ^= 0xFF
    files = {"truncated": good[:100_000], "bit-flipped": bytes(flipped), "random": good[:8] + rng.bytes(200_000)}
    for name, data in files.items():
        (folder / f"{name}.tflite").write_bytes(data)
    return {name: folder / f"{name}.tflite" for name in files}


@pytest.mark.slow
@pytest.mark.parametrize("case", ["truncated", "bit-flipped", "random"])
def test_a_damaged_tflite_is_one_line_exit_2_and_nothing_written(tmp_path, case):
    """As a user runs it: a separate process, whose stderr must be exactly the one line (no
    segmentation fault, no TensorFlow or absl log lines)."""
    pytest.importorskip("tf2onnx")
    source = damaged_detectors(tmp_path)[case]
    out = tmp_path / "out"
    done = subprocess.run([*STATICML, "import", source, "--out", out], capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"staticml: error: {source}: "), done.stderr
    assert done.stdout == ""
    assert_nothing_left(out)


def test_a_child_that_crashes_is_one_user_error(tmp_path):
    from staticml.train import isolation

    with pytest.raises(UserError, match=r"^x.tflite: reading it crashed \(SIGSEGV\)"):
        isolation.run_isolated("ctypes:string_at", [0], Path("x.tflite"), "reading it")


def test_a_child_past_its_memory_limit_is_one_user_error():
    from staticml.train import isolation

    with pytest.raises(UserError, match=r"^x.tflite: reading it needed more than 1 GB of memory"):
        isolation.run_isolated("builtins:bytearray", [2 << 30], Path("x.tflite"), "reading it", memory_bytes=1 << 30)


def test_a_child_past_its_time_limit_is_stopped():
    import time

    from staticml.train import isolation

    started = time.monotonic()
    with pytest.raises(UserError, match=r"^x.tflite: reading it took longer than 2 s and was stopped"):
        isolation.run_isolated("time:sleep", [60], Path("x.tflite"), "reading it", seconds=2)
    assert time.monotonic() - started < 20


def test_what_the_child_returns_comes_back():
    from staticml.train import isolation

    assert isolation.run_isolated("json:loads", ['{"a": [1, 2]}'], Path("x"), "reading it") == {"a": [1, 2]}
