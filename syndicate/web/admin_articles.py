"""/admin/articles/<feed>/<id>: articles pushed by any CMS, as files (see docs/ingest.md).

PUT takes an article file (front matter + Markdown or HTML) or the same fields as
JSON; it is checked exactly as the loader reads files (422 listing every problem,
nothing written), written atomically with a backup, reloaded under the reload lock
(so it is live when the answer comes) and undone when that reload is rejected;
every change is in the audit log. With a shared store the article is written to
this replica's copy of the store and then stored for every replica
(``fleet/objects.py``: a file of the site wins).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from syndicate.files import NotAFile
from syndicate.fleet.admin_store import SharedArticleStore
from syndicate.ingest.store import ARTICLE_ID, SUFFIXES, ArticleStore, json_article
from syndicate.problems import Level, Problem
from syndicate.reload import problem_dicts
from syndicate.snapshot import Snapshot
from syndicate.web.admin import _not_a_file, _reloader, etag_of, go_live, read_body, written
from syndicate.web.errors import json_error
from syndicate.web.state import FLEET


def _ids(request: web.Request) -> tuple[str, str] | None:
    feed, article_id = request.match_info["feed"], request.match_info["id"]
    return (feed, article_id) if ARTICLE_ID.fullmatch(article_id) else None


def _bad_id() -> web.Response:
    return json_error(
        400,
        "article ids in this API are letters, digits, '-' and '_' (at most 128): the file name without its extension",
    )


def article_store(request: web.Request, snapshot: Snapshot) -> ArticleStore:
    """The article files the admin API writes: ``feeds/``, or with a shared store this replica's copy of it."""
    return SharedArticleStore(snapshot.config) if FLEET in request.config_dict else ArticleStore(snapshot.config)


def _as_file(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The file to write and its suffix: article files as sent, JSON as the equivalent file."""
    if content_type in SUFFIXES:
        return body, SUFFIXES[content_type]
    text, suffix = json_article(body)
    return text.encode("utf-8"), suffix


async def get_article(request: web.Request) -> web.Response:
    ids = _ids(request)
    if ids is None:
        return _bad_id()
    snapshot = _reloader(request).holder.current
    store = article_store(request, snapshot)
    path = store.existing(*ids)
    try:
        data = store.read(path) if path is not None else None
    except NotAFile as exc:
        return _not_a_file(exc, snapshot)
    if path is None or data is None:
        return json_error(404, f"no article file for {ids[0]}/{ids[1]}")
    content_type = "text/markdown" if path.suffix.lower() in (".md", ".markdown") else "text/html"
    return web.Response(body=data, content_type=content_type, charset="utf-8", headers={"ETag": etag_of(data) or ""})


async def put_article(request: web.Request) -> web.Response:
    ids = _ids(request)
    if ids is None:
        return _bad_id()
    feed, article_id = ids
    content_type = request.content_type
    if content_type not in SUFFIXES and content_type != "application/json":
        return json_error(
            415, "send the article as text/markdown or text/html (front matter, then the body), or as application/json"
        )
    body = await read_body(request)
    reloader = _reloader(request)
    async with reloader.lock:
        snapshot = reloader.holder.current
        store = article_store(request, snapshot)
        try:
            data, suffix = _as_file(body, content_type)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problem = Problem(store.path_for(feed, article_id, ".md"), 0, Level.ERROR, f"body: {exc}")
            return json_error(422, "invalid article", problem_dicts([problem], snapshot.config.root))
        path = store.path_for(feed, article_id, suffix)
        try:
            current = store.read(path)
        except NotAFile as exc:
            return _not_a_file(exc, snapshot)
        if_match = request.headers.get("If-Match")
        if if_match is not None and (current is None or if_match not in ("*", etag_of(current))):
            return json_error(412, "the file changed since you read it (ETag does not match)")
        problems = await asyncio.to_thread(store.validate, feed, article_id, data, suffix)
        if problems.errors:
            return json_error(422, "invalid article", problem_dicts(problems.errors, snapshot.config.root))
        change = await asyncio.to_thread(store.write, feed, article_id, data, suffix)
        outcome, refused = await go_live(
            request, reloader, snapshot, store, "article put", change, f"articles/{feed}/{article_id}"
        )
        if refused is not None:
            return refused
    names = {"feed": feed, "id": article_id}
    return written(names, path, snapshot, outcome, change, data, created=current is None)


async def delete_article(request: web.Request) -> web.Response:
    ids = _ids(request)
    if ids is None:
        return _bad_id()
    reloader = _reloader(request)
    async with reloader.lock:
        snapshot = reloader.holder.current
        store = article_store(request, snapshot)
        try:
            change = await asyncio.to_thread(store.delete, *ids)
        except NotAFile as exc:
            return _not_a_file(exc, snapshot)
        if change is None:
            return json_error(404, f"no article file for {ids[0]}/{ids[1]}")
        outcome, refused = await go_live(
            request, reloader, snapshot, store, "article delete", change, f"articles/{ids[0]}/{ids[1]}"
        )
        if refused is not None:
            return refused
    return web.json_response(
        {
            "feed": ids[0],
            "id": ids[1],
            "generation": outcome.generation,
            "backup": str(change.backup) if change.backup else None,
        }
    )
