"""The PostgreSQL store in the server: migrations, the URL as a secret, and a database that is down or slow."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from syndicate.cli import main
from syndicate.config import load_config
from syndicate.problems import LoadError
from syndicate.storage.migrations import LATEST, MIGRATIONS, NewerSchema, current_version, upgrade
from syndicate.storage.pgstore import PostgresStore
from syndicate.storage.url import database_url, redacted
from syndicate.tracking.events import CountKey
from syndicate.web.state import TRACKER
from tests.conftest import SiteFactory
from tests.test_tracking_http import ad_links, serving
from tests.tracking_support import CONFIG, PARTNER_KEY, admin, stored_report, tracked_site, use_test_secrets


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)
    for name in ("SYNDICATE_DATABASE_URL", "SYNDICATE_DATABASE_URL_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_replicas_starting_at_once_apply_each_migration_once(postgres_url: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        try:
            with psycopg.connect(postgres_url) as conn:
                barrier.wait()
                results.append(upgrade(conn))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results, key=len) == [[]] * 7 + [[m.version for m in MIGRATIONS]]
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [row[0] for row in rows] == [m.version for m in MIGRATIONS] and current_version(conn) == LATEST


def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        upgrade(conn)
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'from the future')", (LATEST + 1,))
        conn.commit()
        with pytest.raises(NewerSchema, match=f"version {LATEST + 1}"):
            upgrade(conn)
    with pytest.raises(NewerSchema):
        PostgresStore(postgres_url).open()


def _site_on(make_site: SiteFactory, url: str, timeout: float = 5.0) -> Path:
    return tracked_site(make_site, config=CONFIG + f"store:\n  url: {url}\n  timeout_seconds: {timeout}\n")


def test_db_upgrade_and_status_commands(
    make_site: SiteFactory, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_site_on(make_site, postgres_url))
    assert main(["db", "status", "--config", config]) == 3
    assert "schema version 0 of" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="db upgrade"):  # the CLI's reader never migrates
        PostgresStore(postgres_url, migrate=False).open()
    assert main(["db", "upgrade", "--config", config]) == 0
    assert f"schema version {LATEST} (applied" in capsys.readouterr().out
    assert main(["db", "upgrade", "--config", config]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert main(["db", "status", "--config", config]) == 0


def test_db_command_without_a_database(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--config", str(tracked_site(make_site))]) == 2
    assert "no shared store" in capsys.readouterr().err


def test_the_url_is_a_secret(make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(LoadError) as caught:
        load_config(_site_on(make_site, "postgresql://app:hunter2@db.test/app"))
    [problem] = caught.value.problems
    assert problem.line == CONFIG.count("\n") + 2 and "must not hold a password" in problem.message
    assert "hunter2" not in problem.message
    plain = load_config(_site_on(make_site, "postgresql://app@db.test/app"))
    assert database_url(plain) == "postgresql://app@db.test/app"
    secret = tmp_path / "db-url"
    secret.write_text("postgresql://app:from-file@db.test/app\n", encoding="utf-8")
    monkeypatch.setenv("SYNDICATE_DATABASE_URL_FILE", str(secret))
    assert database_url(plain) == "postgresql://app:from-file@db.test/app"
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", "postgresql://app:from-env@db.test/app")
    assert database_url(plain) == "postgresql://app:from-env@db.test/app"
    assert redacted("postgresql://app:from-env@db.test/app") == "postgresql://app:***@db.test/app"
    monkeypatch.setenv("SYNDICATE_DATABASE_URL", "mysql://app:pw@db.test/app")
    with pytest.raises(LoadError) as bad:
        database_url(plain)
    assert "$SYNDICATE_DATABASE_URL" in bad.value.problems[0].format() and "pw" not in str(bad.value.problems)


async def test_counts_go_to_postgresql_and_the_cli_reads_them(
    make_site: SiteFactory, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _site_on(make_site, postgres_url)
    async with serving(config) as client:
        clicks, _ = await ad_links(client, {"Authorization": f"Bearer {PARTNER_KEY}"})
        for path in clicks:
            assert (await client.get(path, allow_redirects=False)).status == 302
    assert not (config.parent / "data" / "tracking.sqlite3").exists()
    report = stored_report(config.parent / "data")  # the SQLite file: nothing there
    assert report.totals.served == 0
    assert main(["stats", "--config", str(config), "--by", "partner", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "partner-a,3,1,0,3," in out  # three ads placed in one fetch, no pixel, three clicks


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts connections and never answers: a database that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("where", ["refused", "hanging"])
async def test_a_database_down_or_hanging_never_fails_or_holds_a_feed_request(
    make_site: SiteFactory, black_hole: int, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1] if where == "refused" else black_hole
    closed.close()
    config = _site_on(make_site, f"postgresql://postgres@127.0.0.1:{port}/nowhere", timeout=1.0)
    with caplog.at_level(logging.ERROR, logger="syndicate.tracking"):
        async with serving(config) as client:
            tracker = client.app[TRACKER]
            clicks, pixels = await ad_links(client)
            flushing = asyncio.ensure_future(tracker.flush())  # held on the store thread while the store hangs
            await asyncio.sleep(0)
            for _ in range(20):
                clicks, pixels = await ad_links(client)
                assert (await client.get(clicks[0], allow_redirects=False)).status == 302
                assert (await client.get(pixels[0])).status == 200
            assert where == "refused" or not flushing.done()
            assert tracker.buffer.pending() >= 20 * 2
            assert not await flushing
            stats = await client.get("/admin/stats.json", headers=admin())
            assert stats.status == 503
    assert "tracking store: cannot" in caplog.text


def test_upgrade_applies_only_what_is_missing(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert upgrade(conn) == [m.version for m in MIGRATIONS]
        assert upgrade(conn) == []
    store = PostgresStore(postgres_url, migrate=False)
    store.add({CountKey("2024-05-01", "4", "u", "public", "served", "browser"): 1})
    assert store.grouped("total", None, None)[0].n == 1
    store.close()
