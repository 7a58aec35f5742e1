"""/admin/articles/<feed>/<id>: articles pushed by any CMS, as files (see docs/ingest.md).

PUT takes an article file (front matter + Markdown or HTML) or the same fields as
JSON; it is checked exactly as the loader reads files (422 listing every problem,
nothing written), written atomically with a backup, reloaded under the reload lock
(so it is live when the answer comes) and undone when that reload is rejected;
every change is in the audit log.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from syndicate.ads.store import Change
from syndicate.files import NotAFile
from syndicate.ingest.store import ARTICLE_ID, SUFFIXES, ArticleStore, json_article
from syndicate.problems import Level, Problem
from syndicate.reload import Reloader, problem_dicts
from syndicate.snapshot import Snapshot
from syndicate.web.admin import _audit, _not_a_file, _rejected, _reloader, _shown, etag_of, json_error, read_body


def _ids(request: web.Request) -> tuple[str, str] | None:
    feed, article_id = request.match_info["feed"], request.match_info["id"]
    return (feed, article_id) if ARTICLE_ID.fullmatch(article_id) else None


def _bad_id() -> web.Response:
    return json_error(400, "article ids in this API are letters, digits, '-' and '_' (at most 128): "
                           "the file name without its extension")


async def _go_live(request: web.Request, reloader: Reloader, snapshot: Snapshot, store: ArticleStore, action: str,
                   change: Change) -> tuple[int, web.Response | None]:
    """Reload after a written change; undo it when the reload is rejected. Audited either way."""
    outcome = await reloader.reload_locked(f"admin {action.upper()} articles/{change.space_id}")
    if not outcome.accepted:
        await asyncio.to_thread(store.undo, change)
        _audit(request, snapshot, f"article {action}", change, "undone", outcome.generation)
        return outcome.generation, _rejected(outcome, snapshot)
    _audit(request, snapshot, f"article {action}", change, "applied", outcome.generation)
    return outcome.generation, None


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
    store = ArticleStore(snapshot.config)
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
        return json_error(415, "send the article as text/markdown or text/html (front matter, then the body), "
                               "or as application/json")
    body = await read_body(request)
    reloader = _reloader(request)
    async with reloader.lock:
        snapshot = reloader.holder.current
        store = ArticleStore(snapshot.config)
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
        generation, refused = await _go_live(request, reloader, snapshot, store, "put", change)
        if refused is not None:
            return refused
    return web.json_response({"feed": feed, "id": article_id, "path": _shown(path, snapshot.config.root),
                              "generation": generation, "etag": etag_of(data),
                              "backup": str(change.backup) if change.backup else None},
                             status=201 if current is None else 200, headers={"ETag": etag_of(data) or ""})


async def delete_article(request: web.Request) -> web.Response:
    ids = _ids(request)
    if ids is None:
        return _bad_id()
    reloader = _reloader(request)
    async with reloader.lock:
        snapshot = reloader.holder.current
        store = ArticleStore(snapshot.config)
        try:
            change = await asyncio.to_thread(store.delete, *ids)
        except NotAFile as exc:
            return _not_a_file(exc, snapshot)
        if change is None:
            return json_error(404, f"no article file for {ids[0]}/{ids[1]}")
        generation, refused = await _go_live(request, reloader, snapshot, store, "delete", change)
        if refused is not None:
            return refused
    return web.json_response({"feed": ids[0], "id": ids[1], "generation": generation,
                              "backup": str(change.backup) if change.backup else None})


def add_article_routes(app: web.Application) -> None:
    app.router.add_get("/articles/{feed}/{id}", get_article, name="admin_article")
    app.router.add_put("/articles/{feed}/{id}", put_article, name="admin_article_put")
    app.router.add_delete("/articles/{feed}/{id}", delete_article, name="admin_article_delete")
