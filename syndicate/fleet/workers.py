"""The workers of one ``serve --workers N`` on the embedded store: one rate limit and one replay filter for all.

Without PostgreSQL the workers share what replicas share there, on the machine
they run on: the fleet buckets (``fleet/leases.py``, the same leases, renewed ten
times a second) and the replay salt in ``<data>/fleet.sqlite3``, and the replay
filter's digests in the tracking file they all write (``SqliteStore.add_unique``).
A request still spends only its worker's lease: no file is read on its path.
The supervisor tells each worker how many there are (``$SYNDICATE_WORKERS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from syndicate.fleet.leases import Bucket, fresh, renew_all
from syndicate.fleet.limits import FleetRateLimiter, Report
from syndicate.fleet.replays import FleetReplays
from syndicate.tracking.store import SqliteStore
from syndicate.tracking.tracker import Tracker

log = logging.getLogger("syndicate.fleet")

WORKERS_ENV = "SYNDICATE_WORKERS"
FILE_NAME = "fleet.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_buckets (
    key TEXT PRIMARY KEY, tokens REAL NOT NULL, stamp REAL NOT NULL, rate REAL NOT NULL, burst REAL NOT NULL,
    credit_out REAL NOT NULL, created REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""
_BUCKETS = (
    "SELECT key, tokens, stamp, rate, burst, credit_out, created FROM rate_buckets "
    "WHERE key IN (SELECT value FROM json_each(?))"
)
_WRITE = "INSERT OR REPLACE INTO rate_buckets VALUES (?, ?, ?, ?, ?, ?, ?)"


def workers_here() -> int:
    """How many workers of one ``serve --workers N`` this process is one of (1: it serves alone)."""
    try:
        return max(1, int(os.environ.get(WORKERS_ENV, "1")))
    except ValueError:
        return 1


class WorkerFile:
    """``<data>/fleet.sqlite3``: the workers' fleet buckets and shared settings. Blocking; one caller at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5.0)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    def renew_leases(self, reports: Sequence[Report], replicas: int) -> dict[str, float]:
        """Hand in what is left of each lease and take a new one; the new lease per bucket."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # one worker's sync at a time: the file's write lock
        try:
            now = time.time()
            rows = conn.execute(_BUCKETS, (json.dumps([r.key for r in reports]),)).fetchall()
            stored = {row[0]: Bucket(*row) for row in rows}
            for report in reports:
                stored.setdefault(report.key, fresh(report, now, replicas))
            buckets, leases = renew_all(stored, reports, now, replicas)
            conn.executemany(
                _WRITE, [(b.key, b.tokens, b.stamp, b.rate, b.burst, b.credit_out, b.created) for b in buckets]
            )
            conn.execute("DELETE FROM rate_buckets WHERE stamp < ?", (now - 86400,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return leases

    def replay_salt(self) -> bytes:
        """The salt every worker's replay digests share, made by whichever worker asks first."""
        conn = self._connection()
        conn.execute("INSERT OR IGNORE INTO settings VALUES ('replay_salt', ?)", (secrets.token_bytes(16),))
        row = conn.execute("SELECT value FROM settings WHERE name = 'replay_salt'").fetchone()
        return bytes(row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Workers:
    """This worker's link to its siblings: the rate-limit sync, and the shared replay filter."""

    def __init__(
        self,
        data_dir: Path,
        tracker: Tracker,
        limiter: FleetRateLimiter,
        count: int,
        sync_seconds: float = 0.1,
        active_seconds: float = 10.0,
    ) -> None:
        self.file = WorkerFile(data_dir / FILE_NAME)
        self.tracker = tracker
        self.limiter = limiter
        self.count = count
        self.sync_seconds = sync_seconds
        self.active_seconds = active_seconds
        self.error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        store = self.tracker.store
        if self.tracker.enabled and isinstance(store, SqliteStore):
            try:
                salt = await asyncio.to_thread(self.file.replay_salt)
            except sqlite3.Error as exc:
                log.error(
                    "workers: cannot share the replay filter through %s (%s); each worker filters its own",
                    self.file.path,
                    exc,
                )
            else:
                self.tracker.replays = FleetReplays(
                    store, salt, self.tracker.recent.seconds, self.tracker.buffer, self.tracker.buffer.limit
                )
        self._task = asyncio.create_task(self._sync_forever(), name="workers-limits")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self.file.close)

    async def _sync_forever(self) -> None:
        async def renew(reports: list[Report]) -> dict[str, float]:
            return await asyncio.to_thread(self.file.renew_leases, reports, self.count)

        while True:
            await asyncio.sleep(self.sync_seconds)
            try:
                await self.limiter.sync(self.active_seconds, renew)
                self.error = None
            except sqlite3.Error as exc:
                if str(exc) != self.error:
                    log.error("workers: cannot sync rate limits through %s: %s", self.file.path, exc)
                self.error = str(exc)

    def health(self) -> dict[str, object]:
        return {
            "workers": {
                "count": self.count,
                "shared_limits": True,
                "error": self.error,
                "fleet_replay_filter": self.tracker.replays is not None,
            }
        }
