"""``check`` with a shared store: ad spaces and articles defined both by a file and in the store (the file wins)."""

from __future__ import annotations

import psycopg

from syndicate.config import Config
from syndicate.fleet.objects import KINDS
from syndicate.problems import Level, Problem
from syndicate.storage.pgstore import connection_options
from syndicate.storage.url import database_url, redacted


def store_overlaps(config: Config) -> list[Problem]:
    """A warning per ad space or article that a file of the site and the shared store both define."""
    url = database_url(config)
    if url is None:
        return []
    try:
        with psycopg.connect(url, **connection_options(config.store.timeout_seconds)) as conn:  # type: ignore[arg-type]
            if conn.execute("SELECT to_regclass('admin_objects')").fetchone() in (None, (None,)):
                return []  # never migrated: nothing was written through the admin API
            rows = conn.execute(
                "SELECT kind, id FROM admin_objects WHERE kind = ANY(%s) AND body IS NOT NULL ORDER BY kind, id",
                (list(KINDS),),
            ).fetchall()
    except psycopg.Error as exc:
        message = (
            f"cannot reach the shared store {redacted(url)} to look for ad spaces or articles defined "
            f"twice: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
        )
        return [Problem(config.path, 0, Level.WARNING, message)]
    problems = []
    for kind_name, object_id in rows:
        kind = KINDS[str(kind_name)]
        path = kind.file_of(config, str(object_id))
        if path is not None:
            problems.append(Problem(path, 0, Level.WARNING, kind.overlap(str(object_id))))
    return problems
