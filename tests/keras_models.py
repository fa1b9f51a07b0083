"""Keras models made in the test (TensorFlow's text-classification tutorial and bad inputs), saved locally:
inputs for `staticml import`. Importing this module imports TensorFlow (~15 s here)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from staticml.train import data  # noqa: E402
from staticml.train.keras_import import write_vocabulary  # noqa: E402
from tutorial_standardization import custom_standardization  # noqa: E402

# The tutorial's sizes (https://www.tensorflow.org/tutorials/keras/text_classification) but 64 tokens, not 250: a
# tweet's few embeddings averaged with 240 padding ones learned nothing in 20 epochs (68% = the majority label);
# with 64 and Adam(1e-2) it reaches 84% on the held-out texts in 5 epochs.
MAX_TOKENS, SEQUENCE, EMBEDDING = 10000, 64, 16
TRAIN, HELD_OUT = 6000, 1200
PACKAGE = "staticml_test"


def corpus(labels: tuple[str, ...] = ("negative", "positive")) -> tuple[list[str], list[str], list[str], list[str]]:
    """(training texts, their labels, held-out texts, their labels) from the default corpus, shuffled once."""
    dataset = data.load_default(keep_labels=list(labels))
    order = np.random.default_rng(0).permutation(len(dataset.texts))
    texts, names = [dataset.texts[i] for i in order], [dataset.labels[i] for i in order]
    return texts[:TRAIN], names[:TRAIN], texts[TRAIN:TRAIN + HELD_OUT], names[TRAIN:TRAIN + HELD_OUT]


def vectorizer(texts: list[str], **options) -> keras.layers.TextVectorization:
    layer = keras.layers.TextVectorization(max_tokens=MAX_TOKENS, output_sequence_length=SEQUENCE, **options)
    layer.adapt(tf.constant(texts))
    return layer


def tutorial_body(outputs: int = 1, activation: str | None = "sigmoid") -> list:
    return [keras.layers.Embedding(MAX_TOKENS, EMBEDDING), keras.layers.Dropout(0.2), keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dropout(0.2), keras.layers.Dense(outputs, activation=activation)]


def fit(model: keras.Model, texts: list[str], targets: np.ndarray, loss, epochs: int = 5) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    model.fit(tf.constant(texts), targets, epochs=epochs, batch_size=64, verbose=0)
    return model


def tutorial_model(folder: Path) -> dict[str, Path]:
    """The tutorial's model with its TextVectorization, trained a few epochs; saved as .keras and as .h5
    (Keras 3 writes the .h5 without the vocabulary: vocab.txt keeps it, as get_vocabulary() gives it)."""
    keras.utils.set_random_seed(0)
    texts, labels, _, _ = corpus()
    layer = vectorizer(texts)
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, *tutorial_body()])
    fit(model, texts, np.array([[label == "positive"] for label in labels], dtype="float32"), "binary_crossentropy")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"keras": folder / "tutorial.keras", "h5": folder / "tutorial.h5", "vocabulary": folder / "vocab.txt"}
    model.save(paths["keras"])
    model.save(paths["h5"])
    write_vocabulary(layer, paths["vocabulary"])
    return paths


def exported_tutorial_model(folder: Path) -> dict[str, Path]:
    """The tutorial's own export: a model trained on ids with from_logits=True, wrapped as
    Sequential([vectorize_layer, model, Activation("sigmoid")]) in .keras; and what the article's
    generation kept: the model on ids as .h5, the vocabulary beside it."""
    keras.utils.set_random_seed(1)
    texts, labels, _, _ = corpus()
    layer = vectorizer(texts)
    model = keras.Sequential([keras.Input(shape=(SEQUENCE,), dtype="int64"), *tutorial_body(activation=None)])
    fit(model, layer(tf.constant(texts)), np.array([[label == "positive"] for label in labels], dtype="float32"),
        keras.losses.BinaryCrossentropy(from_logits=True))
    export = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, model, keras.layers.Activation("sigmoid")])
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"keras": folder / "export.keras", "h5": folder / "ids.h5", "vocabulary": folder / "vocab.txt"}
    export.save(paths["keras"])
    model.save(paths["h5"])
    write_vocabulary(layer, paths["vocabulary"])
    return paths


def tutorial_export_model(folder: Path, max_tokens: int = 2000) -> Path:
    """The tutorial's model as the article saved it: TextVectorization(standardize=custom_standardization), a
    model trained on its ids with from_logits=True, exported as Sequential([vectorize_layer, model,
    Activation('sigmoid')]) without an Input (built by predicting, as the tutorial does) in .keras. The
    function is registered as the tutorial registers it ("Custom>custom_standardization")."""
    keras.utils.set_random_seed(3)
    texts, labels, _, _ = corpus()
    layer = keras.layers.TextVectorization(standardize=custom_standardization, max_tokens=max_tokens,
                                           output_mode="int", output_sequence_length=SEQUENCE)
    layer.adapt(tf.constant(texts))
    model = keras.Sequential([keras.layers.Embedding(max_tokens, EMBEDDING), keras.layers.Dropout(0.2),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dropout(0.2), keras.layers.Dense(1)])
    fit(model, layer(tf.constant(texts)), np.array([[label == "positive"] for label in labels], dtype="float32"),
        keras.losses.BinaryCrossentropy(from_logits=True), epochs=3)
    export_model = keras.Sequential([layer, model, keras.layers.Activation("sigmoid")])
    export_model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=False), optimizer="adam", metrics=["accuracy"])
    export_model.predict(tf.constant(["The movie was great!", "The movie was okay.", "The movie was terrible..."]), verbose=0)
    folder.mkdir(parents=True, exist_ok=True)
    export_model.save(folder / "export_model.keras")
    return folder / "export_model.keras"


def standardization_model(path: Path, function) -> Path:
    """A small untrained text model whose TextVectorization uses `function` (registered for the save, then forgotten)."""
    keras.saving.register_keras_serializable(PACKAGE, function.__name__)(function)
    layer = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=8, standardize=function)
    layer.adapt(tf.constant(["a b c", "b c d"]))
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, *tutorial_body()])
    return _saved_unregistered(model, path, [function.__name__])


def first_three_bytes(text):
    return tf.strings.substr(tf.strings.lower(text), 0, 3)


def transcoded(text):
    return tf.strings.unicode_transcode(tf.strings.lower(text), "UTF-8", "UTF-8", errors="replace")


def group_rewrite(text):
    return tf.strings.regex_replace(text, "(a)b", r"\1")


def unicode_lower(text):
    return tf.strings.lower(text, encoding="utf-8")


def nbsp_model(folder: Path) -> dict[str, Path]:
    """Tokens ending in a no-break space (TextVectorization splits on ASCII whitespace only), saved as .h5 with
    its vocabulary beside it, as a model trained on the default tweets has three of them."""
    layer = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=8)
    layer.adapt(tf.constant(["great\u00a0 day", "hello\u00a0 world\u00a0 again", "great day", "\u00a0lead and\u3000wide"] * 2))
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, *tutorial_body()])
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"h5": folder / "nbsp.h5", "vocabulary": folder / "vocab.txt"}
    model.save(paths["h5"])
    write_vocabulary(layer, paths["vocabulary"])
    return paths


def nested_model(path: Path) -> Path:
    """Sequential([vectorizer, Sequential([... Dense(1, sigmoid)])]), untrained: the sigmoid is one level down."""
    layer = keras.layers.TextVectorization(max_tokens=60, output_sequence_length=12)
    layer.adapt(tf.constant(corpus()[0][:200]))
    inner = keras.Sequential([keras.Input(shape=(12,), dtype="int64"), *tutorial_body()])
    keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, inner]).save(path)
    return path


def softmax_model(path: Path, labels: tuple[str, ...] = ("negative", "neutral", "positive")) -> Path:
    """Three labels, Dense(3, softmax), a 1-d string input, standardize="lower"."""
    keras.utils.set_random_seed(2)
    texts, names, _, _ = corpus(labels)
    layer = vectorizer(texts, standardize="lower")
    model = keras.Sequential([keras.Input(shape=(), dtype="string"), layer, *tutorial_body(len(labels), "softmax")])
    fit(model, texts, np.array([labels.index(n) for n in names]), "sparse_categorical_crossentropy", epochs=2)
    model.save(path)
    return path


def image_model(path: Path) -> Path:
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.save(path)
    return path


def custom_standardize(text):
    return tf.strings.regex_replace(tf.strings.lower(text), "<br />", " ")


class LogGamma(keras.layers.Layer):
    """A layer whose TensorFlow op (Lgamma) tf2onnx has no conversion for."""

    def call(self, inputs):
        return tf.math.lgamma(tf.nn.softplus(inputs) + 1.0)


def _saved_unregistered(model: keras.Model, path: Path, names: list[str]) -> Path:
    """Save, then forget the registration: the file refers to an object a fresh process does not know."""
    model.save(path)
    for name in names:
        keras.saving.get_custom_objects().pop(f"{PACKAGE}>{name}", None)
    return path


def custom_standardization_model(path: Path) -> Path:
    keras.saving.register_keras_serializable(PACKAGE, "custom_standardize")(custom_standardize)
    layer = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=8, standardize=custom_standardize)
    layer.adapt(tf.constant(["a b c", "b c d"]))
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, *tutorial_body()])
    return _saved_unregistered(model, path, ["custom_standardize"])


def unconvertible_model(path: Path) -> Path:
    keras.saving.register_keras_serializable(PACKAGE, "LogGamma")(LogGamma)
    layer = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=8)
    layer.adapt(tf.constant(["a b c", "b c d"]))
    body = tutorial_body()
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, *body[:3], LogGamma(name="log_gamma"), body[4]])
    return _saved_unregistered(model, path, ["LogGamma"])


def masked_average_model(path: Path) -> Path:
    """mask_zero=True before GlobalAveragePooling1D: Keras itself gives NaN for a text without known tokens."""
    layer = keras.layers.TextVectorization(max_tokens=50, output_sequence_length=8)
    layer.adapt(tf.constant(["a b c", "b c d"]))
    body = tutorial_body()
    body[0] = keras.layers.Embedding(50, 4, mask_zero=True)
    keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer, *body]).save(path)
    return path
