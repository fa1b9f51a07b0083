"""What a visitor gets of each model: every file of `models/<name>/` is public (the page's first
visit fetches the default variant; the offline copy caches the rest but the other variants), and
whether its weights open as plain ONNX, i.e. whether anyone can take them and run them elsewhere.
`bench` and `verify` report it; docs/model-ip.md says what to do about it."""

from __future__ import annotations

from pathlib import Path


def model_exposure(model_dir: Path, manifest: dict) -> dict:
    """Files, bytes and readability of one model of a site."""
    files = {name: entry["bytes"] for name, entry in manifest["files"].items()}
    default = manifest["variants"][manifest["default_variant"]]
    terms = manifest.get("provenance") or {}
    first_visit = [n for n in files if n not in manifest["variants"].values() or n == default]
    return {
        "files": sorted([*files, "manifest.json"]),
        "bytes": sum(files.values()) + _size(model_dir / "manifest.json"),
        "first_visit_bytes": sum(files[n] for n in first_visit) + _size(model_dir / "manifest.json"),
        "weights": {variant: readable(model_dir / name) for variant, name in manifest["variants"].items()},
        "license": terms.get("license") or ("see LICENSE" if terms.get("license_file") else None),
        "signed": "signature" in manifest,
    }


def readable(path: Path) -> dict:
    """Does onnx.load open it as it is, and how many weights does it hold?"""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends: not readable as ONNX
        return {"plain_onnx": False, "reason": exc.__class__.__name__}
    tensors = list(model.graph.initializer)
    parameters = sum(int(_count(t.dims)) for t in tensors)
    return {"plain_onnx": True, "tensors": len(tensors), "parameters": parameters}


def _count(dims) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def describe(name: str, exposure: dict) -> str:
    """One line: what a visitor can download and take."""
    weights = exposure["weights"]
    plain = [v for v, w in weights.items() if w["plain_onnx"]]
    readable_part = (f"weights readable as plain ONNX ({', '.join(plain)}: "
                     f"{max(w.get('parameters', 0) for w in weights.values()):,} parameters)" if plain else "weights not plain ONNX")
    terms = f"licence {exposure['license']}" if exposure["license"] else "no licence"
    return (f"{len(exposure['files'])} files, {exposure['bytes'] / 1e6:.2f} MB public "
            f"({exposure['first_visit_bytes'] / 1e6:.2f} MB on a first visit); {readable_part}; {terms}; "
            f"{'signed' if exposure['signed'] else 'unsigned'}")
