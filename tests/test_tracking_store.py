"""The buffer's bound, the replay filter, the SQLite store, and the tracker's flushing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from syndicate.ads.resolver import Placed
from syndicate.tracking import stats
from syndicate.tracking.bots import classify
from syndicate.tracking.events import CountKey, EventBuffer, Kind
from syndicate.tracking.replays import RecentClients
from syndicate.tracking.store import FILE_NAME, SqliteStore
from syndicate.tracking.tokens import Claim
from syndicate.tracking.tracker import Tracker

DAY = "2024-05-01"


def key(unit: str = "u", kind: Kind = Kind.SERVED, day: str = DAY, agent: str = "browser") -> CountKey:
    return CountKey(day, "4", unit, "public", kind, agent)


def test_buffer_aggregates_and_bounds_distinct_counters() -> None:
    buffer = EventBuffer(limit=2, today=lambda: DAY)
    for _ in range(1000):
        buffer.add(Kind.SERVED, "4", "a", "public", "browser")
    buffer.add(Kind.SERVED, "4", "b", "public", "browser")
    buffer.add(Kind.SERVED, "4", "c", "public", "browser")  # a third counter does not fit
    buffer.add(Kind.SERVED, "4", "c", "public", "browser", n=4)
    buffer.add(Kind.SERVED, "4", "a", "public", "browser")  # existing counters still count
    assert buffer.pending() == 1001 + 1 + 5
    batch = buffer.take()
    assert batch == {key("a"): 1001, key("b"): 1, CountKey(DAY, "", "", "", Kind.DROPPED, ""): 5}
    assert buffer.take() == {} and buffer.pending() == 0


def test_put_back_keeps_the_bound_and_the_dropped_count() -> None:
    buffer = EventBuffer(limit=2, today=lambda: DAY)
    buffer.add(Kind.CLICK, "4", "a", "public", "browser")
    buffer.put_back({key("x"): 3, key("y"): 2, CountKey(DAY, "", "", "", Kind.DROPPED, ""): 7})
    assert len(buffer.counts) == 2 and buffer.dropped == 2 + 7


def test_replays_within_the_window_count_once_and_expire() -> None:
    now = [0.0]
    recent = RecentClients(30, clock=lambda: now[0])
    assert recent.first("click", "tok", "1.2.3.4", "UA")
    assert not recent.first("click", "tok", "1.2.3.4", "UA")
    assert recent.first("click", "tok", "1.2.3.5", "UA")  # another client
    assert recent.first("rendered", "tok", "1.2.3.4", "UA")  # another kind
    now[0] = 30.0
    assert recent.first("click", "tok", "1.2.3.4", "UA")
    assert len(recent._seen) == 1  # expired entries are gone


def test_replay_memory_is_bounded_and_fails_open() -> None:
    recent = RecentClients(30, limit=3, clock=lambda: 0.0)
    for client in range(10):
        assert recent.first("click", "tok", str(client), "UA")
    assert len(recent._seen) == 3
    assert recent.first("click", "tok", "9", "UA")  # not remembered when full: counted again, never refused


def test_store_upserts_and_groups(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "data" / FILE_NAME)
    store.add({key("a"): 2, key("a", Kind.CLICK): 1, key("b", agent="bot"): 5})
    store.add({key("a"): 3, key("a", day="2024-05-02"): 7})
    assert store._conn is not None
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    total = stats.report(store, "unit")
    assert total.totals.served == 12 and total.totals.bot_served == 5 and total.totals.clicks == 1
    assert [(row.key, row.counts.served) for row in total.rows] == [
        ({"space": "4", "unit": "a"}, 12),
        ({"space": "4", "unit": "b"}, 0),
    ]
    one_day = stats.report(store, "day", since=dt.date(2024, 5, 2), until=dt.date(2024, 5, 2))
    assert [(row.key["day"], row.counts.served) for row in one_day.rows] == [("2024-05-02", 7)]
    store.close()


def test_a_real_full_disk_fails_the_write_whole_and_the_store_recovers(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / FILE_NAME)
    store.add({key("a"): 1})
    assert store._conn is not None
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
    big = {key(f"unit-{i:05d}-" + "x" * 200): 1 for i in range(2000)}
    with pytest.raises(sqlite3.OperationalError, match="full"):
        store.add(big)
    assert stats.report(store, "unit").totals.served == 1  # all or nothing
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    store.add(big)
    assert stats.report(store, "unit").totals.served == 2001
    store.close()


def test_cli_reader_never_moves_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(b"garbage" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        SqliteStore(path, repair=False).open()
    assert path.read_bytes().startswith(b"garbage")


async def test_tracker_stop_flushes_everything_and_records_drops(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / FILE_NAME)
    tracker = Tracker(store, flush_seconds=3600, buffer_limit=4, dedupe_seconds=0)
    await tracker.start()
    claim = Claim("4", "a", "public", "news/a", 1, "https://ad.test/")
    for i in range(500):
        tracker.record_served([Placed("4", "a", "public", 1), Placed("5", "b", "public", 1)], "")
        tracker.record(Kind.CLICK, claim, "tok", "Mozilla/5.0 (X11) Firefox/125.0", str(i))
    tracker.record_served([Placed("6", "c", "public", 1)], "")  # a fifth counter: over the bound
    await tracker.stop()
    report = stats.report(SqliteStore(tmp_path / FILE_NAME), "space")
    assert (report.totals.served, report.totals.clicks, report.dropped) == (1000, 500, 1)
    assert report.totals.fetches == 501  # the public fetch counter was there already
    assert {row.key["space"]: row.counts.served for row in report.rows} == {"4": 500, "5": 500}
    other = sum(g.n for g in SqliteStore(tmp_path / FILE_NAME).grouped("total", None, None) if g.agent == "other")
    assert other == 1000 + 501  # no User-Agent: class "other", stored as such, in the headline (not a known bot)


async def test_disabled_tracker_counts_nothing(tmp_path: Path) -> None:
    tracker = Tracker(SqliteStore(tmp_path / FILE_NAME), enabled=False)
    await tracker.start()
    tracker.record_served([Placed("4", "a", "public", 1)], "")
    assert not tracker.record(Kind.CLICK, Claim("4", "a", "public", "x", 1, "https://a.test/"), "t", "", "c")
    await tracker.stop()
    assert not (tmp_path / FILE_NAME).exists()


def test_served_counts_follow_the_day_the_agent_and_a_changed_list(tmp_path: Path) -> None:
    tracker = Tracker(SqliteStore(tmp_path / FILE_NAME), flush_seconds=3600, dedupe_seconds=0)
    days = iter(["2024-05-01", "2024-05-01", "2024-05-01", "2024-05-02"])
    tracker.buffer.today = lambda: next(days)
    served = (Placed("4", "a", "public", 2),)  # one cached variant's placements, served again and again
    tracker.record_served(served, "Mozilla/5.0 (X11) Firefox/125.0")
    tracker.record_served(served, "Mozilla/5.0 (X11) Firefox/125.0")
    tracker.record_served(served, "curl/8.0")  # another agent class: counters of its own
    tracker.record_served(served, "Mozilla/5.0 (X11) Firefox/125.0")  # after midnight: the new day's counters
    counts = tracker.buffer.take()
    assert {(k.day, k.agent): n for k, n in counts.items() if k.kind == Kind.SERVED} == {
        ("2024-05-01", "browser"): 4,
        ("2024-05-01", classify("curl/8.0")): 2,
        ("2024-05-02", "browser"): 2,
    }
    assert sum(n for k, n in counts.items() if k.kind == Kind.FETCH) == 4
    placements = [Placed("5", "b", "public", 1)]
    tracker.buffer.today = lambda: DAY
    tracker.record_served(placements, "")
    placements[0] = Placed("6", "c", "public", 1)  # the same list, changed: counted as it is now
    tracker.record_served(placements, "")
    assert {k.space for k in tracker.buffer.take() if k.kind == Kind.SERVED} == {"5", "6"}
