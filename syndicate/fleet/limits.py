"""Rate limits that hold for the whole fleet, decided locally: each replica spends a lease from one bucket.

The shared store keeps one token bucket per partner (and per client address).
Every ``sync_seconds`` each replica hands in what is left of its lease on each
bucket it used and takes a new one out of the bucket: a replica whose requests
asked for tokens since its last sync keeps what it held plus ``1 / replicas`` of
the bucket's free tokens, an idle one hands half its lease back
(``fleet/leases.py``). Requests spend only the local lease, so a request never
waits for the database, and the leases together never hold more than the bucket
did: the fleet can not let more through than one bucket would. Tokens left in an
idle replica's lease go back at its next sync, a tenth of a second later. A
bucket a replica has not seen yet starts with ``burst / replicas`` on credit
(handed in as debt at the first sync). Traffic that reaches one replica only
gets its share of a burst at once and the rest over the next few syncs, and the
full rate. The workers of one ``serve --workers N`` on the embedded store share
their buckets the same way, through an SQLite file (``fleet/workers.py``). While
the database is unreachable (no sync for ``GRACE`` seconds) each replica refills
its lease locally at ``rate / replicas``: the fleet's limit still holds while
the balancer spreads traffic evenly.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from syndicate.config import RateLimit
from syndicate.web.ratelimit import MAX_CLIENTS, RateLimiter, Verdict

#: Buckets reported per sync at most (the most recently used); the others keep their last share.
MAX_SYNCED = 5_000


#: Without a sync for this long, a replica refills its lease on its own (the store is unreachable).
GRACE = 1.0


@dataclass(slots=True)
class Share:
    """This replica's lease on one fleet bucket."""

    limit: RateLimit
    lease: float  # tokens granted by the last sync (or on credit, before the first)
    users: int  # replicas the bucket is shared by: every live one (a balancer spreads traffic over all)
    synced_at: float  # local clock, last successful sync
    credit: float  # granted without asking the store: handed in as debt at the first sync
    spent: float = 0.0  # from ``lease``
    spent_at_report: float = 0.0  # ``spent`` when the sync in flight was sent
    asked: float = 0.0  # tokens requests asked for since the last report, given or refused: this replica's demand
    in_flight: bool = False
    used_at: float = 0.0
    refilled_at: float = 0.0  # with the store down: the last local refill

    def allowance(self, now: float, store_down: bool = False) -> float:
        """What this replica may still spend now; with the store down, refilled as a bucket of its own."""
        if store_down:
            begin = max(self.synced_at + GRACE, self.refilled_at)
            if now > begin:
                left = self.lease - self.spent
                ceiling = max(left, self.limit.burst / self.users)
                self.lease = self.spent + min(ceiling, left + (now - begin) * self.limit.rate / self.users)
                self.refilled_at = now
        return self.lease - self.spent


@dataclass(frozen=True, slots=True)
class Report:
    """One bucket's line in a sync: what is left of the lease, the credit to repay, and the limit."""

    key: str
    held: float
    credit: float
    rate: float
    burst: float
    renew: bool  # False: the bucket went idle here; hand everything in and take nothing
    asked: float = 0.0  # tokens asked for here since the last report (0: idle here)


class FleetRateLimiter(RateLimiter):
    """Same answers as ``RateLimiter``, with each bucket shared by every replica through the store."""

    def __init__(
        self,
        replicas: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
        secret: bytes = b"",
    ) -> None:
        super().__init__(clock, max_clients)
        self.replicas = replicas  # replicas alive in the fleet, self included
        self.shares: dict[str, Share] = {}
        self.store_down = False
        #: Buckets are stored under a keyed digest of who spends them (a client address is never written);
        #: every replica must use the same secret (derived from the signing keys, which they share).
        self.secret = secret
        self._reported: dict[str, str] = {}  # stored key -> local key, for the syncs in flight

    def stored_key(self, who: str) -> str:
        return hashlib.blake2b(who.encode("utf-8", "replace"), key=self.secret, digest_size=16).hexdigest()

    def take(
        self, who: str, limit: RateLimit, cost: float, charge: bool = True, wait_for: float | None = None
    ) -> Verdict:
        now = self.clock()
        share = self.shares.get(who)
        if share is None or share.limit != limit:
            users = max(1, self.replicas())
            share = Share(limit, limit.burst / users, users, now, credit=limit.burst / users)
            self.shares[who] = share
            if len(self.shares) > self.max_clients:
                oldest = min(self.shares, key=lambda key: self.shares[key].used_at)
                del self.shares[oldest]
        share.used_at = now
        allowance = share.allowance(now, self.store_down)
        allowed = allowance >= cost
        if charge or not allowed:
            share.asked += cost
        if allowed and charge:
            share.spent += cost
            allowance -= cost
        users = share.users
        fleet_left = max(0.0, allowance * users)
        missing = 0.0 if allowed else max(cost, wait_for or cost) - allowance
        return Verdict(
            allowed=allowed,
            limit=int(limit.burst),
            remaining=int(min(limit.burst, fleet_left)),
            reset=math.ceil((limit.burst - min(limit.burst, fleet_left)) / limit.rate),
            retry_after=max(1, math.ceil(missing * users / limit.rate)) if not allowed else 0,
        )

    # -- the background sync (fleet/replica.py) -----------------------------------------------------

    def reports(self, active_seconds: float) -> list[Report]:
        """What to send: a renewal for each bucket used within ``active_seconds``, a hand-in for the others."""
        now = self.clock()
        due = sorted(
            ((share.used_at, key, share) for key, share in self.shares.items() if not share.in_flight),
            key=lambda item: item[0],
            reverse=True,
        )
        reports = []
        for used_at, key, share in due[:MAX_SYNCED]:
            held = share.allowance(now, self.store_down)
            stored = self.stored_key(key)
            self._reported[stored] = key
            reports.append(
                Report(
                    stored,
                    held,
                    share.credit,
                    share.limit.rate,
                    share.limit.burst,
                    renew=now - used_at <= active_seconds,
                    asked=share.asked,
                )
            )
            share.asked = 0.0
            share.spent_at_report = share.spent
            share.in_flight = True
        return reports

    async def sync(self, active_seconds: float, renew: Callable[[list[Report]], Awaitable[dict[str, float]]]) -> bool:
        """One sync through ``renew`` (the store's side); False when there was nothing to report."""
        reports = self.reports(active_seconds)
        if not reports:
            return False
        try:
            leases = await renew(reports)
        except BaseException:
            self.failed(reports)
            raise
        self.synced(leases, reports)
        return True

    def failed(self, reports: list[Report]) -> None:
        """The sync did not reach the store: keep the leases as they are (and refill them after ``GRACE``)."""
        self.store_down = True
        for report in reports:
            share = self.shares.get(self._reported.pop(report.key, ""))
            if share is not None:
                share.in_flight = False

    def synced(self, leases: dict[str, float], reports: list[Report]) -> None:
        """The store's answer: each bucket's new lease. What was spent while the sync was in flight
        came out of the tokens handed in, so it counts against the new lease."""
        users = max(1, self.replicas())
        now = self.clock()
        self.store_down = False
        for report in reports:
            who = self._reported.pop(report.key, "")
            share = self.shares.get(who)
            if share is None or report.key not in leases:
                if share is not None:
                    share.in_flight = False
                continue
            if not report.renew and share.spent == share.spent_at_report:
                del self.shares[who]  # handed in whole; a later request starts a new lease
                continue
            share.lease = leases[report.key]
            share.spent -= share.spent_at_report
            share.spent_at_report = 0.0
            share.credit = 0.0
            share.users = users
            share.synced_at = now
            share.in_flight = False
