"""Issue 22, item 2: no row of the user's data reaches a site unless the user asks. Example inputs come
only from `train --examples FILE` (or the demo's own); the held-out split stays beside the model
folder, unlisted; the check `verify` runs (staticml.leaks) finds a held-out text or record in any
file of a site, and says SKIP, not PASS, when it cannot reach the model folder."""

from __future__ import annotations

import brotli
import gzip
import json
import shutil

import pytest

from cli_tools import assert_nothing_left, assert_one_line_refusal, run
from test_tabular import applicants, write_csv

from staticml import leaks, manifest as manifest_io
from staticml.errors import UserError
from staticml.site import build
from staticml.site_config import model_dirs, read_site
from staticml.train import tabular as train_tabular

WORDS = ["good", "great", "fine", "bad", "awful", "poor", "film", "plot", "actor", "scene", "music", "ending"]


def quiet(_line: str) -> None:
    pass


def every_file(site) -> dict[str, str]:
    """Every file of a site as text, .gz/.br copies decompressed (independent of staticml.leaks)."""
    files = {}
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        elif path.suffix == ".br":
            data = brotli.decompress(data)
        files[str(path.relative_to(site))] = data.decode("utf-8", errors="replace")
    return files


def findings(site, *folders) -> list[dict]:
    """The check verify runs, on this site, given these model folders."""
    models = model_dirs(site, read_site(site))
    return leaks.held_out_findings(site, models, list(folders), set(models))


# ---------------------------------------------------------------- text models


def test_a_default_text_model_publishes_no_held_out_text(tiny_model, site):
    held_out = json.loads((tiny_model / leaks.HELD_OUT_TEXTS).read_text(encoding="utf-8"))
    manifest = manifest_io.read(tiny_model)
    assert len(held_out) == manifest["metrics"]["data"]["test_rows"]
    assert leaks.HELD_OUT_TEXTS not in manifest["files"] and "examples" not in manifest
    files = every_file(site)
    assert not [name for name in files if leaks.HELD_OUT_TEXTS in name]
    # Plain substring search over every file, for every held-out text of 12+ characters.
    long_texts = [t for t in held_out if len(t) >= leaks.MIN_TEXT_CHARS]
    assert len(long_texts) > 0.9 * len(held_out)
    found = [(t, name) for name, content in files.items() for t in long_texts
             if t in content or json.dumps(t)[1:-1] in content]
    assert found == []
    [check] = findings(site, tiny_model)
    assert check["passed"] is True, check
    assert f"{len(long_texts)} held-out texts" in check["figure"]


def test_a_site_whose_manifest_holds_a_held_out_text_fails_the_check(tiny_model, site, tmp_path):
    held_out = json.loads((tiny_model / leaks.HELD_OUT_TEXTS).read_text(encoding="utf-8"))
    leaked = next(t for t in held_out if len(t) > 30 and not t.isascii()) if any(
        len(t) > 30 and not t.isascii() for t in held_out) else next(t for t in held_out if len(t) > 30)
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    site_model = copy / "models" / "sentiment"
    manifest = manifest_io.read(site_model)
    manifest["examples"] = ["A sentence of my own.", leaked]
    (site_model / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")  # \uXXXX escapes, as a JS tool writes
    [check] = findings(copy, tiny_model)
    assert check["passed"] is False, check
    assert check["details"]["found"] == [{"file": "models/sentiment/manifest.json", "text": leaked}]
    assert "1 held-out items published" in check["figure"]


def test_held_out_text_in_any_file_or_compressed_copy_is_found(tiny_model, site, tmp_path):
    held_out = json.loads((tiny_model / leaks.HELD_OUT_TEXTS).read_text(encoding="utf-8"))
    leaked = [t for t in held_out if len(t) > 20][:3]
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    (copy / "about.html").write_text(f"<p>{leaked[0].replace('&', '&amp;').replace('<', '&lt;')}</p>", encoding="utf-8")
    (copy / "assets" / "extra.js.br").write_bytes(brotli.compress(f"const x = {json.dumps(leaked[1])};".encode()))
    # No model folder given, but the held-out file was copied into the site: found, searched for, and itself a leak.
    shutil.copy(tiny_model / leaks.HELD_OUT_TEXTS, copy / "models" / "sentiment")
    [check] = findings(copy)
    assert check["passed"] is False
    found = {(f["file"], f["text"]) for f in check["details"]["found"]}
    assert {("about.html", leaked[0]), ("assets/extra.js.br (decompressed)", leaked[1])} <= found
    holding = check["details"]["files_holding_them"]
    assert holding["about.html"] == 1 and holding[f"models/sentiment/{leaks.HELD_OUT_TEXTS}"] > 1000, holding


def test_the_check_is_skipped_not_passed_without_the_model_folder(site, tmp_path, capsys):
    [check] = findings(site)
    assert check["passed"] is None and "not given" in check["figure"], check
    imported = tmp_path / "imported"
    shutil.copytree(site / "models" / "sentiment", imported)  # a model folder without a held-out split
    [check] = findings(site, imported)
    assert check["passed"] is None and "keeps no held-out split" in check["figure"], check


def test_a_model_folder_the_site_does_not_hold_is_refused(site, tabular_site):
    with pytest.raises(UserError, match="its model 'loans' is not in the site"):
        findings(site, tabular_site[0])


def small_texts(path, rows: int = 90) -> str:
    """A small labeled CSV whose words repeat."""
    lines = ["text,label"]
    for i in range(rows):
        label = "pos" if i % 2 else "neg"
        words = WORDS[:6] if label == "pos" else WORDS[3:]
        lines.append(f"{words[i % 6]} {WORDS[(i * 5) % 12]} {words[(i + 2) % 6]} number {i},{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_train_publishes_only_the_examples_file_and_says_so(tmp_path, capsys):
    data = small_texts(tmp_path / "reviews.csv")
    examples = tmp_path / "examples.txt"
    examples.write_text("What a great film!\n\nThe plot was awful.\n", encoding="utf-8")
    code, err = run(capsys, "train", data, "--text-col", "text", "--label-col", "label", "--epochs", "1",
                    "--examples", examples, "--out", tmp_path / "with")
    assert code == 0, err
    assert f"examples: the page will show 2 examples from {examples}" in err
    assert manifest_io.read(tmp_path / "with")["examples"] == ["What a great film!", "The plot was awful."]

    code, err = run(capsys, "train", data, "--text-col", "text", "--label-col", "label", "--epochs", "1",
                    "--out", tmp_path / "without")
    assert code == 0, err
    assert any(line.startswith("examples: no examples will be published") for line in err), err
    manifest = manifest_io.read(tmp_path / "without")
    assert "examples" not in manifest
    held_out = json.loads((tmp_path / "without" / leaks.HELD_OUT_TEXTS).read_text(encoding="utf-8"))
    assert len(held_out) == manifest["metrics"]["data"]["test_rows"] and leaks.HELD_OUT_TEXTS not in manifest["files"]


def test_examples_as_a_json_list(tmp_path):
    path = tmp_path / "examples.json"
    path.write_text(json.dumps(["first one", " second "]), encoding="utf-8")
    from staticml.train import data

    assert data.read_examples(path) == ["first one", "second"]


@pytest.mark.parametrize("content, says", [
    (None, "no such file"), ("", "no examples in it"), ("[1, 2]", "must be a list of strings"),
    ("[not json", "not a JSON list"), (b"\xff\xfe bad", "cannot read it as UTF-8"),
    ("x" * 1001, "an example of 1001 characters"), ("\n".join(["e"] * 51), "51 examples")])
def test_a_bad_examples_file_is_one_line_and_trains_nothing(tmp_path, capsys, content, says):
    data = small_texts(tmp_path / "reviews.csv")
    examples = tmp_path / "examples.txt"
    if isinstance(content, bytes):
        examples.write_bytes(content)
    elif content is not None:
        examples.write_text(content, encoding="utf-8")
    out = tmp_path / "model"
    code, err = run(capsys, "train", data, "--text-col", "text", "--label-col", "label", "--examples", examples, "--out", out)
    assert_one_line_refusal(code, err, says)
    assert "--examples" in err[0]
    assert_nothing_left(out)


# ---------------------------------------------------------------- tabular models


@pytest.fixture(scope="module")
def tabular_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tabular-privacy")
    data = write_csv(folder / "applicants.csv", applicants())
    lines: list[str] = []
    train_tabular.train(train_tabular.load(data, "Status"), folder / "model", name="loans", report=lines.append)
    build([folder / "model"], folder / "site", report=quiet)
    return folder / "model", folder / "site", lines


def test_a_tabular_site_holds_none_of_the_test_rows(tabular_site):
    model, site, log = tabular_site
    assert any(line.startswith("examples: no rows will be published") for line in log), log
    rows = json.loads((model / leaks.TEST_ROWS).read_text(encoding="utf-8"))
    assert len(rows) >= 50
    files = every_file(site)
    # Independently of staticml.leaks: no file holds a row's JSON (as written or compact), and no JSON
    # document in the site has an object with a row's values under its field names.
    serialised = {json.dumps(r, ensure_ascii=False) for r in rows} | {json.dumps(r, separators=(",", ":")) for r in rows}
    assert [name for name, content in files.items() for s in serialised if s in content] == []
    objects = [o for name, content in files.items() if name.endswith(".json") for o in json_objects(json.loads(content))]
    assert [r for r in rows if any(all(o.get(k) == v for k, v in r.items()) for o in objects)] == []
    # staticml.leaks' token-window check, on every file (the WASM runtime and the model included).
    [check] = findings(site, model)
    assert check["passed"] is True, check
    assert check["details"]["records"] == len(rows) and check["details"]["files"] >= len(files)


def json_objects(value) -> list[dict]:
    if isinstance(value, dict):
        return [value] + [o for v in value.values() for o in json_objects(v)]
    if isinstance(value, list):
        return [o for v in value for o in json_objects(v)]
    return []


@pytest.mark.parametrize("how", ["manifest", "csv line", "reordered object"])
def test_a_site_holding_a_test_row_fails_the_check(tabular_site, tmp_path, how):
    model, site, _ = tabular_site
    row = json.loads((model / leaks.TEST_ROWS).read_text(encoding="utf-8"))[7]
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    if how == "manifest":
        manifest = manifest_io.read(copy / "models" / "loans")
        manifest["metrics"]["sample"] = row
        (copy / "models" / "loans" / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    elif how == "csv line":  # the data file's own line: the label and left-out columns among the values
        values = ["A00007", *["yes" if v is True else "no" if v is False else "" if v is None else str(v) for v in row.values()],
                  "a note", "good"]
        (copy / "sample.csv").write_text("header\n" + ",".join(values) + "\n", encoding="utf-8")
    else:
        (copy / "row.js").write_text("export const row = " + json.dumps(dict(reversed(list(row.items())))) + ";\n")
    [check] = findings(copy, model)
    assert check["passed"] is False, check
    assert check["details"]["found"][0]["record"] == row


def test_records_too_small_to_tell_from_chance_are_counted_not_searched():
    assert leaks.record_tokens({"a": 1, "b": None, "c": True}) == ["1.0", "true"]
    index = leaks.TokenIndex(b'{"x": 1, "y": "Rent", "z": 2.50}\n3,yes', {"1.0", "Rent", "2.5", "3.0", "true"})
    assert index.holds(["1.0", "Rent", "2.5"]) and not index.holds(["1.0", "Rent", "3.5"])
    assert index.holds(["3.0", "true"])
