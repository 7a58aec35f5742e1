"""The PostgreSQL store: the ``Store`` interface over a small psycopg connection pool.

Like the SQLite store it is blocking and called from the tracker's one worker
thread. Every replica writes its own batches; a batch is one ``INSERT … SELECT
FROM unnest(…) ON CONFLICT DO UPDATE`` statement (one round trip whatever its
size) with its rows in key order, so two replicas flushing the same counters
lock them in the same order and never deadlock. Connections carry a statement
timeout, so a slow database fails a flush (kept and retried by the tracker)
instead of holding it forever.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping, Sequence

import psycopg
from psycopg_pool import ConnectionPool

from syndicate.storage.migrations import LATEST, NewerSchema, current_version, upgrade
from syndicate.storage.url import redacted
from syndicate.tracking.events import CountKey
from syndicate.tracking.store import GROUP_COLUMNS, Group, Grouping, Lifetime, UniqueEvent, first_of_each, fresh_counts

log = logging.getLogger("syndicate.storage")


UPSERT = """
INSERT INTO counts (day, space, unit, partner, kind, class, n)
SELECT * FROM unnest(%s::date[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[])
ON CONFLICT (day, space, unit, partner, kind, class) DO UPDATE SET n = counts.n + excluded.n
"""
#: Store.lifetime: headline served and clicks over every day, for the capped units only (index counts_by_unit).
LIFETIME = """
SELECT c.space, c.unit, c.partner, c.kind, SUM(c.n) FROM counts c
JOIN unnest(%s::text[], %s::text[]) AS u(space, unit) ON c.space = u.space AND c.unit = u.unit
WHERE c.kind IN ('served', 'click') AND c.class NOT IN ('bot', 'proxy')
GROUP BY c.space, c.unit, c.partner, c.kind
"""
REMEMBER = """
INSERT INTO recent_events (digest, seen) SELECT * FROM unnest(%s::bytea[], %s::float8[])
ON CONFLICT (digest) DO UPDATE SET seen = excluded.seen WHERE recent_events.seen < excluded.seen - %s
RETURNING digest
"""
#: SQL for each grouping column: days are kept as ``date`` and reported as the SQLite store does.
_COLUMN_SQL = {"day": "to_char(day, 'YYYY-MM-DD')", "space": "space", "unit": "unit", "partner": "partner"}


def connection_options(timeout: float) -> dict[str, object]:
    """Per-connection settings: bounded connect and statement time, and a name in pg_stat_activity."""
    millis = int(timeout * 1000)
    return {
        "connect_timeout": max(1, int(timeout)),
        "application_name": "syndicate",
        "options": f"-c statement_timeout={millis} -c lock_timeout={millis}",
    }


class PostgresStore:
    """Counts in a PostgreSQL database shared by every replica."""

    shared = True

    def __init__(self, url: str, *, migrate: bool = True, timeout: float = 5.0) -> None:
        self.url = url
        self.migrate = migrate
        self.timeout = timeout
        self._pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]] | None = None

    def __repr__(self) -> str:
        return f"PostgresStore({redacted(self.url)!r})"

    def open(self) -> None:
        """Connect and bring the schema up to date (or, with ``migrate`` off, check that it is)."""
        if self._pool is not None:
            return
        pool: ConnectionPool[psycopg.Connection[tuple[object, ...]]] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=1,
            open=False,
            timeout=self.timeout,
            name="syndicate-store",
            kwargs=connection_options(self.timeout),
            check=ConnectionPool.check_connection,
            reconnect_timeout=0,
        )
        try:
            pool.open(wait=True, timeout=self.timeout)
            with pool.connection() as conn:
                if self.migrate:
                    applied = upgrade(conn)
                    if applied:
                        log.info("store %s: applied schema migration(s) %s", redacted(self.url), applied)
                else:
                    version = current_version(conn)
                    if version > LATEST:
                        raise NewerSchema(
                            f"the database has schema version {version}; this version knows up to {LATEST}"
                        )
                    if version < LATEST:
                        raise RuntimeError(
                            f"the database has schema version {version}, not {LATEST}: run "
                            "`syndicate db upgrade` (or start a server) first"
                        )
        except BaseException:
            pool.close()
            raise
        self._pool = pool

    def _connection(self) -> ConnectionPool[psycopg.Connection[tuple[object, ...]]]:
        self.open()
        assert self._pool is not None
        return self._pool

    def add(self, counts: Mapping[CountKey, int]) -> None:
        if not any(counts.values()):
            return
        with self._connection().connection() as conn:
            self._upsert(conn, counts)

    @staticmethod
    def _upsert(conn: psycopg.Connection[tuple[object, ...]], counts: Mapping[CountKey, int]) -> None:
        rows = sorted((key, n) for key, n in counts.items() if n)
        columns: list[list[object]] = [[] for _ in range(7)]
        for key, n in rows:
            for index, value in enumerate((*key, n)):
                columns[index].append(value)
        conn.execute(UPSERT, columns)

    def add_unique(self, events: Sequence[UniqueEvent], window: float) -> None:
        """Count each event whose digest no replica stored within ``window`` seconds, all or nothing.

        The fleet-wide replay filter: the first replica to flush a digest counts it; the
        same digest from any replica within the window is a replay and is not counted."""
        ordered = first_of_each(events)
        if not ordered:
            return
        with self._connection().connection() as conn:
            cursor = conn.execute(REMEMBER, ([e.digest for e in ordered], [e.seen for e in ordered], window))
            fresh = {bytes(row[0]) for row in cursor.fetchall() if isinstance(row[0], bytes | memoryview)}
            counts = fresh_counts(ordered, fresh)
            if counts:
                self._upsert(conn, counts)
            conn.execute("DELETE FROM recent_events WHERE seen < %s", (min(e.seen for e in ordered) - 2 * window,))

    def grouped(self, by: Grouping, since: dt.date | None, until: dt.date | None) -> list[Group]:
        expressions = [_COLUMN_SQL[column] for column in GROUP_COLUMNS[by]]  # from fixed tables only
        keys = ", ".join(expressions)
        select = f"{keys}, " if keys else ""
        order = f" ORDER BY {keys}" if keys else ""
        sql = (
            f"SELECT {select}kind, class, SUM(n) FROM counts WHERE day >= %s AND day <= %s "
            f"GROUP BY {select}kind, class{order}"
        )
        low = since or dt.date(1, 1, 1)
        high = until or dt.date(9999, 12, 31)
        width = len(expressions)
        with self._connection().connection() as conn:
            rows = conn.execute(sql.encode(), (low, high)).fetchall()
        return [
            Group(tuple(str(v) for v in row[:width]), str(row[width]), str(row[width + 1]), int(str(row[width + 2])))
            for row in rows
        ]

    def lifetime(self, units: Collection[tuple[str, str]]) -> list[Lifetime]:
        if not units:
            return []
        spaces, unit_ids = zip(*sorted(units), strict=True)
        with self._connection().connection() as conn:
            rows = conn.execute(LIFETIME, (list(spaces), list(unit_ids))).fetchall()
        return [Lifetime(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(str(r[4]))) for r in rows]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
