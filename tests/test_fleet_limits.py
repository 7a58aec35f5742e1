"""Fleet rate limits: leases from one bucket, spent locally; the fleet never exceeds one bucket.

One suite for both stores of the buckets: PostgreSQL (replicas) and the SQLite file of ``serve --workers N``."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import psycopg
import pytest

from syndicate.config import RateLimit
from syndicate.fleet.db import renew_leases
from syndicate.fleet.limits import GRACE, FleetRateLimiter, Report
from syndicate.fleet.workers import WorkerFile
from syndicate.metrics import REGISTRY
from syndicate.storage.migrations import upgrade

LIMIT = RateLimit(rate=0.001, burst=90.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Renew = Callable[[Sequence[Report], int], Awaitable[dict[str, float]]]


async def _sync(conn: Renew, limiter: FleetRateLimiter, replicas: int) -> None:
    await limiter.sync(10.0, lambda reports: conn(reports, replicas))


@pytest.fixture(params=["postgresql", "sqlite"])
async def conn(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Renew]:
    """The store's side of a sync, on PostgreSQL or on the workers' SQLite file."""
    if request.param == "sqlite":
        shared = WorkerFile(tmp_path / "fleet.sqlite3")

        async def renew_in_file(reports: Sequence[Report], replicas: int) -> dict[str, float]:
            return shared.renew_leases(reports, replicas)

        yield renew_in_file
        shared.close()
        return
    url = request.getfixturevalue("postgres_url")
    with psycopg.connect(url) as sync:
        upgrade(sync)
    connection = await psycopg.AsyncConnection.connect(url, autocommit=True)

    async def renew_in_database(reports: Sequence[Report], replicas: int) -> dict[str, float]:
        return await renew_leases(connection, reports, replicas)

    yield renew_in_database
    await connection.close()


@pytest.mark.parametrize("replicas", [2, 3, 5])
async def test_spread_traffic_gets_one_burst_for_the_whole_fleet(conn: Renew, replicas: int) -> None:
    clock = Clock()
    fleet = [FleetRateLimiter(lambda: replicas, clock) for _ in range(replicas)]
    allowed = 0
    for step in range(400):
        limiter = fleet[step % replicas]
        allowed += limiter.take("p:acme", LIMIT, 1.0).allowed
        if step % 7 == 0:  # replicas sync at different moments
            await _sync(conn, fleet[(step // 7) % replicas], replicas)
        clock.now += 0.001
    assert LIMIT.burst * 0.9 <= allowed <= LIMIT.burst + 1, allowed


async def test_traffic_on_one_replica_gets_the_whole_burst_after_a_few_syncs(conn: Renew) -> None:
    clock = Clock()
    busy, idle, other = (FleetRateLimiter(lambda: 3, clock) for _ in range(3))
    idle.take("p:acme", LIMIT, 0.0)  # seen there too, never spent
    other.take("p:acme", LIMIT, 0.0)
    allowed = 0
    for _ in range(30):
        for _ in range(10):
            allowed += busy.take("p:acme", LIMIT, 1.0).allowed
        for limiter in (busy, idle, other):
            await _sync(conn, limiter, 3)
        clock.now += 0.1  # a sync every 0.1 s
        await asyncio.sleep(0.05)  # the store's clock: what it held out for the others' first leases comes back
    assert LIMIT.burst * 0.9 <= allowed <= LIMIT.burst + 1, allowed


async def test_a_refusal_says_when_to_come_back_for_the_fleet(conn: Renew) -> None:
    limiter = FleetRateLimiter(lambda: 2, Clock())
    limit = RateLimit(rate=1.0, burst=4.0)
    verdicts = [limiter.take("p:acme", limit, 1.0) for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert verdicts[-1].retry_after == 2  # one token at the replica's half of one a second
    assert verdicts[0].headers()["RateLimit-Limit"] == "4"


async def test_with_the_store_down_each_replica_keeps_to_its_share(conn: Renew) -> None:
    clock = Clock()
    limit = RateLimit(rate=2.0, burst=10.0)
    fleet = [FleetRateLimiter(lambda: 2, clock) for _ in range(2)]
    for limiter in fleet:
        limiter.take("p:acme", limit, 0.0)
        limiter.failed(limiter.reports(10.0))  # the database does not answer
    clock.now += GRACE + 10.0  # long enough to refill any bucket
    allowed = sum(limiter.take("p:acme", limit, 1.0).allowed for _ in range(20) for limiter in fleet)
    assert allowed == 10  # each replica as a bucket of burst / 2
    clock.now += 1.0
    assert sum(limiter.take("p:acme", limit, 1.0).allowed for _ in range(5) for limiter in fleet) == 2  # rate / 2 each


async def test_no_client_address_is_written_with_the_buckets(tmp_path: Path) -> None:
    shared = WorkerFile(tmp_path / "fleet.sqlite3")
    limiter = FleetRateLimiter(lambda: 2, Clock(), secret=b"s" * 32)
    for _ in range(5):  # over a tenth of its first lease: the bucket is reported
        limiter.take("ip:203.0.113.9", LIMIT, 1.0)
    await limiter.sync(10.0, lambda reports: asyncio.to_thread(shared.renew_leases, reports, 2))
    shared.close()
    with sqlite3.connect(tmp_path / "fleet.sqlite3") as db:
        keys = [row[0] for row in db.execute("SELECT key FROM rate_buckets")]
    assert keys == [limiter.stored_key("ip:203.0.113.9")] and "203.0.113" not in keys[0]
    assert FleetRateLimiter(lambda: 2, secret=b"t" * 32).stored_key("ip:203.0.113.9") != keys[0]


@pytest.mark.parametrize("replicas", [2, 3])
async def test_a_quick_burst_spread_over_the_replicas_is_not_refused_early(conn: Renew, replicas: int) -> None:
    """Fewer requests than the bucket holds, within two syncs: all but a few pass (within 10 %), wherever they
    land; never more than the bucket."""
    clock = Clock()
    limit = RateLimit(rate=0.01, burst=60.0)
    fleet = [FleetRateLimiter(lambda: replicas, clock) for _ in range(replicas)]
    allowed = 0
    for step in range(50):  # 50 requests in 0.2 s, spread as a balancer would
        allowed += fleet[(step * 7 + step // 3) % replicas].take("p:acme", limit, 1.0).allowed
        clock.now += 0.004
        if step % 12 == 5:  # each replica syncs once every 0.1 s or so, at its own moment
            for index, limiter in enumerate(fleet):
                if (step // 12 + index) % 2 == 0:
                    await _sync(conn, limiter, replicas)
    assert 45 <= allowed <= 50, allowed


async def test_steady_requests_under_the_bucket_are_never_refused(conn: Renew) -> None:
    """One request every 50 ms landing on either of two replicas, some syncs with none: all 40 pass."""
    clock = Clock()
    limit = RateLimit(rate=2.0, burst=60.0)
    fleet = [FleetRateLimiter(lambda: 2, clock) for _ in range(2)]
    lands_on = [0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1] * 2
    allowed = 0
    for step, index in enumerate(lands_on):
        allowed += fleet[index].take("ip:203.0.113.9", limit, 1.0).allowed
        clock.now += 0.05
        for limiter in fleet if step % 2 else ():  # each syncs every 0.1 s
            await _sync(conn, limiter, 2)
    assert allowed == 40


async def test_a_client_seen_once_costs_the_store_nothing(conn: Renew) -> None:
    """A reader that asks once spends from its first lease (on credit): no sync reports it, and once its
    bucket would have filled again it is forgotten. Thousands of one-time readers never load the store."""
    clock = Clock()
    limit = RateLimit(rate=2.0, burst=60.0)
    limiter = FleetRateLimiter(lambda: 3, clock)
    for n in range(2_000):
        assert limiter.take(f"ip:198.51.{n // 256}.{n % 256}", limit, 1.0).allowed
    reported: list[int] = []

    async def renew(reports: Sequence[Report]) -> dict[str, float]:
        reported.append(len(reports))
        return await conn(reports, 3)

    for _ in range(10):
        clock.now += 0.1
        await limiter.sync(10.0, renew)
    assert reported == []
    clock.now += limit.burst / limit.rate
    await limiter.sync(10.0, renew)
    assert reported == [] and not limiter.shares


async def test_an_idle_bucket_hands_its_lease_back_in_a_few_syncs_not_all(conn: Renew) -> None:
    """A replica that spent its lease and went quiet hands back half at growing intervals, then the rest:
    a handful of reports over the ten seconds, not one a sync."""
    clock = Clock()
    limit = RateLimit(rate=1.0, burst=90.0)
    limiter = FleetRateLimiter(lambda: 3, clock)
    reported = 0

    async def renew(reports: Sequence[Report]) -> dict[str, float]:
        nonlocal reported
        reported += len(reports)
        return await conn(reports, 3)

    for _ in range(25):
        limiter.take("p:acme", limit, 1.0)
    await limiter.sync(10.0, renew)
    assert reported == 1  # it needed the fleet: spent over a tenth of its first lease
    held = limiter.shares["p:acme"].allowance(clock.now)
    for _ in range(110):  # eleven seconds of syncs, no request
        clock.now += 0.1
        await limiter.sync(10.0, renew)
    assert 3 <= reported <= 10, reported
    assert "p:acme" not in limiter.shares, "handed in whole once idle for the active window"
    assert held > 1.0


def test_a_fleet_refusal_is_counted_as_one_on_one_machine_is() -> None:
    limiter = FleetRateLimiter(lambda: 2, Clock())
    limit = RateLimit(rate=0.01, burst=2.0)

    def refused() -> float:
        return REGISTRY.get_sample_value("syndicate_rate_limited_total", {"audience": "acme"}) or 0.0

    before = refused()
    verdicts = [limiter.take("p:acme", limit, 1.0).allowed for _ in range(3)]
    assert verdicts == [True, False, False]
    assert refused() - before == 2
