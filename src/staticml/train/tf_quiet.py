"""TensorFlow, absl, Keras and tf2onnx kept off the user's terminal while staticml works with them.

TensorFlow 2.21 writes its start-up notices ("oneDNN custom operations are on", "Could not find cuda
drivers", "All log messages before absl::InitializeLog() is called...") from C++ straight to file
descriptor 2, whatever TF_CPP_MIN_LOG_LEVEL says, so only moving descriptor 2 keeps them away. While the
work runs, descriptor 2 goes to a temporary file and Python's own `sys.stderr` (staticml's progress lines)
to a copy of the terminal's descriptor; the caught lines are shown only if the work dies of an internal
error, where they may explain it. A UserError stays the one line the CLI prints after this returns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from typing import Iterator

from ..errors import UserError

LOGGERS = ("tensorflow", "absl", "keras", "tf2onnx", "h5py")


@contextlib.contextmanager
def quiet_tensorflow() -> Iterator[None]:
    with _python_logs_silenced(), _descriptor_2_caught():
        yield


@contextlib.contextmanager
def _python_logs_silenced() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras' and TensorFlow's deprecation and "compiled metrics" warnings
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@contextlib.contextmanager
def _descriptor_2_caught() -> Iterator[None]:
    try:
        terminal = os.dup(2)
    except OSError:  # no descriptor 2 at all: nothing to keep quiet
        yield
        return
    _flush(sys.stderr)
    caught = tempfile.TemporaryFile()
    stream = sys.stderr
    os.dup2(caught.fileno(), 2)
    if _writes_to_descriptor_2(stream):
        sys.stderr = open(terminal, "w", buffering=1, encoding=getattr(stream, "encoding", None) or "utf-8",
                          errors="backslashreplace", closefd=False)
    try:
        yield
    except (UserError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        _replay(caught, terminal)  # an internal error: TensorFlow's last words may explain it
        raise
    finally:
        _flush(sys.stderr)
        if sys.stderr is not stream:
            sys.stderr.close()
            sys.stderr = stream
        os.dup2(terminal, 2)
        os.close(terminal)
        caught.close()


def _writes_to_descriptor_2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # pytest's capture, a StringIO...
        return False


def _flush(stream) -> None:
    with contextlib.suppress(Exception):
        stream.flush()


def _replay(caught, terminal: int) -> None:
    with contextlib.suppress(OSError):
        caught.seek(0)
        os.write(terminal, caught.read()[-20000:])
