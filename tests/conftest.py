"""Shared fixtures: one model trained on the default data, one site, one server, one browser."""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor
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


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "own_thread: the test opens its own Playwright (a fake camera's flags, say): "
                            "it runs in a thread of its own, since the session's browser owns the main thread's loop")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Tests marked own_thread run their body in a thread of their own (fixtures stay in the main thread)."""
    if pyfuncitem.get_closest_marker("own_thread") is None:
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in inspect.signature(pyfuncitem.obj).parameters}
    with ThreadPoolExecutor(1) as pool:
        pool.submit(pyfuncitem.obj, **arguments).result()
    return True


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
