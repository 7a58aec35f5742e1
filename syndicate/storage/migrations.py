"""Versioned schema migrations for the PostgreSQL store, applied under an advisory lock.

Every replica runs ``upgrade`` at start (and ops can run ``syndicate db upgrade``
first). The whole upgrade is one transaction holding a transaction-level
advisory lock, so when several replicas start at once one applies the missing
versions and the others wait, then find nothing left to do. A database whose
schema is newer than this code knows is refused rather than written to.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

#: Any constant shared by every replica: ``pg_advisory_xact_lock`` key of the upgrade.
LOCK_KEY = 0x5359_4E44  # "SYND"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "event counts",
        """
        CREATE TABLE counts (
            day     date   NOT NULL,
            space   text   NOT NULL,
            unit    text   NOT NULL,
            partner text   NOT NULL,
            kind    text   NOT NULL,
            class   text   NOT NULL,
            n       bigint NOT NULL,
            PRIMARY KEY (day, space, unit, partner, kind, class)
        );
    """,
    ),
    Migration(
        2,
        "counts by unit, for caps",
        """
        CREATE INDEX counts_by_unit ON counts (space, unit, kind);
    """,
    ),
    Migration(
        3,
        "fleet: replicas, shared rate limits, replay filter, admin-written objects",
        """
        CREATE TABLE replicas (
            id         text PRIMARY KEY,
            host       text NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            seen_at    timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE fleet_settings (name text PRIMARY KEY, value bytea NOT NULL);
        -- one token bucket per partner or client address, for the whole fleet (stamp: epoch seconds)
        CREATE TABLE rate_buckets (
            key    text PRIMARY KEY,
            tokens float8 NOT NULL,
            stamp  float8 NOT NULL,
            rate   float8 NOT NULL,
            burst  float8 NOT NULL,
            -- replicas' first leases, given on credit: held out of tokens until they report, or for a second
            credit_out float8 NOT NULL DEFAULT 0,
            created    float8 NOT NULL DEFAULT 0
        );
        -- salted digests of (kind, token, client, agent): what the replay filter saw, for a few seconds
        CREATE TABLE recent_events (digest bytea PRIMARY KEY, seen float8 NOT NULL);
        CREATE INDEX recent_events_seen ON recent_events (seen);
        -- ad spaces (and other objects) written through the admin API; body NULL: deleted
        CREATE SEQUENCE admin_revision;
        CREATE TABLE admin_objects (
            kind       text NOT NULL,
            id         text NOT NULL,
            body       bytea,
            revision   bigint NOT NULL,
            actor      text NOT NULL DEFAULT '',
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX admin_objects_revision ON admin_objects (revision);
    """,
    ),
)
LATEST = MIGRATIONS[-1].version


class NewerSchema(RuntimeError):
    """The database was migrated by a newer version of Syndicate."""


def _applied(conn: psycopg.Connection[tuple[object, ...]]) -> set[int]:
    conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    integer PRIMARY KEY,
                        name       text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())""")
    return {int(str(row[0])) for row in conn.execute("SELECT version FROM schema_migrations")}


def upgrade(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Apply the missing migrations in order, in one transaction; returns the versions applied now."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        done = _applied(conn)
        if done and max(done) > LATEST:
            raise NewerSchema(f"the database has schema version {max(done)}; this version knows up to {LATEST}")
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (migration.version, migration.name)
            )
            applied.append(migration.version)
    return applied


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """The newest applied version; 0 for a database never upgraded."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    found = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(str(found[0])) if found and found[0] is not None else 0
