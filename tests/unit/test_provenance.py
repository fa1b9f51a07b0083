"""Issue 30: licence and model card (train, import, build), signed provenance (keygen, sign, the
checks verify runs), what a site exposes, and fingerprinting copies of a model."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
from cli_tools import assert_one_line_refusal, run, run_output
from onnx import numpy_helper, version_converter
from test_cli import small_csv

from staticml import manifest as manifest_io
from staticml.provenance import fingerprint, signing
from staticml.provenance.site_checks import provenance_checks
from staticml.train import TrainConfig, data, export, train


# ---------------------------------------------------------------- licence and model card


def test_unknown_spdx_id_is_one_line_with_the_nearest_known_ids(tmp_path, capsys):
    code, err = run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars",
                    "--license", "Apache2.0", "--out", tmp_path / "model")
    assert_one_line_refusal(code, err, "--license 'Apache2.0': unknown SPDX licence identifier")
    assert "Apache-2.0" in err[0]  # difflib's nearest
    assert not (tmp_path / "model").exists()  # refused before training


@pytest.mark.parametrize("flag, value, says", [
    ("--source-url", "javascript:alert(1)", "give an http(s) URL"),
    ("--card", "missing.md", "cannot read the model card"),
    ("--author", "a\nb", "one printable line"),
])
def test_bad_terms_are_refused_before_training(tmp_path, capsys, flag, value, says):
    code, err = run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars",
                    flag, value, "--out", tmp_path / "model")
    assert_one_line_refusal(code, err, says)


@pytest.mark.slow  # a training run: ~10 s alone, 30 s on a busy machine
def test_train_records_licence_author_source_and_card(tmp_path, capsys):
    card = tmp_path / "card.md"
    card.write_text("# Reviews model\nTrained on 40 hand-written reviews.\n")
    out = tmp_path / "model"
    code, err = run(capsys, "train", small_csv(tmp_path), "--text-col", "review", "--label-col", "stars", "--epochs", "1",
                    "--license", "apache-2.0 OR mit", "--author", "Ann Owner", "--source-url", "https://example.org/m",
                    "--card", card, "--out", out)
    assert code == 0, err
    m = manifest_io.read(out)
    assert m["provenance"] == {"license": "Apache-2.0 OR MIT", "author": "Ann Owner", "source_url": "https://example.org/m",
                               "license_file": "LICENSE", "card": "MODEL_CARD.md"}
    assert "SPDX-License-Identifier: Apache-2.0 OR MIT" in (out / "LICENSE").read_text()
    assert (out / "MODEL_CARD.md").read_text() == card.read_text()
    assert {"LICENSE", "MODEL_CARD.md"} <= set(m["files"]) and manifest_io.check_integrity(out, m) == []


@pytest.mark.slow
def test_import_keeps_the_licence_a_hugging_face_folder_declares(tmp_path, capsys):
    from tiny_hf import save_tiny

    source = save_tiny(tmp_path / "hf", "bert")
    (source / "README.md").write_text("---\nlanguage: en\nlicense: mit\ntags: [text]\n---\n# A tiny model\n")
    (source / "LICENSE").write_text("MIT License\n\nCopyright (c) 2026 Tiny Corp\n")
    out = tmp_path / "imported"
    code, err = run(capsys, "import", source, "--author", "Tiny Corp", "--out", out)
    assert code == 0, err
    m = manifest_io.read(out)
    assert m["provenance"]["license"] == "MIT" and m["provenance"]["author"] == "Tiny Corp"
    assert (out / "LICENSE").read_text() == (source / "LICENSE").read_text()


def test_build_warns_without_licence_and_ships_the_terms_it_is_given(tiny_model, tmp_path, capsys):
    code, err = run(capsys, "build", tiny_model, "--out", tmp_path / "plain")
    assert code == 0 and any("has no licence" in line for line in err), err
    code, err = run(capsys, "build", tiny_model, "--out", tmp_path / "site", "--license", "CC-BY-4.0", "--author", "Ann")
    assert code == 0 and not any("has no licence" in line for line in err), err
    folder = tmp_path / "site" / "models" / "sentiment"
    m = manifest_io.read(folder)
    assert m["provenance"] == {"license": "CC-BY-4.0", "author": "Ann", "license_file": "LICENSE"}
    assert manifest_io.check_integrity(folder, m) == []
    assert "models/sentiment/LICENSE" in json.loads((tmp_path / "site" / "precache.json").read_text())["files"]
    assert not (tiny_model / "LICENSE").exists()  # the source folder is left as it was


# ---------------------------------------------------------------- signatures


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    root = tmp_path_factory.mktemp("keys")
    return signing.keygen(root / "owner"), signing.keygen(root / "other")


@pytest.fixture(scope="module")
def signed_site(tiny_model, keys, tmp_path_factory):
    from staticml.cli import main

    root = tmp_path_factory.mktemp("signed")
    shutil.copytree(tiny_model, root / "model")
    assert main(["sign", str(root / "model"), "--key", str(keys[0][0]), "--signer", "Ann Owner"]) == 0
    assert main(["build", str(root / "model"), "--out", str(root / "site")]) == 0
    return root / "site"


def site_copy(signed_site, tmp_path):
    shutil.copytree(signed_site, tmp_path / "site")
    return tmp_path / "site" / "models" / "sentiment"


def signature_check(folder, expected_key=None):
    return {c.name: c for c in provenance_checks({"sentiment": folder}, expected_key)}["sentiment: signature"]


def test_keygen_never_overwrites_and_keeps_the_private_key_private(keys, capsys):
    (private, public) = keys[0]
    assert private.stat().st_mode & 0o077 == 0 and b"PUBLIC KEY" in public.read_bytes()
    code, err = run(capsys, "keygen", "--out", private.parent)
    assert_one_line_refusal(code, err, "never overwrites a key")


def test_signed_site_passes_and_names_its_signer(signed_site, keys):
    folder = signed_site / "models" / "sentiment"
    check = signature_check(folder, signing.load_public_key(keys[0][1]))
    assert check.passed is True and "signed by Ann Owner" in check.figure
    assert manifest_io.read(folder)["signature"]["key_id"] in check.figure


def test_signature_by_another_key_fails(signed_site, keys, tmp_path):
    folder = site_copy(signed_site, tmp_path)
    # The site's model as it is, held to the owner's published key: the other key signed it.
    manifest = manifest_io.read(folder)
    resigned = signing.sign(folder, {k: v for k, v in manifest.items() if k != "signature"}, keys[1][0], manifest_io.Fields({}))
    assert signing.check(folder, resigned).status == "signed"  # valid for its own key...
    check = signature_check(folder, signing.load_public_key(keys[0][1]))
    assert check.passed is False and "not the expected key" in check.figure  # ...but not the owner's
    # And a signature made by one key under another's published public key.
    resigned["signature"]["public_key"] = signing.load_public_key(keys[0][1])
    manifest_io.write(folder, resigned)
    assert signature_check(folder).passed is False


def test_tampered_file_under_a_valid_signature_fails(signed_site, tmp_path):
    folder = site_copy(signed_site, tmp_path)
    graph = folder / "model.int8.onnx"
    data_ = bytearray(graph.read_bytes())
    data_[-100] ^= 1
    graph.write_bytes(bytes(data_))
    check = signature_check(folder)
    assert check.passed is False and check.details["status"] == "tampered" and "model.int8.onnx" in check.figure


def test_changed_label_breaks_the_signature(signed_site, tmp_path):
    folder = site_copy(signed_site, tmp_path)
    manifest = manifest_io.read(folder)
    manifest["labels"] = ["positive", "negative"]
    manifest_io.write(folder, manifest)
    check = signature_check(folder)
    assert check.passed is False and check.details["status"] == "invalid"


def test_sign_refuses_a_folder_whose_files_do_not_match(tiny_model, keys, tmp_path, capsys):
    shutil.copytree(tiny_model, tmp_path / "model")
    (tmp_path / "model" / "tokenizer.json").write_text("{}")
    code, err = run(capsys, "sign", tmp_path / "model", "--key", keys[0][0])
    assert_one_line_refusal(code, err, "not match the sha256")
    code, err = run(capsys, "sign", tiny_model, "--key", keys[0][1])
    assert_one_line_refusal(code, err, "not an unencrypted PEM private key")


def test_exposure_lists_what_a_visitor_downloads(signed_site):
    checks = {c.name: c for c in provenance_checks({"sentiment": signed_site / "models" / "sentiment"})}
    shown = checks["sentiment: exposure"].details
    assert "manifest.json" in shown["files"] and "model.onnx" in shown["files"]
    assert shown["weights"]["fp32"]["plain_onnx"] and shown["weights"]["fp32"]["parameters"] > 300_000
    assert 0 < shown["first_visit_bytes"] < shown["bytes"] and shown["signed"] and shown["license"] is None


# ---------------------------------------------------------------- fingerprints


@pytest.fixture(scope="module")
def copies(tiny_model, tmp_path_factory):
    """The tiny model's int8 and q4 variants, a re-saved copy (renamed tensors, opset 20, external
    data), and an unrelated graph of the same shapes."""
    root = tmp_path_factory.mktemp("copies")
    export.quantize_q4(tiny_model / "model.onnx", root / "q4.onnx")
    model = onnx.load(str(tiny_model / "model.onnx"))
    for i, init in enumerate(model.graph.initializer):
        for node in model.graph.node:
            node.input[:] = [f"w{i}" if x == init.name else x for x in node.input]
        init.name = f"w{i}"
    onnx.save(version_converter.convert_version(model, 20), str(root / "resaved.onnx"),
              save_as_external_data=True, location="resaved.data")
    unrelated = onnx.load(str(tiny_model / "model.onnx"))
    rng = np.random.default_rng(0)
    for init in unrelated.graph.initializer:
        values = numpy_helper.to_array(init)
        if values.dtype == np.float32:
            init.CopyFrom(numpy_helper.from_array(rng.normal(size=values.shape).astype(np.float32), init.name))
    onnx.save(unrelated, str(root / "unrelated.onnx"))
    return {"int8": tiny_model / "model.int8.onnx", "q4": root / "q4.onnx", "resaved": root / "resaved.onnx",
            "unrelated": root / "unrelated.onnx"}


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory):
    """The same architecture trained on the same data for as long, from another seed."""
    out = tmp_path_factory.mktemp("seed7") / "sentiment"
    config = TrainConfig(name="sentiment", epochs=2)
    config.seed = 7
    train(data.load_default(keep_labels=["negative", "positive"]), out, config, lambda _: None)
    return out


def assert_fingerprint(capsys, suspect, model, matches: bool, case: str) -> None:
    code, out, err = run_output(capsys, "fingerprint", suspect, model)
    score = fingerprint.compare(suspect, model).score
    print(f"\nfingerprint {case}: {score}")
    assert code == (0 if matches else 1), (out, err)
    assert ("MATCH" in out.splitlines()[0]) == matches and "correlation" in out
    assert score >= 0.98 if matches else score <= 0.1


@pytest.mark.parametrize("case, matches", [("int8", True), ("q4", True), ("resaved", True), ("unrelated", False)])
def test_fingerprint_finds_copies_and_not_an_unrelated_model(tiny_model, copies, case, matches, capsys):
    assert_fingerprint(capsys, copies[case], tiny_model, matches, case)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["model.onnx", "model.int8.onnx"])
def test_fingerprint_tells_apart_the_same_training_from_another_seed(tiny_model, other_seed, variant, capsys):
    assert_fingerprint(capsys, other_seed / variant, tiny_model, False, f"other seed {variant}")


def test_fingerprint_refuses_a_suspect_that_is_not_a_model(tiny_model, tmp_path, capsys):
    suspect = tmp_path / "photo.onnx"
    suspect.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    code, err = run(capsys, "fingerprint", suspect, tiny_model)
    assert_one_line_refusal(code, err, "not an ONNX model")
    code, err = run(capsys, "fingerprint", tmp_path, tiny_model)
    assert_one_line_refusal(code, err, "not a model folder")
    code, err = run(capsys, "fingerprint", tiny_model, tiny_model, "--threshold", "nan")
    assert_one_line_refusal(code, err, "--threshold nan")
