"""Bring your own model: a Hugging Face folder or an ONNX file → a model folder `build` takes unchanged.

Two sources:
- a local Hugging Face folder of a sequence-classification model (BERT, DistilBERT, RoBERTa and
  MiniLM, which is a BERT): exported with torch.onnx (dynamo) behind a wrapper whose only inputs
  are `input_ids` and `attention_mask` (token_type_ids are zeros inside the graph), then checked
  against the PyTorch model;
- an ONNX file with a `tokenizer.json` and labels: its inputs and output are checked, a
  `token_type_ids` input is recorded as `extra_inputs: {"token_type_ids": "zeros"}` (Python and the
  page both feed zeros), and it is run once to check the logits width against the labels.

Both get an int8 variant as trained MiniLM does (`export.quantize("weights-int8")`: int8 weights,
float32 arithmetic), so the page computes what Python computes; dynamic int8 (activations
quantized at run time) drifted 5e-2 between page and native on MiniLM and is not used. There is
no labeled data here, so accuracy is not measured: int8 is reported against fp32 (max |Δp|,
label agreement) on probe texts, and the default variant is the smallest that agrees with fp32 there
(same labels, |Δp| within the int8 tolerance) unless `default_variant` names one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import onnx

from .. import archs, parity
from ..errors import UserError
from ..output import atomic_folder, check_writable
from ..runtime import create_session, softmax
from ..tasks.text import model_feeds
from ..tokenize import TextEncoder, describe, load_tokenizer
from . import archives, export, keras_import, tabular_import
from .qa_import import import_qa, is_question_answering
from .imported_text import finish, matching_labels, parity_json, parse_json, parse_labels, probe_texts

Report = Callable[[str], None]

SUPPORTED_TYPES = tuple(archs.names(archs.IMPORTED))  # MiniLM checkpoints are model_type "bert"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
SLOW_TOKENIZER_FILES = ("vocab.txt", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model", "vocab.json")
LABEL_FILES = ("labels.txt", "labels.json")
MAX_LENGTH_CAP = 512
ARCHIVE_SUFFIXES = (".keras", ".skops")  # zip archives: checked by archives.check_archive
QUANTIZED_OPS = {"DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul", "DequantizeLinear", "QuantizeLinear"}


def import_model(source: str | Path, out: str | Path, labels: str | None = None, tokenizer: str | Path | None = None,
                 name: str | None = None, max_length: int | None = None, default_variant: str | None = None,
                 report: Report = print, force: bool = False, custom_objects: str | None = None,
                 vocabulary: str | None = None, features: str | None = None, positive_label: str | None = None,
                 feature_info: str | None = None) -> dict:
    """Write a model folder at `out` (atomically) from a Hugging Face folder or an ONNX file."""
    source, out = Path(source), Path(out)
    if source.suffix.lower() in ARCHIVE_SUFFIXES:  # before any importer reads a member: no zip bomb gets inflated
        archives.check_archive(source)
    if tabular_import.handles(source, features):  # form data: a skops pipeline, or ONNX + features.json
        return tabular_import.import_tabular(source, out, labels=labels, features=features, name=name,
                                             report=report, force=force, positive_label=positive_label, feature_info=feature_info)
    for flag, value in (("--positive-label", positive_label), ("--feature-info", feature_info)):
        if value is not None:
            raise UserError(f"{flag} goes with a tabular model (a .skops pipeline, or an .onnx graph with --features)")
    if source.suffix == ".tflite":  # MediaPipe's face detector (tflite_import.py, behind the keras extra)
        from .tflite_import import import_tflite

        return import_tflite(source, out, name=name, report=report, force=force)
    inputs = [source] + ([Path(tokenizer)] if tokenizer else [])
    check_writable(out.absolute(), "model", force, inputs)
    options = {"force": force, "inputs": inputs, "labels": labels, "tokenizer": Path(tokenizer) if tokenizer else None, "name": name or out.name,
               "max_length": max_length, "default_variant": default_variant}
    if keras_import.is_keras_source(source):  # a Keras text model (keras_import.py, behind the keras extra)
        options.update(custom_objects=custom_objects, vocabulary=vocabulary,
                       inputs=inputs + ([Path(vocabulary)] if vocabulary else []))
        return keras_import.import_keras(source, out, options, report)
    if _kind(source) == "huggingface":
        return import_huggingface(source, out, options, report)
    return import_onnx(_onnx_file(source), out, options, report)


def _kind(source: Path) -> str:
    if not source.exists():
        raise UserError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix != ".onnx":
            raise UserError(f"{source}: expected a Hugging Face model folder or an .onnx file")
        return "onnx"
    if any((source / f).is_file() for f in WEIGHT_FILES):
        return "huggingface"
    if list(source.glob("*.onnx")):
        return "onnx"
    raise UserError(f"{source}: no model found (no {' / '.join(WEIGHT_FILES[:2])} and no .onnx file)")


def _onnx_file(source: Path) -> Path:
    if source.is_file():
        return source
    if (source / "model.onnx").is_file():
        return source / "model.onnx"
    found = sorted(source.glob("*.onnx"))
    if len(found) > 1:
        raise UserError(f"{source}: several .onnx files ({', '.join(p.name for p in found)}); give one of them")
    return found[0]


# ---------------------------------------------------------------- Hugging Face folder


def import_huggingface(folder: Path, out: Path, options: dict, report: Report) -> dict:
    config = _hf_config(folder)
    if is_question_answering(folder):  # start and end logits, not labels (qa_import.py)
        tokenizer_path = Path(options["tokenizer"] or _hf_tokenizer_file(folder))
        limit = _max_length(options["max_length"], _position_limit(config, folder / "config.json"), _tokenizer_limits(tokenizer_path))
        return import_qa(folder, out, config, tokenizer_path, limit, options, report)
    labels = labels_from_id2label(config.id2label, folder / "config.json")
    if options["labels"]:
        labels = matching_labels(parse_labels(options["labels"]), len(labels), f"{folder / 'config.json'} (num_labels)")
    tokenizer_path = options["tokenizer"] or _hf_tokenizer_file(folder)
    tokenizer = load_tokenizer(tokenizer_path)
    spec = describe(tokenizer)
    if config.pad_token_id is not None:
        spec.pad_id = int(config.pad_token_id)  # the id the model's embeddings treat as padding
    max_length = _max_length(options["max_length"], _position_limit(config, folder / "config.json"),
                             _tokenizer_limits(tokenizer_path))
    encoder = TextEncoder(tokenizer, spec, max_length)
    model = _hf_model(folder)
    report(f"import: {folder} ({config.model_type}, {len(labels)} labels: {', '.join(labels)}; max_length {max_length})")

    with atomic_folder(out, "model", options["force"], options["inputs"]) as target:
        (target / "tokenizer.json").write_bytes(Path(tokenizer_path).read_bytes())
        wrapper = zero_token_types(model)
        texts = probe_texts(max_length)
        try:
            export.export_onnx(wrapper, target / "model.onnx", encoder.batch(texts[:4]),
                               tolerance=archs.get(config.model_type).export_tolerance)
        except parity.ParityError as exc:
            raise UserError(f"{folder}: the exported ONNX graph does not match the PyTorch model ({exc})") from None
        check = _check_against_pytorch(wrapper, target / "model.onnx", encoder, texts, folder)
        report(f"import: model.onnx vs PyTorch {check.summary()}")
        section = {"source": str(folder), "kind": "huggingface", "model_type": config.model_type,
                   "onnx_vs_pytorch": parity_json(check)}
        manifest = finish(target, options, labels, encoder, {}, section, f"imported-{config.model_type}", report)
    report(f"model folder written: {out}")
    return manifest


def _hf_config(folder: Path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig
    from transformers.utils import logging as hf_logging

    # Loading logs and progress bars meant for transformers' users; the CLI reports its own lines.
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    path = folder / "config.json"
    if not path.is_file():
        raise UserError(f"{folder}: has model weights but no config.json")
    values = _read_config_json(path)  # before transformers reads it: its errors do not name the field
    if "model_type" in values and values["model_type"] not in SUPPORTED_TYPES:
        raise UserError(f"{path}: model_type {values['model_type']!r} is not supported "
                        f"(supported: {', '.join(SUPPORTED_TYPES)}; or export it to ONNX yourself and import that)")
    if "id2label" in values:
        if not isinstance(values["id2label"], dict):
            raise UserError(f'{path}: id2label must be an object like {{"0": "negative", "1": "positive"}}')
        labels_from_id2label(values["id2label"], path)
    try:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    except (ValueError, KeyError, TypeError, OSError) as exc:  # e.g. "num_labels": "3" is a TypeError
        raise UserError(f"{path}: cannot read it ({str(exc).splitlines()[0][:200]})") from None
    if config.model_type not in SUPPORTED_TYPES:
        raise UserError(f"{path}: model_type '{config.model_type}' is not supported "
                        f"(supported: {', '.join(SUPPORTED_TYPES)}; or export it to ONNX yourself and import that)")
    if config.problem_type not in (None, "single_label_classification"):
        raise UserError(f"{path}: problem_type '{config.problem_type}' is not supported "
                        "(the page turns logits into probabilities with softmax)")
    return config


def labels_from_id2label(id2label: dict, path: Path) -> list[str]:
    try:
        id2label = {_label_id(k): v for k, v in id2label.items()}
    except ValueError:
        raise UserError(f"{path}: id2label keys must be the integers 0..{len(id2label) - 1} "
                        f"(has {', '.join(repr(k) for k in list(id2label)[:4])})") from None
    if not all(isinstance(v, str) for v in id2label.values()):
        raise UserError(f"{path}: id2label values must be label strings")
    if sorted(id2label) != list(range(len(id2label))):
        raise UserError(f"{path}: id2label keys must be 0..{len(id2label) - 1}")
    labels = [id2label[i] for i in range(len(id2label))]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise UserError(f"{path}: id2label needs at least two different labels (has {labels})")
    return labels


def _label_id(key) -> int:
    """An id2label key: an int, or a string of digits (JSON keys are strings)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.strip().isascii() and key.strip().isdigit():
        return int(key)
    raise ValueError(key)


def _hf_tokenizer_file(folder: Path) -> Path:
    path = folder / "tokenizer.json"
    if path.is_file():
        return path
    slow = [f for f in SLOW_TOKENIZER_FILES if (folder / f).is_file()]
    if slow:
        raise UserError(f"{folder}: only a slow tokenizer ({', '.join(slow)}), no tokenizer.json; save a fast one with "
                        f"AutoTokenizer.from_pretrained(folder).save_pretrained(folder), check it, and import again")
    raise UserError(f"{folder}: no tokenizer.json")


def _hf_model(folder: Path):
    import pickle

    from safetensors import SafetensorError
    from transformers import AutoModelForSequenceClassification

    # What a corrupt or foreign weights file raises (a bad header, a pickle that is not weights,
    # an index file of the wrong shape), besides the errors transformers raises itself.
    broken_weights = (SafetensorError, pickle.UnpicklingError, TypeError, EOFError)
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            str(folder), local_files_only=True, output_loading_info=True)
    except (ValueError, KeyError, OSError, RuntimeError, *broken_weights) as exc:
        raise UserError(f"{folder}: cannot load the model ({str(exc).splitlines()[0][:200]})") from None
    missing = info.get("missing_keys") or []
    if missing:
        raise UserError(f"{folder}: no trained classification head (missing weights: {', '.join(sorted(missing)[:4])}); "
                        "fine-tune it first, or train one with `staticml train --arch minilm`")
    return model.eval()


def _position_limit(config, path: Path) -> int:
    return _positions(getattr(config, "max_position_embeddings", None), config.model_type, config.pad_token_id, path)


def _positions(max_position_embeddings, model_type, pad_token_id, path: Path) -> int:
    """Token positions the model has room for (RoBERTa's start after padding_idx)."""
    positions = MAX_LENGTH_CAP if max_position_embeddings is None else max_position_embeddings
    if model_type in SUPPORTED_TYPES and archs.get(model_type).positions_after_pad:
        positions -= (pad_token_id or 0) + 1
    if positions < 3:
        raise UserError(f"{path}: max_position_embeddings {max_position_embeddings} leaves no room for text")
    return positions


def zero_token_types(model):
    """The model with only input_ids and attention_mask as inputs, returning logits; token_type_ids
    (where the model takes them) are zeros inside the graph, as for one sentence."""
    import inspect

    import torch

    takes_token_types = "token_type_ids" in inspect.signature(model.forward).parameters

    class ZeroTokenTypes(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            extra = {"token_type_ids": torch.zeros_like(input_ids)} if takes_token_types else {}
            return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits

    return ZeroTokenTypes().eval()


def _check_against_pytorch(wrapper, path: Path, encoder: TextEncoder, texts: list[str], folder: Path) -> parity.ParityReport:
    """Probabilities of the ONNX graph vs PyTorch on probe texts, in padded batches of mixed lengths."""
    import torch

    expected, actual = [], []
    session = create_session(path)
    for i in range(0, len(texts), 16):
        batch = encoder.batch(texts[i:i + 16])
        with torch.no_grad():
            logits = wrapper(*(torch.from_numpy(batch[k]) for k in export.INPUTS)).numpy()
        expected.append(softmax(logits))
        actual.append(softmax(session.run(["logits"], batch)[0]))
    try:
        return parity.require(f"{path.name} vs PyTorch", np.concatenate(expected), np.concatenate(actual),
                              parity.IMPORT_TOLERANCE, texts)
    except parity.ParityError as exc:
        raise UserError(f"{folder}: the exported ONNX graph does not match the PyTorch model ({exc})") from None


# ---------------------------------------------------------------- ONNX file


def import_onnx(path: Path, out: Path, options: dict, report: Report) -> dict:
    graph = _load_onnx(path)
    session = create_session(path)
    extra_inputs = _extra_inputs(session, path)
    output = _logits_output(session, path)
    labels = _onnx_labels(options["labels"], path)
    tokenizer_path = options["tokenizer"] or path.parent / "tokenizer.json"
    if not tokenizer_path.is_file():
        raise UserError(f"{tokenizer_path}: no such file (give the model's tokenizer.json with --tokenizer)")
    tokenizer = load_tokenizer(tokenizer_path)
    max_length = _max_length(options["max_length"], _config_position_limit(path.parent), _tokenizer_limits(tokenizer_path))
    encoder = TextEncoder(tokenizer, describe(tokenizer), max_length)
    width = _logits_width(session, path, output, encoder, extra_inputs)
    if width != len(labels):
        raise UserError(f"{path}: outputs {width} logits but {len(labels)} labels were given ({', '.join(labels)})")
    report(f"import: {path} ({len(labels)} labels: {', '.join(labels)}; max_length {max_length}"
           f"{'; token_type_ids fed as zeros' if extra_inputs else ''})")

    with atomic_folder(out, "model", options["force"], options["inputs"]) as target:
        (target / "tokenizer.json").write_bytes(tokenizer_path.read_bytes())
        if output != "logits":
            graph = _rename_output(graph, output, path)
            report(f"import: output '{output}' renamed to 'logits'")
        onnx.save(graph, str(target / "model.onnx"))
        section = {"source": str(path), "kind": "onnx", "renamed_output": output if output != "logits" else None}
        quantized = _is_quantized(graph)
        manifest = finish(target, options, labels, encoder, extra_inputs, section, "imported-onnx", report,
                           quantized=quantized)
    report(f"model folder written: {out}")
    return manifest


def _load_onnx(path: Path) -> onnx.ModelProto:
    try:
        graph = onnx.load(str(path))
        onnx.checker.check_model(graph)
    except Exception as exc:  # protobuf and the checker raise several types for a bad file
        raise UserError(f"{path}: not a valid ONNX model ({str(exc).splitlines()[0][:200]})") from None
    return graph


def _extra_inputs(session, path: Path) -> dict[str, str]:
    """input_ids and attention_mask are required; token_type_ids is fed zeros; anything else is refused."""
    inputs = {i.name: i for i in session.get_inputs()}
    for name in export.INPUTS:
        if name not in inputs:
            raise UserError(f"{path}: no '{name}' input (has {', '.join(inputs)}); "
                            f"the page feeds {' and '.join(export.INPUTS)}")
    unknown = [n for n in inputs if n not in export.INPUTS and n != "token_type_ids"]
    if unknown:
        raise UserError(f"{path}: needs input(s) {', '.join(unknown)} that the page cannot feed "
                        f"(it feeds input_ids, attention_mask and zeros for token_type_ids)")
    for name, node in inputs.items():
        if node.type != "tensor(int64)" or len(node.shape) != 2:
            raise UserError(f"{path}: input '{name}' is {node.type} {node.shape}; expected int64 [batch, sequence]")
    return {"token_type_ids": "zeros"} if "token_type_ids" in inputs else {}


def _logits_output(session, path: Path) -> str:
    """'logits' if the graph has it, else its only output, if that is float [batch, n]."""
    outputs = session.get_outputs()
    names = [o.name for o in outputs]
    chosen = next((o for o in outputs if o.name == "logits"), outputs[0] if len(outputs) == 1 else None)
    if chosen is None:
        raise UserError(f"{path}: several outputs ({', '.join(names)}) and none named 'logits'")
    if chosen.type != "tensor(float)" or len(chosen.shape) != 2:
        raise UserError(f"{path}: output '{chosen.name}' is {chosen.type} {chosen.shape}; "
                        "expected float32 logits [batch, labels]")
    return chosen.name


def _rename_output(graph: onnx.ModelProto, old: str, path: Path) -> onnx.ModelProto:
    """Expose `old` as 'logits' through an Identity node; the graph's own names stay as they are."""
    used = {name for node in graph.graph.node for name in (*node.input, *node.output)}
    used |= {i.name for i in graph.graph.input} | {i.name for i in graph.graph.initializer}
    if "logits" in used:
        raise UserError(f"{path}: has an internal value named 'logits' that is not its output; rename it")
    graph.graph.node.append(onnx.helper.make_node("Identity", [old], ["logits"], name="staticml_logits"))
    for output in graph.graph.output:
        if output.name == old:
            output.name = "logits"
    return graph


def _logits_width(session, path: Path, output: str, encoder: TextEncoder, extra_inputs: dict) -> int:
    """Run the graph on a padded batch (one text at max_length) and return its logits width."""
    feeds = model_feeds(encoder, probe_texts(encoder.max_length)[:4], extra_inputs)
    try:
        logits = session.run([output], feeds)[0]
    except Exception as exc:  # onnxruntime's errors for bad shapes or out-of-range ids
        raise UserError(f"{path}: fails on a batch of {feeds['input_ids'].shape} token ids "
                        f"({str(exc).splitlines()[0][:200]})") from None
    if logits.ndim != 2 or logits.shape[0] != feeds["input_ids"].shape[0]:
        raise UserError(f"{path}: logits have shape {logits.shape} for a batch of {feeds['input_ids'].shape[0]}")
    return int(logits.shape[1])


def _is_quantized(graph: onnx.ModelProto) -> bool:
    return any(node.op_type in QUANTIZED_OPS for node in graph.graph.node)


def _onnx_labels(value: str | None, path: Path) -> list[str]:
    if value:
        return parse_labels(value)
    folder = path.parent
    for name in LABEL_FILES:
        if (folder / name).is_file():
            return parse_labels(str(folder / name))
    if (folder / "config.json").is_file():
        return _labels_from_config_json(folder / "config.json")
    raise UserError(f"{path}: no labels; give --labels a,b,... (in logit order) or put labels.txt next to it")


def _labels_from_config_json(path: Path) -> list[str]:
    config = _read_config_json(path)
    if not isinstance(config.get("id2label"), dict):
        raise UserError(f"{path}: no id2label; give --labels a,b,... (in logit order)")
    return labels_from_id2label(config["id2label"], path)


# ---------------------------------------------------------------- shared by both sources


def _tokenizer_limits(tokenizer_path: Path) -> list[int]:
    """Length limits the tokenizer's author wrote down: truncation in tokenizer.json, model_max_length."""
    limits = []
    truncation = _read_json(tokenizer_path).get("truncation") or {}  # its shape was checked by tokenizers
    if truncation.get("max_length"):
        limits.append((int(truncation["max_length"]), f"{tokenizer_path}: truncation max_length"))
    config = tokenizer_path.parent / "tokenizer_config.json"
    if config.is_file():
        value = _read_json(config).get("model_max_length")
        if _is_number(value) and 0 < value < 1e6:  # "unlimited" is stored as 1e30
            limits.append((int(value), f"{config}: model_max_length"))
    for value, where in limits:
        if value < 3:
            raise UserError(f"{where} {value} leaves no room for text")
    return [value for value, _ in limits]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _config_position_limit(folder: Path) -> int:
    config = folder / "config.json"
    if not config.is_file():
        return MAX_LENGTH_CAP
    values = _read_config_json(config)
    return _positions(values.get("max_position_embeddings"), values.get("model_type"), values.get("pad_token_id"), config)


def _read_config_json(path: Path) -> dict:
    """config.json, with the fields staticml reads checked (id2label where it is used: labels_from_id2label)."""
    values = _read_json(path)
    for key, least in (("max_position_embeddings", 1), ("pad_token_id", 0)):
        value = values.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < least):
            raise UserError(f"{path}: {key} must be a whole number of at least {least} (has {json.dumps(value)[:60]})")
    if "model_type" in values and not isinstance(values["model_type"], str):
        raise UserError(f"{path}: model_type must be a string")
    return values


def _max_length(requested: int | None, positions: int, limits: list[int]) -> int:
    ceiling = min(positions, MAX_LENGTH_CAP)
    if requested is not None:
        if not 2 < requested <= ceiling:
            raise UserError(f"--max-length {requested}: must be between 3 and {ceiling} for this model")
        return requested
    return min([ceiling, *limits])


def _read_json(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror})") from None
    value = parse_json(text, path)
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected a JSON object")
    return value
