"""Wires the fleet into an app when its store is shared (limits, replay filter, broadcast, health, key check),
or, on the embedded store, the workers of one ``serve --workers N`` (limits and replay filter)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from syndicate.config import Config
from syndicate.credentials import secret_from_env_or_file
from syndicate.fleet.limits import FleetRateLimiter
from syndicate.fleet.replica import Fleet
from syndicate.fleet.workers import Workers, workers_here
from syndicate.problems import Level, LoadError, Problem
from syndicate.storage.backend import is_shared
from syndicate.storage.pgstore import PostgresStore
from syndicate.storage.url import DATABASE_URL_ENV, database_url
from syndicate.tracking.keys import KEYS_ENV
from syndicate.web.state import FLEET, HEALTH, LIMITER, RELOADER, SIGNING_KEYS, SNAPSHOTS, TRACKER

#: What the stored rate-limit buckets' keys are digests with.
BUCKETS = "rate-limit buckets"

NEEDS_KEYS = (
    f"a replica with a shared store needs configured signing keys (${KEYS_ENV}, ${KEYS_ENV}_FILE or "
    "tracking.keys_file), the same on every replica: with a random development key, links signed by one "
    "replica would not verify on the others"
)


def require_signing_keys(config: Config) -> None:
    """Refuse to start a replica of a fleet on the random development key. Raises ``LoadError``."""
    if database_url(config) is None or not config.tracking.enabled:
        return
    if secret_from_env_or_file(KEYS_ENV, config.tracking.keys_file) is None:
        raise LoadError(
            [
                Problem(
                    Path(f"${DATABASE_URL_ENV}" if os.environ.get(DATABASE_URL_ENV) else config.path),
                    0,
                    Level.ERROR,
                    NEEDS_KEYS,
                )
            ]
        )


def setup_fleet(app: web.Application) -> None:
    """After tracking and ops are set up. Raises ``LoadError`` on a shared store without signing keys."""
    tracker = app[TRACKER]
    app[HEALTH].append(tracker.health)
    store = tracker.store
    if not is_shared(store):
        if workers_here() > 1:
            _setup_workers(app, workers_here())
        return
    assert isinstance(store, PostgresStore)
    holder = app[SNAPSHOTS]
    require_signing_keys(holder.current.config)
    fleet: Fleet | None = None
    limiter = FleetRateLimiter(
        lambda: fleet.replicas if fleet is not None else 1, secret=app[SIGNING_KEYS].derived(BUCKETS)
    )
    fleet = Fleet(
        store.url,
        config=lambda: holder.current.config,
        reloader=app[RELOADER],
        tracker=tracker,
        limiter=limiter,
        timeout=holder.current.config.store.timeout_seconds,
    )
    app[LIMITER] = limiter
    app[FLEET] = fleet
    app[HEALTH].append(fleet.health)
    app.cleanup_ctx.append(_fleet_context)


def _setup_workers(app: web.Application, count: int) -> None:
    """One of the workers of ``serve --workers N`` on the embedded store: limits and replay filter shared."""
    limiter = FleetRateLimiter(lambda: count, secret=app[SIGNING_KEYS].derived(BUCKETS))
    workers = Workers(app[SNAPSHOTS].current.config.data_dir, app[TRACKER], limiter, count)
    app[LIMITER] = limiter
    app[HEALTH].append(workers.health)

    async def context(_: web.Application) -> AsyncIterator[None]:
        await workers.start()
        yield
        await workers.stop()

    app.cleanup_ctx.append(context)


async def _fleet_context(app: web.Application) -> AsyncIterator[None]:
    fleet = app[FLEET]
    await fleet.start()
    yield
    await fleet.stop()
