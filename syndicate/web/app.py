"""The application factory: no global app; ``create_app`` builds one from a Snapshot."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

from aiohttp import web

from syndicate.ads.slotcache import SlotCache
from syndicate.fleet.setup import setup_fleet
from syndicate.formats.assembly import FragmentCache
from syndicate.snapshot import BuildCache, Snapshot, build_snapshot
from syndicate.web.carry import Carry
from syndicate.web.errors import error_middleware
from syndicate.web.ops import setup_ops
from syndicate.web.pagecache import PageCache
from syndicate.web.pages import setup_templates
from syndicate.web.ratelimit import RateLimiter
from syndicate.web.redaction import install_log_redaction
from syndicate.web.routes import add_routes
from syndicate.web.schedule import setup_schedule
from syndicate.web.state import (
    FRAGMENTS,
    HEALTH,
    LIMITER,
    PAGES,
    RELOADER,
    SLOTS,
    SNAPSHOTS,
    VARIANTS,
    WANTED,
    HealthParts,
    SnapshotHolder,
    start_serving,
)
from syndicate.web.tracking_views import setup_tracking
from syndicate.web.variants import VariantCache
from syndicate.web.wanted import KnownRequests
from syndicate.web.warm import warm
from syndicate.web.websub import websub_context


def listening(snapshot: Snapshot, host: str | None, port: int | None) -> Snapshot:
    """``snapshot`` as served on ``host:port`` (``serve --host/--port``): the derived public URL follows."""
    if host is None and port is None:
        return snapshot
    config = replace(snapshot.config, server=snapshot.config.server.listening_on(host, port))
    return replace(snapshot, config=config)


def create_app(
    config: Path | Snapshot,
    *,
    watch: bool = False,
    host: str | None = None,
    port: int | None = None,
    reuse: BuildCache | None = None,
) -> web.Application:
    """An app serving ``config`` (a config.yaml path, or a Snapshot built from one).

    ``watch``: reload on file changes and SIGHUP (``syndicate serve``); off for tests.
    ``host``/``port``: where it listens, when not where config says; every reload keeps them, so
    self links, the index, OPML and signed ad links name the address that answers.
    ``reuse``: the cache a given Snapshot was built with, so the first reload reuses its articles.
    Raises ``LoadError`` when a path is given and the config is unusable, or the admin token is.
    """
    install_log_redaction()  # aiohttp's own error lines quote request lines: no key or token may pass

    builds = reuse or BuildCache()  # each build reuses what the one before it made and did not change

    def build(path: Path) -> Snapshot:
        return listening(build_snapshot(path, cache=builds), host, port)

    snapshot = listening(config, host, port) if isinstance(config, Snapshot) else build(config)
    app = web.Application(middlewares=[error_middleware])
    app[SNAPSHOTS] = SnapshotHolder(snapshot, snapshot.config.path)
    app[VARIANTS] = cache = VariantCache(snapshot.config.http.cache_bytes)
    app[FRAGMENTS] = FragmentCache(snapshot.config.http.fragment_bytes)
    app[SLOTS] = SlotCache(snapshot.config.http.fragment_bytes)
    # Variant keys start with the generation: a swap re-keys the variants of pages it did not change and drops the
    # rest (web/carry.py). Fragments and resolved slots are keyed by the article itself, so they outlive the swap
    # for every article it did not change.
    app[PAGES] = pages = PageCache()
    app[WANTED] = wanted = KnownRequests()

    def follow_swap(old: Snapshot, new: Snapshot) -> None:
        cache.rekey(Carry(old, new))
        pages.clear()
        wanted.clear()

    app[SNAPSHOTS].listeners.append(follow_swap)
    app[LIMITER] = RateLimiter()
    app.cleanup_ctx.append(websub_context)
    setup_templates(app)
    add_routes(app)
    setup_tracking(app)
    setup_ops(app, watch=watch, build=build, changes=builds.parses.changes)
    app[RELOADER].before_swap = partial(warm, app)  # the busiest changed pages rendered before they go live
    setup_schedule(app)  # scheduled articles go live on time, through the Reloader's swap
    app[HEALTH] = HealthParts()
    setup_fleet(app)  # with a shared store: fleet-wide limits, replay filter and admin writes
    app.on_startup.append(start_serving)  # what the feed handlers read, once the state is final
    return app
