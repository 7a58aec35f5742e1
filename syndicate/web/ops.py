"""Wires reloading, the admin API and the metrics listener into an app: one call from ``create_app``."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from syndicate.content.parsecache import ChangeLog
from syndicate.credentials import admin_token
from syndicate.metrics import MULTIPROC_ENV
from syndicate.reload import Reloader
from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.watch import Watcher
from syndicate.web.routes import admin_app, metrics_app
from syndicate.web.state import RELOADER, SNAPSHOTS
from syndicate.web.upstreams import upstream_context

log = logging.getLogger("syndicate.admin")
metrics_log = logging.getLogger("syndicate.metrics")


def setup_ops(
    app: web.Application,
    *,
    watch: bool,
    build: Callable[[Path], Snapshot] = build_snapshot,
    changes: ChangeLog | None = None,
) -> None:
    """A Reloader always (the admin API uses it); the file watcher and SIGHUP only when ``watch``.
    ``build`` makes each new Snapshot (``create_app`` keeps the listening address in it); ``changes`` is
    its cache's change log, which the watcher fills so that its reloads skip folders with no change.

    Raises ``LoadError`` when an admin token is configured but unusable.
    """
    reloader = Reloader(app[SNAPSHOTS], build, changes if watch else None)
    app[RELOADER] = reloader
    config = reloader.holder.current.config
    token = admin_token(config.admin_token_file)
    if token is not None:
        app.add_subapp("/admin/", admin_app(token, with_metrics=config.metrics.expose == "admin"))
    app.cleanup_ctx.append(metrics_listener)  # metrics.expose: port
    app.cleanup_ctx.append(upstream_context)  # follows upstream feeds; idle when no feed has one
    if watch:
        app.cleanup_ctx.append(_watching)


async def _watching(app: web.Application) -> AsyncIterator[None]:
    reloader = app[RELOADER]
    watcher = Watcher(
        lambda: reloader.holder.current.config, reloader.reload, changes=reloader.changes, applied=reloader.skip
    )
    watcher.start()
    try:
        yield
    finally:
        await watcher.close()


async def metrics_listener(app: web.Application) -> AsyncIterator[None]:
    """With ``expose: port``: start the metrics listener with the app, stop it with the app."""
    settings = app[SNAPSHOTS].current.config.metrics
    if settings.expose != "port":
        yield
        return
    runner = web.AppRunner(metrics_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=bool(os.environ.get(MULTIPROC_ENV)))
    await site.start()
    metrics_log.info("metrics on http://%s:%d/metrics", settings.host, settings.port)
    try:
        yield
    finally:
        await runner.cleanup()
