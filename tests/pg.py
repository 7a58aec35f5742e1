"""PostgreSQL for tests: a fresh database per test, dropped after; skipped outside CI when there is none.

The server to use is ``$SYNDICATE_TEST_POSTGRES`` (an admin URL), by default the
local one with trust authentication. Under ``CI=true`` a missing server fails
the test instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ADMIN_URL = os.environ.get("SYNDICATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"no PostgreSQL server ({reason}); set $SYNDICATE_TEST_POSTGRES or start one on 127.0.0.1:5432")


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable(str(exc).strip().splitlines()[0])
        raise  # not reached: skip and fail raise


def url_of(database: str) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{database}"))


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty database; dropped (connections and all) afterwards."""
    name = f"syndicate_test_{secrets.token_hex(6)}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield url_of(name)
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database for this test."""
    with fresh_database() as url:
        yield url
