"""Every folder staticml writes (`--out`): written whole or not at all, and never over a user's files.

The rule: `--out` may name a new folder, an empty one, or a previous staticml output of the same
kind whose files are all still the ones staticml wrote (the marker file `.staticml-output` lists
them with their sha256). Anything else is refused, unless `force`; even then never the current
folder or one that holds it, the home folder, the root, or a folder holding one of the inputs.
A site's own files (`build --extra`: CNAME, favicon.ico, robots.txt) are listed in the marker too,
under `extra`, so that the next build may replace the site and carry them over.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from .errors import UserError
from .manifest import sha256_of

MARKER = ".staticml-output"
KINDS = ("model", "site", "bench")


@contextlib.contextmanager
def atomic_folder(out: str | Path, kind: str, force: bool = False, inputs: Iterable[str | Path] = (),
                  extra: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a temporary folder next to `out`; it replaces `out` only if the block succeeds. `extra`:
    the paths in it that are the user's own files (recorded as such in the marker)."""
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}")
    target = Path(out).absolute()
    check_writable(target, kind, force, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        write_marker(tmp, kind, extra)
        _replace(target, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_writable(out: Path, kind: str, force: bool = False, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse, before any work is done, an `--out` that would lose something staticml did not write."""
    shown = str(out)
    if out.is_symlink():
        raise UserError(f"--out {shown}: is a symbolic link; name a real folder")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {shown}: exists and is not a folder")
    resolved = out.resolve()
    _refuse_protected(resolved, shown, [Path(p).absolute().resolve() for p in inputs])
    if not out.exists() or force or not any(out.iterdir()):
        return
    problem = _not_ours(out, kind)
    if problem:
        raise UserError(f"--out {shown}: {problem}; choose a new or empty folder, or pass --force to replace it")


def _refuse_protected(out: Path, shown: str, inputs: list[Path]) -> None:
    cwd = Path.cwd().resolve()
    if out == Path(out.anchor) or out == Path.home().resolve():
        raise UserError(f"--out {shown}: is the root or home folder; name a folder inside it")
    if cwd == out or out in cwd.parents:
        raise UserError(f"--out {shown}: is the current folder or holds it; name a folder inside it")
    for path in inputs:
        if path == out or out in path.parents:
            raise UserError(f"--out {shown}: holds the input {path}; write the output somewhere else")


def _not_ours(folder: Path, kind: str) -> str | None:
    """Why replacing `folder` could lose a user's file, or None when staticml wrote all of it."""
    marker = _read_marker(folder)
    if marker is None:
        return "the folder is not empty and staticml did not write it (no .staticml-output marker)"
    if marker.get("kind") != kind:
        return f"holds a staticml {marker.get('kind')} output, not a {kind}"
    written = marker.get("files", {})
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name == MARKER or (path.is_dir() and not path.is_symlink()):
            continue
        if name not in written:
            keep = "; to keep a file of yours in the site (CNAME, favicon.ico), put it in a folder given as --extra" \
                if kind == "site" else ""
            return f"'{name}' was not written by staticml{keep}"
        if path.is_symlink() or not path.is_file() or sha256_of(path) != written[name]:
            return f"'{name}' was changed after staticml wrote it"
    return None


def check_writable_file(out: Path, force: bool, inputs: Iterable[str | Path] = ()) -> None:
    """A file `--out`: not a folder, not an input, not an existing file unless --force, in a folder that exists."""
    if out.is_dir():
        raise UserError(f"--out {out}: a folder; give a file name")
    if any(out.resolve() == Path(p).resolve() for p in inputs):
        raise UserError(f"--out {out}: that is an input file; write the results to another file")
    if out.exists() and not force:
        raise UserError(f"--out {out}: the file exists; pass --force to replace it")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: no folder {out.parent}")


def write_file_whole(path: Path, text: str) -> None:
    """Write `path` through a hidden partial file, so a reader never sees half of it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_lines_out(out: Path | None, lines: str, force: bool, inputs: Iterable[str | Path] = ()) -> None:
    """predict's results: to standard output, or whole to the file `--out`."""
    if out is None:
        sys.stdout.write(lines)
        return
    check_writable_file(out, force, inputs)
    write_file_whole(out, lines)


def cache_dir() -> Path:
    """Where staticml keeps what it can compute again (encoder outputs, brotli copies)."""
    return Path(os.environ.get("STATICML_CACHE") or Path.home() / ".cache" / "staticml")


def write_marker(folder: Path, kind: str, extra: Iterable[str] = ()) -> None:
    files = {p.relative_to(folder).as_posix(): sha256_of(p) for p in sorted(folder.rglob("*"))
             if p.is_file() and not p.is_symlink() and p.name != MARKER}
    marker = {"kind": kind, "note": "written by staticml; --out replaces only these files", "files": files}
    if extra:
        marker["extra"] = sorted(extra)  # the user's own files (build --extra), carried over by the next build
    text = json.dumps(marker, indent=1)
    (folder / MARKER).write_text(text + "\n", encoding="utf-8")


def previous_extra(folder: Path, kind: str) -> dict[str, Path]:
    """The user's own files (build --extra) in a previous output of this kind, still as they were
    written: name in the folder -> the file, for the next build to carry over."""
    marker = _read_marker(folder) if folder.is_dir() else None
    if marker is None or marker.get("kind") != kind or not isinstance(marker.get("extra"), list):
        return {}
    kept = {}
    for name in marker["extra"]:
        path = folder / str(name)
        if isinstance(name, str) and not path.is_symlink() and path.is_file() and marker["files"].get(name) == sha256_of(path):
            kept[name] = path
    return kept


def _read_marker(folder: Path) -> dict | None:
    path = folder / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("files"), dict) else None


def _replace(target: Path, tmp: Path) -> None:
    if not target.exists():
        tmp.rename(target)
        return
    old = target.with_name(f".{target.name}.old-{tmp.name.lstrip('.')}")
    target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
