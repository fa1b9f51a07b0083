"""What makes a built site the user's own: `build --title` and `--description` (in the page, escaped),
and `--extra DIR` (files such as CNAME, favicon.ico or robots.txt copied into the site's root,
recorded in the output marker so that the next build carries them over)."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Callable

from . import output
from .errors import UserError

MAX_TITLE_CHARS = 120
MAX_DESCRIPTION_CHARS = 500
# Files a build writes after the extras are copied in: an extra file of that name would be lost.
RESERVED = {output.MARKER, "precache.json"}


def check_text(option: str, value: str | None, limit: int) -> str | None:
    """A title or description: one line of printable text, not empty, at most `limit` characters."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise UserError(f"{option}: empty; give some text or leave the option out")
    if len(value) > limit:
        raise UserError(f"{option}: {len(value)} characters; at most {limit}")
    if not value.isprintable():
        raise UserError(f"{option}: holds a line break or another control character; give one line of text")
    return value


def personalize_page(page: Path, title: str | None, description: str | None) -> None:
    """The title in <title> and the page's heading, the description as a meta tag and a line under the
    heading; both HTML-escaped (the page's script sets the title again from site.json, as text)."""
    if title is None and description is None:
        return
    text = page.read_text(encoding="utf-8")
    if title is not None:
        shown = html.escape(title)
        text = _replace_once(page, text, r"<title>[^<]*</title>", lambda m: f"<title>{shown}</title>")
        text = _replace_once(page, text, r'<h1 id="title">[^<]*</h1>', lambda m: f'<h1 id="title">{shown}</h1>')
    if description is not None:
        said = html.escape(description, quote=True)
        text = _replace_once(page, text, r'<meta name="viewport"[^>]*>',
                             lambda m: f'{m[0]}\n  <meta name="description" content="{said}">')
        text = _replace_once(page, text, r'<h1 id="title">[^<]*</h1>', lambda m: f'{m[0]}\n      <p class="description">{said}</p>')
    page.write_text(text, encoding="utf-8")


def _replace_once(page: Path, text: str, pattern: str, replacement: Callable[[re.Match], str]) -> str:
    new, count = re.subn(pattern, replacement, text, count=1)
    if count != 1:
        raise UserError(f"{page}: no {pattern!r} in the page to put the title or description in (is the page bundle current?)")
    return new


def extra_files(extra: Path | None, out: Path, report: Callable[[str], None]) -> dict[str, Path]:
    """The user's files for the site's root, by their path in the site: those of `--extra DIR`, or,
    without it, those the previous build at `out` was given (still unchanged), carried over."""
    if extra is None:
        carried = output.previous_extra(out, "site")
        if carried:
            report(f"build: keeping {', '.join(sorted(carried))} from the previous build's --extra")
        return carried
    if not extra.is_dir():
        raise UserError(f"--extra {extra}: not a folder (give a folder whose files go into the site's root, such as CNAME)")
    if extra.resolve() == out.resolve() or extra.resolve() in out.resolve().parents:
        raise UserError(f"--extra {extra}: holds --out {out}; give a folder of your own files only (such as public/)")
    files = {}
    for path in sorted(extra.rglob("*")):
        name = path.relative_to(extra).as_posix()
        if path.is_symlink():
            raise UserError(f"--extra {extra}: '{name}' is a symbolic link; copy the file itself into the folder")
        if path.is_file():
            if name in RESERVED:
                raise UserError(f"--extra {extra}: '{name}' is a name the build writes itself; rename or remove it")
            files[name] = path
    if not files:
        raise UserError(f"--extra {extra}: no files in it")
    return files


def copy_extra(site: Path, files: dict[str, Path], report: Callable[[str], None]) -> None:
    """Copy the user's files into the site; one that would replace a file of the site is refused."""
    for name, source in files.items():
        target = site / name
        if target.exists() or target.is_symlink():
            raise UserError(f"--extra: '{name}' would replace the site's own {name}; rename or remove it")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if files:
        report(f"build: {len(files)} file(s) of yours in the site's root ({', '.join(sorted(files)[:5])}"
               + (", …" if len(files) > 5 else "") + ")")
