"""Admin ad-space ids are matched whole, and the admin API never reads or writes through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syndicate.ads.loader import SPACE_ID
from syndicate.web.app import create_app
from tests.conftest import AppClient, SiteFactory
from tests.opsite import AUTH, TOKEN, ad_site, space

YAML = {**AUTH, "Content-Type": "application/yaml"}


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return ad_site(make_site)


@pytest.fixture
async def admin(aiohttp_client: object, site: Path, monkeypatch: pytest.MonkeyPatch) -> AppClient:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client: AppClient = await aiohttp_client(create_app(site))  # type: ignore[operator]
    return client


@pytest.mark.parametrize("raw", ["nl%0A", "nl%0D", "nl%0A%0A", "%0Anl", "nl%20", "nl%00"])
async def test_an_id_with_a_line_break_or_other_stray_character_is_refused(
    admin: AppClient, site: Path, raw: str
) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = await admin.request(method, f"/admin/adspaces/{raw}", data=space("X").encode(), headers=YAML)
        assert response.status == 400, (method, raw)
    assert sorted(p.name for p in (site.parent / "adspaces").iterdir()) == ["acme-top.yaml", "top.yaml"]


def test_space_ids_are_matched_whole() -> None:
    assert SPACE_ID.fullmatch("nl") and not SPACE_ID.fullmatch("nl\n")


@pytest.fixture
def outside(site: Path) -> Path:
    """A secret file outside adspaces/, and adspaces/leak.yaml a link to it."""
    secret = site.parent / "secret.yaml"
    secret.write_text("name: do not show\nunits: []\n# password: hunter2\n", encoding="utf-8")
    os.symlink(secret, site.parent / "adspaces" / "leak.yaml")
    return secret


async def test_get_never_reads_through_a_link(admin: AppClient, outside: Path) -> None:
    for accept in ("application/yaml", "application/json"):
        response = await admin.get("/admin/adspaces/leak", headers={**AUTH, "Accept": accept})
        assert response.status == 409
        body = await response.text()
        assert "hunter2" not in body and "link" in body


async def test_put_and_delete_never_write_through_a_link(admin: AppClient, site: Path, outside: Path) -> None:
    before = _bytes(outside)
    response = await admin.put("/admin/adspaces/leak", data=space("New").encode(), headers=YAML)
    assert response.status == 409
    response = await admin.delete("/admin/adspaces/leak", headers=AUTH)
    assert response.status == 409
    assert _bytes(outside) == before
    assert _untouched_link(site.parent)


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def _untouched_link(root: Path) -> bool:
    """The link is still there, and nothing it points at was copied into a backup."""
    backups = root / "data" / "admin" / "backups"
    copied = any("hunter2" in p.read_text() for p in backups.rglob("*") if p.is_file())
    return (root / "adspaces" / "leak.yaml").is_symlink() and not copied
