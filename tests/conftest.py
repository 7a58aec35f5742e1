"""Shared fixtures: the bundled sample site, and small sites built in a temp folder."""

from __future__ import annotations

import dataclasses
import logging
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import settings

from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.web import fastlane
from syndicate.web.accesslog import KeylessAccessLogger
from syndicate.web.app import create_app
from tests.wordpress_site import WordPressSite, built_site, require_wordpress

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config.yaml"
DATA = Path(__file__).resolve().parent / "data"
#: The aiohttp test client of an app, as the tests annotate it.
AppClient = TestClient[web.Request, web.Application]

MINIMAL_CONFIG = """\
site:
  title: Test Site
  base_url: https://news.test
  language: en
server:
  host: 127.0.0.1
  port: 8080
"""

FEED_YAML = "title: News\ndescription: Test news\n"


def article(
    title: str = "Hello", date: str = "2024-05-01T10:00:00+00:00", body: str = "Body text.", extra: str = ""
) -> str:
    """An article file's text with the given front matter fields."""
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n{body}\n"


SiteFactory = Callable[..., Path]

# HYPOTHESIS_PROFILE=long gives the property tests without their own settings many more examples.
settings.register_profile("long", max_examples=5_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow (fuzz runs)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def make_site(tmp_path: Path) -> SiteFactory:
    """Write a site: ``files`` maps paths under the site root to their text; returns config.yaml."""

    def build(files: dict[str, str] | None = None, config: str = MINIMAL_CONFIG) -> Path:
        (tmp_path / "config.yaml").write_text(textwrap.dedent(config), encoding="utf-8")
        (tmp_path / "feeds").mkdir(exist_ok=True)
        (tmp_path / "adspaces").mkdir(exist_ok=True)
        for name, text in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return tmp_path / "config.yaml"

    return build


@pytest.fixture
def aiohttp_client(aiohttp_client: Callable[..., Any]) -> Callable[..., Any]:
    """pytest-aiohttp's client factory, with the fast lane in front of each app as ``syndicate serve`` has it
    (``web/fastlane.py``): every test of a feed asks it twice or more answers through the lane too."""

    async def start(param: Any, **kwargs: Any) -> Any:
        client = await aiohttp_client(param, **kwargs)
        runner = client.server.runner
        if isinstance(runner, web.AppRunner):  # a low-level server has no app to take a lane to
            fastlane.install(runner)
        return client

    return start


async def serve_like_cli(aiohttp_client: Callable[..., Any], app: web.Application) -> AppClient:
    """A test client for ``app`` behind the same access logger ``syndicate serve`` uses."""
    server = TestServer(app)
    logger = KeylessAccessLogger.serving(app)
    await server.start_server(access_log_class=logger, access_log=logging.getLogger("syndicate.access"))
    client = await aiohttp_client(server)
    assert isinstance(client, TestClient)
    return client


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The bundled site, with its data_dir (the tracking store) in a temp folder, not the work tree."""
    snapshot = build_snapshot(SAMPLE_CONFIG)
    config = dataclasses.replace(snapshot.config, data_dir=tmp_path_factory.mktemp("sample-data"))
    return dataclasses.replace(snapshot, config=config)


@pytest.fixture
async def client(aiohttp_client: Callable[..., Any], sample: Snapshot) -> AppClient:
    result = await aiohttp_client(create_app(sample))
    assert isinstance(result, TestClient)
    return result


from tests.pg import postgres_url  # noqa: E402, F401  (a fixture: a fresh PostgreSQL database per test)


@pytest.fixture(scope="session")
def wordpress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WordPressSite]:
    """A real WordPress, built once per run (skipped with its reason where it cannot run, outside CI)."""
    require_wordpress()
    with built_site(tmp_path_factory.mktemp("wordpress")) as site:
        yield site
