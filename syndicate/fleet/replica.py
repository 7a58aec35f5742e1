"""One replica's link to the fleet: heartbeat, rate-limit sync, and admin writes applied as they are broadcast.

Three background tasks, none on a request's path. Every ``sync_seconds`` the
rate-limit shares are reconciled (``fleet/limits.py``). Every second a heartbeat
says this replica is alive, counts the live ones, and compares the store's
newest admin revision with the one applied here, so a lost notification costs at
most a second. A listening connection (``LISTEN syndicate_admin``) applies each
change as soon as its ``NOTIFY`` arrives. The database being down only shows on
``/healthz``: the replica keeps serving from its last state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable

import psycopg
from psycopg_pool import AsyncConnectionPool

from syndicate.config import Config
from syndicate.fleet import db
from syndicate.fleet.limits import FleetRateLimiter, Report
from syndicate.fleet.objects import KINDS, Copy, Key
from syndicate.fleet.replays import FleetReplays
from syndicate.reload import Reloader
from syndicate.storage.pgstore import PostgresStore, connection_options
from syndicate.storage.url import redacted
from syndicate.tracking.tracker import Tracker

log = logging.getLogger("syndicate.fleet")


class Fleet:
    def __init__(
        self,
        url: str,
        *,
        config: Callable[[], Config],
        reloader: Reloader,
        tracker: Tracker,
        limiter: FleetRateLimiter,
        timeout: float = 5.0,
        sync_seconds: float = 0.1,
        heartbeat_seconds: float = 1.0,
        active_seconds: float = 10.0,
    ) -> None:
        self.url = url
        self.config = config
        self.reloader = reloader
        self.tracker = tracker
        self.limiter = limiter
        self.timeout = timeout
        self.sync_seconds = sync_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.active_seconds = active_seconds
        self.id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.replicas = 1  # alive in the fleet, self included (from the heartbeat)
        self._latest = 0  # the store's newest admin revision, as last seen
        self._applied = 0  # the newest one applied here
        self._behind_since: float | None = None  # monotonic time a newer revision was first seen
        self.rejected: int | None = None  # a revision this replica's acceptance rule refused
        self.error: str | None = None
        self.contact = 0.0  # monotonic time of the last answer from the store
        self.listening = False
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[tuple[object, ...]]] | None = None
        self._catching_up = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Before the replica listens: join, and apply the store's current admin state (late starters too)."""
        self._pool = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=3,
            open=False,
            timeout=self.timeout,
            kwargs={**connection_options(self.timeout), "autocommit": True},
            name="syndicate-fleet",
        )
        try:
            await self._pool.open(wait=True, timeout=self.timeout)
            await self._beat()
            await self.catch_up(full=True)
        except Exception as exc:
            self._failed(exc)
            log.error(
                "shared store %s unreachable at start (%s): serving the local copy of its state; "
                "retrying in the background",
                redacted(self.url),
                self.error,
            )
        self._tasks = [
            asyncio.create_task(self._every(self.heartbeat_seconds, self._beat), name="fleet-heartbeat"),
            asyncio.create_task(self._every(self.sync_seconds, self._sync_limits), name="fleet-limits"),
            asyncio.create_task(self._listen(), name="fleet-listen"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._leave(), self.timeout)
            await self._pool.close()

    async def _leave(self) -> None:
        assert self._pool is not None
        async with self._pool.connection() as conn:
            await db.leave(conn, self.id)

    # -- health ------------------------------------------------------------------------------------

    @property
    def latest(self) -> int:
        return self._latest

    @latest.setter
    def latest(self, revision: int) -> None:
        self._latest = revision
        if revision > self._applied and self._behind_since is None:
            self._behind_since = time.monotonic()

    @property
    def applied(self) -> int:
        return self._applied

    @applied.setter
    def applied(self, revision: int) -> None:
        self._applied = revision
        if revision >= self._latest:
            self._behind_since = None

    def seconds_behind(self) -> float:
        """How long the fleet's newest admin state has not been applied here (0: up to date)."""
        return 0.0 if self._behind_since is None else round(time.monotonic() - self._behind_since, 3)

    def _ok(self) -> None:
        if self.error is not None:
            log.info("shared store: reachable again")
        self.error = None
        self.contact = time.monotonic()

    def _failed(self, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {str(exc).strip()}"[:300]
        if text != self.error:
            log.error("shared store: %s", text)
        self.error = text

    def health(self) -> dict[str, object]:
        """For /healthz: is the store reachable, and how far behind the fleet's state is this replica."""
        seconds = round(time.monotonic() - self.contact, 3) if self.contact else None
        return {
            "store": {
                "backend": "postgresql",
                "reachable": self.error is None and self.contact > 0,
                "error": self.error,
                "seconds_since_contact": seconds,
                "replica": self.id,
                "replicas": self.replicas,
                "listening": self.listening,
                "revision": {
                    "applied": self.applied,
                    "latest": self.latest,
                    "behind": max(0, self.latest - self.applied),
                    "seconds_behind": self.seconds_behind(),
                    "rejected": self.rejected,
                },
            }
        }

    # -- background work ---------------------------------------------------------------------------

    async def _every(self, seconds: float, work: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()  # type: ignore[misc]
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(exc)

    async def _beat(self) -> None:
        assert self._pool is not None
        async with self._pool.connection() as conn:
            self.replicas, self.latest = await db.heartbeat(conn, self.id, 3 * self.heartbeat_seconds)
            if self.tracker.replays is None and self.tracker.enabled:
                store = self.tracker.store
                assert isinstance(store, PostgresStore)
                settings = self.config().tracking
                self.tracker.replays = FleetReplays(
                    store,
                    await db.replay_salt(conn),
                    settings.dedupe_seconds,
                    self.tracker.buffer,
                    settings.buffer_limit,
                )
        self._ok()
        if self.latest > self.applied:
            await self.catch_up()

    async def _sync_limits(self) -> None:
        pool = self._pool
        if pool is None:
            return

        async def renew(reports: list[Report]) -> dict[str, float]:
            async with pool.connection() as conn:
                return await db.renew_leases(conn, reports, self.replicas)

        if await self.limiter.sync(self.active_seconds, renew):
            self._ok()

    async def _listen(self) -> None:
        """Apply each broadcast change; reconnect (and catch up) after any failure."""
        while True:
            try:
                options = connection_options(self.timeout)
                conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, **options)  # type: ignore[arg-type]
                async with conn:
                    await conn.execute(f"LISTEN {db.CHANNEL}".encode())
                    self.listening = True
                    await self.catch_up()
                    async for notice in conn.notifies():
                        with contextlib.suppress(ValueError):
                            self.latest = max(self.latest, int(notice.payload))
                        await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._failed(exc)
            self.listening = False
            await asyncio.sleep(1.0)

    # -- admin writes ------------------------------------------------------------------------------

    async def publish(self, key: Key, body: bytes | None, actor: str) -> int:
        """Store an ad space or article written here (None: deleted) and broadcast it; raises when the store
        is down."""
        assert self._pool is not None
        kind, object_id = key
        async with self._pool.connection() as conn:
            revision = await db.publish(conn, kind.name, object_id, body, actor)
        self._ok()
        self.latest = max(self.latest, revision)  # its NOTIFY comes back here too, and finds the copy current
        return revision

    async def catch_up(self, full: bool = False) -> None:
        """Apply every change newer than the applied revision (``full``: mirror the store's whole state)."""
        if self._pool is None:
            return
        async with self._catching_up:
            async with self._pool.connection() as conn:
                rows = await db.written_since(conn, 0 if full else self.applied)
            self._ok()
            changes: dict[Key, bytes | None] = {
                (KINDS[row.kind], row.id): row.body
                for row in rows
                if row.kind in KINDS and KINDS[row.kind].valid.fullmatch(row.id)
            }
            copy = Copy(self.config())
            if full:
                for stale in copy.keys() - set(changes):
                    changes[stale] = None  # deleted while this replica was away
            newest = max((row.revision for row in rows), default=self.applied)
            if not changes and newest <= self.applied:
                return
            await self._apply(copy, changes, newest)

    async def _apply(self, copy: Copy, changes: dict[Key, bytes | None], revision: int) -> None:
        async with self.reloader.lock:
            before = await asyncio.to_thread(copy.apply, changes)
            if before == changes:
                self.applied = max(self.applied, revision)
                return
            outcome = await self.reloader.reload_locked(f"shared store revision {revision}")
            if not outcome.accepted:
                await asyncio.to_thread(copy.apply, before)
                self.rejected = revision
                log.error(
                    "shared store revision %d rejected here (it brings an error to this replica's files); "
                    "still serving generation %d",
                    revision,
                    outcome.generation,
                )
            self.applied = max(self.applied, revision)
            self.latest = max(self.latest, revision)
