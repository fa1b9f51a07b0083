"""The page reports what crossed the network (issue 24 item 4, issue 25 item 3): `info().bytes_downloaded`
and the loading bar count the model's files (and the WASM) as the server sent them, brotli-compressed,
on every page (text on the compact engine, form data and the camera on onnxruntime-web in a worker);
`info().bytes_uncompressed` is the same files as the page holds them. The server's own count
(staticml.wire) is the reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from face_frames import import_face_model
from onnx_tabular import import_model

from staticml.browser import wait_until
from staticml.site import build
from staticml.wire import counted

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def sites(site, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("wire-figures")
    build([import_model(root / "tabular", "form")], root / "tabular-site", report=quiet)
    build([import_face_model(root / "camera")], root / "camera-site", report=quiet)
    return {"text": site, "tabular": root / "tabular-site", "camera": root / "camera-site"}


def is_downloaded_file(path: str) -> bool:
    """The files a page downloads and checks itself: the model folder's files but its manifest, and the WASM."""
    return (path.startswith("/models/") and not path.endswith("/manifest.json")) or path.endswith(".wasm")


def visit(browser, site: Path) -> tuple[dict, dict, dict[str, int]]:
    """A first visit: the page's info() and loading bar at ready, and the bodies the server sent for the page's files."""
    with counted(site) as (url, log):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(url)
            wait_until(page, "window.staticml !== undefined", 300_000)
            page.evaluate("() => window.staticml.ready")
            info = page.evaluate("window.staticml.info()")
            ready_at = page.evaluate("performance.timeOrigin + window.staticml.info().load_ms") / 1000
            bar = page.evaluate("(() => { const p = document.getElementById('progress'); return { value: p.value, max: p.max }; })()")
        finally:
            context.close()
        sent = {s.path: s.bytes for s in log.bodies(ready_at) if is_downloaded_file(s.path)}
    return info, bar, sent


@pytest.mark.parametrize("task", ["text", "tabular", "camera"])
def test_info_and_the_loading_bar_count_bytes_on_the_wire(browser, sites, task):
    site = sites[task]
    info, bar, sent = visit(browser, site)
    on_wire = sum(sent.values())
    uncompressed = sum((site / path.lstrip("/")).stat().st_size for path in sent)
    brotli = sum(((site / path.lstrip("/")).with_name(Path(path).name + ".br")).stat().st_size
                 for path in sent if (site / path.lstrip("/")).with_name(Path(path).name + ".br").is_file())
    print(f"\n{task} ({info['engine']}): info {info['bytes_downloaded']} bytes downloaded, {info['bytes_uncompressed']} uncompressed; "
          f"server sent {on_wire} ({brotli} of it brotli copies); bar {bar}; " + ", ".join(f"{p} {b}" for p, b in sent.items()))
    assert brotli > 0, "no brotli copy was sent: the visit did not measure a compressed response"
    assert abs(info["bytes_downloaded"] - on_wire) <= 0.03 * on_wire
    assert info["bytes_uncompressed"] == uncompressed
    assert info["bytes_downloaded"] < 0.8 * info["bytes_uncompressed"]
    assert abs(bar["max"] - info["bytes_downloaded"]) <= 0.03 * on_wire and bar["value"] == bar["max"]
