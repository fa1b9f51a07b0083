"""Issue 29: Spark and Ray ship only the variant they score (the default unless asked), with the files
every variant needs, still checked by sha256 where it lands. No engine is started here: the bundle is
what both engines pickle and ship (a Spark broadcast, a Ray actor's constructor argument)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from staticml import engines, tasks
from staticml.errors import UserError


def arrived(bundle: engines.ModelBundle) -> engines.ModelBundle:
    """The bundle as a worker gets it: pickled, sent, unpickled."""
    return pickle.loads(pickle.dumps(bundle))


def test_the_payload_holds_only_the_default_variant(tiny_model):
    manifest = tasks.read_model(tiny_model)
    default = manifest["default_variant"]
    others = [name for v, name in manifest["variants"].items() if v != default]
    assert others, "the tiny model has more than one variant"
    payload = pickle.dumps(engines.ModelBundle.read(tiny_model))
    bundle = pickle.loads(payload)
    assert set(bundle.files) == {manifest["variants"][default], manifest["tokenizer"]["file"]}
    shipped = json.loads(bundle.manifest)
    assert shipped["variants"] == {default: manifest["variants"][default]} and shipped["default_variant"] == default
    assert shipped["files"] == {name: manifest["files"][name] for name in bundle.files}  # the folder's own sha256
    for name in others:  # not in the payload at all, not even under another name
        assert (tiny_model / name).read_bytes()[:4096] not in payload
    assert len(payload) < sum(entry["bytes"] for entry in manifest["files"].values())


def test_a_named_variant_ships_only_that_one_and_scores_as_it_does_locally(tiny_model, tmp_path):
    manifest = tasks.read_model(tiny_model)
    variant = next(v for v in manifest["variants"] if v != manifest["default_variant"])
    bundle = arrived(engines.ModelBundle.read(tiny_model, variant))
    assert manifest["variants"][variant] in bundle.files and len(bundle.files) == 2
    texts = ["I love this, it made my day!", "worst service ever, never again"]
    remote = engines.runner_of(bundle).probabilities(texts)
    local = tasks.open_model(tiny_model, variant, threads=1).probabilities(texts)
    np.testing.assert_allclose(remote, local, atol=1e-6)


def test_an_unknown_variant_is_one_line_naming_the_folder(tiny_model):
    with pytest.raises(UserError, match=r"no variant 'fp16' \(has "):
        engines.ModelBundle.read(tiny_model, "fp16")


def test_the_shipped_variant_is_still_checked_by_sha256_on_arrival(tiny_model, tmp_path):
    bundle = engines.ModelBundle.read(tiny_model)
    model_file = json.loads(bundle.manifest)["variants"][json.loads(bundle.manifest)["default_variant"]]
    changed = engines.ModelBundle(bundle.name, bundle.manifest, {**bundle.files, model_file: bundle.files[model_file] + b"\0"})
    with pytest.raises(UserError, match=f"{model_file} failed its sha256 check on arrival"):
        engines.runner_of(arrived(changed))


def test_a_signed_manifest_ships_without_its_signature(tiny_model, tmp_path):
    """The shipped manifest lists less than the signed one, so the signature would not hold for it."""
    folder = tmp_path / "signed"
    shutil.copytree(tiny_model, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["signature"] = {"algorithm": "Ed25519", "public_key": "k", "key_id": "i", "signer": "s", "value": "v"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert "signature" not in json.loads(engines.ModelBundle.read(folder).manifest)


def test_files_every_variant_needs_travel_with_it(tiny_model):
    bundle = engines.ModelBundle.read(tiny_model)
    assert "tokenizer.json" in bundle.files
    folder = engines.runner_of(arrived(bundle)).model_dir
    assert sorted(p.name for p in Path(folder).iterdir()) == sorted(["manifest.json", *bundle.files])
