"""The admin API through the real app; every answer is checked against /admin/openapi.json."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from aiohttp import ClientResponse

from syndicate.credentials import AdminToken, secret_from_env_or_file
from syndicate.problems import LoadError
from syndicate.web.admin_openapi import openapi_document
from syndicate.web.app import create_app
from syndicate.web.routes import admin_app
from tests.conftest import AppClient, SiteFactory, article
from tests.feedcheck import check_any
from tests.opsite import AUTH, TOKEN, ad_site, space

Client = Callable[..., Any]
DOC = openapi_document()
JSON_TYPES = ("application/json",)


def _template(path: str) -> str:
    """The documented path a request path matches."""
    for template in DOC["paths"]:
        pattern = re.sub(r"\{article_id\}", ".+", template)
        pattern = re.sub(r"\{[a-z_]+\}", "[^/]+", pattern)
        if re.fullmatch(pattern, path):
            return str(template)
    pytest.fail(f"{path} is not in the OpenAPI document")


def _schema(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with the document's components, so $refs resolve."""
    return {**node, "components": DOC["components"]}


async def call(client: AppClient, method: str, path: str, **kwargs: Any) -> ClientResponse:
    """Make a request and check the answer is one the document declares, with a body matching its schema."""
    headers = {**AUTH, **kwargs.pop("headers", {})}
    response = await client.request(method, path, headers=headers, **kwargs)
    operation = DOC["paths"][_template(path.split("?")[0])][method.lower()]
    declared = operation["responses"].get(str(response.status))
    assert declared is not None, f"{method} {path} answered {response.status}, not declared"
    media = response.content_type
    assert media in declared["content"], f"{method} {path} {response.status}: {media} not declared"
    if media in JSON_TYPES:
        jsonschema.validate(await response.json(), _schema(declared["content"][media]["schema"]))
    return response


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return ad_site(make_site)


@pytest.fixture
async def admin(aiohttp_client: Client, site: Path, monkeypatch: pytest.MonkeyPatch) -> AppClient:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client: AppClient = await aiohttp_client(create_app(site))
    return client


def read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


async def feed(client: AppClient, path: str = "/feeds/news.json") -> str:
    response = await client.get(path)
    assert response.status == 200
    return await response.text()


# --- access ---------------------------------------------------------------------------------------------------


async def test_no_token_configured_means_no_admin(
    aiohttp_client: Client, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("SYNDICATE_ADMIN_TOKEN_FILE", raising=False)
    client = await aiohttp_client(create_app(site))
    for path in ("/admin/status", "/admin/openapi.json", "/admin/adspaces"):
        assert (await client.get(path, headers=AUTH)).status == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
async def test_a_missing_or_wrong_token_is_refused(admin: AppClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await admin.post("/admin/reload", headers=headers)
    assert response.status == 401
    # One challenge per header line: a browser reads only the first scheme of a combined header.
    assert response.headers.getall("WWW-Authenticate") == [
        'Bearer realm="admin"',
        'Basic realm="admin", charset="UTF-8"',
    ]
    assert (await response.json()) == {"error": "admin token required"}


@pytest.mark.parametrize("path", ["/admin/status", "/admin/openapi.json", "/admin/adspaces", "/admin/stats.json"])
async def test_every_admin_url_takes_the_token_as_a_basic_password(admin: AppClient, path: str) -> None:
    """One admin auth path: what a browser sends after the challenge works on every admin URL."""
    basic = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    assert (await admin.get(path, headers={"Authorization": f"Basic {basic}"})).status == 200
    wrong = base64.b64encode(f"{TOKEN}:not-the-token".encode()).decode()
    assert (await admin.get(path, headers={"Authorization": f"Basic {wrong}"})).status == 401


async def test_token_from_a_file_named_in_config(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SYNDICATE_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("SYNDICATE_ADMIN_TOKEN_FILE", raising=False)
    secret = tmp_path / "secret" / "admin-token"
    secret.parent.mkdir()
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    config = ad_site(make_site)
    config.write_text(
        config.read_text(encoding="utf-8") + "admin:\n  token_file: secret/admin-token\n", encoding="utf-8"
    )
    client = await aiohttp_client(create_app(config))
    assert (await call(client, "GET", "/admin/status")).status == 200


def test_secret_sources_in_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from_env_file, from_config = tmp_path / "env-file", tmp_path / "config-file"
    from_env_file.write_text("from-env-file\n", encoding="utf-8")
    from_config.write_text("from-config-file", encoding="utf-8")
    monkeypatch.setenv("SYNDICATE_TEST_SECRET", "from-env")
    monkeypatch.setenv("SYNDICATE_TEST_SECRET_FILE", str(from_env_file))
    assert secret_from_env_or_file("SYNDICATE_TEST_SECRET", from_config) == "from-env"
    monkeypatch.delenv("SYNDICATE_TEST_SECRET")
    assert secret_from_env_or_file("SYNDICATE_TEST_SECRET", from_config) == "from-env-file"
    monkeypatch.delenv("SYNDICATE_TEST_SECRET_FILE")
    assert secret_from_env_or_file("SYNDICATE_TEST_SECRET", from_config) == "from-config-file"
    assert secret_from_env_or_file("SYNDICATE_TEST_SECRET", None) is None
    with pytest.raises(LoadError, match="cannot read secret file for SYNDICATE_TEST_SECRET"):
        secret_from_env_or_file("SYNDICATE_TEST_SECRET", tmp_path / "missing")


def test_a_short_admin_token_stops_the_app(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", "short")
    with pytest.raises(LoadError) as caught:
        create_app(site)
    assert [p.format() for p in caught.value.problems] == [
        "$SYNDICATE_ADMIN_TOKEN: error: the admin token must be at least 16 characters; admin API not started"
    ]


def test_token_comparison() -> None:
    token = AdminToken(TOKEN)
    assert token.matches(TOKEN)
    assert not token.matches(TOKEN[:-1]) and not token.matches(TOKEN + "x") and not token.matches("")


async def test_answers_are_not_cached(admin: AppClient) -> None:
    response = await call(admin, "GET", "/admin/status")
    assert response.headers["Cache-Control"] == "no-store"


# --- status and reload ----------------------------------------------------------------------------------------


async def test_status_reports_counts_and_problems(
    aiohttp_client: Client, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    (site.parent / "feeds/news/bad.md").write_text(article(date="2024-01-01T00:00:00"), encoding="utf-8")
    (site.parent / "adspaces/spare.yaml").write_text(space("Spare"), encoding="utf-8")
    client = await aiohttp_client(create_app(site))
    status = await (await call(client, "GET", "/admin/status")).json()
    assert status["counts"] == {"feeds": 1, "articles": 2, "spaces": 3, "partners": 2, "scheduled": 0}
    assert status["generation"] >= 1 and status["uptime_seconds"] >= 0
    [error] = status["errors"]
    assert (error["path"], error["line"], error["level"]) == ("feeds/news/bad.md", 3, "error")
    assert error["message"].startswith("front matter.date: timestamp has no timezone")
    assert {
        "path": "adspaces/spare.yaml",
        "line": 0,
        "level": "warning",
        "message": "ad space 'spare' is not used: no article, alias, partner override or if_empty names it",
    } in status["warnings"]
    assert status["reload"] == {"attempts": 0, "last": None, "rejected": None}


async def test_reload_accepts_then_rejects_and_status_shows_why(admin: AppClient, site: Path) -> None:
    (site.parent / "adspaces/top.yaml").write_text(space("Version B"), encoding="utf-8")
    accepted = await (await call(admin, "POST", "/admin/reload")).json()
    assert accepted["accepted"] and accepted["errors"] == []
    assert "Version B" in await feed(admin)

    (site.parent / "adspaces/top.yaml").write_text(space("Version C", "    weight: -1\n"), encoding="utf-8")
    response = await call(admin, "POST", "/admin/reload")
    assert response.status == 409
    rejected = await response.json()
    assert not rejected["accepted"] and rejected["generation"] == accepted["generation"]
    # the broken file, and partner acme's override that now names a space that did not load
    assert {p["path"] for p in rejected["errors"]} == {"adspaces/top.yaml", "config.yaml"}
    status = await (await call(admin, "GET", "/admin/status")).json()
    assert status["generation"] == accepted["generation"]
    assert status["reload"]["rejected"] == rejected and status["reload"]["attempts"] == 2
    assert "Version B" in await feed(admin)


# --- ad spaces ------------------------------------------------------------------------------------------------


async def test_list_spaces(admin: AppClient) -> None:
    listed = await (await call(admin, "GET", "/admin/adspaces")).json()
    assert [(s["id"], s["path"], s["units"], s["live_units"]) for s in listed["spaces"]] == [
        ("acme-top", "adspaces/acme-top.yaml", 1, 1),
        ("top", "adspaces/top.yaml", 1, 1),
    ]


async def test_get_space_as_yaml_and_json(admin: AppClient, site: Path) -> None:
    raw = await call(admin, "GET", "/admin/adspaces/top")
    assert raw.content_type == "application/yaml"
    assert await raw.read() == (site.parent / "adspaces/top.yaml").read_bytes()
    as_json = await call(admin, "GET", "/admin/adspaces/top", headers={"Accept": "application/json"})
    body = await as_json.json()
    assert body["source"] == space("Version A") and body["loaded"] is True
    assert body["etag"] == raw.headers["ETag"] == as_json.headers["ETag"]
    assert (await call(admin, "GET", "/admin/adspaces/nope")).status == 404
    assert (await call(admin, "GET", "/admin/adspaces/a.b")).status == 400


async def test_put_yaml_goes_live_with_backup_and_audit(admin: AppClient, site: Path) -> None:
    root = site.parent
    etag = (await call(admin, "GET", "/admin/adspaces/top")).headers["ETag"]
    response = await call(
        admin,
        "PUT",
        "/admin/adspaces/top",
        data=space("Version B").encode(),
        headers={"Content-Type": "application/yaml", "If-Match": etag, "X-Admin-Actor": "ann"},
    )
    assert response.status == 200
    written = await response.json()
    assert (root / "adspaces/top.yaml").read_text(encoding="utf-8") == space("Version B")
    assert "Version B" in await feed(admin)
    assert read(written["backup"]) == space("Version A")
    assert not list((root / "adspaces").glob(".*")), "no temporary file is left behind"
    entries = [json.loads(line) for line in (root / "data/admin/audit.log").read_text(encoding="utf-8").splitlines()]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["actor"], entry["action"], entry["space"], entry["path"], entry["outcome"]) == (
        "ann",
        "put",
        "top",
        "adspaces/top.yaml",
        "applied",
    )
    assert entry["generation"] == written["generation"] and entry["backup"] == written["backup"]
    assert "-    title: Version A" in entry["diff"] and "+    title: Version B" in entry["diff"]


async def test_put_json_creates_a_space(admin: AppClient, site: Path) -> None:
    body = {
        "name": "Side",
        "units": [
            {
                "id": "s1",
                "type": "text",
                "url": "https://ad.test/s1",
                "title": "Side ad",
                "start": "2020-01-01T00:00:00Z",
            }
        ],
    }
    response = await call(admin, "PUT", "/admin/adspaces/side", json=body)
    assert response.status == 201
    assert (await response.json())["backup"] is None
    assert yaml.safe_load((site.parent / "adspaces/side.yaml").read_text(encoding="utf-8"))["units"][0]["id"] == "s1"
    listed = await (await call(admin, "GET", "/admin/adspaces")).json()
    assert "side" in [s["id"] for s in listed["spaces"]]


async def test_put_invalid_lists_every_error_and_writes_nothing(admin: AppClient, site: Path) -> None:
    before = (site.parent / "adspaces/top.yaml").read_bytes()
    bad = "name: Top\nif_empty: ghost\nunits:\n  - id: u1\n    type: video\n    url: ftp://x\n    wieght: 2\n"
    response = await call(admin, "PUT", "/admin/adspaces/top", data=bad, headers={"Content-Type": "text/yaml"})
    assert response.status == 422
    problems = [f"{p['path']}:{p['line']}: {p['message']}" for p in (await response.json())["problems"]]
    assert problems == [
        "adspaces/top.yaml:5: units[0].type: expected one of image, text, html, got 'video'",
        "adspaces/top.yaml:6: units[0].url: expected an http(s) URL, got 'ftp://x'",
        "adspaces/top.yaml:4: units[0].src: required",
        "adspaces/top.yaml:7: units[0].wieght: unknown field",
    ]
    assert (site.parent / "adspaces/top.yaml").read_bytes() == before
    assert not (site.parent / "data/admin/audit.log").exists()
    assert "Version A" in await feed(admin)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"if_empty: ghost\n", "application/yaml", 422, "if_empty: no ad space 'ghost'"),
        (b"units: [\n", "application/yaml", 422, "invalid YAML"),
        (b"\xff\xfe", "application/yaml", 422, "not valid UTF-8"),
        (b"[1, 2]", "application/json", 422, "body is not a JSON object"),
        (b"{nope", "application/json", 422, "body is not a JSON object"),
        (b"a: &a [*a]\n", "application/yaml", 422, "an alias inside itself"),
        (b"name: x\n", "image/png", 415, "send the ad space as application/yaml or application/json"),
    ],
)
async def test_put_refuses_bad_bodies(
    admin: AppClient, site: Path, body: bytes, content_type: str, status: int, message: str
) -> None:
    before = (site.parent / "adspaces/top.yaml").read_bytes()
    response = await call(admin, "PUT", "/admin/adspaces/top", data=body, headers={"Content-Type": content_type})
    assert response.status == status
    assert message in json.dumps(await response.json())
    assert (site.parent / "adspaces/top.yaml").read_bytes() == before


async def test_put_checks_if_match_id_and_size(admin: AppClient) -> None:
    stale = await call(
        admin,
        "PUT",
        "/admin/adspaces/top",
        data=space("B"),
        headers={"Content-Type": "application/yaml", "If-Match": '"stale"'},
    )
    assert stale.status == 412
    absent = await call(
        admin,
        "PUT",
        "/admin/adspaces/newone",
        data=space("B"),
        headers={"Content-Type": "application/yaml", "If-Match": "*"},
    )
    assert absent.status == 412
    bad_id = await call(
        admin, "PUT", "/admin/adspaces/a.b", data=space("B"), headers={"Content-Type": "application/yaml"}
    )
    assert bad_id.status == 400
    huge = await call(
        admin,
        "PUT",
        "/admin/adspaces/top",
        data=io.BytesIO(b"#" * (1024 * 1024 + 1)),
        headers={"Content-Type": "application/yaml"},
    )
    assert huge.status == 413


async def test_put_is_undone_when_the_reload_is_rejected(admin: AppClient, site: Path) -> None:
    """Another bad edit on disk blocks the reload: the PUT must not stay half-applied."""
    root = site.parent
    before = (root / "adspaces/top.yaml").read_bytes()
    (root / "feeds/news/two.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    response = await call(
        admin, "PUT", "/admin/adspaces/top", data=space("Version B"), headers={"Content-Type": "application/yaml"}
    )
    assert response.status == 409
    assert [p["path"] for p in (await response.json())["problems"]] == ["feeds/news/two.md"]
    assert (root / "adspaces/top.yaml").read_bytes() == before
    entry = json.loads((root / "data/admin/audit.log").read_text(encoding="utf-8"))
    assert entry["outcome"] == "undone"
    assert "Version A" in await feed(admin)


async def test_delete_backs_up_and_goes_live(admin: AppClient, site: Path) -> None:
    (site.parent / "adspaces/spare.yaml").write_text(space("Spare"), encoding="utf-8")
    assert (await call(admin, "POST", "/admin/reload")).status == 200
    response = await call(admin, "DELETE", "/admin/adspaces/spare", headers={"X-Admin-Actor": "bob"})
    deleted = await response.json()
    assert response.status == 200 and not (site.parent / "adspaces/spare.yaml").exists()
    assert read(deleted["backup"]) == space("Spare")
    listed = await (await call(admin, "GET", "/admin/adspaces")).json()
    assert [s["id"] for s in listed["spaces"]] == ["acme-top", "top"]
    entry = json.loads((site.parent / "data/admin/audit.log").read_text(encoding="utf-8"))
    assert (entry["actor"], entry["action"], entry["after"]) == ("bob", "delete", None)
    assert (await call(admin, "DELETE", "/admin/adspaces/spare")).status == 404


async def test_delete_of_a_needed_space_is_undone(admin: AppClient, site: Path) -> None:
    """Partner acme's override uses acme-top: without it config.yaml has an error, so the file comes back."""
    response = await call(admin, "DELETE", "/admin/adspaces/acme-top")
    assert response.status == 409
    problems = (await response.json())["problems"]
    assert problems[0]["path"] == "config.yaml" and "unknown ad space 'acme-top'" in problems[0]["message"]
    assert (site.parent / "adspaces/acme-top.yaml").read_text(encoding="utf-8") == space("Acme ad")


# --- preview --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("partner", "ad"), [("public", "Version A"), ("acme", "Acme ad")])
async def test_preview_page_shows_the_partners_ads(admin: AppClient, partner: str, ad: str) -> None:
    response = await call(admin, "GET", f"/admin/preview/news/one?partner={partner}")
    page = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    assert ad in page and "<h1>One</h1>" in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    space_id = "acme-top" if partner == "acme" else "top"
    assert f"space <code>{space_id}</code>: unit <code>u1</code>" in page


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_preview_as_a_one_item_feed(admin: AppClient, fmt: str) -> None:
    response = await call(admin, "GET", f"/admin/preview/news/news/two?partner=acme&format={fmt}")
    body = await response.read()
    check_any(fmt, body)
    text = body.decode("utf-8")
    assert "Acme ad" in text and "Two" in text and "Intro." not in text, "only the one article, acme's ads"


async def test_preview_matches_what_the_partner_gets(admin: AppClient) -> None:
    preview = await (await call(admin, "GET", "/admin/preview/news/one?partner=quiet&format=json")).json()
    real = await (await admin.get("/feeds/news.json", headers={"Authorization": "Bearer quiet-key-1234567"})).json()
    item = next(i for i in real["items"] if i["title"] == "One")
    assert preview["items"] == [item]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("/admin/preview/news/one?partner=nobody", 404),
        ("/admin/preview/sport/one", 404),
        ("/admin/preview/news/three", 404),
        ("/admin/preview/news/one?format=pdf", 400),
        ("/admin/preview/news/one?at=tomorrow", 400),
        ("/admin/preview/news/one?partner=quiet&format=rss", 403),
        ("/admin/preview/news/one?at=2030-01-01T00:00:00%2B00:00", 200),
    ],
)
async def test_preview_errors(admin: AppClient, query: str, status: int) -> None:
    assert (await call(admin, "GET", query)).status == status


# --- the OpenAPI document -------------------------------------------------------------------------------------


async def test_every_admin_route_is_documented(admin: AppClient) -> None:
    served = await (await call(admin, "GET", "/admin/openapi.json")).json()
    assert served == DOC
    routes = {
        (route.method.lower(), "/admin" + route.resource.canonical)
        for route in admin_app(AdminToken(TOKEN)).router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(method, path) for path, item in DOC["paths"].items() for method in item if method != "parameters"}
    assert routes == documented


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("/admin/stats.json", 200),
        ("/admin/stats.json?by=unit&since=2020-01-01", 200),
        ("/admin/stats", 200),
        ("/admin/stats.json?by=nope", 400),
        ("/admin/stats?since=2024-13-01", 400),
    ],
)
async def test_stats_are_in_the_document(admin: AppClient, query: str, status: int) -> None:
    assert (await admin.get("/feeds/all.rss")).status == 200  # some ads served, so there are rows
    response = await call(admin, "GET", query)
    assert response.status == status
    if query.startswith("/admin/stats.json?by=unit"):
        assert (await response.json())["rows"], "the feed carried ads: rows expected"


def test_document_schemas_are_valid() -> None:
    assert DOC["openapi"].startswith("3.1")
    for name, schema in DOC["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object", name
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert "401" in operation["responses"], f"{method} {path} needs the token"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/admin/adspaces/top", "application/yaml"), ("/admin/articles/world/pushed", "text/markdown")],
)
async def test_a_declared_length_over_the_limit_is_413_at_once(admin: AppClient, path: str, content_type: str) -> None:
    """A body declared far over the limit is refused before any of it is read: waiting for 99 GB that
    never come would hold the connection until the client gives up, and then log a server error."""
    import asyncio

    from tests.opsite import TOKEN

    assert admin.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", admin.server.port)
    writer.write(
        f"PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: 99999999999\r\n\r\nname: x\n".encode()
    )
    try:
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status_line.split()[1] == b"413"
