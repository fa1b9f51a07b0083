"""Property (issue 10): random bytes, random CSV/TSV/JSONL/Parquet structures, random model sources and
random manifests given to `train`, `import` and `build` end in exit 0 or 2 — never a traceback — with
one error line, nothing half-written, and no file outside the temp folder touched.

The CLI runs in-process (`main()` returns the exit code) with the temp folder as the working
directory; a sentinel folder beside it (and the temp folder's parent entries) must be byte-for-byte
and mtime-for-mtime unchanged afterwards. Some `--out` values aim outside on purpose ("..",
"../sentinel", "."): they must be refused, never written.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticml.cli import main

pytestmark = pytest.mark.filterwarnings("ignore")  # sklearn/torch warnings about tiny data are not the point

EXAMPLES = {"train": 40, "import": 40, "build": 30}
# The quick lane replays the same pseudo-random inputs every run (a run that trains costs seconds,
# so a free search could cost a few seconds or a minute); STATICML_RANDOM_EXAMPLES=500 searches
# afresh with that many inputs per command.
SEARCH = int(os.environ.get("STATICML_RANDOM_EXAMPLES", "0"))


def fuzz(command: str):
    return settings(max_examples=SEARCH or EXAMPLES[command], derandomize=not SEARCH, deadline=None, database=None,
                    print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                            HealthCheck.large_base_example])


# ---------------------------------------------------------------- the harness


def snapshot(root: Path, skip: Path) -> dict:
    """Every entry under `root` except `skip`'s subtree: kind, mtime and content."""
    seen = {".": ("dir", root.stat().st_mtime_ns, None)}
    for path in sorted(root.rglob("*")):
        if path == skip or skip in path.parents:
            continue
        stat = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        content = os.readlink(path) if kind == "link" else path.read_bytes() if kind == "file" else None
        seen[str(path.relative_to(root))] = (kind, stat.st_mtime_ns, content)
    return seen


@contextlib.contextmanager
def sandbox():
    """A fresh temp folder as the working directory, with a sentinel folder beside it."""
    base = Path(tempfile.mkdtemp(prefix="staticml-random-")).resolve()
    work, sentinel = base / "work", base / "sentinel"
    work.mkdir()
    (sentinel / "sub").mkdir(parents=True)
    (sentinel / "notes.txt").write_text("not written by staticml\n")
    (sentinel / "sub" / "data.csv").write_text("t,l\nkeep me,a\n")
    before = snapshot(base, skip=work)
    previous = os.getcwd()
    os.chdir(work)
    try:
        yield work
    finally:
        os.chdir(previous)
        after = snapshot(base, skip=work)
        shutil.rmtree(base, ignore_errors=True)
    assert after == before, "a file outside the temp folder was touched"


STATS: dict[str, list] = {}


def run_cli(command: str, argv: list[str], work: Path, inputs: set[str]) -> int:
    err = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)  # raising (a traceback) fails the property
    lines = err.getvalue().strip().splitlines()
    STATS.setdefault(command, []).append((code, time.perf_counter() - started))
    assert code in (0, 2), (argv, lines[-5:])
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert lines and lines[-1].startswith("staticml") and ": error: " in lines[-1], lines[-3:]
        left = {p.name for p in work.iterdir()} - inputs
        assert not left, f"exit 2 left {left} behind"  # nothing half-written (and no temp folder)
    return code


def report_stats():
    for command, runs in sorted(STATS.items()):
        seconds = sum(s for _, s in runs)
        print(f"\n{command}: {len(runs)} inputs, exit 0: {sum(c == 0 for c, _ in runs)}, "
              f"exit 2: {sum(c == 2 for c, _ in runs)}, {seconds:.1f} s in the CLI")


@pytest.fixture(scope="module", autouse=True)
def _print_stats():
    yield
    report_stats()


OUTS = ["out", "nested/deeper/out", ".", "..", "../sentinel", "../sentinel/sub", "INPUT"]


def out_value(draw, input_name: str) -> str:
    """Mostly a fresh folder; else one that must be refused (outside, the cwd, the input itself)."""
    out = draw(st.sampled_from(OUTS[:2]) if draw(st.integers(0, 3)) else st.sampled_from(OUTS))
    return input_name if out == "INPUT" else out


# ---------------------------------------------------------------- data strategies

WORDS = ["good", "bad", "great", "awful", "not", "very", "12", "007", "é", "😀", "a", "", " ", ",", '"', "\n",
         "\r", "\t", "\\", "nan", "None", "\x00", "\ufeff"]
cells = st.one_of(st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join), st.text(max_size=12))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8)
deep = st.integers(500, 60_000).map(lambda n: "[" * n + "]" * n)
huge_number = st.integers(4_400, 6_000).map(lambda n: "7" * n)


@st.composite
def plausible_rows(draw):
    """Real words and a few labels: sometimes enough to train (in well under a second)."""
    n = draw(st.integers(0, 40))
    texts = [" ".join(draw(st.lists(st.sampled_from(["good", "bad", "great", "awful", "fine", "day", "food"]),
                                    min_size=1, max_size=4))) + f" {i}" for i in range(n)]
    labels = [draw(st.sampled_from(["pos", "neg", "meh"])) for _ in range(n)]
    return [["t", "l"]] + [list(row) for row in zip(texts, labels)]


@st.composite
def random_rows(draw):
    header = draw(st.lists(st.sampled_from(["t", "l", "x", "", "t ", "T"]) | st.text(max_size=4), max_size=4))
    if draw(st.booleans()):
        header = ["t", "l"] + header
    rows = draw(st.lists(st.lists(cells, max_size=len(header) + 1), max_size=25))
    return [header] + rows


@st.composite
def delimited(draw, delimiter: str) -> bytes:
    # Plausible rows a quarter of the time: a run that trains costs seconds (the ONNX export).
    rows = draw(st.one_of(random_rows(), random_rows(), random_rows(), plausible_rows()))
    if draw(st.booleans()):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter).writerows(rows)
        text = buffer.getvalue()
    else:  # no quoting at all: stray quotes, delimiters and newlines inside cells
        text = "".join(delimiter.join(row) + "\n" for row in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]))
    raw = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 3)) == 0:  # a few broken bytes somewhere
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=6)) + raw[at:]
    return raw


@st.composite
def jsonl(draw) -> bytes:
    def line():
        return st.one_of(
            st.fixed_dictionaries({"t": cells, "l": st.sampled_from(["pos", "neg", "meh"])}).map(json.dumps),
            st.fixed_dictionaries({}, optional={"t": json_values, "l": json_values, "x": json_values}).map(json.dumps),
            json_values.map(json.dumps),
            deep.map(lambda d: '{"t": %s, "l": "pos"}' % d),
            huge_number.map(lambda n: '{"t": "a text", "l": %s}' % n),
            st.text(max_size=20),
        )
    lines = draw(st.lists(line(), max_size=30))
    return ("\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))).encode("utf-8", errors="surrogatepass")


COLUMN_TYPES = {
    "string": (cells, pa.string()),
    "int": (st.integers(-3, 3), pa.int64()),
    "float": (st.floats(allow_nan=True, allow_infinity=True), pa.float64()),
    "binary": (st.binary(max_size=8), pa.binary()),
    "list": (st.lists(st.text(max_size=4), max_size=2), pa.list_(pa.string())),
    "bool": (st.booleans(), pa.bool_()),
}


@st.composite
def parquet(draw) -> bytes:
    n = draw(st.integers(0, 30))
    columns = {}
    for name in draw(st.lists(st.sampled_from(["t", "l", "x"]), unique=True, max_size=3)):
        values, kind = COLUMN_TYPES[draw(st.sampled_from(sorted(COLUMN_TYPES)))]
        columns[name] = pa.array(draw(st.lists(st.none() | values, min_size=n, max_size=n)), type=kind)
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns) if columns else pa.table({"x": pa.array([], pa.int64())}), buffer)
    raw = buffer.getvalue()
    if draw(st.integers(0, 4)) == 0:  # truncated or flipped: a file pyarrow cannot read
        raw = raw[:draw(st.integers(0, len(raw)))]
    return raw


@st.composite
def training_input(draw) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["bytes", "csv", "csv", "tsv", "jsonl", "parquet"]))
    if kind == "bytes":
        return draw(st.sampled_from(["d.csv", "d.tsv", "d.jsonl", "d.ndjson", "d.parquet", "d.txt"])), \
            draw(st.binary(max_size=3000))
    content = {"csv": delimited(","), "tsv": delimited("\t"), "jsonl": jsonl(), "parquet": parquet()}[kind]
    return f"d.{kind}", draw(content)


@st.composite
def train_argv(draw):
    name, content = draw(training_input())
    argv = ["train", name, "--text-col", draw(st.sampled_from(["t", "t", "t", "x"])), "--label-col", "l",
            "--out", out_value(draw, name), "--epochs", "0.01"]
    labels = draw(st.sampled_from([None, "pos,neg", "x,y", "pos", "pos,pos"]) if draw(st.integers(0, 3)) == 0 else st.none())
    return argv + (["--labels", labels] if labels else []), {name: content}


@fuzz("train")
@given(case=train_argv())
def test_train_on_random_data_exits_0_or_2(case):
    argv, files = case
    with sandbox() as work:
        for name, content in files.items():
            (work / name).write_bytes(content)
        run_cli("train", argv, work, set(files))


# ---------------------------------------------------------------- import


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> dict[str, bytes]:
    """Valid pieces to mix with broken ones: ONNX graphs and a tokenizer.json."""
    from tiny_hf import toy_onnx

    from staticml.hard_texts import hard_texts
    from staticml.tokenize import train_tokenizer

    folder = tmp_path_factory.mktemp("parts")
    train_tokenizer(hard_texts(200), vocab_size=300).save(str(folder / "tokenizer.json"))
    pieces = {"tokenizer": (folder / "tokenizer.json").read_bytes()}
    for name, options in {"logits2": {"width": 2, "output": "logits"}, "scores3": {"width": 3},
                          "token_types": {"width": 2, "extra": ("token_type_ids",)},
                          "extra_input": {"width": 2, "extra": ("position_ids",)}}.items():
        pieces[name] = toy_onnx(folder / f"{name}.onnx", **options).read_bytes()
    with sandbox() as work:  # an import that succeeds touches nothing outside either
        (work / "src").mkdir()
        for name, content in {"model.onnx": pieces["scores3"], "tokenizer.json": pieces["tokenizer"],
                              "labels.txt": b"neg\nmeh\npos\n"}.items():
            (work / "src" / name).write_bytes(content)
        assert run_cli("import (fixture)", ["import", "src", "--out", "a/b/m"], work, {"src"}) == 0
    return pieces


small_ints = st.integers(-3, 700)  # model sizes stay small: a huge max_position_embeddings would allocate
config_values = st.one_of(small_ints, st.floats(), st.text(max_size=6), st.none(), st.booleans(),
                          st.lists(small_ints, max_size=2))
id2labels = st.one_of(
    st.dictionaries(st.sampled_from(["0", "1", "2", "-1", "01", "a", " 1"]), st.sampled_from(["neg", "pos", ""]) | json_values,
                    max_size=3),
    json_values)


@st.composite
def config_json(draw) -> bytes:
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return draw(st.binary(max_size=200))
    if choice == 1:
        return ('{"id2label": %s}' % draw(deep)).encode()
    keys = {"model_type": st.sampled_from(["bert", "distilbert", "roberta", "gpt2", ""]) | config_values,
            "id2label": id2labels, "label2id": json_values, "max_position_embeddings": config_values,
            "pad_token_id": config_values, "num_labels": config_values, "problem_type": config_values}
    return json.dumps(draw(st.fixed_dictionaries({}, optional=keys))).encode()


def labels_file(draw) -> dict[str, bytes]:
    choice = draw(st.sampled_from(["none", "txt", "json", "json-deep"]))
    if choice == "txt":
        return {"labels.txt": draw(st.binary(max_size=40) | st.sampled_from([b"neg\npos\n", b"a\nb\nc\n", b"a\na\n"]))}
    if choice == "json":
        return {"labels.json": draw(json_values.map(json.dumps) | st.just('["neg", "pos"]')).encode()}
    if choice == "json-deep":
        return {"labels.json": draw(deep).encode()}
    return {}


@st.composite
def import_case(draw, parts: dict[str, bytes]):
    files: dict[str, bytes] = {}
    hugging_face = draw(st.integers(0, 3)) == 0
    if hugging_face:
        weights = draw(st.sampled_from(["model.safetensors", "pytorch_model.bin", "model.safetensors.index.json"]))
        files[weights] = draw(st.binary(max_size=64) | json_values.map(json.dumps).map(str.encode))
        files["config.json"] = draw(config_json())
    else:
        graph = draw(st.sampled_from(["logits2", "logits2", "scores3", "token_types", "extra_input", "bytes", "cut"]))
        files["model.onnx"] = draw(st.binary(max_size=300)) if graph == "bytes" else \
            parts["logits2"][:draw(st.integers(0, len(parts["logits2"])))] if graph == "cut" else parts[graph]
        if draw(st.booleans()):
            files["config.json"] = draw(config_json())
        files.update(labels_file(draw))
    tokenizer = draw(st.sampled_from(["valid", "valid", "bytes", "json", "none"]))
    if tokenizer != "none":
        files["tokenizer.json"] = parts["tokenizer"] if tokenizer == "valid" else draw(st.binary(max_size=80)) \
            if tokenizer == "bytes" else json.dumps(draw(json_values)).encode()
    if draw(st.integers(0, 3)) == 0:
        files["tokenizer_config.json"] = json.dumps({"model_max_length": draw(config_values | st.just(1e30))}).encode()
    source = "src/model.onnx" if not hugging_face and draw(st.booleans()) else "src"
    outs = ["out", "nested/out", ".", "..", "../sentinel", "src"]
    argv = ["import", source, "--out", draw(st.sampled_from(outs[:2]) if draw(st.integers(0, 3)) else st.sampled_from(outs))]
    for flag, values in (("--labels", ["neg,pos", "a,b,c", "src/labels.txt", "a", "missing.json"]),
                         ("--max-length", ["0", "3", "16", "100000"]),
                         ("--tokenizer", ["src/tokenizer.json", "missing.json", "src/config.json"])):
        value = draw(st.sampled_from(values) if draw(st.integers(0, 2)) == 0 else st.none())
        if value is not None:
            argv += [flag, value]
    return argv, files


@fuzz("import")
@given(data=st.data())
def test_import_of_random_sources_exits_0_or_2(parts, data):
    argv, files = data.draw(import_case(parts))
    with sandbox() as work:
        (work / "src").mkdir()
        for name, content in files.items():
            (work / "src" / name).write_bytes(content)
        run_cli("import", argv, work, {"src"})


# ---------------------------------------------------------------- build


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    """One small model folder, trained in a sandbox like the examples (a run that succeeds touches
    nothing outside either); each build example gets a copy with a random manifest."""
    rows = [(f"{w} {i}", label) for i in range(3) for w, label in
            [("love it", "pos"), ("great stuff", "pos"), ("so happy", "pos"), ("best day", "pos"),
             ("hate it", "neg"), ("awful stuff", "neg"), ("so sad", "neg"), ("worst day", "neg")]]
    kept = tmp_path_factory.mktemp("model") / "m"
    with sandbox() as work:
        (work / "d.csv").write_text("t,l\n" + "".join(f"{t},{label}\n" for t, label in rows))
        argv = ["train", "d.csv", "--text-col", "t", "--label-col", "l", "--out", "a/b/m", "--epochs", "0.01"]
        assert run_cli("train (fixture)", argv, work, {"d.csv"}) == 0
        assert run_cli("build (fixture)", ["build", "a/b/m", "--out", "site"], work, {"d.csv", "a"}) == 0
        shutil.copytree(work / "a" / "b" / "m", kept)
    return kept


FILE_NAMES = ["model.onnx", "model.int8.onnx", "tokenizer.json", "manifest.json", "../outside.onnx",
              "/etc/passwd", "", ".", "sub/model.onnx", "..", "model.onnx\x00", "C:\\model.onnx"]


@st.composite
def manifest_text(draw, good: dict) -> bytes:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.binary(max_size=200))
    if choice == 1:
        return draw(deep | huge_number.map(lambda n: '{"name": %s}' % n)).encode()
    if choice == 2:
        return json.dumps(draw(json_values)).encode()
    manifest = json.loads(json.dumps(good))
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(sorted(manifest) + ["variants.fp32", "files.name", "tokenizer.file",
                                                         "tokenizer.prefix_ids", "labels.0"]))
        value = draw(json_values | st.sampled_from(FILE_NAMES) | st.just("__delete__"))
        target, key = manifest, field
        if "." in field:
            head, key = field.split(".")
            target = manifest.get(head)
            if not isinstance(target, (dict, list)):
                continue
            if isinstance(target, list):
                key = 0
                if not target:
                    continue
            elif key == "name":  # a file entry under a random name
                target[draw(st.sampled_from(FILE_NAMES))] = value
                continue
        if value == "__delete__":
            if isinstance(target, dict):
                target.pop(key, None)
        else:
            target[key] = value
    return json.dumps(manifest).encode()


@fuzz("build")
@given(data=st.data())
def test_build_of_random_manifests_exits_0_or_2(model_folder, data):
    good = json.loads((model_folder / "manifest.json").read_text())
    text = data.draw(manifest_text(good))
    outs = ["site", "nested/site", ".", "..", "../sentinel", "m"]
    out = data.draw(st.sampled_from(outs[:2]) if data.draw(st.integers(0, 3)) else st.sampled_from(outs))
    with sandbox() as work:
        shutil.copytree(model_folder, work / "m")
        (work / "m" / "manifest.json").write_bytes(text)
        run_cli("build", ["build", "m", "--out", out], work, {"m"})


def test_build_refuses_a_number_too_long_to_read(model_folder):
    with sandbox() as work:
        shutil.copytree(model_folder, work / "m")
        (work / "m" / "manifest.json").write_text('{"name": %s}' % ("7" * 5000))
        assert run_cli("build", ["build", "m", "--out", "site"], work, {"m"}) == 2
