"""`staticml import model.keras|model.h5`: the TensorFlow tutorial's text model, its TextVectorization as
tokenizer.json, the rest as ONNX; parity with Keras on held-out texts of the default corpus; bad input."""

from __future__ import annotations

import functools

import importlib.util
import json
import re
import shutil
import string
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_tools import assert_import_refused

from staticml import cli, parity
from staticml.hard_texts import hard_texts
from staticml import Classifier
from staticml.train.keras_import import read_vocabulary
from staticml.train.tf_standardize import PROBES, Untranslatable, portable_pattern, portable_rewrite

KERAS_TOLERANCE = 1e-5
# A Keras import prints its progress before it finds a problem: the error line is the last one.
assert_keras_refused = functools.partial(assert_import_refused, after_progress=True)


def run_import(*args) -> int:
    return cli.main(["import", *map(str, args)])


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


@pytest.mark.parametrize("re2, portable", [
    ("<br />", "<br \\/>"),
    ("[%s]" % re.escape(string.punctuation), r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]\^_`{|}~]"""),  # the tutorial's: \# \~ unescaped
    (r"\d+|\s|\W", r"[0-9]+|[\t\n\x0c\r ]|[^0-9A-Za-z_]"),  # RE2's ASCII shorthands; its \s has no \v
    ("[[:punct:]]", r"[!-/:-@\[-`{-~]"),
    ("^the|ing$", r"(?<![\s\S])the|ing(?![\s\S])"),  # the text's ends (Oniguruma's ^ $ are line anchors)
    ("a.c", "a[^\\n]c"),
    (r"\x{e9}|\x41|[]a-c]|(?P<x>ab){2,3}?", r"é|A|[\]a-c]|(?:ab){2,3}?"),
])
def test_re2_patterns_are_rewritten_for_oniguruma_and_javascript(re2, portable):
    assert portable_pattern(re2) == portable


@pytest.mark.parametrize("re2, says", [(r"\bword", "\\b has no equivalent"), ("(?i)abc", "flags such as (?i)"),
                                       (r"\pL", "\\p has no equivalent"), ("a*", "can match the empty string"),
                                       ("[[:^alpha:]]", "[:^alpha:] is not supported"), ("[abc", "not closed")])
def test_re2_patterns_without_an_equivalent_are_refused(re2, says):
    with pytest.raises(Untranslatable, match=re.escape(says)):
        portable_pattern(re2)


def test_rewrites_are_literal_text_or_refused():
    assert portable_rewrite(" ") == " " and portable_rewrite(r"a\\b") == "a\\b"
    with pytest.raises(Untranslatable, match="refers to a group"):
        portable_rewrite(r"<\1>")
    with pytest.raises(Untranslatable, match="replaceAll would read"):
        portable_rewrite("$1")


def test_vocabulary_tokens_may_hold_any_but_ascii_whitespace_at_their_ends(tmp_path):
    """TextVectorization splits on ASCII whitespace only: "great\u00a0" is a real token (three of them in a model
    trained on the default tweets); a token starting or ending with an ASCII space or tab is not."""
    path = tmp_path / "vocab.txt"
    path.write_text("\n[UNK]\ngreat\u00a0\nday\n\u3000wide\nx\x1c\n", encoding="utf-8")
    assert read_vocabulary(path) == ["great\u00a0", "day", "\u3000wide", "x\x1c"]
    for bad in ("a\n b\n", "a\nb\t\n"):
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(Exception, match="expected distinct tokens"):
            read_vocabulary(path)


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


@pytest.fixture(scope="module")
def tutorial_export(km, tmp_path_factory) -> Path:
    return km.tutorial_export_model(tmp_path_factory.mktemp("keras-export"))


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
    assert_keras_refused(capsys, tmp_path / "out", source, says="image.keras: not a text classifier: its input is float32 (None, 28, 28, 1)")


@pytest.mark.slow
@with_tensorflow
def test_an_unregistered_standardization_needs_custom_objects(km, tmp_path, capsys):
    source = km.custom_standardization_model(tmp_path / "custom.keras")
    assert_keras_refused(capsys, tmp_path / "out", source, says="unknown function 'custom_standardize', not part of Keras; "
                   "give the module that defines it with --custom-objects module:custom_standardize")
    assert_keras_refused(capsys, tmp_path / "out", source, "--custom-objects", "keras_models:nothing_here",
                   says="keras_models has no nothing_here")
    assert run_import(source, "--custom-objects", "keras_models:custom_standardize", "--out", tmp_path / "out") == 0
    assert Classifier(tmp_path / "out", "fp32").manifest["import"]["standardize"] == "custom:custom_standardize"


@pytest.mark.slow
@with_tensorflow
def test_the_tutorials_model_imports_as_written(km, tutorial_export, tmp_path):
    """TensorFlow's tutorial, verbatim: custom_standardization (registered, so its name resolves in this process),
    Sequential([vectorize_layer, model, Activation('sigmoid')]) in .keras. The translated standardization gives
    TensorFlow's text, the layer's ids and Keras' probabilities (1e-5) on held-out tweets, HTML, punctuation and
    non-ASCII texts."""
    import keras
    from tokenizers import Tokenizer

    from staticml.train.keras_import import keras_probabilities, vectorizer_ids

    assert run_import(tutorial_export, "--out", tmp_path / "tutorial") == 0
    texts = km.corpus()[2][:1000] + hard_texts(100) + PROBES + ["<br />A MOVIE<br /><br />i LOVED!!!", "It's $5.99 (cheap)"]
    model = keras.saving.load_model(str(tutorial_export), compile=False)
    layer = model.layers[0]
    standardized = [v.decode() for v in km.custom_standardization(km.tf.constant(texts)).numpy().tolist()]
    normalizer = Tokenizer.from_file(str(tmp_path / "tutorial" / "tokenizer.json")).normalizer
    same_text = sum(normalizer.normalize_str(t) == s for t, s in zip(texts, standardized))
    classifier = Classifier(tmp_path / "tutorial", "fp32")
    ids = classifier.encoder.ids(texts)
    same_ids = sum(a == b for a, b in zip(ids, vectorizer_ids(layer, texts, km.tf)))
    print(f"\ntranslated standardization: text {same_text}/{len(texts)}, token ids {same_ids}/{len(texts)} identical")
    assert same_text == same_ids == len(texts)
    expected = keras_probabilities(model, "sigmoid", texts, km.tf)
    actual = np.concatenate([classifier.probabilities(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    report = parity.require("tutorial: onnxruntime vs Keras", expected, actual, KERAS_TOLERANCE, texts)
    assert (expected.argmax(1) == actual.argmax(1)).all()
    print(f"tutorial: {report.summary()}")
    section = classifier.manifest["import"]
    assert section["standardize"] == "custom:custom_standardization"
    assert section["standardization_check"]["identical_text"] == section["standardization_check"]["texts"] >= 80


def translation_cases() -> list[tuple[str, str]]:
    return [("<br />", " "), ("[%s]" % re.escape(string.punctuation), ""), (r"\d+", "#"), (r"\s+", "_"),
            (r"\w+", "w"), (r"\W", ""), ("[[:punct:]]", " "), ("^the|ing$", "X"), ("a.c", "?"), ("[^a-z ]", ""),
            ("colou?r", "color"), ("l{2,}", "L"), ("(?P<x>ab)+|c", "-"), (r"\x{e9}|[à-ü]", "e"), (r"http\S+", "URL"),
            (r"@\w+", "@user"), (r"<[^>]+>", " "), (r"\.{3}|…", "."), ("[\u00a0\u3000]", " "), (r"\\", r"\\\\")]


@pytest.mark.slow
@with_tensorflow
def test_translated_ops_give_tensorflows_text(km):
    """Each translation against TensorFlow itself (RE2), on the probe texts: regex_replace with 20 patterns,
    lower, upper and strip."""
    from tokenizers import Regex, normalizers

    from staticml.train.imported_text import probe_texts
    from staticml.train.tf_standardize import ascii_case, strip_ascii_whitespace

    tf = km.tf
    texts = probe_texts(64) + PROBES + ["the thing", "colour color colouur", "hello... wait…", "ab abab c", "élan à la"]
    inputs = tf.constant(texts)

    def agree(tensor, parts) -> list[str]:
        expected = [v.decode() for v in tensor.numpy().tolist()]
        normalizer = normalizers.Sequence(parts)
        return [t for t, want in zip(texts, expected) if normalizer.normalize_str(t) != want]

    for pattern, rewrite in translation_cases():
        replace = normalizers.Replace(Regex(portable_pattern(pattern)), portable_rewrite(rewrite))
        assert agree(tf.strings.regex_replace(inputs, pattern, rewrite), [replace]) == [], pattern
    assert agree(tf.strings.lower(inputs), ascii_case(to_lower=True)) == []
    assert agree(tf.strings.upper(inputs), ascii_case(to_lower=False)) == []
    assert agree(tf.strings.strip(inputs), strip_ascii_whitespace()) == []
    print(f"\n{len(translation_cases()) + 3} translated ops give TensorFlow's text on all {len(texts)} probe texts")


@pytest.mark.slow
@with_tensorflow
@pytest.mark.parametrize("function, says", [
    ("first_three_bytes", "uses TensorFlow op Substr ('Substr'), which has no tokenizer.json normalizer"),
    ("transcoded", "uses TensorFlow op UnicodeTranscode"),
    ("group_rewrite", "TensorFlow op StaticRegexReplace ('StaticRegexReplace'): the rewrite refers to a group"),
    ("unicode_lower", "TensorFlow op StringLower ('StringLower'): encoding='utf-8'"),
])
def test_refuses_a_standardization_it_cannot_translate_naming_the_op(km, tmp_path, capsys, function, says):
    source = km.standardization_model(tmp_path / f"{function}.keras", getattr(km, function))
    assert_keras_refused(capsys, tmp_path / "out", source, "--custom-objects", f"keras_models:{function}",
                   says=f"standardization '{function}': {says}")


def staticml_command() -> str:
    return str(Path(sys.executable).parent / "staticml")


OUR_LINES = re.compile(r"(import: |variant |model folder written: |staticml: error: )")


@pytest.mark.slow
@with_tensorflow
def test_custom_objects_from_the_current_folder_leave_sys_path_as_it_was(tutorial_export, tmp_path):
    """A fresh `staticml import export_model.keras --custom-objects tutorial_standardization:custom_standardization`
    run in a folder that also holds a tf2onnx.py: the user's module imports, the decoy never does (it would write
    a marker), the model imports, and nothing but staticml's own lines reaches stderr (no TensorFlow/absl logs)."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(Path(__file__).parents[1] / "tutorial_standardization.py", work)
    marker = tmp_path / "decoy-imported"
    (work / "tf2onnx.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n", encoding="utf-8")
    done = subprocess.run([staticml_command(), "import", str(tutorial_export), "--custom-objects",
                           "tutorial_standardization:custom_standardization", "--out", "model"],
                          cwd=work, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    lines = done.stderr.strip().splitlines()
    assert [line for line in lines if not OUR_LINES.match(line)] == [], lines
    manifest = json.loads((work / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["import"]["standardize"] == "custom:custom_standardization"


@pytest.mark.slow
@with_tensorflow
def test_a_bad_keras_file_is_one_line_on_stderr(tmp_path):
    """Not a zip archive: refused before TensorFlow loads, the one line names it. A zip archive that Keras cannot
    read: the progress line and the error line, none of TensorFlow's or absl's start-up lines."""
    (tmp_path / "corrupt.keras").write_bytes(b"PK\x03\x04 not a zip archive at all")
    done = subprocess.run([staticml_command(), "import", "corrupt.keras", "--out", "out"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["staticml: error: corrupt.keras: not a Keras archive (a .keras file is a zip "
                                        "archive; this one is corrupt or something else)"]
    with zipfile.ZipFile(tmp_path / "odd.keras", "w") as archive:
        archive.writestr("config.json", '{"class_name": "NoSuchLayer", "config": {}}')
    done = subprocess.run([staticml_command(), "import", "odd.keras", "--out", "out"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("import: odd.keras: loading TensorFlow"), lines
    assert lines[1].startswith("staticml: error: odd.keras: cannot load it with Keras") and "NoSuchLayer" in lines[1]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@with_tensorflow
def test_vocabulary_tokens_ending_in_a_no_break_space_import(km, tmp_path):
    """.h5 + --vocabulary whose tokens end in U+00A0 (or start with U+3000): imported, the layer's ids."""
    paths = km.nbsp_model(tmp_path / "sources")
    assert "great\u00a0" in paths["vocabulary"].read_text(encoding="utf-8").split("\n")
    assert run_import(paths["h5"], "--vocabulary", paths["vocabulary"], "--out", tmp_path / "out") == 0
    texts = ["great\u00a0 day", "hello\u00a0 world\u00a0 again", "great day", "\u00a0lead and\u3000wide", "great\u00a0day"]
    layer = km.keras.layers.TextVectorization(max_tokens=40, output_sequence_length=8,
                                              vocabulary=read_vocabulary(paths["vocabulary"]))
    from staticml.train.keras_import import vectorizer_ids

    expected = vectorizer_ids(layer, texts, km.tf)
    assert Classifier(tmp_path / "out", "fp32").encoder.ids(texts) == expected
    assert 1 not in expected[0] + expected[1]  # the no-break-space tokens are known, not [UNK]


@pytest.mark.slow
@with_tensorflow
def test_refuses_a_layer_the_converter_cannot_handle_naming_it(km, tmp_path, capsys):
    source = km.unconvertible_model(tmp_path / "lgamma.keras")
    assert_keras_refused(capsys, tmp_path / "out", source, "--custom-objects", "keras_models:LogGamma",
                   says="layer 'log_gamma' uses TensorFlow op Lgamma, which tf2onnx cannot convert")


@pytest.mark.slow
@with_tensorflow
@pytest.mark.parametrize("name, content, says", [
    ("broken.keras", b"PK\x03\x04 not a zip archive", "not a Keras archive (a .keras file is a zip archive; this one is corrupt"),
    ("empty.keras", b"", "not a Keras archive"),
    ("no-config.keras", b"PK\x05\x06" + bytes(18), "not a Keras archive (a zip archive without config.json)"),
    ("broken.h5", b"\x89HDF\r\n\x1a\n" + bytes(40), "cannot load it with Keras"),
])
def test_refuses_a_corrupt_file(km, tmp_path, capsys, name, content, says):
    """Named as corrupt, never "File not found" (Keras' own words for a .keras file that is not a zip archive)."""
    (tmp_path / name).write_bytes(content)
    assert_keras_refused(capsys, tmp_path / "out", tmp_path / name, says=f"{name}: {says}")


@pytest.mark.slow
@with_tensorflow
def test_refuses_an_h5_without_its_vocabulary(tutorial, tmp_path, capsys):
    assert_keras_refused(capsys, tmp_path / "out", tutorial["h5"], says="has no vocabulary (an .h5 file does not store it)")
    (tmp_path / "vocab.txt").write_text("a\na\n", encoding="utf-8")
    assert_keras_refused(capsys, tmp_path / "out", tutorial["h5"], "--vocabulary", tmp_path / "vocab.txt",
                   says="expected distinct tokens")


@pytest.mark.slow
@with_tensorflow
def test_refuses_a_model_that_keras_itself_cannot_answer(km, tmp_path, capsys):
    source = km.masked_average_model(tmp_path / "masked.keras")
    assert_keras_refused(capsys, tmp_path / "out", source, says="Keras itself gives no probabilities (NaN) for ''")
