"""A half-written ad space file is not a new truth: a space that loses all its units, or its
if_empty, without saying so, is rejected on reload like an error (docs/ops.md)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicate.web.app import create_app
from syndicate.web.state import RELOADER
from tests.conftest import ROOT
from tests.opsite import wait_for
from tests.test_reload import feed_text, until_watching

Client = Callable[..., Any]


@pytest.fixture
def sample_site(tmp_path: Path) -> Path:
    for name in ("feeds", "adspaces"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    return tmp_path / "config.yaml"


async def test_a_truncated_space_file_is_rejected_by_the_watching_server(
    aiohttp_client: Client, sample_site: Path
) -> None:
    client = await aiohttp_client(create_app(sample_site, watch=True))
    reloader = client.app[RELOADER]
    await until_watching(sample_site, reloader)
    before = await feed_text(client, "/feeds/world.rss")
    assert "black-sea-300x250.jpg" in before or "fx-728x90.png" in before or "morning briefing" in before
    generation = reloader.holder.current.generation
    space = sample_site.parent / "adspaces/4.yaml"
    data = space.read_bytes()
    attempts = reloader.attempts
    with space.open("r+b") as handle:  # what a crashed editor or a full disk leaves: the first 200 bytes
        handle.truncate(200)
    assert b"units" not in space.read_bytes()[:200] and len(space.read_bytes()) == 200

    async def tried() -> bool:
        return bool(reloader.attempts > attempts)

    await wait_for(tried, "a reload after the truncated write")
    outcome = reloader.last
    assert outcome is not None and not outcome.accepted
    messages = [p.format(sample_site.parent) for p in outcome.errors]
    assert any(m.startswith("adspaces/4.yaml:") and "had 3 units" in m for m in messages), messages
    assert any(m.startswith("adspaces/4.yaml:") and "if_empty" in m for m in messages), messages
    assert reloader.holder.current.generation == generation
    assert reloader.holder.current.spaces["4"].units
    assert await feed_text(client, "/feeds/world.rss") == before

    space.write_bytes(data)  # the rest of the save arrives: accepted

    async def accepted() -> bool:
        return reloader.last is not None and reloader.last.accepted and reloader.rejected is None

    await wait_for(accepted, "the completed file to go live")


@pytest.mark.parametrize(
    ("edit", "accepted", "message"),
    [
        (lambda text: text.split("units:")[0], False, "had 3 units"),
        (lambda text: text.split("units:")[0] + "units:\n", False, "had 3 units"),
        (lambda text: text.split("units:")[0] + "units: []\n", True, ""),
        (lambda text: text.replace('if_empty: "5"', "# no fallback"), False, "if_empty"),
        (lambda text: text.replace('if_empty: "5"', "if_empty: null"), True, ""),
    ],
)
async def test_emptying_a_space_needs_to_be_said(
    aiohttp_client: Client, sample_site: Path, edit: Callable[[str], str], accepted: bool, message: str
) -> None:
    client = await aiohttp_client(create_app(sample_site))
    reloader = client.app[RELOADER]
    space = sample_site.parent / "adspaces/4.yaml"
    space.write_text(edit(space.read_text(encoding="utf-8")), encoding="utf-8")
    outcome = await reloader.reload("test")
    assert outcome.accepted is accepted, outcome.errors
    assert all(message in p.message for p in outcome.errors)


async def test_deleting_a_space_file_is_not_a_half_written_file(aiohttp_client: Client, sample_site: Path) -> None:
    """A space nothing names may go away: deletion is a deliberate act (the admin DELETE relies on it)."""
    client = await aiohttp_client(create_app(sample_site))
    reloader = client.app[RELOADER]
    (sample_site.parent / "adspaces/extra.yaml").write_text(
        "units:\n  - {id: x, type: text, url: 'https://x.test/', title: X}\n", encoding="utf-8"
    )
    assert (await reloader.reload("test")).accepted
    (sample_site.parent / "adspaces/extra.yaml").unlink()
    assert (await reloader.reload("test")).accepted
