"""`staticml predict MODEL pairs.jsonl`: one JSON object per line with `question` and `context`; one
answer per line out (JSONL: row, answer, score, start, end, no_answer), in the page's answer shape."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ...errors import UserError
from ...output import check_writable_file
from ..base import PredictRun
from .windows import check_pair


def read_pairs(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line number, question, context) per non-blank line; a bad line is refused naming its number and field."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        raise UserError(f"{path}: question answering reads JSONL (one {{\"question\": …, \"context\": …}} per line)")
    with open(path, encoding="utf-8-sig", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                raise UserError(f"{path}: line {number} is not a JSON object") from None
            if not isinstance(record, dict):
                raise UserError(f"{path}: line {number} is not a JSON object")
            for field in ("question", "context"):
                if not isinstance(record.get(field), str):
                    raise UserError(f"{path}: line {number} has no text field '{field}'")
            check_pair(record["question"], record["context"], f"{path}: line {number}")
            yield number, record["question"], record["context"]


def predict_pairs(run: PredictRun, answerer) -> int:
    if run.out is not None:
        check_writable_file(run.out, run.force, [run.data])
    total = run.data.stat().st_size if run.data.is_file() else 0
    if run.out is None:
        return write_answers(run, answerer, sys.stdout, total)
    handle, tmp = tempfile.mkstemp(prefix=f".{run.out.name}.", dir=run.out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            count = write_answers(run, answerer, stream, total)
        os.replace(tmp, run.out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    run.report(f"predict: {count} answers written to {run.out}")
    return count


def write_answers(run: PredictRun, answerer, stream, total: int) -> int:
    count = 0
    for number, question, context in read_pairs(run.data):
        result = answerer.answer(question, context)
        result.pop("alternatives")
        stream.write(json.dumps({"row": number, **result}, ensure_ascii=False) + "\n")
        count += 1
        if run.progress:
            run.progress(min(count, total), total)
    return count
