"""Fleet rate limits: leases from one bucket in PostgreSQL, spent locally; the fleet never exceeds one bucket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest

from syndicate.config import RateLimit
from syndicate.fleet.db import renew_leases
from syndicate.fleet.limits import GRACE, FleetRateLimiter
from syndicate.storage.migrations import upgrade

LIMIT = RateLimit(rate=0.001, burst=90.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _sync(conn: psycopg.AsyncConnection[tuple[object, ...]], limiter: FleetRateLimiter, replicas: int) -> None:
    reports = limiter.reports(active_seconds=10.0)
    if reports:
        limiter.synced(await renew_leases(conn, reports, replicas), reports)


@pytest.fixture
async def conn(postgres_url: str) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
    with psycopg.connect(postgres_url) as sync:
        upgrade(sync)
    connection = await psycopg.AsyncConnection.connect(postgres_url, autocommit=True)
    yield connection
    await connection.close()


@pytest.mark.parametrize("replicas", [2, 3, 5])
async def test_spread_traffic_gets_one_burst_for_the_whole_fleet(
        conn: psycopg.AsyncConnection[tuple[object, ...]], replicas: int) -> None:
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


async def test_traffic_on_one_replica_gets_the_whole_burst_after_a_few_syncs(
        conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
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
    assert LIMIT.burst * 0.9 <= allowed <= LIMIT.burst + 1, allowed


async def test_a_refusal_says_when_to_come_back_for_the_fleet(conn: psycopg.AsyncConnection[tuple[object, ...]]
                                                              ) -> None:
    limiter = FleetRateLimiter(lambda: 2, Clock())
    limit = RateLimit(rate=1.0, burst=4.0)
    verdicts = [limiter.take("p:acme", limit, 1.0) for _ in range(3)]
    assert [v.allowed for v in verdicts] == [True, True, False]
    assert verdicts[-1].retry_after == 2  # one token at the replica's half of one a second
    assert verdicts[0].headers()["RateLimit-Limit"] == "4"


async def test_with_the_store_down_each_replica_keeps_to_its_share(
        conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
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
