"""Token buckets per partner and per client address, with RateLimit-* headers on every answer.

A 304 costs less than a 200, so pollers that use conditional GET get more room.
The bucket table is bounded: the least recently seen clients are forgotten first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from syndicate.config import RateLimit
from syndicate.metrics import RATE_LIMITED

MAX_CLIENTS = 100_000


@dataclass(slots=True)
class Bucket:
    tokens: float
    stamp: float


class Verdict(NamedTuple):
    """One bucket's answer. A named tuple: one is made for every request, and a frozen dataclass
    costs a ``object.__setattr__`` per field."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the bucket is full again
    retry_after: int  # seconds until the refused request would be allowed (0 when allowed)

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out

    def lines(self) -> bytes:
        """An allowed answer's RateLimit-* headers as the lines sent (``web/wire.py``)."""
        return _lines(self.limit, self.remaining, self.reset)


def _lines(limit: int, remaining: int, reset: int) -> bytes:
    return f"RateLimit-Limit: {limit}\r\nRateLimit-Remaining: {remaining}\r\nRateLimit-Reset: {reset}\r\n".encode()


def _refilled(bucket: Bucket, limit: RateLimit, now: float) -> float:
    """The bucket's tokens at ``now``: what it held, plus what it earned since, up to the burst."""
    return min(limit.burst, bucket.tokens + (now - bucket.stamp) * limit.rate)


def _reset(limit: RateLimit, tokens: float) -> int:
    """Seconds until a bucket holding ``tokens`` is full again (RateLimit-Reset)."""
    return math.ceil((limit.burst - tokens) / limit.rate)


def count_refusal(who: str) -> None:
    """One 429 more for ``who``'s audience (``p:<partner>``, or the public for a client address)."""
    RATE_LIMITED.labels(who.removeprefix("p:") if who.startswith("p:") else "public").inc()


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_clients: int = MAX_CLIENTS) -> None:
        self.clock = clock
        self.max_clients = max_clients
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()

    def take(
        self, who: str, limit: RateLimit, cost: float, charge: bool = True, wait_for: float | None = None
    ) -> Verdict:
        """Charge ``cost`` tokens to ``who``; refuse (and charge nothing) when there are too few.

        ``charge=False`` only asks, so a client already out of tokens is refused before any work.
        ``wait_for`` (default ``cost``) sizes ``Retry-After``: a refusal made before the answer is known
        must say when the dearest answer would go through, or obeying it earns another 429."""
        now = self.clock()
        bucket = self.buckets.get(who)
        if bucket is None:
            bucket = Bucket(limit.burst, now)
            self.buckets[who] = bucket
            if len(self.buckets) > self.max_clients:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(who)
            bucket.tokens = _refilled(bucket, limit, now)
            bucket.stamp = now
        allowed = bucket.tokens >= cost
        if not allowed:
            count_refusal(who)
        if allowed and charge:
            bucket.tokens -= cost
        missing = 0.0 if allowed else max(cost, wait_for or cost) - bucket.tokens
        return Verdict(
            allowed=allowed,
            limit=int(limit.burst),
            remaining=int(bucket.tokens),
            reset=_reset(limit, bucket.tokens),
            retry_after=max(1, math.ceil(missing / limit.rate)) if not allowed else 0,
        )

    def spend(self, who: str, limit: RateLimit, cost: float, wait_for: float | None = None) -> bytes | Verdict:
        """``take`` for an answer about to be sent: its RateLimit-* header lines when allowed, the refusal
        when not. Every cached answer is charged here, so an allowed one makes no ``Verdict``."""
        bucket = self.buckets.get(who)  # a limiter that keeps its buckets elsewhere (the fleet's) finds none
        if bucket is not None:
            now = self.clock()
            tokens = _refilled(bucket, limit, now) - cost
            if tokens >= 0:
                self.buckets.move_to_end(who)
                bucket.tokens, bucket.stamp = tokens, now
                return _lines(int(limit.burst), int(tokens), _reset(limit, tokens))
        verdict = self.take(who, limit, cost, wait_for=wait_for)
        return verdict.lines() if verdict.allowed else verdict
