"""Rendered HTML pages of the current Snapshot: built on first ask, dropped when the Snapshot changes.

``/`` and the feed pages depend on the Snapshot alone, so each is rendered once per
Snapshot and then served from here; the cap bounds what a crawler walking every page
of every list can make us keep.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable

from syndicate.metrics import PAGE_RENDERS
from syndicate.snapshot import Snapshot
from syndicate.web.catalog import Catalog

#: Rendered pages kept per Snapshot; past it the least recently asked for goes.
PAGE_LIMIT = 512


class Page:
    """A rendered page and its validator."""

    __slots__ = ("body", "etag")

    def __init__(self, text: str) -> None:
        self.body = text.encode()
        self.etag = f'"{hashlib.sha256(self.body).hexdigest()[:32]}"'


class PageCache:
    """Pages of the current Snapshot, keyed by what they show; emptied when the Snapshot changes.

    The catalog and each page are made in a worker thread (tens of thousands of tag and author
    feeds take a few hundred ms), once: requests arriving meanwhile wait for the same result.
    """

    def __init__(self, limit: int = PAGE_LIMIT) -> None:
        self.limit = limit
        self._snapshot: Snapshot | None = None
        self._catalog: asyncio.Future[Catalog] | None = None
        self._pages: OrderedDict[tuple[str, ...], Page] = OrderedDict()
        self._pending: dict[tuple[str, ...], asyncio.Future[Page]] = {}
        self.renders = 0

    def clear(self) -> None:
        """Drop everything (on a swap), so the old Snapshot is not kept alive by its pages."""
        self._snapshot, self._catalog = None, None
        self._pages.clear()
        self._pending.clear()

    async def catalog(self, snapshot: Snapshot) -> Catalog:
        if self._snapshot is not snapshot or self._catalog is None:
            self.clear()
            self._snapshot = snapshot
            self._catalog = asyncio.get_running_loop().run_in_executor(None, Catalog.of, snapshot)
        return await asyncio.shield(self._catalog)

    async def page(self, snapshot: Snapshot, key: tuple[str, ...], render: Callable[[Catalog], str]) -> Page:
        catalog = await self.catalog(snapshot)
        found = self._pages.get(key)
        if found is not None:
            self._pages.move_to_end(key)
            return found
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().run_in_executor(None, lambda: Page(render(catalog)))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._keep(snapshot, key, done))
        return await asyncio.shield(pending)

    def _keep(self, snapshot: Snapshot, key: tuple[str, ...], done: asyncio.Future[Page]) -> None:
        """On the loop, before any waiter resumes: keep a page made for the Snapshot still current."""
        if self._pending.get(key) is done:
            del self._pending[key]
        if done.cancelled() or done.exception() is not None or self._snapshot is not snapshot:
            return
        self._pages[key] = done.result()
        self.renders += 1
        PAGE_RENDERS.inc()
        if len(self._pages) > self.limit:
            self._pages.popitem(last=False)
