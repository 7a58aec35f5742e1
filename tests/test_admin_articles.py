"""PUT/GET/DELETE /admin/articles/<feed>/<id> through the real app; answers checked against the OpenAPI document."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp import ClientResponse

from syndicate.web.admin_openapi import openapi_document
from syndicate.web.app import create_app
from tests.conftest import AppClient, SiteFactory, article
from tests.feedcheck import check_any
from tests.opsite import AUTH, PARTNER_KEY, TOKEN, ad_site

DOC = openapi_document()
PATH = "/admin/articles/{feed}/{id}"
MARKDOWN = {"Content-Type": "text/markdown"}


async def call(client: AppClient, method: str, path: str, **kwargs: Any) -> ClientResponse:
    """A request whose answer must be one the document declares, with a body matching its schema."""
    response = await client.request(method, path, headers={**AUTH, **kwargs.pop("headers", {})}, **kwargs)
    declared = DOC["paths"][PATH][method.lower()]["responses"].get(str(response.status))
    assert declared is not None, f"{method} {path} answered {response.status}, not declared"
    assert response.content_type in declared["content"], (response.status, response.content_type)
    if response.content_type == "application/json":
        schema = {**declared["content"]["application/json"]["schema"], "components": DOC["components"]}
        jsonschema.validate(await response.json(), schema)
    return response


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return ad_site(make_site)


@pytest.fixture
async def admin(aiohttp_client: Callable[..., Any], site: Path, monkeypatch: pytest.MonkeyPatch) -> AppClient:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client: AppClient = await aiohttp_client(create_app(site))
    return client


async def _titles(client: AppClient, key: str | None = None) -> list[str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    feed = await (await client.get("/feeds/news.json", headers=headers)).json()
    return [item["title"] for item in feed["items"]]


async def test_a_pushed_markdown_article_is_live_when_the_answer_comes(admin: AppClient, site: Path) -> None:
    text = article("Pushed", date="2024-05-03T10:00:00+00:00", body="Intro.\n\n[bsa_pro_ad_space id=top]\n\nEnd.")
    response = await call(admin, "PUT", "/admin/articles/news/pushed", data=text.encode(), headers=MARKDOWN)
    assert response.status == 201
    body = await response.json()
    assert body["path"] == "feeds/news/pushed.md" and body["backup"] is None
    assert (site.parent / "feeds" / "news" / "pushed.md").read_text() == text
    assert (await _titles(admin))[0] == "Pushed"
    for fmt in ("rss", "atom", "json"):
        public = await (await admin.get(f"/feeds/news.{fmt}")).read()
        acme = await (await admin.get(f"/feeds/news.{fmt}", headers={"Authorization": f"Bearer {PARTNER_KEY}"})).read()
        check_any(fmt, public)
        assert b"bsa_pro_ad_space" not in public + acme and b"Acme ad" in acme and b"Acme ad" not in public
    entry = json.loads((site.parent / "data" / "admin" / "audit.log").read_text().splitlines()[-1])
    assert (entry["action"], entry["outcome"], entry["path"]) == ("article put", "applied", "feeds/news/pushed.md")


async def test_replace_with_etag_then_delete(admin: AppClient, site: Path) -> None:
    url = "/admin/articles/news/pushed"
    await call(admin, "PUT", url, data=article("First").encode(), headers=MARKDOWN)
    got = await call(admin, "GET", url)
    assert await got.text() == article("First")
    stale = await call(admin, "PUT", url, data=article("Second").encode(), headers={**MARKDOWN, "If-Match": '"x"'})
    assert stale.status == 412
    replaced = await call(
        admin, "PUT", url, data=article("Second").encode(), headers={**MARKDOWN, "If-Match": got.headers["ETag"]}
    )
    assert replaced.status == 200 and (await replaced.json())["backup"]
    assert "Second" in await _titles(admin)
    deleted = await call(admin, "DELETE", url)
    assert deleted.status == 200
    assert "Second" not in await _titles(admin)
    assert not (site.parent / "feeds" / "news" / "pushed.md").exists()
    assert (await call(admin, "DELETE", url)).status == 404


async def test_json_push_is_the_same_file(admin: AppClient, site: Path) -> None:
    fields = {
        "title": "From JSON",
        "date": "2024-05-04T10:00:00+00:00",
        "tags": ["Pushed"],
        "format": "html",
        "body": "<p>Hello [bsa_pro_ad_space id=top]</p>",
    }
    response = await call(admin, "PUT", "/admin/articles/news/from-json", json=fields)
    assert response.status == 201 and (await response.json())["path"] == "feeds/news/from-json.html"
    text = (site.parent / "feeds" / "news" / "from-json.html").read_text()
    assert text.startswith("---\ntitle: From JSON\n") and text.endswith("---\n<p>Hello [bsa_pro_ad_space id=top]</p>\n")
    assert "From JSON" in await _titles(admin)


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (
            article("x", date="yesterday", extra="image: {width: -1}\nspam: 1\n"),
            MARKDOWN,
            ["date: expected a timestamp", "image.url: required", "spam"],
        ),
        ("no front matter", MARKDOWN, ["no front matter"]),
        ("---\ntitle: [unclosed\n---\n", MARKDOWN, ["feeds/news/bad.md:"]),
        (b"\xff\xfe", MARKDOWN, ["not valid UTF-8"]),
        ("[1, 2]", {"Content-Type": "application/json"}, ["expected a JSON object"]),
        ('{"title": "x"}', {"Content-Type": "application/json"}, ["'body' is required"]),
        ("{nope", {"Content-Type": "application/json"}, ["body:"]),
    ],
)
async def test_an_invalid_article_is_422_with_every_problem_and_nothing_written(
    admin: AppClient, site: Path, body: str | bytes, headers: dict[str, str], expected: list[str]
) -> None:
    before = sorted(p.name for p in (site.parent / "feeds" / "news").iterdir())
    data = body.encode() if isinstance(body, str) else body
    response = await call(admin, "PUT", "/admin/articles/news/bad", data=data, headers=headers)
    assert response.status == 422
    problems = (await response.json())["problems"]
    shown = " | ".join(f"{p['path']}:{p['line']}: {p['message']}" for p in problems)
    for fragment in expected:
        assert fragment in shown, shown
    assert sorted(p.name for p in (site.parent / "feeds" / "news").iterdir()) == before


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/admin/articles/news/..%2Fescape", MARKDOWN, 400),
        ("/admin/articles/news/.hidden", MARKDOWN, 400),
        ("/admin/articles/news/ok", {"Content-Type": "application/yaml"}, 415),
        ("/admin/articles/nofeed/ok", MARKDOWN, 422),
    ],
)
async def test_bad_ids_types_and_feeds(admin: AppClient, url: str, headers: dict[str, str], status: int) -> None:
    assert (await call(admin, "PUT", url, data=article("x").encode(), headers=headers)).status == status


async def test_a_duplicate_id_is_undone_with_409(admin: AppClient, site: Path) -> None:
    text = article("Clash", extra="id: news/one\n")  # the id of one.md already
    response = await call(admin, "PUT", "/admin/articles/news/clash", data=text.encode(), headers=MARKDOWN)
    assert response.status == 409
    assert not (site.parent / "feeds" / "news" / "clash.md").exists()
    assert "Clash" not in await _titles(admin)


async def test_format_of_an_existing_file_is_kept(admin: AppClient) -> None:
    html = {"Content-Type": "text/html"}
    assert (
        await call(admin, "PUT", "/admin/articles/news/one", data=article("x").encode(), headers=html)
    ).status == 422  # one.md exists: pushing HTML for it would leave two files for one article


async def test_a_link_is_never_written_through(admin: AppClient, site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text(article("Outside"))
    (site.parent / "feeds" / "news" / "linked.md").symlink_to(outside)
    response = await call(admin, "PUT", "/admin/articles/news/linked", data=article("y").encode(), headers=MARKDOWN)
    assert response.status == 409
    assert outside.read_text() == article("Outside")


def test_the_routes_are_documented() -> None:
    assert set(DOC["paths"][PATH]) >= {"get", "put", "delete"}
    assert re.fullmatch(DOC["paths"][PATH]["parameters"][1]["schema"]["pattern"], "a-b_1")
