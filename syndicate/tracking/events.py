"""The in-memory event buffer: counters per (day, space, unit, partner, kind, agent class).

Events are aggregated as they arrive, so a flood on one ad only bumps one
counter; memory is bounded by the number of distinct counters, and what does
not fit is counted as dropped (and that count is itself stored).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import NamedTuple

from syndicate.metrics import DROPPED_EVENTS


class Kind(StrEnum):
    SERVED = "served"  # an ad placement delivered in a feed response (n placements in one response count n)
    FETCH = "fetch"  # a feed response that carried at least one ad (space and unit are '')
    RENDERED = "rendered"  # its pixel was loaded
    CLICK = "click"  # its link was followed
    DROPPED = "dropped"  # events lost to a full buffer: kept so the loss shows in the stats


class CountKey(NamedTuple):
    day: str  # UTC date, YYYY-MM-DD
    space: str
    unit: str
    partner: str
    kind: str
    agent: str  # a bots.Agent value


#: Counters with what to add to each.
CountPairs = tuple[tuple[CountKey, int], ...]

_EPOCH = dt.date(1970, 1, 1)


@functools.lru_cache(maxsize=4)
def _day(number: int) -> str:
    return (_EPOCH + dt.timedelta(days=number)).isoformat()


def utc_day() -> str:
    """Today in UTC, as stored: cheap enough to call for every event."""
    return _day(int(time.time() // 86400))


class EventBuffer:
    """Counters waiting for the next flush; only touched from the event loop."""

    def __init__(self, limit: int, today: Callable[[], str] = utc_day) -> None:
        self.limit = limit  # distinct counters held at most
        self.today = today
        self.counts: dict[CountKey, int] = {}
        self.dropped = 0  # since the last flush (stored with it)
        self.dropped_since_start = 0  # never reset: what /healthz and the stats show

    def drop(self, n: int) -> None:
        """``n`` events lost to a full buffer."""
        self.dropped += n
        self.dropped_since_start += n
        DROPPED_EVENTS.inc(n)

    def add(self, kind: Kind, space: str, unit: str, partner: str, agent: str, n: int = 1) -> None:
        self.add_counts(((CountKey(self.today(), space, unit, partner, kind, agent), n),))

    def add_counts(self, pairs: CountPairs) -> None:
        """``add`` for counters already made (``Tracker.record_served`` keeps them per cached variant)."""
        counts = self.counts
        for key, n in pairs:
            if key in counts:
                counts[key] += n
            elif len(counts) < self.limit:
                counts[key] = n
            else:
                self.drop(n)

    def take(self) -> dict[CountKey, int]:
        """Everything held, with the dropped count as its own counter; the buffer starts empty again."""
        batch, self.counts = self.counts, {}
        if self.dropped:
            key = CountKey(self.today(), "", "", "", Kind.DROPPED, "")
            batch[key] = batch.get(key, 0) + self.dropped
            self.dropped = 0
        return batch

    def put_back(self, batch: Mapping[CountKey, int]) -> None:
        """Return a batch the store could not take; the bound still holds."""
        for key, n in batch.items():
            if key.kind == Kind.DROPPED:
                self.dropped += n
            elif key in self.counts:
                self.counts[key] += n
            elif len(self.counts) < self.limit:
                self.counts[key] = n
            else:
                self.drop(n)

    def pending(self) -> int:
        """Events held, dropped ones included."""
        return sum(self.counts.values()) + self.dropped
