"""A built site's site.json: which models it holds and where (read by every stage that opens a site)."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import UserError

SITE_CONFIG = "site.json"


def read_site(site: str | Path) -> dict:
    """Check that a folder is a built site and return its site.json."""
    site = Path(site)
    if not site.is_dir():
        raise UserError(f"{site}: not a folder")
    config_path = site / SITE_CONFIG
    if not (site / "index.html").is_file() or not config_path.is_file():
        raise UserError(f"{site}: not a staticml site (no index.html and {SITE_CONFIG}); build one with `staticml build`")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{config_path}: not valid JSON ({exc})") from None
    if not config.get("models"):
        raise UserError(f"{config_path}: the site has no models")
    return config


def model_dirs(site: Path, config: dict) -> dict[str, Path]:
    return {m["name"]: Path(site) / m["path"] for m in config["models"]}
