"""One suite for every ``Store``: SQLite (embedded) and PostgreSQL (shared) must behave the same."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.storage.pgstore import PostgresStore
from syndicate.tracking import stats
from syndicate.tracking.events import CountKey, Kind
from syndicate.tracking.store import FILE_NAME, SqliteStore, Store, UniqueEvent
from tests.pg import fresh_database

DAY = "2024-05-01"


def key(
    unit: str = "u",
    kind: Kind = Kind.SERVED,
    day: str = DAY,
    agent: str = "browser",
    space: str = "4",
    partner: str = "public",
) -> CountKey:
    return CountKey(day, space, unit, partner, kind, agent)


class Backend:
    """Makes stores of one kind over the same underlying data (a file, or a database)."""

    def __init__(self, kind: str, tmp_path: Path, url: str = "") -> None:
        self.kind, self.tmp_path, self.url = kind, tmp_path, url

    def make(self) -> Store:
        if self.kind == "sqlite":
            return SqliteStore(self.tmp_path / "data" / FILE_NAME)
        return PostgresStore(self.url)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", tmp_path)
        return
    with fresh_database() as url:
        yield Backend("postgresql", tmp_path, url)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    made = backend.make()
    made.open()
    yield made
    made.close()


def test_adds_upsert_and_group_by_every_column(store: Store) -> None:
    store.add({key("a"): 2, key("a", Kind.CLICK): 1, key("b", agent="bot"): 5})
    store.add({key("a"): 3, key("a", day="2024-05-02"): 7, key("z", space="5", partner="partner-a"): 4})
    total = stats.report(store, "unit")
    assert total.totals.served == 16 and total.totals.bot_served == 5 and total.totals.clicks == 1
    assert [(row.key, row.counts.served) for row in total.rows] == [
        ({"space": "4", "unit": "a"}, 12),
        ({"space": "4", "unit": "b"}, 0),
        ({"space": "5", "unit": "z"}, 4),
    ]
    assert [(r.key["day"], r.counts.served) for r in stats.report(store, "day").rows] == [
        ("2024-05-01", 9),
        ("2024-05-02", 7),
    ]
    assert [(r.key["partner"], r.counts.served) for r in stats.report(store, "partner").rows] == [
        ("partner-a", 4),
        ("public", 12),
    ]
    assert [(r.key["space"], r.counts.served) for r in stats.report(store, "space").rows] == [("4", 12), ("5", 4)]


def test_date_bounds_are_inclusive(store: Store) -> None:
    store.add({key(day=day): n for n, day in enumerate(("2024-04-30", "2024-05-01", "2024-05-02", "2024-05-03"), 1)})
    report = stats.report(store, "day", since=dt.date(2024, 5, 1), until=dt.date(2024, 5, 2))
    assert [(row.key["day"], row.counts.served) for row in report.rows] == [("2024-05-01", 2), ("2024-05-02", 3)]
    assert stats.report(store, "day", since=dt.date(2024, 5, 3)).totals.served == 4
    assert stats.report(store, "day", until=dt.date(2024, 4, 30)).totals.served == 1


def test_empty_and_zero_batches_write_nothing(store: Store) -> None:
    store.add({})
    store.add({key(): 0})
    assert store.grouped("total", None, None) == []


def test_dropped_events_are_stored_and_reported(store: Store) -> None:
    store.add({CountKey(DAY, "", "", "", Kind.DROPPED, ""): 7, key(): 1})
    report = stats.report(store, "space")
    assert report.dropped == 7 and report.totals.served == 1


def test_a_failing_batch_writes_nothing(store: Store) -> None:
    store.add({key("a"): 1})
    with pytest.raises(Exception):  # noqa: B017  (each backend has its own error type for an overflow)
        store.add({key("b"): 5, key("c"): 2**70})  # too large for either database's integer
    assert {g.key: g.n for g in store.grouped("unit", None, None)} == {("4", "a"): 1}


def test_counts_survive_reopening_and_open_twice_is_harmless(backend: Backend) -> None:
    first = backend.make()
    first.open()
    first.open()
    first.add({key("a"): 3})
    first.close()
    first.close()
    second = backend.make()
    second.add({key("a"): 4})  # opens on first use
    assert {g.key: g.n for g in second.grouped("unit", None, None)} == {("4", "a"): 7}
    second.close()


def test_two_stores_on_the_same_data_add_up(backend: Backend) -> None:
    """Two replicas (or a server and the CLI) over one file or database see each other's writes."""
    one, two = backend.make(), backend.make()
    for _ in range(5):
        one.add({key("a"): 1, key("b"): 2})
        two.add({key("b"): 1, key("a"): 2})
    assert {g.key: g.n for g in one.grouped("unit", None, None)} == {("4", "a"): 15, ("4", "b"): 15}
    one.close()
    two.close()


def test_odd_text_is_kept_exactly(store: Store) -> None:
    odd = "Ünïcødé \u00a0 'quote\" ; DROP TABLE counts; --"
    store.add({key(odd, partner=odd): 1})
    assert [(g.key, g.n) for g in store.grouped("partner", None, None)] == [((odd,), 1)]


def test_lifetime_sums_headline_served_and_clicks_of_the_asked_units_over_every_day(store: Store) -> None:
    store.add(
        {
            key("a"): 2,
            key("a", day="2024-05-02"): 3,
            key("a", agent="partner", partner="p"): 4,
            key("a", agent="bot"): 100,
            key("a", agent="proxy"): 100,
            key("a", Kind.CLICK): 1,
            key("a", Kind.RENDERED): 50,
            key("a", Kind.FETCH): 9,
            key("b"): 7,
            key("a", space="5"): 11,
            CountKey(DAY, "", "", "public", Kind.FETCH, "browser"): 3,
        }
    )
    found = sorted(store.lifetime({("4", "a"), ("5", "a"), ("4", "missing")}))
    assert [tuple(row) for row in found] == [
        ("4", "a", "p", "served", 4),
        ("4", "a", "public", "click", 1),
        ("4", "a", "public", "served", 5),
        ("5", "a", "public", "served", 11),
    ]
    assert store.lifetime(set()) == []
    many = {(str(s), f"u{u}") for s in range(30) for u in range(30)}  # more than one query's worth
    assert sorted(store.lifetime(many | {("4", "b")})) == [("4", "b", "public", "served", 7)]


def test_a_digest_counts_once_per_window_whichever_store_writes_it(backend: Backend) -> None:
    """The replay filter shared by replicas (PostgreSQL) or by the workers of one server (SQLite)."""
    one, two = backend.make(), backend.make()
    click = key("a", Kind.CLICK)
    one.add_unique(
        [UniqueEvent(b"d1", 100.0, click), UniqueEvent(b"d1", 100.5, click), UniqueEvent(b"d2", 100.0, click)], 30.0
    )
    two.add_unique([UniqueEvent(b"d1", 110.0, click), UniqueEvent(b"d3", 110.0, click)], 30.0)
    assert {g.key: g.n for g in one.grouped("unit", None, None)} == {("4", "a"): 3}
    two.add_unique([UniqueEvent(b"d1", 150.0, click)], 30.0)  # the window passed
    assert {g.key: g.n for g in two.grouped("unit", None, None)} == {("4", "a"): 4}
    two.add_unique([], 30.0)
    one.close()
    two.close()
