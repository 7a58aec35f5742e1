"""The fleet-wide replay filter: clicks and pixel loads are counted once across every replica.

Each replica still filters its own replays in memory first. What passes is held
with a digest made with a salt every replica shares (kept in the database, so no
address is ever stored, only a keyed digest for ``dedupe_seconds``), and the
store counts a digest only if no replica flushed it within the window. The
request is answered at once either way: the decision is made at flush time.
The workers of one ``serve --workers N`` on SQLite share it the same way,
through the tracking file they all write.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from syndicate.tracking.events import CountKey, EventBuffer, Kind
from syndicate.tracking.store import UniqueEvent


class UniqueStore(Protocol):
    """A store shared by every replica or worker that counts each digest once per window."""

    def add_unique(self, events: Sequence[UniqueEvent], window: float) -> None: ...


class FleetReplays:
    """Events waiting for the next flush, bounded like the event buffer (overflow counts as dropped)."""

    def __init__(
        self,
        store: UniqueStore,
        salt: bytes,
        window: float,
        buffer: EventBuffer,
        limit: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.salt = salt
        self.window = window
        self.buffer = buffer  # for the day and for counting what does not fit as dropped
        self.limit = limit
        self.clock = clock
        self.events: list[UniqueEvent] = []

    def digest(self, *parts: str) -> bytes:
        return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "replace"), key=self.salt, digest_size=16).digest()

    def add(
        self, kind: Kind, token: str, client: str, user_agent: str, space: str, unit: str, partner: str, agent: str
    ) -> None:
        if len(self.events) >= self.limit:
            self.buffer.drop(1)
            return
        key = CountKey(self.buffer.today(), space, unit, partner, kind, agent)
        self.events.append(UniqueEvent(self.digest(kind, token, client, user_agent), self.clock(), key))

    def take(self) -> list[UniqueEvent]:
        events, self.events = self.events, []
        return events

    def write(self, events: list[UniqueEvent]) -> None:
        """On the store's thread: count the events no replica flushed within the window."""
        self.store.add_unique(events, self.window)

    def put_back(self, events: list[UniqueEvent]) -> None:
        room = max(0, self.limit - len(self.events))
        self.events[:0] = events[:room]
        if len(events) > room:
            self.buffer.drop(len(events) - room)

    def pending(self) -> int:
        return len(self.events)
