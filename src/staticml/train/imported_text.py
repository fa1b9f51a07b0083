"""An imported text classifier's folder, shared by every import route (Hugging Face, ONNX, Keras):
its labels, probe texts, int8/q4 variants checked against fp32, and its manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from .. import archs, parity, tasks
from ..tasks import text as text_task
from ..errors import UserError
from ..hard_texts import hard_texts
from ..runtime import create_session, softmax
from ..tasks.text import model_feeds
from ..tokenize import TextEncoder
from . import export

Report = Callable[[str], None]
PROBE_TEXTS = 48


def parse_labels(value: str) -> list[str]:
    """Labels from 'a,b,c', or from a file: one label per line, or a JSON list."""
    path = Path(value)
    if path.is_file():
        labels, where = _labels_file(path), str(path)
    else:
        labels, where = value.split(","), f"--labels {value!r}"
    labels = [str(label).strip() for label in labels if str(label).strip()]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise UserError(f"{where}: give at least two different labels, in logit order")
    return labels


def _labels_file(path: Path) -> list[str]:
    """labels.txt: one label per line; labels.json: a JSON list of strings."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror})") from None
    if path.suffix != ".json":
        return text.splitlines()
    labels = parse_json(text, path)
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise UserError(f'{path}: expected a JSON list of label strings in logit order, e.g. ["negative", "positive"]')
    return labels


def matching_labels(labels: list[str], expected: int, where: str) -> list[str]:
    if len(labels) != expected:
        raise UserError(f"{where}: the model has {expected} labels but {len(labels)} were given ({', '.join(labels)})")
    return labels


def parse_json(text: str, path: Path):
    try:
        return json.loads(text)
    except RecursionError:
        raise UserError(f"{path}: nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        raise UserError(f"{path}: not valid JSON ({exc})") from None


def probe_texts(max_length: int) -> list[str]:
    """Texts of mixed lengths, the first four include one that fills max_length (export sample)."""
    long_text = " ".join(["word"] * (max_length * 2))
    return ["short", long_text, "a somewhat longer text, with punctuation!", "émoji 🎉 and CJK 中文"] + hard_texts(PROBE_TEXTS)


def finish(folder: Path, options: dict, labels: list[str], encoder: TextEncoder, extra_inputs: dict,
            section: dict, arch: str, report: Report, quantized: bool = False) -> dict:
    """int8 variant, its drift against fp32, the default variant, and the manifest."""
    drifts: dict[str, parity.ParityReport] = {}
    if quantized:  # an already-quantized graph is shipped as it is
        (folder / "model.onnx").rename(folder / "model.int8.onnx")
        variants = {"int8": "model.int8.onnx"}
    else:
        # int8 weights, float32 arithmetic, as for trained MiniLM: the page computes what Python does.
        export.quantize("weights-int8", folder / "model.onnx", folder / "model.int8.onnx")
        variants = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
        q4 = archs.ARCHS[arch.removeprefix("imported-")].q4_quantizer if archs.offers_webgpu(arch) else None
        if q4:  # BERT-family: 4-bit weights too (export.quantize_q4)
            export.quantize(q4, folder / "model.onnx", folder / "model.q4.onnx")
            variants["q4"] = "model.q4.onnx"
        for variant in [v for v in variants if v != "fp32"]:
            drifts[variant] = _drift(folder, encoder, extra_inputs, variants[variant])
            section[f"{variant}_vs_fp32"] = parity_json(drifts[variant])
            report(f"import: {variant} vs fp32 (no labeled data, agreement only) {drifts[variant].summary()}")
    default = options.get("default_variant")
    if default not in variants:
        default = smallest_agreeing_variant(folder, variants, drifts, report) if drifts else next(iter(variants))
    for variant, file in variants.items():
        report(f"variant {variant}: {file} {(folder / file).stat().st_size / 1e6:.2f} MB")
    return tasks.write_model_folder(
        folder, name=options["name"], task=text_task.NAME, labels=labels, max_length=encoder.max_length,
        tokenizer=encoder.spec.to_json(), other_files=("tokenizer.json",), arch=arch,
        variants=variants, default_variant=default, **{"import": section},
        metrics={"measured": False, "note": "imported without labeled data: accuracy and macro-F1 not measured"},
        **({"extra_inputs": extra_inputs} if extra_inputs else {}))


def smallest_agreeing_variant(folder: Path, variants: dict[str, str], drifts: dict[str, parity.ParityReport], report: Report) -> str:
    """The default an import ships when none is asked for: the smallest file among fp32 and the variants
    that agree with it on the probe texts (labels identical, probabilities within the int8 tolerance),
    the check `drifts` holds for each variant but fp32."""
    sizes = {variant: (folder / file).stat().st_size for variant, file in variants.items()}
    default = min(["fp32"] + [variant for variant, drift in drifts.items() if drift.ok], key=sizes.__getitem__)
    texts = next(iter(drifts.values())).count
    left_out = [f"not {variant} (max |Δp| {drift.max_abs_diff:.2e}, labels agree {drift.label_agreement:.2%})"
                for variant, drift in drifts.items() if not drift.ok]
    report(f"import: default variant {default} ({sizes[default] / 1e6:.2f} MB): the smallest that agrees with fp32 on "
           f"{texts} probe texts (labels identical, max |Δp| <= {parity.TOLERANCE['int8']:g})"
           + "".join(f"; {why}" for why in left_out) + "; --default-variant chooses another")
    return default


def _drift(folder: Path, encoder: TextEncoder, extra_inputs: dict, file: str = "model.int8.onnx") -> parity.ParityReport:
    texts = probe_texts(encoder.max_length)
    runs = []
    for file in ("model.onnx", file):
        session = create_session(folder / file)
        chunks = []
        for i in range(0, len(texts), 16):
            feeds = model_feeds(encoder, texts[i:i + 16], extra_inputs)
            chunks.append(softmax(session.run(["logits"], feeds)[0]))
        runs.append(np.concatenate(chunks))
    return parity.compare(runs[0], runs[1], parity.TOLERANCE["int8"])


def parity_json(report: parity.ParityReport) -> dict:
    return {"max_abs_diff_probability": float(f"{report.max_abs_diff:.3g}"),
            "label_agreement": round(report.label_agreement, 4), "texts": report.count}
