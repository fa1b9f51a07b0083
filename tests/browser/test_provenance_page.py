"""Issue 30 on the page, in Chromium: the licence line and links (as text, never markup), info()'s
provenance, and the signature checked with WebCrypto Ed25519: "signed by …" for the signed model,
a plain warning for a signature by another key or a manifest changed after signing; verify agrees.
The same on every page: the classifier page, the camera page (face detection) and the question-answering page."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from face_frames import import_face_model
from qa_models import qa_model_fixture  # noqa: F401 (a fixture)

from page_tools import drop_compressed_copies
from staticml.browser import open_page, served
from staticml.provenance import signing
from staticml.provenance.terms import Terms, record
from staticml.site import build
from staticml.tasks import TASKS
from staticml.provenance.site_checks import provenance_checks

pytestmark = pytest.mark.browser

AUTHOR = 'Ann Öwner 日本 \u2028 "q" <img id="injected" src="x"> 😀'  # non-ASCII, a quote, a line separator: canonical JSON alike in Python and JS


def signed_site_of(model_dir, root):
    """A copy of the model with a licence, an author, a card and a signature, built into a site."""
    model = root / "model"
    shutil.copytree(model_dir, model)
    manifest = json.loads((model / "manifest.json").read_text())
    fields = TASKS[manifest["task"]].fields
    terms = Terms(license="Apache-2.0", author=AUTHOR, source_url="https://example.org/sentiment", card="# Card\n<script>x</script>\n")
    manifest = record(model, manifest, terms, fields, report=lambda _: None)
    private, _ = signing.keygen(root / "keys")
    signing.sign(model, manifest, private, fields)
    site = root / "site"
    build([model], site, report=lambda _: None)
    return site


@pytest.fixture(scope="module")
def signed_site(tiny_model, tmp_path_factory):
    return signed_site_of(tiny_model, tmp_path_factory.mktemp("signed"))


@pytest.fixture(scope="module")
def signed_camera_site(tmp_path_factory):
    """The face detector imported from its .tflite (the camera page's model), signed."""
    model = import_face_model(tmp_path_factory.mktemp("camera-model"))
    return signed_site_of(model, tmp_path_factory.mktemp("signed-camera"))


@pytest.fixture(scope="module")
def signed_qa_site(qa_model_dir, tmp_path_factory):
    return signed_site_of(qa_model_dir, tmp_path_factory.mktemp("signed-qa"))


def model_name(site) -> str:
    return json.loads((site / "site.json").read_text())["default_model"]


def page_provenance(browser, site) -> tuple[dict, str, int]:
    with served(site) as url:
        context, page, _ = open_page(browser, url)
        try:
            info = page.evaluate("() => window.staticml.info().provenance")
            shown = page.inner_text("#d-license") + " | " + page.inner_text("#d-signature")
            injected = page.locator("#injected").count()
        finally:
            context.close()
    return info, shown, injected


def test_page_shows_licence_and_valid_signature(browser, signed_site):
    info, shown, injected = page_provenance(browser, signed_site)
    assert info["license"] == "Apache-2.0" and info["author"] == AUTHOR
    assert info["signature"] == "signed" and info["signer"] == AUTHOR
    assert info["license_url"].endswith("models/sentiment/LICENSE") and info["card_url"].endswith("MODEL_CARD.md")
    assert "Apache-2.0" in shown and "Ann Öwner 日本" in shown and "signed by Ann Öwner" in shown
    assert injected == 0  # the author's markup is text


def signed_by_another_key(signed_site, tmp_path):
    """The site with another key published in place of the one that signed it."""
    site = tmp_path / "site"
    shutil.copytree(signed_site, site)
    path = site / "models" / model_name(site) / "manifest.json"
    manifest = json.loads(path.read_text())
    _, other_public = signing.keygen(tmp_path / "other")
    manifest["signature"]["public_key"] = signing.load_public_key(other_public)
    path.write_text(json.dumps(manifest))
    drop_compressed_copies(path)
    return site


def test_page_warns_on_a_signature_by_another_key(browser, signed_site, tmp_path):
    site = signed_by_another_key(signed_site, tmp_path)
    info, shown, _ = page_provenance(browser, site)
    assert info["signature"] == "invalid" and "warning" in shown
    checks = provenance_checks({"sentiment": site / "models" / "sentiment"})
    assert [(c.name, c.passed) for c in checks] == [("sentiment: signature", False), ("sentiment: exposure", True)]
    assert "another key" in checks[0].figure


@pytest.mark.slow
def test_verify_fails_only_the_signature_of_a_site_signed_by_another_key(signed_site, tmp_path):
    """The whole `staticml verify`, in its own process (its own Playwright): the page runs the model
    fine, so only the signature check fails, and verify exits 1."""
    site = signed_by_another_key(signed_site, tmp_path)
    done = subprocess.run([sys.executable, "-m", "staticml", "verify", str(site), "--json", str(tmp_path / "verify.json")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr[-3000:]
    failed = [c["name"] for c in json.loads((tmp_path / "verify.json").read_text())["checks"] if c["passed"] is False]
    assert failed == ["sentiment: signature"], done.stderr[-3000:]


def assert_signed_page_then_warned_for_another_key(browser, site, tmp_path):
    info, shown, injected = page_provenance(browser, site)
    assert info["license"] == "Apache-2.0" and info["author"] == AUTHOR
    assert info["signature"] == "signed" and info["signer"] == AUTHOR
    assert info["license_url"].endswith(f"models/{model_name(site)}/LICENSE") and info["card_url"].endswith("MODEL_CARD.md")
    assert "Apache-2.0" in shown and "Ann Öwner 日本" in shown and "signed by Ann Öwner" in shown
    assert injected == 0
    info, shown, _ = page_provenance(browser, signed_by_another_key(site, tmp_path))
    assert info["signature"] == "invalid" and "warning: the signature does not match" in shown


@pytest.mark.slow  # the face detector's import (TensorFlow, tf2onnx) takes ~20 s
def test_camera_page_shows_licence_signature_and_warns_on_another_key(browser, signed_camera_site, tmp_path):
    assert_signed_page_then_warned_for_another_key(browser, signed_camera_site, tmp_path)


@pytest.mark.slow
def test_qa_page_shows_licence_signature_and_warns_on_another_key(browser, signed_qa_site, tmp_path):
    assert_signed_page_then_warned_for_another_key(browser, signed_qa_site, tmp_path)
