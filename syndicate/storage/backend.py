"""Which store a config uses: PostgreSQL when a database URL is configured, else SQLite in ``data_dir``."""

from __future__ import annotations

from syndicate.config import Config
from syndicate.storage.url import database_url
from syndicate.tracking.store import FILE_NAME, SqliteStore, Store


def store_for(config: Config, *, server: bool = True) -> Store:
    """The store of ``config``. ``server`` off (the CLI): never repair an SQLite file, never migrate.

    Raises ``LoadError`` when the database URL is malformed.
    """
    url = database_url(config)
    if url is None:
        return SqliteStore(config.data_dir / FILE_NAME, repair=server)
    from syndicate.storage.pgstore import PostgresStore  # psycopg is only imported when PostgreSQL is used

    return PostgresStore(url, migrate=server, timeout=config.store.timeout_seconds)


def is_shared(store: Store) -> bool:
    """True for a store every replica shares (its counts, limits and admin writes are the fleet's)."""
    return bool(getattr(store, "shared", False))
