"""The model folder contract, owned here: manifest.json (its fields and their checks, on read and on
write), tokenizer.json and the ONNX variants, every file hashed and named plainly inside the folder."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import UserError

MANIFEST = "manifest.json"
ENGINES = ("compact", "onnxruntime-web")
BACKENDS = ("wasm", "webgpu")  # onnxruntime-web's, as build ships them (site manifests only)
# A model's name is its folder under the site's models/: letters, digits, "-", "_" and ".".
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(UserError):
    """A manifest field that breaks the contract; the message names the file and the field."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(folder: Path, names: list[str]) -> dict[str, dict]:
    return {name: {"sha256": sha256_of(folder / name), "bytes": (folder / name).stat().st_size} for name in names}


# ---- field checks: each returns a problem, or None ----

def _plain_name(value: Any) -> str | None:
    """A file name inside its folder: no folder part, no "..", not absolute, not hidden."""
    if not isinstance(value, str) or not value:
        return "is not a file name"
    if "/" in value or "\\" in value or value in (".", "..") or value.startswith(".") or "\0" in value:
        return f"{value!r} is not a plain file name inside the model folder"
    return None


def _model_name(value: Any) -> str | None:
    if not isinstance(value, str) or not _NAME.match(value):
        return f"{value!r} is not a usable model name (letters, digits, '-', '_', '.'; it becomes a folder name)"
    return None


def _task(value: Any) -> str | None:
    """Which tasks exist is the registry's business (staticml.tasks): here, a plain name."""
    return None if isinstance(value, str) and _NAME.match(value) else f"{value!r} is not a task name"


def labels_problem(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) < 2:
        return "must be a list of at least two labels"
    if not all(isinstance(v, str) and v for v in value):
        return "must hold non-empty strings only"
    if len(set(value)) != len(value):
        return f"has duplicates ({', '.join(sorted({v for v in value if value.count(v) > 1}))})"
    return None


def _files(value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return "must be an object {file name: {sha256, bytes}}"
    for name, entry in value.items():
        problem = _plain_name(name)
        if problem:
            return problem
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str) \
                or not _SHA256.match(entry["sha256"]) or not _count(entry.get("bytes")):
            return f"{name!r} needs a lowercase hex sha256 and a byte count"
    return None


def _variants(value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return "must be an object {variant: file name}"
    for variant, name in value.items():
        if not variant or _plain_name(name):
            return f"variant {variant!r}: {_plain_name(name) or 'has no name'}"
    return None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _max_length(value: Any) -> str | None:
    return None if _count(value) and 1 <= value <= 8192 else f"{value!r} is not a length between 1 and 8192"


def _ids(value: Any) -> bool:
    return isinstance(value, list) and all(_count(v) for v in value)


def _tokenizer(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be an object"
    if _plain_name(value.get("file")):
        return f"file: {_plain_name(value.get('file'))}"
    if not _ids(value.get("prefix_ids")) or not _ids(value.get("suffix_ids")) or not _count(value.get("pad_id")):
        return "needs prefix_ids and suffix_ids (lists of token ids) and pad_id (a token id)"
    if value.get("unk_token") is not None and not isinstance(value["unk_token"], str):
        return "unk_token must be a string or null"
    return None


def _extra_inputs(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(isinstance(k, str) and v == "zeros" for k, v in value.items()):
        return 'must be an object {input name: "zeros"}'
    return None


def _strings(value: Any) -> str | None:
    return None if isinstance(value, list) and all(isinstance(v, str) for v in value) else "must be a list of strings"


def _engines(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(v in ENGINES for v in value.values()):
        return f"must be an object {{variant: {' or '.join(ENGINES)}}}"
    return None


def _backends(value: Any) -> str | None:
    if not isinstance(value, list) or not value or not all(v in BACKENDS for v in value) or len(set(value)) != len(value):
        return f"must be a list of distinct backends from {', '.join(BACKENDS)}"
    return None


def _object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be an object"


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _provenance(value: Any) -> str | None:
    """Licence and authorship (staticml.provenance.terms): strings; files named plainly."""
    if not isinstance(value, dict) or not set(value) <= {"license", "license_file", "author", "source_url", "card"}:
        return "must be an object with license, license_file, author, source_url, card"
    if not all(isinstance(v, str) and v for v in value.values()):
        return "values must be non-empty strings"
    url = value.get("source_url")
    if url is not None and not re.match(r"^https?://[^\s\"'<>`]+$", url):
        return f"source_url {url!r} is not an http(s) URL"
    return next((f"{key}: {_plain_name(value[key])}" for key in ("license_file", "card") if key in value and _plain_name(value[key])), None)


def _signature(value: Any) -> str | None:
    """An Ed25519 signature of the manifest's signed fields (staticml.provenance.signing)."""
    keys = {"algorithm", "public_key", "key_id", "signer", "value"}
    if not isinstance(value, dict) or set(value) != keys or not all(isinstance(value[k], str) for k in keys):
        return f"must be an object with {', '.join(sorted(keys))} (strings)"
    return None if value["algorithm"] == "Ed25519" else f"algorithm {value['algorithm']!r} is not Ed25519"


def probability_problem(value: Any) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1
    return None if ok else f"{value!r} is not a probability between 0 and 1"


FieldCheck = Callable[[Any], "str | None"]


@dataclass(frozen=True)
class Fields:
    """Manifest fields: each with its check, and which of them must be present."""

    checks: dict[str, FieldCheck]
    required: tuple[str, ...] = ()


# The fields every model folder has or may have, whatever its task; a task adds its own
# (staticml.tasks: each task's `fields`). The page's web/src/types.ts mirrors all of them
# (tests/unit/test_manifest.py compares them).
COMMON = Fields({
    "name": _model_name,
    "task": _task,
    "files": _files,
    "variants": _variants,
    "default_variant": _string,
    "extra_inputs": _extra_inputs,
    "examples": _strings,
    "engines": _engines,
    "backends": _backends,
    "arch": _string,
    "metrics": _object,
    "import": _object,
    "provenance": _provenance,
    "signature": _signature,
}, required=("name", "task", "files", "variants", "default_variant"))
# Shared by the tasks that take text (tokenizer.json in the folder) or answer with labels.
LABELS = {"labels": labels_problem}
TEXT_INPUT = {"max_length": _max_length, "tokenizer": _tokenizer}


def validate(manifest: Any, where: str = MANIFEST, task_fields: Fields = Fields({})) -> dict:
    """Check a manifest against the contract (types, names, cross-references) and the task's own
    fields (`task_fields`, from staticml.tasks); return it unchanged."""
    if not isinstance(manifest, dict):
        raise ManifestError(f"{where}: expected a JSON object")
    problem = _task(manifest.get("task"))
    if problem:
        raise ManifestError(f"{where}: task {problem}")
    checks = {**COMMON.checks, **task_fields.checks}
    missing = [key for key in (*COMMON.required, *task_fields.required) if key not in manifest]
    if missing:
        raise ManifestError(f"{where}: missing field(s) {', '.join(missing)}")
    for key, check in checks.items():
        problem = check(manifest[key]) if key in manifest else None
        if problem:
            raise ManifestError(f"{where}: {key} {problem}")
    _check_references(manifest, where)
    return manifest


def _check_references(manifest: dict, where: str) -> None:
    files, variants = manifest["files"], manifest["variants"]
    if manifest["default_variant"] not in variants:
        raise ManifestError(f"{where}: default_variant '{manifest['default_variant']}' is not one of the variants")
    for variant, name in variants.items():
        if name not in files:
            raise ManifestError(f"{where}: variant '{variant}' names file '{name}', which is not in files")
    tokenizer = manifest.get("tokenizer")
    if isinstance(tokenizer, dict) and tokenizer.get("file") not in files:
        raise ManifestError(f"{where}: tokenizer file '{tokenizer['file']}' is not in files")
    for key, name in (manifest.get("provenance") or {}).items():
        if key in ("license_file", "card") and name not in files:
            raise ManifestError(f"{where}: provenance {key} '{name}' is not in files")
    unknown = set(manifest.get("engines", {})) - set(variants)
    if unknown:
        raise ManifestError(f"{where}: engines names unknown variant(s) {', '.join(sorted(unknown))}")


def read(model_dir: str | Path, task_fields: Fields = Fields({})) -> dict:
    """Load and check a model folder's manifest and its files; every problem names the file and field.
    The task's own fields are checked when given (staticml.tasks.read_model gives them)."""
    model_dir = Path(model_dir)
    path = model_dir / MANIFEST
    if not model_dir.is_dir():
        raise UserError(f"{model_dir}: not a folder")
    if not path.is_file():
        raise UserError(f"{model_dir}: not a model folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # also json's limit on a number's digits
        raise ManifestError(f"{path}: not valid JSON ({str(exc)[:200]})") from None
    except RecursionError:
        raise ManifestError(f"{path}: nested too deeply to be a manifest") from None
    validate(manifest, str(path), task_fields)
    for name in manifest["files"]:
        _check_inside(model_dir, name, path)
    return manifest


def _check_inside(model_dir: Path, name: str, path: Path) -> None:
    """A listed file is a regular file of the folder itself, not a link to somewhere else."""
    file = model_dir / name
    if file.is_symlink() and file.resolve().parent != model_dir.resolve():
        raise ManifestError(f"{path}: files '{name}' is a link out of the model folder")
    if not file.is_file():
        raise ManifestError(f"{path}: files '{name}' is missing from the model folder")


def write(model_dir: Path, manifest: dict, task_fields: Fields = Fields({})) -> None:
    validate(manifest, str(Path(model_dir) / MANIFEST), task_fields)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (Path(model_dir) / MANIFEST).write_text(text, encoding="utf-8")


def write_model_folder(folder: Path, *, name: str, task: str, labels: list[str] | None, variants: dict[str, str],
                       default_variant: str, metrics: dict, arch: str, other_files: tuple[str, ...] = (),
                       task_fields: Fields = Fields({}), **fields) -> dict:
    """The one writer of manifest.json, for every trainer and importer: hashes the variants and
    `other_files` (e.g. tokenizer.json), checks the whole manifest against the contract, writes it."""
    manifest = {"name": name, "task": task, **({"labels": labels} if labels is not None else {}), **fields, "arch": arch,
                "files": file_entries(folder, [*other_files, *variants.values()]),
                "variants": variants, "default_variant": default_variant, "metrics": metrics}
    write(folder, manifest, task_fields)
    return manifest


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


def mismatch_text(broken: list[str], against: str = "the sha256 in manifest.json") -> str:
    """'a.onnx does not match …' or 'a.onnx, b.json do not match …', for messages about check_integrity's result."""
    verb = "does" if len(broken) == 1 else "do"
    return f"{', '.join(broken)} {verb} not match {against}"


def _decompress(path: Path) -> bytes:
    import gzip

    import brotli

    try:
        return brotli.decompress(path.read_bytes()) if path.suffix == ".br" else gzip.decompress(path.read_bytes())
    except (brotli.error, OSError, EOFError):
        return b""
