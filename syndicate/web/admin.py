"""The admin API under /admin/: status, reload, ad space files, previews and stats (see docs/ops.md).

A sub-application with its own token middleware (``admin_auth``), added only when an
admin token is configured; without one every /admin/ URL is a plain 404.
Handlers take the reload lock around "write, reload, undo if rejected", so a
change made here either goes live or leaves the files as they were.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from syndicate import audit
from syndicate.ads.caps import audience_ids, cap_problems
from syndicate.ads.loader import SPACE_ID
from syndicate.ads.store import Change, SpaceStore
from syndicate.advice import advice, scheduled
from syndicate.files import NotAFile
from syndicate.fleet.admin_store import SharedSpaceStore, stored_as
from syndicate.ingest.store import ArticleStore
from syndicate.problems import Level, Problem
from syndicate.reload import Reloader, ReloadOutcome, problem_dicts
from syndicate.snapshot import Snapshot
from syndicate.web.accesslog import logged_address
from syndicate.web.admin_openapi import openapi_document
from syndicate.web.errors import json_error
from syndicate.web.state import CAPS, FLEET, RELOADER
from syndicate.web.upstreams import upstream_status
from syndicate.yamlfile import MAX_DEPTH

log = logging.getLogger("syndicate.admin")

YAML_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain", "application/octet-stream"}
)
_ACTOR = re.compile(r"[^\w .@+-]")


def _shown(path: Path, root: Path) -> str:
    """A path as problems show it: relative to the config folder when inside it."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _reloader(request: web.Request) -> Reloader:
    return request.config_dict[RELOADER]


def _outcome(outcome: ReloadOutcome | None, snapshot: Snapshot) -> dict[str, object] | None:
    if outcome is None:
        return None
    return {
        "trigger": outcome.trigger,
        "at": outcome.at.isoformat(timespec="seconds"),
        "accepted": outcome.accepted,
        "generation": outcome.generation,
        "seconds": round(outcome.seconds, 3),
        "errors": problem_dicts(outcome.errors, snapshot.config.root),
    }


async def status(request: web.Request) -> web.Response:
    reloader = _reloader(request)
    snapshot = reloader.holder.current
    root = snapshot.config.root
    hints = await asyncio.get_running_loop().run_in_executor(None, advice, snapshot)
    caps = request.config_dict.get(CAPS)  # the counts the tracker last read: no store query here
    if caps is not None:
        hints += cap_problems(snapshot.spaces, caps.latest(), audience_ids(snapshot.config))
    errors = [p for p in snapshot.problems if p.level is Level.ERROR]
    warnings = [p for p in snapshot.problems if p.level is Level.WARNING] + hints
    return web.json_response(
        {
            "generation": snapshot.generation,
            "loaded_at": snapshot.built_at.isoformat(timespec="seconds"),
            "uptime_seconds": round(reloader.uptime, 3),
            "pid": os.getpid(),
            "counts": {
                "feeds": sum(1 for name in snapshot.feeds if name != "all"),
                "articles": snapshot.article_count,
                "spaces": len(snapshot.spaces),
                "partners": len(snapshot.config.partners),
                "scheduled": len(snapshot.scheduled),
            },
            "scheduled": scheduled(snapshot)[:100],
            "errors": problem_dicts(errors, root),
            "warnings": problem_dicts(warnings, root),
            "reload": {
                "attempts": reloader.attempts,
                "last": _outcome(reloader.last, snapshot),
                "rejected": _outcome(reloader.rejected, snapshot),
            },
            "upstreams": upstream_status(request.config_dict),
        }
    )


async def reload(request: web.Request) -> web.Response:
    outcome = await _reloader(request).reload("admin")
    return web.json_response(
        _outcome(outcome, _reloader(request).holder.current), status=200 if outcome.accepted else 409
    )


async def list_spaces(request: web.Request) -> web.Response:
    snapshot = _reloader(request).holder.current
    now = dt.datetime.now(dt.UTC)
    root = snapshot.config.root
    return web.json_response(
        {
            "spaces": [
                {
                    "id": space.id,
                    "name": space.name,
                    "path": _shown(space.path, root),
                    "units": len(space.units),
                    "live_units": sum(1 for unit in space.units if unit.live_at(now)),
                    "if_empty": space.if_empty,
                }
                for _, space in sorted(snapshot.spaces.items())
            ]
        }
    )


def etag_of(data: bytes | None) -> str | None:
    return None if data is None else '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _space_id(request: web.Request) -> str | None:
    space_id = request.match_info["id"]
    return space_id if SPACE_ID.fullmatch(space_id) else None


def _bad_id() -> web.Response:
    return json_error(400, "ad space ids are letters, digits, '-' and '_' (at most 64)")


def _not_a_file(exc: NotAFile, snapshot: Snapshot) -> web.Response:
    """A link (or a folder, a pipe) where the space's file should be: the API never reads or writes through it."""
    shown = _shown(Path(exc.filename), snapshot.config.root) if exc.filename else "the file"
    return json_error(
        409,
        f"{shown} {exc.strerror}; the admin API never reads or writes through it "
        "(the loader skips it too): replace it with a regular file by hand",
    )


async def get_space(request: web.Request) -> web.Response:
    space_id = _space_id(request)
    if space_id is None:
        return _bad_id()
    snapshot = _reloader(request).holder.current
    store = space_store(request, snapshot)
    try:
        data = store.read(space_id)
    except NotAFile as exc:
        return _not_a_file(exc, snapshot)
    if data is None:
        return json_error(404, f"no ad space file for {space_id!r}")
    etag = etag_of(data) or ""
    if "application/json" in request.headers.get("Accept", ""):
        path = store.path_for(space_id)
        return web.json_response(
            {
                "id": space_id,
                "path": _shown(path, snapshot.config.root),
                "etag": etag,
                "loaded": space_id in snapshot.spaces,
                "source": data.decode("utf-8", "replace"),
            },
            headers={"ETag": etag},
        )
    return web.Response(body=data, content_type="application/yaml", charset="utf-8", headers={"ETag": etag})


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def _depth(data: Any) -> int:
    """How deeply ``data`` nests, counted without recursion (the YAML writer would recurse and overflow)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _body_as_yaml(body: bytes, content_type: str) -> bytes:
    """The file to write: YAML bodies as sent, JSON bodies as the equivalent YAML. Raises ``ValueError``
    for anything the JSON parser refuses or the YAML loader would (nesting beyond its cap)."""
    if content_type != "application/json":
        return body
    try:
        data: Any = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def _actor(request: web.Request) -> str:
    """Who made a change, as the client says (``X-Admin-Actor``); the token does not name a person."""
    return _ACTOR.sub("", request.headers.get("X-Admin-Actor", ""))[:64] or "admin"


def _audit(
    request: web.Request, snapshot: Snapshot, action: str, change: Change, outcome: str, generation: int
) -> None:
    config = snapshot.config
    audit.record(
        audit.audit_path(config.data_dir),
        config.root,
        actor=_actor(request),
        remote=logged_address(request),
        action=action,
        change=change,
        outcome=outcome,
        generation=generation,
    )


def _rejected(outcome: ReloadOutcome, snapshot: Snapshot) -> web.Response:
    return json_error(
        409,
        "the change was undone: the reload after it was rejected",
        problem_dicts(outcome.errors, snapshot.config.root),
    )


def written(
    names: dict[str, str],
    path: Path,
    snapshot: Snapshot,
    outcome: ReloadOutcome,
    change: Change,
    data: bytes,
    created: bool,
) -> web.Response:
    """The answer to a PUT that went live: what was written (``names`` say which), where, in which
    generation, its ETag and its backup; 201 when it is new."""
    etag = etag_of(data)
    body = {
        **names,
        "path": _shown(path, snapshot.config.root),
        "generation": outcome.generation,
        "etag": etag,
        "backup": str(change.backup) if change.backup else None,
    }
    return web.json_response(body, status=201 if created else 200, headers={"ETag": etag or ""})


async def go_live(
    request: web.Request,
    reloader: Reloader,
    snapshot: Snapshot,
    store: SpaceStore | ArticleStore,
    action: str,
    change: Change,
    what: str,
) -> tuple[ReloadOutcome, web.Response | None]:
    """Reload after a written change; undo the change when the reload is rejected, or when the shared store
    (if any) does not take it. Audited either way (``action``); ``what`` names the change in the log."""
    verb = action.rsplit(" ", 1)[-1].upper()
    outcome = await reloader.reload_locked(f"admin {verb} {what}", (change.path,))
    if not outcome.accepted:
        await asyncio.to_thread(store.undo, change)
        _audit(request, snapshot, action, change, "undone", outcome.generation)
        return outcome, _rejected(outcome, snapshot)
    fleet = request.config_dict.get(FLEET)
    key = stored_as(store, change)
    if fleet is not None and key is not None:  # live here: now store it for every replica, or take it back
        try:
            await fleet.publish(key, change.after, _actor(request))
        except Exception as exc:
            log.error("admin: the shared store did not take %s (%s); change undone", what, exc)
            await asyncio.to_thread(store.undo, change)
            outcome = await reloader.reload_locked(f"admin undo {verb} {what}")
            _audit(request, snapshot, action, change, "undone", outcome.generation)
            return outcome, json_error(503, "the shared store cannot be written; the change was undone")
    _audit(request, snapshot, action, change, "applied", outcome.generation)
    return outcome, None


def space_store(request: web.Request, snapshot: Snapshot) -> SpaceStore:
    """The ad space files the admin API writes: ``adspaces/``, or with a shared store this replica's copy of it."""
    return SharedSpaceStore(snapshot.config) if FLEET in request.config_dict else SpaceStore(snapshot.config)


async def read_body(request: web.Request) -> bytes:
    """The request body, refused with 413 at once when its declared length is over the limit: a body
    that would be refused after the limit anyway is not waited for."""
    declared = request.content_length or 0
    if declared > request.client_max_size:
        raise web.HTTPRequestEntityTooLarge(max_size=request.client_max_size, actual_size=declared)
    return await request.read()


async def put_space(request: web.Request) -> web.Response:
    space_id = _space_id(request)
    if space_id is None:
        return _bad_id()
    if request.content_type not in YAML_TYPES | {"application/json"}:
        return json_error(415, "send the ad space as application/yaml or application/json")
    body = await read_body(request)
    reloader = _reloader(request)
    async with reloader.lock:
        snapshot = reloader.holder.current
        store = space_store(request, snapshot)
        path = store.path_for(space_id)
        try:
            data = _body_as_yaml(body, request.content_type)
        except ValueError as exc:
            problem = Problem(path, 0, Level.ERROR, f"body is not a JSON object: {exc}")
            return json_error(422, "invalid ad space", problem_dicts([problem], snapshot.config.root))
        try:
            current = store.read(space_id)
        except NotAFile as exc:
            return _not_a_file(exc, snapshot)
        if_match = request.headers.get("If-Match")
        if if_match is not None and (current is None or if_match not in ("*", etag_of(current))):
            return json_error(412, "the file changed since you read it (ETag does not match)")
        problems = store.validate(space_id, data, snapshot)
        if problems.errors:
            return json_error(422, "invalid ad space", problem_dicts(problems, snapshot.config.root))
        change = await asyncio.to_thread(store.write, space_id, data)
        outcome, refused = await go_live(request, reloader, snapshot, store, "put", change, f"adspaces/{space_id}")
        if refused is not None:
            return refused
    return written({"id": space_id}, path, snapshot, outcome, change, data, created=current is None)


async def delete_space(request: web.Request) -> web.Response:
    space_id = _space_id(request)
    if space_id is None:
        return _bad_id()
    reloader = _reloader(request)
    async with reloader.lock:
        snapshot = reloader.holder.current
        store = space_store(request, snapshot)
        try:
            change = await asyncio.to_thread(store.delete, space_id)
        except NotAFile as exc:
            return _not_a_file(exc, snapshot)
        if change is None:
            return json_error(404, f"no ad space file for {space_id!r}")
        outcome, refused = await go_live(request, reloader, snapshot, store, "delete", change, f"adspaces/{space_id}")
        if refused is not None:
            return refused
    return web.json_response(
        {"id": space_id, "generation": outcome.generation, "backup": str(change.backup) if change.backup else None}
    )


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())
