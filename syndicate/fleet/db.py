"""The fleet's SQL, on async connections of the event loop's background tasks (never a request's)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Sequence
from dataclasses import astuple
from typing import NamedTuple

import psycopg

from syndicate.fleet.leases import Bucket, fresh, renew_all
from syndicate.fleet.limits import Report

Conn = psycopg.AsyncConnection[tuple[object, ...]]
CHANNEL = "syndicate_admin"

_FRESH = """
INSERT INTO rate_buckets (key, tokens, stamp, rate, burst, credit_out, created)
SELECT * FROM unnest(%s::text[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[])
ON CONFLICT (key) DO NOTHING
"""
_LOCK = """
SELECT key, tokens, stamp, rate, burst, credit_out, created FROM rate_buckets WHERE key = ANY(%s::text[])
ORDER BY key FOR UPDATE
"""
_WRITE = """
INSERT INTO rate_buckets (key, tokens, stamp, rate, burst, credit_out, created)
SELECT * FROM unnest(%s::text[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[])
ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, stamp = excluded.stamp, rate = excluded.rate,
                                burst = excluded.burst, credit_out = excluded.credit_out, created = excluded.created
"""


async def _now(conn: Conn) -> float:
    row = await (await conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8")).fetchone()
    assert row is not None
    return float(str(row[0]))


async def renew_leases(conn: Conn, reports: Sequence[Report], replicas: int) -> dict[str, float]:
    """Hand in what is left of each lease and take a new one (``fleet/leases.py``); the new lease per bucket."""
    ordered = sorted(reports, key=lambda r: r.key)  # one lock order for every replica
    async with conn.transaction():
        now = await _now(conn)
        await conn.execute(_FRESH, _columns([fresh(r, now, replicas) for r in ordered]))  # a bucket is made once
        rows = await (await conn.execute(_LOCK, ([r.key for r in ordered],))).fetchall()
        stored = {str(row[0]): Bucket(str(row[0]), *(float(str(v)) for v in row[1:])) for row in rows}
        buckets, leases = renew_all(stored, ordered, now, replicas)
        await conn.execute(_WRITE, _columns(buckets))
    return leases


def _columns(buckets: Sequence[Bucket]) -> list[list[object]]:
    """Buckets as one array per column, for ``unnest``."""
    return [list(column) for column in zip(*(astuple(b) for b in buckets), strict=True)] or [[] for _ in range(7)]


async def heartbeat(conn: Conn, replica: str, alive_seconds: float) -> tuple[int, int]:
    """Say this replica is alive; the replicas alive, and the newest admin revision."""
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO replicas (id, host) VALUES (%s, %s)
                              ON CONFLICT (id) DO UPDATE SET seen_at = now()""",
            (replica, socket.gethostname()),
        )
        row = await (
            await conn.execute(
                "SELECT (SELECT count(*) FROM replicas WHERE seen_at > now() - make_interval(secs => %s)), "
                "(SELECT coalesce(max(revision), 0) FROM admin_objects)",
                (alive_seconds,),
            )
        ).fetchone()
        await conn.execute("DELETE FROM replicas WHERE seen_at < now() - interval '1 day'")
        await conn.execute("DELETE FROM rate_buckets WHERE stamp < extract(epoch FROM now()) - 86400")
    assert row is not None
    return int(str(row[0])), int(str(row[1]))


async def leave(conn: Conn, replica: str) -> None:
    async with conn.transaction():
        await conn.execute("DELETE FROM replicas WHERE id = %s", (replica,))


async def replay_salt(conn: Conn) -> bytes:
    """The salt every replica's replay digests share, made by whichever replica asks first."""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO fleet_settings (name, value) VALUES ('replay_salt', %s) ON CONFLICT (name) DO NOTHING",
            (secrets.token_bytes(16),),
        )
        row = await (await conn.execute("SELECT value FROM fleet_settings WHERE name = 'replay_salt'")).fetchone()
    assert row is not None and isinstance(row[0], bytes)
    return row[0]


class Written(NamedTuple):
    """One admin-written object as stored: ``body`` None when it was deleted."""

    kind: str
    id: str
    body: bytes | None
    revision: int


async def publish(conn: Conn, kind: str, object_id: str, body: bytes | None, actor: str) -> int:
    """Store one object (None: deleted) and tell every replica; returns its revision."""
    async with conn.transaction():
        row = await (
            await conn.execute(
                """INSERT INTO admin_objects (kind, id, body, revision, actor)
               VALUES (%s, %s, %s, nextval('admin_revision'), %s)
               ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, revision = excluded.revision,
                                                    actor = excluded.actor, updated_at = now()
               RETURNING revision""",
                (kind, object_id, body, actor),
            )
        ).fetchone()
        assert row is not None
        revision = int(str(row[0]))
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(revision)))
    return revision


async def written_since(conn: Conn, revision: int) -> list[Written]:
    """Every object changed after ``revision`` (0: everything there is), oldest change first."""
    async with conn.transaction():
        rows = await (
            await conn.execute(
                "SELECT kind, id, body, revision FROM admin_objects WHERE revision > %s ORDER BY revision", (revision,)
            )
        ).fetchall()
    return [
        Written(str(r[0]), str(r[1]), bytes(r[2]) if isinstance(r[2], bytes | memoryview) else None, int(str(r[3])))
        for r in rows
    ]
