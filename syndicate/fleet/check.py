"""``check`` with a shared store: ad spaces defined both by a file and in the store (the file wins)."""

from __future__ import annotations

import psycopg

from syndicate.config import Config
from syndicate.fleet.spaces import KIND, file_of, overlap_message
from syndicate.problems import Level, Problem
from syndicate.storage.pgstore import connection_options
from syndicate.storage.url import database_url, redacted


def store_overlaps(config: Config) -> list[Problem]:
    """A warning per ad space id that a file in ``adspaces/`` and the shared store both define."""
    url = database_url(config)
    if url is None:
        return []
    try:
        with psycopg.connect(url, **connection_options(config.store.timeout_seconds)) as conn:  # type: ignore[arg-type]
            if conn.execute("SELECT to_regclass('admin_objects')").fetchone() in (None, (None,)):
                return []  # never migrated: nothing was written through the admin API
            rows = conn.execute("SELECT id FROM admin_objects WHERE kind = %s AND body IS NOT NULL ORDER BY id",
                                (KIND,)).fetchall()
    except psycopg.Error as exc:
        message = f"cannot reach the shared store {redacted(url)} to look for ad spaces defined twice: " \
                  f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
        return [Problem(config.path, 0, Level.WARNING, message)]
    problems = []
    for (space_id,) in rows:
        path = file_of(config, str(space_id))
        if path is not None:
            problems.append(Problem(path, 0, Level.WARNING, overlap_message(str(space_id))))
    return problems
