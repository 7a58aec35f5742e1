"""The application factory: no global app; ``create_app`` builds one from a Snapshot."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.web.errors import error_middleware
from syndicate.web.ratelimit import RateLimiter
from syndicate.web.routes import add_routes
from syndicate.web.state import LIMITER, SNAPSHOTS, VARIANTS, SnapshotHolder
from syndicate.web.variants import VariantCache
from syndicate.web.websub import websub_context


def create_app(config: Path | Snapshot) -> web.Application:
    """An app serving ``config`` (a config.yaml path, or a Snapshot built from one).

    Raises ``LoadError`` when a path is given and the config is unusable.
    """
    snapshot = config if isinstance(config, Snapshot) else build_snapshot(config)
    app = web.Application(middlewares=[error_middleware])
    app[SNAPSHOTS] = SnapshotHolder(snapshot, snapshot.config.path)
    app[VARIANTS] = VariantCache(snapshot.config.http.cache_bytes)
    app[LIMITER] = RateLimiter()
    app.cleanup_ctx.append(websub_context)
    add_routes(app)
    return app
