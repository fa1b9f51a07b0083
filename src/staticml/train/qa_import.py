"""A Hugging Face `*ForQuestionAnswering` folder (BERT, DistilBERT, RoBERTa, MiniLM) → a question-answering
model folder: ONNX with `start_logits` and `end_logits`, int8 and q4 variants, each checked on probe
pairs (logits within tolerance and the same answer spans) against PyTorch or fp32."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import onnx

from .. import archs, tasks
from ..tasks import question_answering as qa_task
from ..errors import UserError
from ..output import atomic_folder
from ..runtime import create_session
from ..tasks.question_answering.checks import MAX_ANSWER_TOKENS, OUTPUTS, VARIANT_SPAN_AGREEMENT, compare_runs, probe_pairs
from ..tasks.question_answering.windows import Window, feeds, pair_layout, windows
from ..tokenize import describe, load_tokenizer
from . import export

Report = Callable[[str], None]
MAX_LENGTH = 384  # the usual SQuAD window
STRIDE_SHARE = 3  # stride = max_length / 3: 128 of 384, as training (question_answering.STRIDE) and the Hugging Face pipeline
NO_ANSWER_BELOW = 0.1
LOGIT_TOLERANCE = 1e-4  # fp32 ONNX vs PyTorch


def is_question_answering(folder: Path) -> bool:
    """The folder's config.json names a question-answering head (architectures: *ForQuestionAnswering)."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    names = config.get("architectures") if isinstance(config, dict) else None
    return isinstance(names, list) and any(isinstance(n, str) and n.endswith("ForQuestionAnswering") for n in names)


def qa_model(folder: Path):
    """The PyTorch model, refused in one line when its head is not a question-answering head."""
    import pickle

    from safetensors import SafetensorError
    from transformers import AutoModelForQuestionAnswering

    try:
        model, info = AutoModelForQuestionAnswering.from_pretrained(str(folder), local_files_only=True, output_loading_info=True)
    except (ValueError, KeyError, OSError, RuntimeError, SafetensorError, pickle.UnpicklingError, TypeError, EOFError) as exc:
        raise UserError(f"{folder}: cannot load the model ({str(exc).splitlines()[0][:200]})") from None
    missing = info.get("missing_keys") or []
    if missing:
        raise UserError(f"{folder}: its head is not a question-answering head (no weights for {', '.join(sorted(missing)[:2])}); "
                        "give a *ForQuestionAnswering folder, or train one with `staticml train DATA.json --task question-answering`")
    return model.eval()


def span_logits(model):
    """The model with plain tensor inputs, returning (start_logits, end_logits)."""
    import torch

    takes_token_types = "token_type_ids" in inspect.signature(model.forward).parameters

    class SpanLogits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {"token_type_ids": token_type_ids} if takes_token_types else {}
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
            return out.start_logits, out.end_logits

    return SpanLogits().eval(), takes_token_types


def export_qa(wrapper, path: Path, sample: dict[str, np.ndarray]) -> None:
    import torch

    names = list(sample)
    args = tuple(torch.from_numpy(sample[n]) for n in names)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # torch.onnx's advice for its developers (torchvision missing, …)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(wrapper, args, input_names=names, output_names=OUTPUTS,
                                        dynamic_shapes={n: {0: batch, 1: seq} for n in names}, dynamo=True, verbose=False)
            program.save(str(path))
    finally:
        logging.disable(previous)
    onnx.checker.check_model(str(path), full_check=True)


def probe_windows(tokenizer, max_length: int, stride: int) -> list[list[Window]]:
    return [windows(tokenizer, q, c, max_length, stride) for q, c in probe_pairs()]


def run_logits(run: Callable[[dict], tuple[np.ndarray, np.ndarray]], pair_windows: list[list[Window]], pad_id: int,
               token_types: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    return [run(feeds(ws, pad_id, token_types)) for ws in pair_windows]


def session_runner(path: Path):
    session = create_session(path)
    return lambda batch: tuple(session.run(OUTPUTS, batch))


def import_qa(folder: Path, out: Path, config, tokenizer_path: Path, length_limit: int, options: dict, report: Report) -> dict:
    """`config` is the folder's checked transformers config; `length_limit` the longest window the model
    and its tokenizer allow (or the --max-length asked for, checked against them)."""
    import torch

    tokenizer = load_tokenizer(tokenizer_path)
    spec = describe(tokenizer)
    if config.pad_token_id is not None:
        spec.pad_id = int(config.pad_token_id)
    max_length = length_limit if options["max_length"] else min(MAX_LENGTH, length_limit)
    stride = max_length // STRIDE_SHARE
    model = qa_model(folder)
    wrapper, token_types = span_logits(model)
    report(f"import: {folder} ({config.model_type}, question answering; windows of {max_length} tokens, stride {stride})")
    pair_windows = probe_windows(tokenizer, max_length, stride)

    def pytorch(batch: dict) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            return tuple(t.numpy() for t in wrapper(*(torch.from_numpy(v) for v in batch.values())))

    with atomic_folder(out, "model", options["force"], options["inputs"]) as target:
        (target / "tokenizer.json").write_bytes(Path(tokenizer_path).read_bytes())
        export_qa(wrapper, target / "model.onnx", feeds(pair_windows[-1], spec.pad_id, token_types))
        reference = run_logits(pytorch, pair_windows, spec.pad_id, token_types)
        fp32 = run_logits(session_runner(target / "model.onnx"), pair_windows, spec.pad_id, token_types)
        check = compare_runs(pair_windows, reference, fp32)
        report(f"import: model.onnx vs PyTorch: max |Δlogit| {check['max_abs_diff_logit']:.2e}, "
               f"same answer on {check['same_answer']}/{check['pairs']} probe pairs")
        if check["max_abs_diff_logit"] > LOGIT_TOLERANCE or check["same_answer"] != check["pairs"]:
            raise UserError(f"{folder}: the exported ONNX graph does not match the PyTorch model "
                            f"(max |Δlogit| {check['max_abs_diff_logit']:.2e}, same answer {check['same_answer']}/{check['pairs']})")
        section = {"source": str(folder), "kind": "huggingface", "model_type": config.model_type, "onnx_vs_pytorch": check}
        variants = {"fp32": "model.onnx", **make_variants(target, config.model_type, pair_windows, fp32, spec.pad_id, token_types,
                                                          section, report)}
        for variant, file in variants.items():
            report(f"variant {variant}: {file} {(target / file).stat().st_size / 1e6:.2f} MB")
        default = options["default_variant"] if options["default_variant"] in variants else "fp32"
        manifest = tasks.write_model_folder(
            target, name=options["name"], task=qa_task.NAME, labels=None, max_length=max_length,
            tokenizer=spec.to_json(), other_files=("tokenizer.json",), arch=f"imported-{config.model_type}",
            stride=stride, max_answer_tokens=MAX_ANSWER_TOKENS, pair=pair_layout(tokenizer), no_answer_below=NO_ANSWER_BELOW,
            variants=variants, default_variant=default, **{"import": section},
            metrics={"measured": False, "note": "imported without labeled data: exact match and F1 not measured"})
    report(f"model folder written: {out}")
    return manifest


def make_variants(folder: Path, model_type: str, pair_windows: list[list[Window]], fp32: list, pad_id: int, token_types: bool,
                  section: dict, report: Report) -> dict[str, str]:
    """int8 weights (float32 arithmetic) and q4, each kept only if it gives fp32's answers on most probe pairs."""
    kinds = {"int8": archs.get(model_type).quantizer}
    if archs.get(model_type).q4_quantizer:
        kinds["q4"] = archs.get(model_type).q4_quantizer
    kept = {}
    for variant, kind in kinds.items():
        file = f"model.{variant}.onnx"
        export.quantize(kind, folder / "model.onnx", folder / file)
        check = compare_runs(pair_windows, fp32, run_logits(session_runner(folder / file), pair_windows, pad_id, token_types))
        section[f"{variant}_vs_fp32"] = check
        share = check["same_answer"] / max(check["pairs"], 1)
        report(f"import: {variant} vs fp32: max |Δlogit| {check['max_abs_diff_logit']:.2e}, "
               f"same answer on {check['same_answer']}/{check['pairs']} probe pairs")
        if share >= VARIANT_SPAN_AGREEMENT:
            kept[variant] = file
        else:
            (folder / file).unlink()
            report(f"import: {variant} left out (it changes too many answers)")
    return kept
