"""`staticml import model.keras|model.h5`: the TensorFlow tutorial's text model, its TextVectorization as
tokenizer.json, the rest as ONNX; parity with Keras on held-out texts of the default corpus; bad input."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from staticml import cli, parity
from staticml.hard_texts import hard_texts
from staticml import Classifier

KERAS_TOLERANCE = 1e-5


def run_import(*args) -> int:
    return cli.main(["import", *map(str, args)])


def assert_refused(capsys, out: Path, *args, says: str) -> None:
    """Exit 2, one error line on stderr (after any progress lines) that says what is wrong, nothing left behind."""
    capsys.readouterr()
    assert run_import(*args, "--out", out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert [line for line in err if line.startswith("staticml: error:")] == err[-1:] and "Traceback" not in str(err), err
    assert says in err[-1], err[-1]
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []


def test_without_tensorflow_the_import_says_what_to_install(tmp_path):
    """TensorFlow missing (blocked in a fresh process): one line naming the extra, exit 2, no folder."""
    source = tmp_path / "model.keras"
    source.write_bytes(b"PK\x05\x06" + bytes(18))
    code = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; "
            "from staticml import cli; sys.exit(cli.main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "import", str(source), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [f"staticml: error: {source}: importing a Keras model needs TensorFlow "
                                                "(pip install staticml[keras])"]
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- with TensorFlow (slow: it imports in ~15 s)

# Not pytest.importorskip: importing tf2onnx imports TensorFlow, which would slow the quick lane's collection.
with_tensorflow = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ("tensorflow", "keras", "tf2onnx")),
                                     reason="needs the keras extra (pip install staticml[keras])")


@pytest.fixture(scope="module")
def km():
    import keras_models

    return keras_models


@pytest.fixture(scope="module")
def tutorial(km, tmp_path_factory) -> dict[str, Path]:
    return km.tutorial_model(tmp_path_factory.mktemp("keras"))


@pytest.fixture(scope="module")
def imported(tutorial, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keras-imported")
    started = time.perf_counter()
    assert run_import(tutorial["keras"], "--out", root / "from-keras") == 0
    print(f"\nimport .keras: {time.perf_counter() - started:.1f} s wall")
    assert run_import(tutorial["h5"], "--vocabulary", tutorial["vocabulary"], "--out", root / "from-h5") == 0
    return {"keras": root / "from-keras", "h5": root / "from-h5"}


def keras_reference(km, path: Path, texts: list[str]) -> tuple[np.ndarray, list[list[int]]]:
    """Keras' own probabilities and TextVectorization's ids, from the saved file."""
    import keras

    from staticml.train.keras_import import keras_probabilities, vectorizer_ids

    model = keras.saving.load_model(str(path), compile=False)
    layer = next(layer for layer in model.layers if isinstance(layer, keras.layers.TextVectorization))
    return keras_probabilities(model, "sigmoid", texts, km.tf), vectorizer_ids(layer, texts, km.tf)


@pytest.mark.slow
@with_tensorflow
@pytest.mark.parametrize("source", ["keras", "h5"])
def test_import_matches_keras_on_held_out_texts(km, tutorial, imported, source):
    """>= 1000 held-out texts: the same token ids as TextVectorization, probabilities within 1e-5, the same labels."""
    _, _, texts, _ = km.corpus()
    texts = texts + ["", "   ", "WORD " * 400, "Ünïcödé ÉCOLE Σίσυφος", "a\u00a0b c\u3000d e\x0bf", "don't!!! #tag @user"]
    expected, ids = keras_reference(km, tutorial["keras"], texts)
    classifier = Classifier(imported[source], "fp32")
    assert classifier.labels == ["negative", "positive"]
    assert classifier.encoder.ids(texts) == ids
    in_onnx = np.concatenate([classifier.probabilities(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    report = parity.require(f"{source}: onnxruntime vs Keras", expected, in_onnx, KERAS_TOLERANCE, texts)
    assert (expected.argmax(1) == in_onnx.argmax(1)).all()
    print(f"\n{source}: {report.summary()}")


@pytest.mark.slow
@with_tensorflow
def test_tokenizer_json_alone_gives_text_vectorization_output(km, tutorial, imported):
    """Read on its own (its truncation and padding on), tokenizer.json gives the layer's padded rows."""
    import keras
    from tokenizers import Tokenizer

    texts = km.corpus()[2][:200] + ["", "WORD " * 400]
    model = keras.saving.load_model(str(tutorial["keras"]), compile=False)
    rows = model.layers[0](km.tf.constant(texts)).numpy().tolist()
    tokenizer = Tokenizer.from_file(str(imported["keras"] / "tokenizer.json"))
    assert [e.ids for e in tokenizer.encode_batch(texts)] == rows


@pytest.mark.slow
@with_tensorflow
def test_manifest_records_the_keras_source_and_its_check(km, imported):
    manifest = Classifier(imported["keras"], "fp32").manifest
    assert manifest["max_length"] == km.SEQUENCE and manifest["arch"] == "imported-keras"
    section = manifest["import"]
    assert section["kind"] == "keras" and section["sequence_length"] == km.SEQUENCE
    assert section["vocabulary_size"] == km.MAX_TOKENS
    assert section["onnx_vs_keras"]["max_abs_diff_probability"] <= KERAS_TOLERANCE
    assert set(manifest["variants"]) == {"fp32", "int8"}


@pytest.mark.slow
@with_tensorflow
def test_batch_padding_does_not_change_a_text(imported):
    """The graph pads to output_sequence_length itself: a text scores the same alone and in a batch of longer ones."""
    classifier = Classifier(imported["keras"], "fp32")
    texts = ["good", "word " * 300] + hard_texts(20)
    alone = np.concatenate([classifier.probabilities([t]) for t in texts])
    np.testing.assert_allclose(classifier.probabilities(texts), alone, atol=1e-6)


@pytest.mark.slow
@with_tensorflow
def test_the_tutorial_export_and_its_ids_model_in_h5_import_alike(km, tmp_path):
    """Sequential([vectorize_layer, model, Activation('sigmoid')]) as .keras, and `model` (on ids, logits) as .h5
    with --vocabulary: both give the export's probabilities."""
    import keras

    from staticml.train.keras_import import keras_probabilities

    paths = km.exported_tutorial_model(tmp_path / "sources")
    assert run_import(paths["keras"], "--out", tmp_path / "export") == 0
    assert run_import(paths["h5"], "--vocabulary", paths["vocabulary"], "--out", tmp_path / "ids") == 0
    texts = km.corpus()[2][:300] + hard_texts(40)
    expected = keras_probabilities(keras.saving.load_model(str(paths["keras"]), compile=False), "sigmoid", texts, km.tf)
    for folder in ("export", "ids"):
        actual = Classifier(tmp_path / folder, "fp32").probabilities(texts)
        parity.require(f"{folder}: onnxruntime vs Keras", expected, actual, KERAS_TOLERANCE, texts)


@pytest.mark.slow
@with_tensorflow
@pytest.mark.parametrize("make, labels, output", [
    ("nested_model", None, "sigmoid"),
    ("softmax_model", "negative,neutral,positive", "softmax"),
])
def test_other_heads_import_with_parity(km, tmp_path, capsys, make, labels, output):
    """A sigmoid inside a nested Sequential, and three labels with softmax."""
    import keras

    from staticml.train.keras_import import keras_probabilities

    source = getattr(km, make)(tmp_path / "model.keras")
    assert run_import(source, *(["--labels", labels] if labels else []), "--out", tmp_path / "out") == 0
    texts = km.corpus(tuple(labels.split(",")) if labels else ("negative", "positive"))[2][:300]
    expected = keras_probabilities(keras.saving.load_model(str(source), compile=False), output, texts, km.tf)
    actual = Classifier(tmp_path / "out", "fp32").probabilities(texts)
    parity.require(f"{make}: onnxruntime vs Keras", expected, actual, KERAS_TOLERANCE, texts)


@pytest.mark.slow
@with_tensorflow
def test_refuses_a_model_that_is_not_a_text_classifier(km, tmp_path, capsys):
    source = km.image_model(tmp_path / "image.keras")
    assert_refused(capsys, tmp_path / "out", source, says="image.keras: not a text classifier: its input is float32 (None, 28, 28, 1)")


@pytest.mark.slow
@with_tensorflow
def test_refuses_an_unknown_custom_object_and_a_custom_standardization(km, tmp_path, capsys):
    source = km.custom_standardization_model(tmp_path / "custom.keras")
    assert_refused(capsys, tmp_path / "out", source, says="unknown function 'custom_standardize', not part of Keras; "
                   "give the module that defines it with --custom-objects module:custom_standardize")
    assert_refused(capsys, tmp_path / "out", source, "--custom-objects", "keras_models:custom_standardize",
                   says="a custom standardization function cannot be reproduced in tokenizer.json")
    assert_refused(capsys, tmp_path / "out", source, "--custom-objects", "keras_models:nothing_here",
                   says="keras_models has no nothing_here")


@pytest.mark.slow
@with_tensorflow
def test_refuses_a_layer_the_converter_cannot_handle_naming_it(km, tmp_path, capsys):
    source = km.unconvertible_model(tmp_path / "lgamma.keras")
    assert_refused(capsys, tmp_path / "out", source, "--custom-objects", "keras_models:LogGamma",
                   says="layer 'log_gamma' uses TensorFlow op Lgamma, which tf2onnx cannot convert")


@pytest.mark.slow
@with_tensorflow
@pytest.mark.parametrize("name, content", [("broken.keras", b"PK\x03\x04 not a zip archive"),
                                           ("broken.h5", b"\x89HDF\r\n\x1a\n" + bytes(40)), ("empty.keras", b"")])
def test_refuses_a_corrupt_file(km, tmp_path, capsys, name, content):
    (tmp_path / name).write_bytes(content)
    assert_refused(capsys, tmp_path / "out", tmp_path / name, says=f"{name}: cannot load it with Keras")


@pytest.mark.slow
@with_tensorflow
def test_refuses_an_h5_without_its_vocabulary(tutorial, tmp_path, capsys):
    assert_refused(capsys, tmp_path / "out", tutorial["h5"], says="has no vocabulary (an .h5 file does not store it)")
    (tmp_path / "vocab.txt").write_text("a\na\n", encoding="utf-8")
    assert_refused(capsys, tmp_path / "out", tutorial["h5"], "--vocabulary", tmp_path / "vocab.txt",
                   says="expected distinct tokens")


@pytest.mark.slow
@with_tensorflow
def test_refuses_a_model_that_keras_itself_cannot_answer(km, tmp_path, capsys):
    source = km.masked_average_model(tmp_path / "masked.keras")
    assert_refused(capsys, tmp_path / "out", source, says="Keras itself gives no probabilities (NaN) for ''")
