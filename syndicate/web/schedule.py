"""Scheduled publishing: at each scheduled article's time, swap in the Snapshot that shows it.

The current Snapshot knows its ``next_publication``. One task per app sleeps until
then (waking early when a reload swaps in a Snapshot with another schedule, and at
least every ``MAX_SLEEP`` seconds, so a wall-clock jump is noticed) and swaps in
``published_at(now)`` under the reload lock: the same swap a reload makes, so the
caches are cleared and the WebSub hubs are pinged for every feed that changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from syndicate import collector
from syndicate.metrics import SCHEDULED_SWAPS
from syndicate.reload import Reloader
from syndicate.snapshot import Snapshot
from syndicate.web.state import RELOADER, SNAPSHOTS

log = logging.getLogger("syndicate.schedule")

#: The longest sleep between two looks at the clock (seconds).
MAX_SLEEP = 60.0

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Scheduler:
    """Publishes scheduled articles on time, through the Reloader's holder and lock."""

    def __init__(self, reloader: Reloader, clock: Clock = utc_now) -> None:
        self.reloader = reloader
        self.clock = clock
        self.swapped = asyncio.Event()
        self.published = 0  # swaps made for a publication time

    def on_swap(self, old: Snapshot, new: Snapshot) -> None:
        self.swapped.set()

    def delay(self) -> float:
        """Seconds until the current Snapshot's next publication (capped), 0 when it is due."""
        due = self.reloader.holder.current.next_publication
        if due is None:
            return MAX_SLEEP
        return min(MAX_SLEEP, max(0.0, (due - self.clock()).total_seconds()))

    async def publish_due(self) -> Snapshot | None:
        """Swap in the Snapshot of now when a scheduled article is due; the new Snapshot, if any."""
        async with self.reloader.lock:
            current = self.reloader.holder.current
            now = self.clock()
            due = current.next_publication
            if due is None or due > now:
                return None
            collector.young()  # as a reload does: the swap freezes what comes after without a collection
            new = await asyncio.to_thread(current.published_at, now)
            published = len(current.scheduled) - len(new.scheduled)
            await self.reloader.swap(new)
            self.published += 1
            SCHEDULED_SWAPS.inc()
            log.info(
                "published %d scheduled article(s) due at %s: generation %d; next: %s",
                published,
                due.isoformat(timespec="seconds"),
                new.generation,
                new.next_publication.isoformat(timespec="seconds") if new.next_publication else "none",
            )
            return new

    async def run(self) -> None:
        while True:
            self.swapped.clear()
            delay = self.delay()
            if delay > 0:
                try:
                    await asyncio.wait_for(self.swapped.wait(), delay)
                    continue  # a reload changed the schedule: look again
                except TimeoutError:
                    pass
            try:
                await self.publish_due()
            except Exception:
                log.exception("scheduled publication failed; retrying in %.0f s", MAX_SLEEP)
                await asyncio.sleep(MAX_SLEEP)


SCHEDULER = web.AppKey("scheduler", Scheduler)


def setup_schedule(app: web.Application) -> None:
    """A scheduler for the app's Reloader (``setup_ops`` first), running while the app serves."""
    app[SCHEDULER] = Scheduler(app[RELOADER])
    app.cleanup_ctx.append(_scheduling)


async def _scheduling(app: web.Application) -> AsyncIterator[None]:
    scheduler = app[SCHEDULER]
    holder = app[SNAPSHOTS]
    holder.listeners.append(scheduler.on_swap)
    task = asyncio.get_running_loop().create_task(scheduler.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        holder.listeners.remove(scheduler.on_swap)
