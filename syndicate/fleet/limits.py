"""Rate limits that hold for the whole fleet, decided locally: each replica spends a lease from one bucket.

The shared store keeps one token bucket per partner (and per client address).
A bucket a replica has not seen yet starts with ``burst / replicas`` on credit,
spent without asking the store. A replica reports a bucket to the store only
when it needs the fleet: it has spent a tenth of that first lease or
refused a request, and from then on at every sync (``sync_seconds``) in which its
requests asked for tokens. A report hands in what is left of the lease and
takes a new one (``fleet/leases.py``): a busy replica keeps what it held plus
``1 / replicas`` of the bucket's free tokens. A replica whose bucket went
quiet hands half its lease back after one sync, two, four, and so on, and the
rest once it has been idle for ``active_seconds``. A bucket that never needed
the fleet (a reader who asks a few times) is never reported, and is forgotten
once it would have filled again (``burst / rate``): its credit is never more
than the fleet bucket refills in that time. So the store's work follows the
clients that spend, not every client seen, and one-time readers cost it
nothing. Requests spend only the local lease, so a request never waits for the
database, and the leases together never hold more than the bucket did. Traffic
that reaches one replica only gets its share of a burst at once and the rest
over the next few syncs, and the full rate. The workers of one ``serve
--workers N`` on the embedded store share their buckets the same way, through
an SQLite file (``fleet/workers.py``). While the database is unreachable (no
sync for ``GRACE`` seconds) each replica refills its lease locally at ``rate /
replicas``: the fleet's limit still holds while the balancer spreads traffic
evenly.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import islice

from syndicate.config import RateLimit
from syndicate.web.ratelimit import MAX_CLIENTS, RateLimiter, Verdict, count_refusal

#: Buckets reported per sync at most (the most recently used); the others keep their last share.
MAX_SYNCED = 5_000


#: Without a sync for this long, a replica refills its lease on its own (the store is unreachable).
GRACE = 1.0

#: The share of its first lease (on credit) a replica spends before it reports a bucket to the store.
FIRST_REPORT = 0.1

#: Idle buckets looked at per sync, oldest first, to hand in or forget: bounds a sync's work.
MAX_RETIRED = 10_000


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
    stored: str = ""  # the key it is stored under (a keyed digest of who spends it), made at its first report
    joined: bool = False  # reported at least once: the store knows this replica's lease
    idle_syncs: int = 0  # syncs in a row without a request, since it joined

    def needs_the_fleet(self) -> bool:
        """Worth a report at the next sync: busy once joined; before, once a tenth of the first lease is
        gone (what the fleet may let through beyond its bucket, meanwhile) or a request was refused."""
        if self.joined:
            return self.asked > 0
        return self.spent >= self.lease * FIRST_REPORT or self.asked > self.spent

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
        self.shares: OrderedDict[str, Share] = OrderedDict()  # least recently used first
        self._due: dict[str, None] = {}  # shares to report at the next sync, in the order they became due
        self._joined: OrderedDict[str, None] = OrderedDict()  # shares the store knows, least recently used first
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
            self._forget(who)
            self.shares[who] = share
            if len(self.shares) > self.max_clients:
                self._forget(next(iter(self.shares)))
        else:
            self.shares.move_to_end(who)
            if share.joined:
                self._joined.move_to_end(who)
        share.used_at = now
        allowance = share.allowance(now, self.store_down)
        allowed = allowance >= cost
        if not allowed:
            count_refusal(who)
        if charge or not allowed:
            share.asked += cost
        if allowed and charge:
            share.spent += cost
            allowance -= cost
        if not share.in_flight and share.needs_the_fleet():
            self._due[who] = None
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

    def _forget(self, who: str) -> None:
        self.shares.pop(who, None)
        self._due.pop(who, None)
        self._joined.pop(who, None)

    def _retire(self, now: float, active_seconds: float) -> None:
        """The oldest idle shares: one the store never saw is forgotten once its bucket would have filled
        again; a joined one is due for its hand-in. Both walks stop at the first share not due yet (the
        clients seen least recently come first, and most share one limit), so a sync costs what it retires."""
        forgotten = []
        for key, share in islice(self.shares.items(), MAX_RETIRED):
            idle = now - share.used_at
            if idle <= active_seconds:
                break
            if share.joined:
                continue  # handed in below
            if idle < share.limit.burst / share.limit.rate:
                break
            forgotten.append(key)
        for key in forgotten:
            self._forget(key)
        for key in self._joined:
            share = self.shares[key]
            if now - share.used_at <= active_seconds:
                break
            if not share.in_flight:
                self._due[key] = None

    def _hand_back(self) -> None:
        """Joined shares with no request since their last report: due after 1, 2, 4, 8, ... idle syncs."""
        for key in self._joined:
            share = self.shares[key]
            if share.in_flight or share.asked > 0:
                continue
            share.idle_syncs += 1
            if share.idle_syncs & (share.idle_syncs - 1) == 0 and share.lease - share.spent >= 1.0:
                self._due[key] = None

    def reports(self, active_seconds: float) -> list[Report]:
        """What to send: a renewal for each share due and used within ``active_seconds``, a hand-in for the
        others (see the module's docstring for when a share is due)."""
        now = self.clock()
        self._retire(now, active_seconds)
        self._hand_back()
        reports = []
        for key in list(self._due)[:MAX_SYNCED]:
            del self._due[key]
            share = self.shares.get(key)
            if share is None or share.in_flight:
                continue
            share.stored = share.stored or self.stored_key(key)
            self._reported[share.stored] = key
            reports.append(
                Report(
                    share.stored,
                    share.allowance(now, self.store_down),
                    share.credit,
                    share.limit.rate,
                    share.limit.burst,
                    renew=now - share.used_at <= active_seconds,
                    asked=share.asked,
                )
            )
            if share.asked > 0:
                share.idle_syncs = 0
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
            who = self._reported.pop(report.key, "")
            share = self.shares.get(who)
            if share is not None:
                share.in_flight = False
                share.asked += report.asked  # still to report
                self._due[who] = None

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
                self._forget(who)  # handed in whole; a later request starts a new lease
                continue
            share.lease = leases[report.key]
            share.spent -= share.spent_at_report
            share.spent_at_report = 0.0
            share.credit = 0.0
            share.users = users
            share.synced_at = now
            share.in_flight = False
            share.joined = True
            self._joined[who] = None
            if share.needs_the_fleet():  # asked again while the sync was in flight
                self._due[who] = None
