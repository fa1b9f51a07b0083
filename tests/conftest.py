"""Shared fixtures: one model trained on the default data, one site, one server, one browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from staticml.train import data
from staticml.browser import chromium, served
from staticml.site import build
from staticml.train import TrainConfig, train


def pytest_addoption(parser) -> None:
    parser.addoption("--slow", action="store_true",
                     help="also run the tests marked slow (scripts/test.sh, the full suite, does)")


def pytest_collection_modifyitems(config, items) -> None:
    """The quick lane (`pytest -m "not browser"`) leaves out slow tests unless --slow is given."""
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow (the README's test command does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The binary sentiment model of the article, trained on the embedded tweet corpus."""
    out = tmp_path_factory.mktemp("models") / "sentiment"
    dataset = data.load_default(keep_labels=["negative", "positive"])
    train(dataset, out, TrainConfig(name="sentiment", epochs=2), quiet)
    return out


@pytest.fixture(scope="session")
def site(tiny_model, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sites") / "site"
    build([tiny_model], out, report=quiet)
    return out


@pytest.fixture(scope="session")
def site_url(site):
    with served(site) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    with chromium() as b:
        yield b
