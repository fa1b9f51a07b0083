"""Does a built site publish any of the user's held-out data? The check `verify` runs.

Training keeps the held-out split beside the model folder, listed nowhere in its manifest (so `build`
never copies it): `test_texts.json` for a text model, `test_rows.json` for a tabular one. Given the
model folders (or finding those files in the site itself, which is already a leak), every file of
the site, `.gz`/`.br` copies decompressed, is searched for them:

- a text is present when its bytes occur anywhere in a file: as UTF-8, JSON-escaped (with and
  without `\\uXXXX` escapes) or HTML-escaped. Texts under MIN_TEXT_CHARS characters ("ok thanks")
  occur by chance and prove nothing: they are counted, not searched.
- a record is present when every one of its values occurs as a whole token within a few tokens of
  each other in one file (WINDOW_PER_TOKEN per value token, plus WINDOW_SLACK for a label or a left-out
  column between them): a JSON object of the row (keys between its values), a CSV line of the data,
  a JS literal. Numbers compare by value (`9` = `9.0`), yes/true and no/false alike in any case,
  other words exactly. Records with fewer than MIN_RECORD_TOKENS value tokens could be anywhere by chance:
  counted, not searched.
"""

from __future__ import annotations

import bisect
import gzip
import html
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import manifest as manifest_io
from .errors import UserError
HELD_OUT_TEXTS = "test_texts.json"  # a text model's test split, beside the model folder (never in a site)
TEST_ROWS = "test_rows.json"  # a tabular model's test split's rows, beside the model folder (never in a site)
MIN_TEXT_CHARS = 12
MIN_RECORD_TOKENS = 3
WINDOW_PER_TOKEN = 2
WINDOW_SLACK = 4
ANCHOR = 8  # bytes: every searched form of a text is found by its first 8 bytes, then compared whole
CHUNK = 1 << 24  # bytes of a file searched for anchors at a time (bounded memory on large model files)
TOKEN = re.compile(r"[^\s\"',:;{}\[\]()<>=|`]+")
TOKEN_BYTES = re.compile(TOKEN.pattern.encode())
NUMBER_START = set(b"0123456789+-.")
TRUTH = {"true": "true", "yes": "true", "false": "false", "no": "false"}
TRUTH_BYTES = {word.encode() for word in TRUTH}


@dataclass
class HeldOut:
    """One model's held-out split: where it was found, its texts or its records."""
    source: Path
    texts: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)


def held_out_of(model_dir: Path) -> HeldOut | None:
    """The held-out split kept beside a trained model folder, or None when there is none."""
    texts_file, rows_file = Path(model_dir) / HELD_OUT_TEXTS, Path(model_dir) / TEST_ROWS
    if not texts_file.is_file() and not rows_file.is_file():
        return None
    found = HeldOut(Path(model_dir))
    if texts_file.is_file():
        found.texts = [t for t in _json_list(texts_file) if isinstance(t, str)]
    if rows_file.is_file():
        found.rows = [r for r in _json_list(rows_file) if isinstance(r, dict)]
    return found


def _json_list(path: Path) -> list:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a JSON list ({exc.__class__.__name__})") from None
    if not isinstance(value, list):
        raise UserError(f"{path}: not a JSON list")
    return value


def site_files(site: Path) -> Iterator[tuple[str, bytes]]:
    """(path in the site, bytes) for every file, and each .gz/.br copy decompressed unless it is the
    same bytes as the file beside it."""
    import brotli

    for path in sorted(p for p in Path(site).rglob("*") if p.is_file()):
        name, data = path.relative_to(site).as_posix(), path.read_bytes()
        yield name, data
        if path.suffix not in (".gz", ".br"):
            continue
        try:
            plain = gzip.decompress(data) if path.suffix == ".gz" else brotli.decompress(data)
        except (OSError, EOFError, brotli.error):
            continue
        original = path.with_suffix("")
        if not (original.is_file() and original.stat().st_size == len(plain) and original.read_bytes() == plain):
            yield f"{name} (decompressed)", plain


# ---------------------------------------------------------------- texts


def text_forms(text: str) -> set[bytes]:
    """The bytes a text takes in a file: plain UTF-8, inside a JSON string, in HTML."""
    forms = {text, json.dumps(text, ensure_ascii=False)[1:-1], json.dumps(text)[1:-1], html.escape(text)}
    return {form.encode("utf-8") for form in forms}


class TextFinder:
    """Finds any of many texts in bytes: an 8-byte anchor per form, looked up for every offset with
    numpy, each hit compared whole."""

    def __init__(self, texts: list[str]):
        self.by_anchor: dict[int, list[tuple[bytes, str]]] = defaultdict(list)
        for text in texts:
            for form in text_forms(text):
                self.by_anchor[int.from_bytes(form[:ANCHOR], "little")].append((form, text))
        self.anchors = np.array(sorted(self.by_anchor), dtype=np.uint64)

    def find(self, data: bytes) -> list[str]:
        """The texts whose bytes occur in `data`."""
        found: dict[str, None] = {}
        if not len(self.anchors):
            return []
        for start in range(0, len(data), CHUNK):
            piece = data[start:start + CHUNK + ANCHOR - 1]
            for offset in range(ANCHOR):
                count = (len(piece) - offset) // ANCHOR
                if count <= 0:
                    continue
                words = np.frombuffer(piece, dtype="<u8", count=count, offset=offset)
                nearest = self.anchors[np.minimum(np.searchsorted(self.anchors, words), len(self.anchors) - 1)]
                for index in np.flatnonzero(nearest == words):
                    at = start + offset + int(index) * ANCHOR
                    for form, text in self.by_anchor[int(words[index])]:
                        if data.startswith(form, at):
                            found[text] = None
        return list(found)


# ---------------------------------------------------------------- records


def normalized(token: str) -> str:
    """A token as compared: a number by value, yes/true and no/false alike in any case, a word as written."""
    if token.lower() in TRUTH:
        return TRUTH[token.lower()]
    try:
        number = float(token)
    except ValueError:
        return token
    return repr(number) if math.isfinite(number) else token


def record_tokens(row: dict) -> list[str]:
    """The tokens of a record's values (missing values have none)."""
    tokens = []
    for value in row.values():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        tokens += [normalized(t) for t in TOKEN.findall(text)]
    return tokens


class TokenIndex:
    """Where each of the `wanted` tokens (normalized) occurs in a file's text."""

    def __init__(self, data: bytes, wanted: set[str]):
        self.positions: dict[str, list[int]] = defaultdict(list)
        words = {token.encode() for token in wanted}
        for i, raw in enumerate(TOKEN_BYTES.findall(data)):
            if raw in words:
                token = raw.decode()
            elif raw[0] in NUMBER_START or raw.lower() in TRUTH_BYTES:  # other tokens cannot match: not decoded
                token = normalized(raw.decode("utf-8", errors="replace"))
            else:
                continue
            if token in wanted:
                self.positions[token].append(i)

    def holds(self, tokens: list[str]) -> bool:
        """Every token (as often as it is in `tokens`) within the window around one occurrence of the rarest."""
        needed = Counter(tokens)
        if any(token not in self.positions for token in needed):
            return False
        window = WINDOW_PER_TOKEN * len(tokens) + WINDOW_SLACK
        rarest = min(needed, key=lambda t: len(self.positions[t]))
        return any(all(_count_between(self.positions[t], at - window, at + window) >= n for t, n in needed.items())
                   for at in self.positions[rarest])


def _count_between(positions: list[int], low: int, high: int) -> int:
    return bisect.bisect_right(positions, high) - bisect.bisect_left(positions, low)


# ---------------------------------------------------------------- the check


def model_folders_by_name(folders: list[Path]) -> dict[str, Path]:
    """Model folders given to verify, by the name in their manifest (the name the site gives the model)."""
    return {manifest_io.read(folder)["name"]: Path(folder) for folder in folders}


def held_out_findings(site: Path, site_models: dict[str, Path], given: list[Path], trained: set[str]) -> list[dict]:
    """One finding ({name, passed, figure, details}) per model of the site that `train` keeps a
    held-out split for (`trained`: their names): FAIL when a file of the site holds a held-out text or
    record, PASS when none does, SKIP when its held-out data is not reachable (a model folder not
    given, or one that keeps none, e.g. an imported model)."""
    folders = model_folders_by_name(given)
    strangers = sorted(set(folders) - set(site_models))
    if strangers:
        raise UserError(f"--model-folder {folders[strangers[0]]}: its model '{strangers[0]}' is not in the site "
                        f"(the site has {', '.join(site_models)})")
    site_models = {name: d for name, d in site_models.items() if name in trained}
    held = {name: held_out_of(folders[name]) if name in folders else None for name in site_models}
    held = {name: found or held_out_of(site_models[name]) for name, found in held.items()}
    reachable = {name: found for name, found in held.items() if found}
    findings = []
    for name in site_models:
        if name not in reachable:
            why = "not given (verify SITE --model-folder DIR)" if name not in folders else "keeps no held-out split"
            findings.append({"name": f"{name}: held-out data", "passed": None,
                             "figure": f"not checked: the model folder {why}", "details": {}})
            continue
        findings.append(_finding(name, reachable[name], site))
    return findings


def _finding(name: str, held: HeldOut, site: Path) -> dict:
    """Every file of the site read one at a time (a site with large models need not fit in memory twice)."""
    texts = [t for t in held.texts if len(t.strip()) >= MIN_TEXT_CHARS]
    rows = [(row, record_tokens(row)) for row in held.rows]
    searched_rows = [(row, tokens) for row, tokens in rows if len(tokens) >= MIN_RECORD_TOKENS]
    finder = TextFinder(texts)
    wanted = {token for _, tokens in searched_rows for token in tokens}
    leaks, files = [], 0
    for file, data in site_files(site):
        files += 1
        leaks += [{"file": file, "text": text} for text in finder.find(data)]
        if searched_rows:
            index = TokenIndex(data, wanted)
            leaks += [{"file": file, "record": row} for row, tokens in searched_rows if index.holds(tokens)]
    searched = (f"{len(texts)} held-out texts" if held.texts else "") + (" and " if held.texts and held.rows else "") + \
        (f"{len(searched_rows)} held-out records" if held.rows else "")
    unsearched = (len(held.texts) - len(texts)) + (len(rows) - len(searched_rows))
    details = {"held_out_from": str(held.source), "files": files, "texts": len(texts), "records": len(searched_rows),
               "too_short_to_search": unsearched, "found": leaks[:20],
               "files_holding_them": dict(Counter(leak["file"] for leak in leaks))}
    if leaks:
        first = leaks[0]
        what = repr(first["text"][:60]) if "text" in first else f"a record {json.dumps(first['record'])[:80]}"
        return {"name": f"{name}: held-out data", "passed": False, "details": details,
                "figure": f"{len(leaks)} held-out items published, e.g. {what} in {first['file']}"}
    short = f" ({unsearched} too short to tell from chance not searched)" if unsearched else ""
    return {"name": f"{name}: held-out data", "passed": True, "details": details,
            "figure": f"none of {searched} in the site's {files} files{short}"}
