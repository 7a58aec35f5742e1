"""The fleet's SQL, on async connections of the event loop's background tasks (never a request's)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Sequence
from typing import NamedTuple

import psycopg

from syndicate.fleet.limits import Report

Conn = psycopg.AsyncConnection[tuple[object, ...]]
CHANNEL = "syndicate_admin"

#: A bucket no replica has reported yet: every live replica may already be spending its first lease
#: (``burst / replicas``, on credit), so that much is held out of it until they report, or for CREDIT_SECONDS.
_FRESH = """
INSERT INTO rate_buckets (key, tokens, stamp, rate, burst, credit_out, created)
SELECT key, greatest(0, burst - %(replicas)s * credit), %(now)s, rate, burst, least(burst, %(replicas)s * credit),
       %(now)s
FROM unnest(%(keys)s::text[], %(credit)s::float8[], %(rate)s::float8[], %(burst)s::float8[])
     AS i(key, credit, rate, burst)
ORDER BY key
ON CONFLICT (key) DO NOTHING
"""
CREDIT_SECONDS = 1.0
#: Hand in what is left of each lease (a first one repays its credit, out of what was held for it, else as
#: debt), then take 1/replicas of what the bucket holds, or at least one whole token when there is one
#: (three replicas holding 0.9 each would refuse a request the bucket can pay for).
_RENEW = """
UPDATE rate_buckets AS b SET
    tokens = g.avail - g.lease, stamp = greatest(b.stamp, %(now)s), rate = g.rate, burst = g.burst,
    credit_out = g.credit_out
FROM (
    SELECT i.key, i.rate, i.burst, a.avail, a.credit_out,
           greatest(0, least(a.avail, 1.0), a.avail / %(replicas)s) * i.renew AS lease
    FROM unnest(%(keys)s::text[], %(held)s::float8[], %(credit)s::float8[], %(rate)s::float8[],
                %(burst)s::float8[], %(renew)s::float8[]) AS i(key, held, credit, rate, burst, renew)
    JOIN rate_buckets r ON r.key = i.key
    CROSS JOIN LATERAL (SELECT r.credit_out >= i.credit - 1e-9 AS covered) c
    CROSS JOIN LATERAL (SELECT CASE WHEN c.covered THEN r.credit_out - i.credit ELSE r.credit_out END AS left_out) o
    CROSS JOIN LATERAL (SELECT %(now)s - r.created > %(credit_seconds)s AS expired) e
    CROSS JOIN LATERAL (
        SELECT greatest(-i.burst, least(i.burst, r.tokens + greatest(0, %(now)s - r.stamp) * i.rate) + i.held
                        - CASE WHEN c.covered THEN 0 ELSE i.credit END
                        + CASE WHEN e.expired THEN o.left_out ELSE 0 END) AS avail,
               CASE WHEN e.expired THEN 0 ELSE o.left_out END AS credit_out) a
) AS g
WHERE b.key = g.key
RETURNING b.key, g.lease
"""


async def _now(conn: Conn) -> float:
    row = await (await conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8")).fetchone()
    assert row is not None
    return float(str(row[0]))


async def renew_leases(conn: Conn, reports: Sequence[Report], replicas: int) -> dict[str, float]:
    """Hand in what is left of each lease and take a new one; the new lease per bucket."""
    ordered = sorted(reports, key=lambda r: r.key)  # one lock order for every replica
    params: dict[str, object] = {
        "keys": [r.key for r in ordered], "held": [r.held for r in ordered], "credit": [r.credit for r in ordered],
        "rate": [r.rate for r in ordered], "burst": [r.burst for r in ordered],
        "renew": [1.0 if r.renew else 0.0 for r in ordered], "replicas": float(max(1, replicas))}
    async with conn.transaction():
        params["now"] = await _now(conn)
        params["credit_seconds"] = CREDIT_SECONDS
        await conn.execute(_FRESH, params)
        await conn.execute("SELECT key FROM rate_buckets WHERE key = ANY(%s::text[]) ORDER BY key FOR UPDATE",
                           (params["keys"],))
        rows = await (await conn.execute(_RENEW, params)).fetchall()
    return {str(row[0]): float(str(row[1])) for row in rows}


async def heartbeat(conn: Conn, replica: str, alive_seconds: float) -> tuple[int, int]:
    """Say this replica is alive; the replicas alive, and the newest admin revision."""
    async with conn.transaction():
        await conn.execute("""INSERT INTO replicas (id, host) VALUES (%s, %s)
                              ON CONFLICT (id) DO UPDATE SET seen_at = now()""", (replica, socket.gethostname()))
        row = await (await conn.execute(
            "SELECT (SELECT count(*) FROM replicas WHERE seen_at > now() - make_interval(secs => %s)), "
            "(SELECT coalesce(max(revision), 0) FROM admin_objects)", (alive_seconds,))).fetchone()
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
        await conn.execute("INSERT INTO fleet_settings (name, value) VALUES ('replay_salt', %s) "
                           "ON CONFLICT (name) DO NOTHING", (secrets.token_bytes(16),))
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
        row = await (await conn.execute(
            """INSERT INTO admin_objects (kind, id, body, revision, actor)
               VALUES (%s, %s, %s, nextval('admin_revision'), %s)
               ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, revision = excluded.revision,
                                                    actor = excluded.actor, updated_at = now()
               RETURNING revision""", (kind, object_id, body, actor))).fetchone()
        assert row is not None
        revision = int(str(row[0]))
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(revision)))
    return revision


async def written_since(conn: Conn, revision: int) -> list[Written]:
    """Every object changed after ``revision`` (0: everything there is), oldest change first."""
    async with conn.transaction():
        rows = await (await conn.execute(
            "SELECT kind, id, body, revision FROM admin_objects WHERE revision > %s ORDER BY revision",
            (revision,))).fetchall()
    return [Written(str(r[0]), str(r[1]), bytes(r[2]) if isinstance(r[2], bytes | memoryview) else None,
                    int(str(r[3]))) for r in rows]
