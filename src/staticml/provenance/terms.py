"""Whose model is it, and on what terms: the licence (an SPDX expression and/or a licence text), the
author, where it comes from and its model card, recorded in the manifest's `provenance` and shipped
as `LICENSE` and `MODEL_CARD.md` next to the model (listed in the manifest's files, so hashed, signed
and checked like the weights)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from .. import manifest as manifest_io
from ..errors import UserError

LICENSE_FILE = "LICENSE"
CARD_FILE = "MODEL_CARD.md"
MAX_TEXT_BYTES = 1_000_000
LICENSE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "COPYING")
# A Hugging Face model card's YAML front matter: its `license:` line.
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.S)
LICENSE_LINE = re.compile(r"^license:\s*[\"']?([^\"'\n#]+?)[\"']?\s*(#.*)?$", re.M)


@dataclass
class Terms:
    """What --license, --license-file, --author, --source-url and --card gave (all optional)."""

    license: str | None = None  # a normalized SPDX expression
    license_text: str | None = None
    license_source: str | None = None  # where the licence text came from (a file), for the report
    author: str | None = None
    source_url: str | None = None
    card: str | None = None

    def given(self) -> bool:
        return any(v is not None for v in (self.license, self.license_text, self.author, self.source_url, self.card))

    def over(self, declared: "Terms") -> "Terms":
        """These terms, with what they leave out taken from `declared` (a source's own files)."""
        return Terms(**{k: v if v is not None else getattr(declared, k) for k, v in vars(self).items()})


def spdx_expression(value: str, where: str = "--license") -> str:
    """A normalized SPDX licence expression (`MIT`, `Apache-2.0 OR MIT`); an unknown id is one line
    naming the nearest known ids."""
    from license_expression import get_spdx_licensing

    licensing = get_spdx_licensing()
    value = value.strip()
    info = licensing.validate(value)
    if info.errors or not info.normalized_expression:
        unknown = info.invalid_symbols or [value]
        known = sorted({key for symbol in licensing.known_symbols.values() for key in (symbol.key, *symbol.aliases)})
        nearest = difflib.get_close_matches(str(unknown[0]), known, n=3, cutoff=0.5)
        hint = f"; nearest known: {', '.join(nearest)}" if nearest else ""
        raise UserError(f"{where} {value!r}: unknown SPDX licence identifier {unknown[0]!r}{hint} (see https://spdx.org/licenses/)")
    return str(info.normalized_expression)


def read_text(path: str | Path, what: str) -> str:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the {what} ({exc.strerror or exc.__class__.__name__})") from None
    if len(data) > MAX_TEXT_BYTES:
        raise UserError(f"{path}: the {what} is {len(data)} bytes; at most {MAX_TEXT_BYTES} are shipped")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: the {what} is not UTF-8 text") from None
    if not text.strip() or "\0" in text:
        raise UserError(f"{path}: the {what} is empty or not text")
    return text


def one_line(value: str, flag: str, limit: int = 200) -> str:
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise UserError(f"{flag} {value[:60]!r}: give one printable line of at most {limit} characters")
    return value


def source_url(value: str) -> str:
    """An http(s) URL: the page links to it, so never javascript: or data:."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() or c in "\"'<>`" for c in value):
        raise UserError(f"--source-url {value[:80]!r}: give an http(s) URL, like https://example.org/my-model")
    return value


def terms_from(license: str | None = None, license_file: str | None = None, author: str | None = None,
               source: str | None = None, card: str | None = None) -> Terms:
    """Check the command line's terms before any work is done (a typo never costs a training run)."""
    return Terms(license=spdx_expression(license) if license else None,
                 license_text=read_text(license_file, "licence file") if license_file else None,
                 license_source=str(license_file) if license_file else None,
                 author=one_line(author, "--author") if author else None,
                 source_url=source_url(source) if source else None,
                 card=read_text(card, "model card") if card else None)


def declared_by(source: Path) -> Terms:
    """The licence a Hugging Face folder declares itself: README.md's front matter `license:` and a
    LICENSE file. Hugging Face ids that are not SPDX ("other", "openrail") are kept as the text's
    title rather than dropped."""
    source = Path(source)
    if not source.is_dir():
        return Terms()
    terms = Terms()
    readme = source / "README.md"
    if readme.is_file():
        match = FRONT_MATTER.match(readme.read_text(encoding="utf-8", errors="replace"))
        line = LICENSE_LINE.search(match.group(1)) if match else None
        if line:
            declared = line.group(1).strip()
            try:
                terms.license = spdx_expression(declared, f"{readme}: license")
            except UserError:
                terms.license_text = f"{readme.name} declares the licence {declared!r} (not an SPDX identifier).\n"
                terms.license_source = str(readme)
    for name in LICENSE_FILES:
        if (source / name).is_file():
            terms.license_text, terms.license_source = read_text(source / name, "licence file"), str(source / name)
            break
    return terms


def license_text(terms: Terms) -> str | None:
    """The LICENSE file shipped: the given text, or a short notice naming the SPDX licence."""
    if terms.license_text is not None:
        return terms.license_text
    if terms.license is None:
        return None
    owner = f"Copyright (c) {terms.author}.\n\n" if terms.author else ""
    return (f"SPDX-License-Identifier: {terms.license}\n\n{owner}This model is licensed under {terms.license}; "
            f"the licence texts are at https://spdx.org/licenses/\n")


def provenance_of(terms: Terms) -> dict:
    """The manifest's `provenance` field for these terms."""
    record = {"license": terms.license, "author": terms.author, "source_url": terms.source_url}
    if license_text(terms) is not None:
        record["license_file"] = LICENSE_FILE
    if terms.card is not None:
        record["card"] = CARD_FILE
    return {k: v for k, v in record.items() if v is not None}


def record(model_dir: Path, manifest: dict, terms: Terms, task_fields: manifest_io.Fields,
           report: Callable[[str], None] = print) -> dict:
    """Write LICENSE and MODEL_CARD.md into the model folder and the terms into its manifest; return it.
    A signed model's terms are signed too: changing them would break the signature, so it is refused."""
    if not terms.given():
        return manifest
    previous = manifest.get("provenance", {})
    declared = Terms(license=previous.get("license"), author=previous.get("author"), source_url=previous.get("source_url"),
                     license_text=_shipped(model_dir, previous.get("license_file")), card=_shipped(model_dir, previous.get("card")))
    terms = terms.over(declared)
    if "signature" in manifest and provenance_of(terms) != previous:
        raise UserError(f"{model_dir}: the model is signed; its licence and author are part of what is signed "
                        "(give them to train or import, then sign)")
    names = []
    text = license_text(terms)
    if text is not None:
        (model_dir / LICENSE_FILE).write_text(text, encoding="utf-8")
        names.append(LICENSE_FILE)
    if terms.card is not None:
        (model_dir / CARD_FILE).write_text(terms.card, encoding="utf-8")
        names.append(CARD_FILE)
    updated = {**manifest, "provenance": provenance_of(terms),
               "files": {**manifest["files"], **manifest_io.file_entries(model_dir, names)}}
    manifest_io.write(model_dir, updated, task_fields)
    report(f"provenance: {summary(updated) or 'recorded'}")
    return updated


def _shipped(model_dir: Path, name: str | None) -> str | None:
    """A text file the folder already ships (LICENSE, MODEL_CARD.md), kept when new terms do not replace it."""
    return (model_dir / name).read_text(encoding="utf-8") if name and (model_dir / name).is_file() else None


def summary(manifest: dict) -> str:
    """One line: the licence, the author, the source (what the page shows)."""
    p = manifest.get("provenance") or {}
    parts = [f"licence {p['license']}" if p.get("license") else ("licence in LICENSE" if p.get("license_file") else ""),
             f"by {p['author']}" if p.get("author") else "", f"from {p['source_url']}" if p.get("source_url") else "",
             "model card MODEL_CARD.md" if p.get("card") else ""]
    return ", ".join(x for x in parts if x)


def has_license(manifest: dict) -> bool:
    p = manifest.get("provenance") or {}
    return bool(p.get("license") or p.get("license_file"))
