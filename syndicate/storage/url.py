"""The database URL: a secret like the others, from the environment, a file, or a password-less setting.

A URL usually carries a password, so it comes from ``$SYNDICATE_DATABASE_URL``,
the file named by ``$SYNDICATE_DATABASE_URL_FILE`` or ``store.url_file``, and
only then from ``store.url`` in config.yaml, which refuses a password.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from syndicate.config import Config
from syndicate.credentials import secret_from_env_or_file
from syndicate.problems import Level, LoadError, Problem
from syndicate.urls import POSTGRES_SCHEMES

DATABASE_URL_ENV = "SYNDICATE_DATABASE_URL"


def database_url(config: Config) -> str | None:
    """The PostgreSQL URL to share state through; None keeps the embedded SQLite store.

    Raises ``LoadError`` naming the source (never the URL) when it is not a postgresql:// URL.
    """
    url = secret_from_env_or_file(DATABASE_URL_ENV, config.store.url_file)
    source = f"${DATABASE_URL_ENV}" if url is not None else ""
    if url is None:
        url = config.store.url or None
        source = f"{config.path}: store.url"
    if url is None:
        return None
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        message = "expected a postgresql:// URL (postgresql://user:password@host:5432/database)"
        raise LoadError([Problem(Path(source), 0, Level.ERROR, message)])
    return url


def redacted(url: str) -> str:
    """``url`` without its password, for logs and /healthz."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[2]}"))
