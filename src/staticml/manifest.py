"""The model folder contract: manifest.json, tokenizer.json, ONNX variants, all hashed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import UserError

MANIFEST = "manifest.json"
REQUIRED = ("name", "task", "labels", "max_length", "files", "variants", "default_variant", "tokenizer")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(folder: Path, names: list[str]) -> dict[str, dict]:
    return {name: {"sha256": sha256_of(folder / name), "bytes": (folder / name).stat().st_size} for name in names}


def read(model_dir: str | Path) -> dict:
    """Load and check a model folder's manifest; every problem names the file and field."""
    model_dir = Path(model_dir)
    path = model_dir / MANIFEST
    if not model_dir.is_dir():
        raise UserError(f"{model_dir}: not a folder")
    if not path.is_file():
        raise UserError(f"{model_dir}: not a model folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise UserError(f"{path}: expected a JSON object")
    missing = [key for key in REQUIRED if key not in manifest]
    if missing:
        raise UserError(f"{path}: missing field(s) {', '.join(missing)}")
    if manifest["default_variant"] not in manifest["variants"]:
        raise UserError(f"{path}: default_variant '{manifest['default_variant']}' is not one of the variants")
    for variant, name in manifest["variants"].items():
        if name not in manifest["files"] or not (model_dir / name).is_file():
            raise UserError(f"{path}: variant '{variant}' names file '{name}', which is missing")
    return manifest


def write(model_dir: Path, manifest: dict) -> None:
    (Path(model_dir) / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def check_integrity(model_dir: Path, manifest: dict) -> list[str]:
    """Names of files (and of their precompressed .br/.gz copies) whose bytes do not match the sha256."""
    broken = []
    for name, entry in manifest["files"].items():
        if not (model_dir / name).is_file() or sha256_of(model_dir / name) != entry["sha256"]:
            broken.append(name)
        for copy in (model_dir / f"{name}.br", model_dir / f"{name}.gz"):
            if copy.is_file() and hashlib.sha256(_decompress(copy)).hexdigest() != entry["sha256"]:
                broken.append(copy.name)
    return broken


def _decompress(path: Path) -> bytes:
    import gzip

    import brotli

    try:
        return brotli.decompress(path.read_bytes()) if path.suffix == ".br" else gzip.decompress(path.read_bytes())
    except (brotli.error, OSError, EOFError):
        return b""


@contextlib.contextmanager
def atomic_folder(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder next to `out`; it replaces `out` only if the block succeeds."""
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old-{tmp.name}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
