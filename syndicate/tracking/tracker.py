"""The tracker: records events into the buffer and flushes it to the store off the event loop.

Recording is a dict bump on the event loop. Every ``flush_seconds`` the buffer
is swapped out and written by one worker thread, so a slow or broken disk never
holds up a request: a failed batch goes back into the (bounded) buffer and the
error is logged, once and then at most once a minute. ``stop`` writes what is
left, so a graceful stop loses nothing and a hard kill at most one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from syndicate.ads.resolver import Placed
from syndicate.metrics import store_call
from syndicate.partners import PUBLIC_ID
from syndicate.tracking import bots
from syndicate.tracking.bots import Agent, classify
from syndicate.tracking.caps import CapState
from syndicate.tracking.events import CountKey, CountPairs, EventBuffer, Kind
from syndicate.tracking.replays import RecentClients
from syndicate.tracking.store import Store
from syndicate.tracking.tokens import Claim

log = logging.getLogger("syndicate.tracking")
T = TypeVar("T")


class UniqueEvents(Protocol):
    """Clicks and pixel loads whose replays are filtered across replicas, at flush (``fleet/replays.py``)."""

    def add(
        self, kind: Kind, token: str, client: str, user_agent: str, space: str, unit: str, partner: str, agent: str
    ) -> None: ...

    def take(self) -> list[Any]: ...

    def write(self, events: list[Any]) -> None: ...

    def put_back(self, events: list[Any]) -> None: ...

    def pending(self) -> int: ...


#: Cached variants whose counters ``record_served`` remembers at most (then it starts over).
MAX_SERVED_KEYS = 4096

#: A store error is logged when it first happens or changes, then at most this often.
ERROR_LOG_SECONDS = 60.0


class Tracker:
    def __init__(
        self,
        store: Store,
        *,
        enabled: bool = True,
        flush_seconds: float = 1.0,
        buffer_limit: int = 100_000,
        dedupe_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.enabled = enabled
        self.flush_seconds = flush_seconds
        self.buffer = EventBuffer(buffer_limit)
        self.recent = RecentClients(dedupe_seconds)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="syndicate-store")
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._error: str | None = None  # the store's last error, while it keeps failing
        self._error_logged_at = 0.0
        self.caps = CapState()  # counts of capped units, for the request path (set its ``units``)
        self._caps_error: str | None = None
        #: With a shared store: clicks and pixels are counted once across the fleet (``fleet/replays.py``).
        self.replays: UniqueEvents | None = None
        #: The counters each cached variant's placements bump, by (the ``served`` tuple's identity, agent
        #: class): worked out once a day for each, not on every response. Each entry keeps its tuple alive,
        #: so no other tuple can take its identity while it is remembered.
        self._served_keys: dict[tuple[int, str], tuple[Sequence[Placed], str, CountPairs]] = {}

    # -- recording: on the event loop, never blocks ------------------------------------------

    def record_served(self, served: Sequence[Placed], user_agent: str) -> None:
        """One feed response carried these placements: ``served`` adds each one, ``fetch`` the response once.

        A response to a partner key is the partner's own pull, whatever its User-Agent says
        (``WordPress/6.4``, ``Go-http-client``): class ``partner``, in the headline numbers.
        Only anonymous responses are classified by their agent.
        """
        if not self.enabled or not served:
            return
        audience = served[0].audience
        agent = Agent.PARTNER if audience != PUBLIC_ID else classify(user_agent)
        day = self.buffer.today()
        memo = self._served_keys.get((id(served), agent)) if type(served) is tuple else None
        if memo is None or memo[0] is not served or memo[1] != day:
            pairs = (
                *((CountKey(day, p.space, p.unit, p.audience, Kind.SERVED, agent), p.n) for p in served),
                (CountKey(day, "", "", audience, Kind.FETCH, agent), 1),
            )
            if type(served) is not tuple:  # a list can change under the same identity: never remembered
                self.buffer.add_counts(pairs)
                return
            if len(self._served_keys) >= MAX_SERVED_KEYS:
                self._served_keys.clear()
            memo = self._served_keys[(id(served), agent)] = (served, day, pairs)
        self.buffer.add_counts(memo[2])

    def record(self, kind: Kind, claim: Claim, token: str, user_agent: str, client: str) -> bool:
        """A pixel load or a click; False when it was a replay (or tracking is off) and was not counted."""
        if not self.enabled or not self.recent.first(kind, token, client, user_agent):
            return False
        if self.replays is not None:  # the shared store decides at flush whether another replica saw it
            self.replays.add(
                kind, token, client, user_agent, claim.space, claim.unit, claim.partner, classify(user_agent)
            )
            return True
        self.buffer.add(kind, claim.space, claim.unit, claim.partner, classify(user_agent))
        return True

    # -- the store, from its one worker thread ------------------------------------------------

    async def in_store(self, call: Callable[[], T]) -> T:
        """Run ``call`` on the store's thread (queries share the writer's connection and order)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    @staticmethod
    def _timed(operation: str, call: Callable[[], T]) -> T:
        """On the store's thread: ``call``, timed and its failures counted (``syndicate.metrics``)."""
        with store_call(operation):
            return call()

    async def flush(self) -> bool:
        """Write what is buffered; on failure keep it for the next try. True when nothing is left over."""
        if self.replays is not None and not await self._flush_unique(self.replays):
            return False
        batch = self.buffer.take()
        if not batch:
            return True
        try:
            await self.in_store(lambda: self._timed("write", lambda: self.store.add(batch)))
        except Exception as exc:
            self.buffer.put_back(batch)
            self._store_failed(exc)
            return False
        if self._error is not None:
            log.info("tracking store: writing again")
            self._error = None
        return True

    async def refresh_caps(self) -> None:
        """Read the counts caps are judged on, on the store's thread; on failure keep the last ones."""
        units = self.caps.units()
        try:
            rows = await self.in_store(lambda: self._timed("read", lambda: self.store.lifetime(units))) if units else []
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            if text != self._caps_error:
                log.error(
                    "tracking store: cannot read counts for ad caps (%s); caps are judged on the last counts read", text
                )
            self._caps_error = text
            return
        self._caps_error = None
        self.caps.update(rows)

    async def _flush_unique(self, replays: UniqueEvents) -> bool:
        events = replays.take()
        if not events:
            return True
        try:
            await self.in_store(lambda: replays.write(events))
        except Exception as exc:
            replays.put_back(events)
            self._store_failed(exc)
            return False
        return True

    def pending(self) -> int:
        """Events held in memory, waiting for the store (dropped ones included)."""
        return self.buffer.pending() + (self.replays.pending() if self.replays is not None else 0)

    def health(self) -> dict[str, object]:
        """This process's side of tracking, for /healthz and the stats: what it holds and what it lost."""
        return {
            "tracking": {
                "enabled": self.enabled,
                "pending": self.pending(),
                "dropped_since_start": self.buffer.dropped_since_start,
                "store_error": self._error,
                "fleet_replay_filter": self.replays is not None,
            }
        }

    def _store_failed(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        now = time.monotonic()
        if text != self._error or now - self._error_logged_at >= ERROR_LOG_SECONDS:
            log.error(
                "tracking store: cannot write (%s); holding %d events in memory (%d dropped so far) "
                "and still serving feeds",
                text,
                self.pending(),
                self.buffer.dropped_since_start,
            )
            self._error_logged_at = now
        self._error = text

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (a failure is logged, and retried at each flush) and start flushing."""
        if self.enabled:  # off: the store is only opened if someone asks for stats
            await asyncio.to_thread(bots.prepare)
            try:
                await self.in_store(self.store.open)
            except Exception as exc:
                self._store_failed(exc)
            await self.refresh_caps()  # before the first request: caps hold from the first window
        self._task = asyncio.create_task(self._run(), name="tracking-flush")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.flush_seconds)
            await self.flush()
            if self.enabled and not self._stopping.is_set():
                await self.refresh_caps()

    async def stop(self) -> None:
        """Flush everything and close the store. Nothing recorded before this is lost unless the store fails."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if not await self.flush():
            log.error("tracking store: %d events could not be written at stop and are lost", self.pending())
        with contextlib.suppress(Exception):
            await self.in_store(self.store.close)
        self._executor.shutdown(wait=True)
