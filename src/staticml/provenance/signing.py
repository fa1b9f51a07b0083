"""Signed provenance: an Ed25519 signature (the `cryptography` library) over the manifest's signed
fields — the name, task, labels, variants, the licence and author, and every file's sha256 and size —
written as canonical JSON (sorted keys, no spaces, UTF-8). The signature and the public key travel
in the manifest's `signature`; the page (web/src/provenance.ts) and `verify` check both it and the
files against the hashes it covers.

What it proves: the files are the ones the key's holder signed. Anyone can sign with a key of their
own, so the key id is shown for comparison with the one the owner publishes elsewhere
(`staticml verify --signing-key PUB` pins it)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .. import manifest as manifest_io
from ..errors import UserError

# The manifest fields a signature covers. Build adds `engines` and `backends` (how the page runs the
# model, not what it is), so those stay outside.
SIGNED_FIELDS = ("name", "task", "labels", "files", "variants", "default_variant", "provenance")
PRIVATE_KEY = "staticml-ed25519.key"
PUBLIC_KEY = "staticml-ed25519.pub"


def canonical(statement: dict) -> bytes:
    """The bytes signed: the page computes the same (sorted keys, no spaces, UTF-8, integers only)."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def statement(manifest: dict) -> dict:
    return {key: manifest[key] for key in SIGNED_FIELDS if key in manifest}


def keygen(out: Path) -> tuple[Path, Path]:
    """A new Ed25519 key pair in `out`: the private key readable by its owner only; nothing overwritten."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out = Path(out)
    private, public = out / PRIVATE_KEY, out / PUBLIC_KEY
    for path in (private, public):
        if path.exists():
            raise UserError(f"{path}: already exists; staticml keygen never overwrites a key")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: not a folder")
    out.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def load_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: not an unencrypted PEM private key ({exc.__class__.__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{path}: not an Ed25519 key (staticml keygen makes one)")
    return key


def load_public_key(path: Path) -> str:
    """A public key file (PEM) as the base64 SubjectPublicKeyInfo the manifest carries."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a PEM public key ({exc.__class__.__name__})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"{path}: not an Ed25519 public key")
    return _spki_base64(key)


def _spki_base64(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


def key_id(public_key_b64: str) -> str:
    """The first 16 hex digits of the public key's sha256: short enough to compare by eye."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def sign(model_dir: Path, manifest: dict, key_path: Path, task_fields: manifest_io.Fields, signer: str | None = None) -> dict:
    """Sign the model folder's manifest (after checking its files against their hashes); write and return it."""
    broken = manifest_io.check_integrity(model_dir, manifest)
    if broken:
        raise UserError(f"{model_dir}: {manifest_io.mismatch_text(broken)}; nothing signed")
    key = load_private_key(key_path)
    public = _spki_base64(key.public_key())
    signer = signer or (manifest.get("provenance") or {}).get("author") or f"key {key_id(public)}"
    value = base64.b64encode(key.sign(canonical(statement(manifest)))).decode("ascii")
    signed = {**manifest, "signature": {"algorithm": "Ed25519", "public_key": public, "key_id": key_id(public),
                                        "signer": signer, "value": value}}
    manifest_io.write(model_dir, signed, task_fields)
    return signed


@dataclass
class SignatureCheck:
    status: str  # "signed", "unsigned", "invalid" (not by this key, or the manifest changed), "tampered" (a file changed)
    message: str

    @property
    def passed(self) -> bool | None:
        return {"signed": True, "unsigned": None}.get(self.status, False)


def check(model_dir: Path, manifest: dict, expected_key: str | None = None) -> SignatureCheck:
    """Is the manifest signed by its key (and by `expected_key`, when given), and do the files match it?"""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    signature = manifest.get("signature")
    if not signature:
        return SignatureCheck("unsigned", "not signed" + (" (a signing key was expected)" if expected_key else ""))
    if expected_key and signature["public_key"] != expected_key:
        return SignatureCheck("invalid", f"signed with key {key_id(signature['public_key'])}, not the expected key {key_id(expected_key)}")
    try:
        public = serialization.load_der_public_key(base64.b64decode(signature["public_key"], validate=True))
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError("not Ed25519")
        public.verify(base64.b64decode(signature["value"], validate=True), canonical(statement(manifest)))
    except (InvalidSignature, ValueError, TypeError):
        return SignatureCheck("invalid", f"the signature does not match the manifest under key {key_id(signature['public_key'])} "
                                         "(signed by another key, or the manifest changed after signing)")
    broken = manifest_io.check_integrity(model_dir, manifest)
    if broken:
        return SignatureCheck("tampered", f"signature valid, but {manifest_io.mismatch_text(broken, 'the signed sha256')}")
    return SignatureCheck("signed", f"signed by {signature['signer']} (Ed25519 key {key_id(signature['public_key'])}), "
                                    f"{len(manifest['files'])} files match")
