"""A Keras text classifier (`.keras`, or `.h5` with its vocabulary) → a model folder `build` takes unchanged.

The model's `TextVectorization` layer becomes `tokenizer.json` (the same standardization, whitespace
split and vocabulary, with "" = 0 for padding and "[UNK]" = 1), everything after it becomes ONNX
with tf2onnx. TextVectorization pads every text to `output_sequence_length`, and the model may
depend on it (GlobalAveragePooling1D averages over the padded positions too), so the graph pads
the ids it gets (the page pads each batch to its longest text only) to that length with id 0
itself: the tokenizer contract stays the one every text model uses.

TensorFlow's rules, read from keras/src/layers/preprocessing/text_vectorization.py and checked
against TensorFlow here: `tf.strings.lower` lowercases ASCII letters only (É and Σ stay),
punctuation is TF's regex of the 32 ASCII punctuation marks, and `tf.strings.split` splits on
ASCII whitespace only (a no-break space or U+3000 stays inside a word, so a token may hold one).
A custom standardization function (the tutorial's `custom_standardization`) is traced to its
TensorFlow graph and translated op by op (tf_standardize.py), then checked string by string.

The import checks its own work and refuses when it differs: token ids against the layer's on
probe texts, probabilities of the ONNX graph against Keras' within KERAS_TOLERANCE.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

from .. import parity
from ..errors import UserError
from ..output import atomic_folder
from ..runtime import create_session, softmax
from ..tokenize import TextEncoder, describe, load_tokenizer
from .tf_quiet import quiet_tensorflow
from .tf_standardize import PROBES, ascii_case, standardization_normalizers

Report = Callable[[str], None]

SUFFIXES = (".keras", ".h5", ".hdf5")
INSTALL = "pip install staticml[keras]"
PAD_TOKEN, OOV_TOKEN = "", "[UNK]"
PUNCTUATION = r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']'  # TextVectorization's own regex
ASCII_WHITESPACE = "[\t\n\x0b\x0c\r ]+"  # what tf.strings.split splits on without a separator
ASCII_SPACES = " \t\n\x0b\x0c\r"  # not str.strip()'s: that also takes U+00A0, U+3000, \x1c..., which stay in tokens
STANDARDIZATIONS = {None: (), "lower": ("lower",), "strip_punctuation": ("strip",),
                    "lower_and_strip_punctuation": ("lower", "strip")}
KERAS_TOLERANCE = 1e-5
OPSET = 17
ONNX_DOMAINS = ("", "ai.onnx")


def is_keras_source(source: Path) -> bool:
    return source.suffix.lower() in SUFFIXES or (source.is_dir() and (source / "saved_model.pb").is_file())


def import_keras(source: Path, out: Path, options: dict, report: Report) -> dict:
    """Write a model folder at `out` (atomically) from a Keras text classifier."""
    started = time.perf_counter()
    if not _installed("tensorflow", "keras", "tf2onnx"):
        raise UserError(f"{source}: importing a Keras model needs TensorFlow ({INSTALL})")
    _refuse_unreadable(source)
    report(f"import: {source}: loading TensorFlow and Keras (15-20 s here)")
    with quiet_tensorflow():
        manifest = _import(source, out, options, report)
    report(f"model folder written: {out} ({time.perf_counter() - started:.1f} s)")
    return manifest


def _import(source: Path, out: Path, options: dict, report: Report) -> dict:
    from .imported_text import finish, matching_labels, parse_labels, probe_texts

    tf, keras = _tensorflow(source)
    model = _load(source, options.get("custom_objects"), options.get("vocabulary"), options.get("max_length"), keras)
    vectorizer = _vectorizer(model, source, keras)
    length = _settings(vectorizer, source)
    head, output = _head(model, vectorizer, source, keras)
    width = 2 if output == "sigmoid" else int(head.output.shape[-1])
    labels = parse_labels(options["labels"]) if options["labels"] else _default_labels(width, source)
    labels = matching_labels(labels, width, f"{source} (outputs)")
    vocabulary = vectorizer.get_vocabulary()
    standardize = vectorizer.get_config()["standardize"]
    custom = callable(standardize)
    standardization = (standardization_normalizers(standardize, tf, f"{source}: layer '{vectorizer.name}'") if custom
                       else builtin_standardization(standardize))
    report(f"import: {source} (Keras {Path(source).suffix or 'folder'}, vocabulary {len(vocabulary)}, "
           f"sequence {length}, {output} output; labels {', '.join(labels)})")

    with atomic_folder(out, "model", options["force"], options["inputs"]) as target:
        tokenizer_for(vocabulary, standardization, length).save(str(target / "tokenizer.json"),
                                                                 pretty=False)  # 254 -> 172 KB (10k tokens)
        tokenizer = load_tokenizer(target / "tokenizer.json")
        encoder = TextEncoder(tokenizer, describe(tokenizer), length)
        texts = probe_texts(length) + PROBES
        standardized = check_standardization(standardize, tokenizer, texts, source, tf) if custom else None
        _convert(head, output, length, target / "model.onnx", source, tf)
        _check_ids(vectorizer, encoder, texts, source, tf)
        check = _check_against_keras(model, output, target / "model.onnx", encoder, texts, source, tf)
        if custom:
            report(f"import: standardization '{_name(standardize)}' as {len(standardization)} tokenizer.json normalizers: "
                   f"the same text as TensorFlow's on {standardized}/{len(texts)} texts")
        report(f"import: token ids identical to TextVectorization's on {len(texts)} texts; "
               f"model.onnx vs Keras {check.summary()}")
        section = {"source": str(source), "kind": "keras", "keras_version": keras.__version__,
                   "output": output, "sequence_length": length, "vocabulary_size": len(vocabulary),
                   "standardize": f"custom:{_name(standardize)}" if custom else standardize,
                   "onnx_vs_keras": {"max_abs_diff_probability": float(f"{check.max_abs_diff:.3g}"),
                                     "label_agreement": round(check.label_agreement, 4), "texts": check.count}}
        if custom:
            section["standardization_check"] = {"texts": len(texts), "identical_text": standardized,
                                                "identical_ids": len(texts)}
        options = {**options, "max_length": length}
        return finish(target, options, labels, encoder, {}, section, "imported-keras", report)


# ---------------------------------------------------------------- loading


def _installed(*modules: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except (ImportError, ValueError):  # a module set to None in sys.modules (how the test blocks TensorFlow)
        return False


def _refuse_unreadable(source: Path) -> None:
    """A .keras file is a zip archive holding config.json: say so before TensorFlow loads (Keras calls a
    corrupt one "File not found")."""
    if source.suffix.lower() != ".keras" or not source.is_file():
        return
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise UserError(f"{source}: not a Keras archive (a .keras file is a zip archive; this one is corrupt or "
                        "something else)") from None
    if "config.json" not in names:
        raise UserError(f"{source}: not a Keras archive (a zip archive without config.json)")


def _tensorflow(source: Path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up notices, not ours
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        import keras
        import tensorflow as tf
    except ImportError:
        raise UserError(f"{source}: importing a Keras model needs TensorFlow ({INSTALL})") from None
    if keras.backend.backend() != "tensorflow":
        raise UserError(f"{source}: Keras runs on {keras.backend.backend()}; set KERAS_BACKEND=tensorflow")
    tf.get_logger().setLevel("ERROR")
    return tf, keras


def _load(source: Path, custom_objects: str | None, vocabulary: str | None, max_length: int | None, keras):
    if not source.exists():
        raise UserError(f"{source}: no such file or folder")
    if source.is_dir():
        raise UserError(f"{source}: a TensorFlow SavedModel folder is not supported (Keras 3 cannot load it as a "
                        "model); load it with the Keras that wrote it and save it as .keras")
    objects = _custom_objects(custom_objects, _registered_names(source))
    try:
        model = keras.saving.load_model(str(source), custom_objects=objects, compile=False)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError, zipfile errors... for a bad file
        raise UserError(f"{source}: cannot load it with Keras {keras.__version__} ({_first_line(exc)})") from None
    model = _flat(model, keras)
    if vocabulary:
        model = _with_vocabulary(model, Path(vocabulary), max_length, source, keras)
    return model


def _flat(model, keras):
    """A Sequential holding Sequentials (the tutorial's export wraps its model so) as one Sequential, so
    that its last layer is the one that computes the scores."""
    if not isinstance(model, keras.Sequential) or not any(isinstance(layer, keras.Sequential) for layer in model.layers):
        return model
    first = model.inputs[0]
    return keras.Sequential([keras.Input(shape=first.shape[1:], dtype=first.dtype), *_layers(model, keras)])


def _layers(model, keras) -> list:
    return [inner for layer in model.layers
            for inner in (_layers(layer, keras) if isinstance(layer, keras.Sequential) else [layer])]


def _first_line(exc: BaseException) -> str:
    unknown = re.search(r"Could not locate (class|function) '([^']+)'", str(exc))
    if unknown:  # Keras wraps it in a long "could not be deserialized" message
        name = unknown[2].split(">")[-1]  # registered as "package>name"
        return f"unknown {unknown[1]} '{name}', not part of Keras; give the module that defines it with --custom-objects module:{name}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def _registered_names(source: Path) -> list[str]:
    """The names the file refers to custom objects by ("package>name"), where it can be read."""
    try:
        if source.suffix == ".keras":
            with zipfile.ZipFile(source) as archive:
                config = archive.read("config.json").decode("utf-8")
        else:
            import h5py

            with h5py.File(source, "r") as h5:
                config = str(h5.attrs.get("model_config", ""))
    except Exception:  # unreadable: Keras' own loading says so
        return []
    # Classes: "registered_name": "package>Name"; functions: "class_name": "function", "config": "package>name".
    return re.findall(r'"(?:registered_name|config)": "([^"]+>[^"]+)"', config)


def _custom_objects(value: str | None, registered: list[str]) -> dict:
    """--custom-objects module:name[,module:name]: each a class or function the model refers to, under its
    own name and the "package>name" the file was saved with (register_keras_serializable's)."""
    objects = {}
    for item in filter(None, (value or "").split(",")):
        module_name, _, attribute = item.strip().partition(":")
        if not module_name or not attribute:
            raise UserError(f"--custom-objects {item!r}: expected module:name, e.g. my_layers:Standardize")
        module = _user_module(module_name, item)
        if not hasattr(module, attribute):
            raise UserError(f"--custom-objects {item!r}: {module_name} has no {attribute}")
        objects[attribute] = getattr(module, attribute)
        objects.update({name: objects[attribute] for name in registered if name.split(">")[-1] == attribute})
    return objects


def _user_module(module_name: str, item: str):
    """The user's module, found next to them as `python -m` would; the current folder is on sys.path only
    while it imports (left there, a tf2onnx.py in it would replace the real one for the rest of the run)."""
    saved = list(sys.path)
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        raise UserError(f"--custom-objects {item!r}: cannot import {module_name} ({_first_line(exc)})") from None
    finally:
        sys.path[:] = saved


def _with_vocabulary(model, path: Path, max_length: int | None, source: Path, keras):
    """An .h5 file holds no vocabulary (tf.keras 2 refused to save it, Keras 3 leaves it out): give it
    back, to the model's TextVectorization layer or, for a model trained on ids, as a new one in front."""
    tokens = read_vocabulary(path)
    existing = [layer for layer in model.layers if isinstance(layer, keras.layers.TextVectorization)]
    if existing:
        existing[0].set_vocabulary(tokens)
        return model
    if model.inputs[0].dtype == "string":
        raise UserError(f"--vocabulary {path}: {source} has a string input but no TextVectorization layer")
    if not isinstance(model, keras.Sequential):
        raise UserError(f"--vocabulary {path}: {source} is not a Sequential model; put the TextVectorization layer "
                        "in front of it yourself and save that as .keras")
    length = model.inputs[0].shape[-1] if len(model.inputs[0].shape) == 2 else None
    length = max_length or length
    if not length:
        raise UserError(f"{source}: its input has no fixed length; give the TextVectorization's "
                        "output_sequence_length with --max-length")
    vectorizer = keras.layers.TextVectorization(vocabulary=tokens, output_sequence_length=length)
    return keras.Sequential([keras.Input(shape=(1,), dtype="string"), vectorizer, *model.layers])


def read_vocabulary(path: Path) -> list[str]:
    """One token per line, as `"\\n".join(layer.get_vocabulary())` writes it ("" and "[UNK]" first). A token
    never starts or ends with ASCII whitespace (TextVectorization splits there) but may with any other."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--vocabulary {path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    if lines[:2] == [PAD_TOKEN, OOV_TOKEN]:
        lines = lines[2:]
    if not lines or len(set(lines)) != len(lines) or any(not t or t != t.strip(ASCII_SPACES) for t in lines):
        raise UserError(f"--vocabulary {path}: expected distinct tokens, one per line, as get_vocabulary() gives them")
    return lines


# ---------------------------------------------------------------- the model's parts


def _vectorizer(model, source: Path, keras):
    inputs = model.inputs
    if len(inputs) != 1 or len(model.outputs) != 1:
        raise UserError(f"{source}: has {len(inputs)} inputs and {len(model.outputs)} outputs; "
                        "a text classifier has one of each")
    found = [layer for layer in model.layers if isinstance(layer, keras.layers.TextVectorization)]
    if inputs[0].dtype != "string" or not found:
        hint = (" (trained on ids from a TextVectorization outside it? give its vocabulary with --vocabulary FILE, "
                "or save keras.Sequential([vectorize_layer, model]) as .keras)") if inputs[0].dtype.startswith("int") else ""
        raise UserError(f"{source}: not a text classifier: its input is {inputs[0].dtype} {tuple(inputs[0].shape)}; "
                        f"expected text through a TextVectorization layer{hint}")
    vectorizer = found[0]
    if len(found) > 1 or _latest(vectorizer).input_tensors[0] is not inputs[0]:
        raise UserError(f"{source}: the TextVectorization layer must take the model's input directly, once")
    return vectorizer


def _settings(vectorizer, source: Path) -> int:
    """The layer's output_sequence_length, after checking tokenizer.json can say what the layer does."""
    config, name = vectorizer.get_config(), f"{source}: layer '{vectorizer.name}'"
    wanted = {"split": ("whitespace",), "output_mode": ("int",), "ngrams": (None,)}
    if not callable(config["standardize"]):  # a function is translated op by op (tf_standardize.py)
        wanted["standardize"] = tuple(STANDARDIZATIONS)
    for key, allowed in wanted.items():
        if config.get(key) not in allowed:
            raise UserError(f"{name}: {key}={config.get(key)!r} is not supported "
                            f"(supported: {', '.join(map(str, allowed))})")
    if not config.get("output_sequence_length"):
        raise UserError(f"{name}: no output_sequence_length; the model must see a fixed number of tokens")
    if len(vectorizer.get_vocabulary()) <= 2:
        raise UserError(f"{name}: has no vocabulary (an .h5 file does not store it); give it with --vocabulary FILE "
                        "(get_vocabulary(), one token per line) or save the model as .keras")
    return int(config["output_sequence_length"])


def _head(model, vectorizer, source: Path, keras):
    """The model after the vectorizer, up to its scores before the final sigmoid or softmax, and that activation."""
    last = model.layers[-1]
    activation = _activation(last)
    ids = _latest(vectorizer).output_tensors[0]
    if isinstance(last, keras.layers.Activation) and activation in ("sigmoid", "softmax"):
        return keras.Model(ids, _latest(last).input_tensors[0]), activation
    if isinstance(last, keras.layers.Dense) and activation in ("sigmoid", "softmax"):
        scores = _linear_copy(last, keras)(_latest(last).input_tensors[0])
        return keras.Model(ids, scores), activation
    width = model.outputs[0].shape[-1]
    if activation not in (None, "linear") or len(model.outputs[0].shape) != 2:
        raise UserError(f"{source}: its output layer '{last.name}' ({type(last).__name__}, activation {activation}) "
                        f"gives {tuple(model.outputs[0].shape)}; expected scores [batch, labels] from a sigmoid, "
                        "a softmax or no activation")
    # No activation: logits, as the tutorial trains them (a sigmoid's with one output, from_logits=True).
    return keras.Model(ids, model.outputs[0]), "sigmoid" if width == 1 else "softmax"


def _latest(layer):
    """The layer's call in the model's graph: a loaded Sequential is built twice, `.output` names the first."""
    return layer._inbound_nodes[-1]


def _linear_copy(dense, keras):
    """The same Dense layer without its activation (sharing no state with the model)."""
    config = {**dense.get_config(), "activation": "linear", "name": f"{dense.name}_scores"}
    copy = keras.layers.Dense.from_config(config)
    copy.build(_latest(dense).input_tensors[0].shape)
    copy.set_weights(dense.get_weights())
    return copy


def _default_labels(width: int, source: Path) -> list[str]:
    if width == 2:
        return ["negative", "positive"]
    raise UserError(f"{source}: has {width} outputs; give their labels with --labels a,b,c (in output order)")


# ---------------------------------------------------------------- tokenizer.json


def builtin_standardization(standardize: str | None) -> list:
    """TextVectorization's named standardizations as normalizers."""
    steps = STANDARDIZATIONS[standardize]
    parts = []
    if "lower" in steps:  # tf.strings.lower: ASCII only
        parts += ascii_case(to_lower=True)
    if "strip" in steps:
        parts.append(normalizers.Replace(Regex(PUNCTUATION), ""))
    return parts


def tokenizer_for(vocabulary: list[str], standardization: list, length: int) -> Tokenizer:
    """TextVectorization as tokenizer.json: its standardization (normalizers), ASCII-whitespace split and vocabulary,
    cut and padded to `length` (for anyone who reads the file alone; staticml pads per batch and the graph pads on)."""
    if vocabulary[:2] != [PAD_TOKEN, OOV_TOKEN]:
        raise UserError(f"TextVectorization vocabulary starts with {vocabulary[:2]}; expected '' and '[UNK]'")
    tokenizer = Tokenizer(models.WordLevel({token: i for i, token in enumerate(vocabulary)}, unk_token=OOV_TOKEN))
    if standardization:
        tokenizer.normalizer = normalizers.Sequence(standardization)
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(ASCII_WHITESPACE), behavior="removed")
    tokenizer.enable_truncation(length)
    tokenizer.enable_padding(length=length, pad_id=0, pad_token=PAD_TOKEN)
    return tokenizer


# ---------------------------------------------------------------- ONNX


def _convert(head, output: str, length: int, path: Path, source: Path, tf) -> None:
    """The head as ONNX: ids padded (or cut) to `length` with 0 as TextVectorization does; two logits
    [0, z] for a sigmoid's score z, so softmax gives [1 - p, p] exactly."""
    import tf2onnx

    spec = [tf.TensorSpec([None, None], tf.int64, name="input_ids"),
            tf.TensorSpec([None, None], tf.int64, name="attention_mask")]

    @tf.function(input_signature=spec)
    def classify(input_ids, attention_mask):
        ids = (input_ids * attention_mask)[:, :length]
        ids = tf.pad(ids, [[0, 0], [0, length - tf.shape(ids)[1]]])
        scores = head(ids, training=False)
        if output == "sigmoid":
            scores = tf.concat([tf.zeros_like(scores), scores], axis=1)
        return {"logits": tf.cast(scores, tf.float32)}

    try:
        graph, _ = _quietly(lambda: tf2onnx.convert.from_function(classify, input_signature=spec, opset=OPSET))
    except Exception as exc:  # tf2onnx raises whatever its handlers raise
        raise UserError(f"{source}: tf2onnx cannot convert it ({_first_line(exc)})") from None
    _refuse_unconverted(graph, head, source)
    path.write_bytes(graph.SerializeToString())


def _quietly(work):
    """tf2onnx logs every step at INFO/WARNING (and unconverted ops as errors, read from the graph instead)."""
    import logging

    loggers = [logging.getLogger(name) for name in ("tf2onnx", "tensorflow")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        return work()
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _refuse_unconverted(graph, head, source: Path) -> None:
    """tf2onnx leaves a TensorFlow op it cannot convert in the graph as it was; name its layer."""
    from onnx import defs

    left = [node for node in graph.graph.node
            if node.domain not in ONNX_DOMAINS or not defs.has(node.op_type, node.domain)]
    if not left:
        return
    node = left[0]
    owner = _layer_of(node.name, [layer.name for layer in head._flatten_layers(include_self=False)])
    where = f"layer '{owner}'" if owner else f"node '{node.name}'"
    raise UserError(f"{source}: {where} uses TensorFlow op {node.op_type}, which tf2onnx cannot convert to ONNX")


def _layer_of(node_name: str, layers: list[str]) -> str | None:
    """The innermost layer in a TensorFlow node's scope ("functional_1/log_gamma_1/Lgamma"; TF adds "_1")."""
    for scope in reversed(node_name.split("/")[:-1]):
        for name in layers:
            if re.fullmatch(rf"{re.escape(name)}(_\d+)?", scope):
                return name
    return None


# ---------------------------------------------------------------- checks


def keras_probabilities(model, output: str, texts: list[str], tf) -> np.ndarray:
    """What the Keras model itself says, as probabilities per label."""
    chunks = []
    for i in range(0, len(texts), 256):
        batch = tf.constant(texts[i:i + 256])
        if len(model.inputs[0].shape) == 2:
            batch = tf.reshape(batch, [-1, 1])
        chunks.append(np.asarray(model(batch, training=False), dtype=np.float64))
    scores = np.concatenate(chunks)
    applied = _activation(_last_layer(model)) == output  # else the model outputs logits
    if output == "sigmoid":
        p = scores if applied else 1 / (1 + np.exp(-scores))
        return np.concatenate([1 - p, p], axis=1)
    return scores if applied else softmax(scores)


def _last_layer(model):
    """The layer that computes the output, also inside a nested model."""
    last = model.layers[-1]
    return _last_layer(last) if hasattr(last, "layers") and last.layers else last


def _activation(layer) -> str | None:
    return getattr(getattr(layer, "activation", None), "__name__", None)


def vectorizer_ids(vectorizer, texts: list[str], tf) -> list[list[int]]:
    """TextVectorization's ids per text, without its trailing padding."""
    rows = vectorizer(tf.constant(texts)).numpy().tolist()
    return [row[:len(row) - next((i for i, v in enumerate(reversed(row)) if v != 0), len(row))] for row in rows]


def check_standardization(function, tokenizer: Tokenizer, texts: list[str], source: Path, tf) -> int:
    """The translated normalizers give TensorFlow's own standardized text for every text (else refused); the count."""
    expected = [value.decode("utf-8", "replace") for value in function(tf.constant(texts)).numpy().tolist()]
    for text, want in zip(texts, expected):
        got = tokenizer.normalizer.normalize_str(text) if tokenizer.normalizer else text
        if got != want:
            raise UserError(f"{source}: standardization '{_name(function)}': tokenizer.json turns {text[:60]!r} into "
                            f"{got[:60]!r}, TensorFlow into {want[:60]!r}; not imported")
    return len(texts)


def _name(function) -> str:
    return getattr(function, "__name__", type(function).__name__)


def _check_ids(vectorizer, encoder: TextEncoder, texts: list[str], source: Path, tf) -> None:
    expected, actual = vectorizer_ids(vectorizer, texts, tf), encoder.ids(texts)
    for text, want, got in zip(texts, expected, actual):
        if want != got:
            raise UserError(f"{source}: tokenizer.json gives other ids than layer '{vectorizer.name}' for "
                            f"{text[:60]!r} ({got[:8]} vs {want[:8]}); not imported")


def _check_against_keras(model, output: str, path: Path, encoder: TextEncoder, texts: list[str], source: Path,
                         tf) -> parity.ParityReport:
    session = create_session(path)
    actual = np.concatenate([softmax(session.run(["logits"], encoder.batch(texts[i:i + 16]))[0])
                             for i in range(0, len(texts), 16)])
    expected = keras_probabilities(model, output, texts, tf)
    broken = np.flatnonzero(~np.isfinite(expected).all(axis=1))
    if broken.size:
        raise UserError(f"{source}: Keras itself gives no probabilities (NaN) for {texts[broken[0]][:60]!r} (a mask_zero "
                        "Embedding with no token left to average?); the page could not answer it either; not imported")
    try:
        return parity.require("model.onnx vs Keras", expected, actual, KERAS_TOLERANCE, texts)
    except parity.ParityError as exc:
        raise UserError(f"{source}: the ONNX graph does not match the Keras model ({exc})") from None


def write_vocabulary(vectorizer, path: Path) -> None:
    """The layer's vocabulary as --vocabulary reads it (for an .h5 file, which does not keep it)."""
    path.write_text("\n".join(vectorizer.get_vocabulary()) + "\n", encoding="utf-8")

