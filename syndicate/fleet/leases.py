"""The fleet bucket's arithmetic, one rule for every store that keeps the buckets (PostgreSQL, or the SQLite
file the workers of one ``serve --workers N`` share): what a sync hands in, and the lease it takes.

The store locks the reported buckets (in key order), reads them, applies ``renew`` to each, and writes
them back, all in one transaction: the replicas' syncs are serialised per bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from syndicate.fleet.limits import Report

#: A replica's first lease is on credit; what was held out of the bucket for it is given back after this.
CREDIT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Bucket:
    """One fleet bucket as stored (``stamp`` and ``created`` in epoch seconds of the store's clock)."""

    key: str
    tokens: float
    stamp: float
    rate: float
    burst: float
    credit_out: float  # replicas' first leases, given on credit: held out of tokens until they report
    created: float


def fresh(report: Report, now: float, replicas: int) -> Bucket:
    """A bucket no replica has reported yet: every live replica may already be spending its first lease
    (``burst / replicas``, on credit), so that much is held out of it until they report, or for CREDIT_SECONDS."""
    held_out = min(report.burst, replicas * report.credit)
    return Bucket(
        report.key, max(0.0, report.burst - replicas * report.credit), now, report.rate, report.burst, held_out, now
    )


def renew(bucket: Bucket, report: Report, now: float, replicas: int) -> tuple[Bucket, float]:
    """Hand in what is left of the lease (a first one repays its credit, out of what was held for it, else as
    debt), then take a new one (``_lease``). The bucket and the lease."""
    covered = bucket.credit_out >= report.credit - 1e-9
    left_out = bucket.credit_out - report.credit if covered else bucket.credit_out
    expired = now - bucket.created > CREDIT_SECONDS
    refilled = min(report.burst, bucket.tokens + max(0.0, now - bucket.stamp) * report.rate)
    available = max(
        -report.burst, refilled + report.held - (0.0 if covered else report.credit) + (left_out if expired else 0.0)
    )
    lease = _lease(available, report, max(1, replicas)) if report.renew else 0.0
    renewed = replace(
        bucket,
        tokens=available - lease,
        stamp=max(bucket.stamp, now),
        rate=report.rate,
        burst=report.burst,
        credit_out=0.0 if expired else left_out,
    )
    return renewed, lease


def _lease(available: float, report: Report, replicas: int) -> float:
    """A replica that asked for tokens since its last sync keeps what it held and takes 1/replicas of the
    bucket's free tokens; an idle one hands half of what it holds back at each sync, for the busy ones
    (idle for a moment, it keeps enough for its next requests; idle for long, next to nothing). At least
    one whole token when the bucket has one (three replicas holding 0.9 each would refuse a request it
    can pay for); never more than it has."""
    busy = report.asked > 0
    wanted = report.held + max(0.0, available - report.held) / replicas if busy else report.held / 2
    return max(0.0, min(available, max(wanted, 1.0)))


def renew_all(
    stored: dict[str, Bucket], reports: Sequence[Report], now: float, replicas: int
) -> tuple[list[Bucket], dict[str, float]]:
    """Every reported bucket renewed (``stored``: those the store has; the others start ``fresh``)."""
    buckets, leases = [], {}
    for report in sorted(reports, key=lambda r: r.key):
        bucket, leases[report.key] = renew(
            stored.get(report.key) or fresh(report, now, replicas), report, now, replicas
        )
        buckets.append(bucket)
    return buckets, leases
