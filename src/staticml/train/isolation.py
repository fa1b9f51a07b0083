"""Run work on an untrusted file in a child process with a memory and a time limit.

Native readers (the TFLite interpreter, tf2onnx's flatbuffer parser) may crash with a segmentation
fault or ask for tens of GB on a damaged file. In a child, that kills only the child: its death
(a signal, running out of its address-space limit, the time limit) becomes one UserError line
naming the file. Everything the child or its libraries print (TensorFlow's and absl's log lines
included) goes to a file that is read only to describe a failure, never to the user's terminal.

`python -m staticml.train.isolation MODULE:FUNCTION RESULT_FILE MEMORY_BYTES JSON_ARGS` is the
child's side: it sets RLIMIT_AS, calls FUNCTION(*ARGS) and writes {"result": ...} (or the error)
as JSON to RESULT_FILE.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import UserError

MEMORY_LIMIT_BYTES = 4 << 30  # TensorFlow + tf2onnx on the face detector peak at ~0.9 GB resident
TIME_LIMIT_SECONDS = 300  # the face detector's import takes ~10 s on an idle 2-core machine
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "GRPC_VERBOSITY": "ERROR", "GLOG_minloglevel": "3"}


def run_isolated(target: str, args: list, source: Path, what: str, memory_bytes: int = MEMORY_LIMIT_BYTES,
                 seconds: float = TIME_LIMIT_SECONDS) -> Any:
    """FUNCTION(*args) of `target` ("module:function", JSON-able args and result) in a child process;
    its UserError, crash, memory or time overrun becomes one UserError naming `source`."""
    with tempfile.TemporaryDirectory(prefix="staticml-child-") as folder:
        result_file, log_file = Path(folder) / "result.json", Path(folder) / "child.log"
        command = [sys.executable, "-m", __name__, target, str(result_file), str(memory_bytes), json.dumps(args)]
        with open(log_file, "wb") as log:
            try:
                done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                      env={**os.environ, **QUIET}, timeout=seconds)
            except subprocess.TimeoutExpired:
                raise UserError(f"{source}: {what} took longer than {seconds:g} s and was stopped "
                                "(the file is damaged or not what it claims)") from None
        outcome = json.loads(result_file.read_text()) if result_file.is_file() else {}
        last_line = last_log_line(log_file)
    return result_of(outcome, done.returncode, last_line, source, what, memory_bytes)


def result_of(outcome: dict, returncode: int, last_line: str, source: Path, what: str, memory_bytes: int) -> Any:
    if "result" in outcome:
        return outcome["result"]
    if "error" in outcome:
        raise UserError(outcome["error"])
    if "memory" in outcome:
        raise UserError(f"{source}: {what} needed more than {memory_bytes / 2**30:.0f} GB of memory and was stopped "
                        "(the file is damaged or not what it claims)")
    if "failed" in outcome:
        raise UserError(f"{source}: {what} failed ({outcome['failed']})")
    if returncode < 0:
        name = signal_name(-returncode)
        raise UserError(f"{source}: {what} crashed ({name}); the file is damaged or not what it claims"
                        f"{f' (or needed more than {memory_bytes / 2**30:.0f} GB)' if name == 'SIGABRT' else ''}")
    raise UserError(f"{source}: {what} failed (exit {returncode}{f': {last_line}' if last_line else ''})")


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def last_log_line(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, 2) - 2000))
        lines = f.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:200] if lines else ""


# ---------------------------------------------------------------- the child's side


def limit_memory(memory_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def quiet_logs() -> None:
    """TensorFlow's C++ lines are off by TF_CPP_MIN_LOG_LEVEL (set before it loads); absl's Python
    logger and warnings are turned down too, in case anything reads the child's output."""
    import logging
    import warnings

    os.environ.update(QUIET)
    warnings.filterwarnings("ignore")
    logging.getLogger().setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging
    except ImportError:
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


def child_main(argv: list[str]) -> int:
    target, result_file, memory_bytes, args = argv
    limit_memory(int(memory_bytes))
    quiet_logs()
    module, _, function = target.partition(":")
    try:
        outcome = {"result": getattr(importlib.import_module(module), function)(*json.loads(args))}
    except UserError as exc:
        outcome = {"error": str(exc)}
    except MemoryError:
        outcome = {"memory": True}
    except Exception as exc:  # a native reader's error on a damaged file; named, not a traceback
        outcome = {"failed": f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"}
    Path(result_file).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
