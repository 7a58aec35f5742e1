"""Rendered HTML pages of the current Snapshot: built on first ask, dropped when the Snapshot changes.

``/`` and the feed pages depend on the Snapshot alone, so each is rendered once per
Snapshot and then served from here; the cap bounds what a crawler walking every page
of every list can make us keep.
"""

from __future__ import annotations

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
    """Pages of the current Snapshot, keyed by what they show; emptied when the Snapshot changes."""

    def __init__(self, limit: int = PAGE_LIMIT) -> None:
        self.limit = limit
        self._snapshot: Snapshot | None = None
        self._catalog: Catalog | None = None
        self._pages: OrderedDict[tuple[str, ...], Page] = OrderedDict()
        self.renders = 0

    def clear(self) -> None:
        """Drop everything (on a swap), so the old Snapshot is not kept alive by its pages."""
        self._snapshot, self._catalog = None, None
        self._pages.clear()

    def catalog(self, snapshot: Snapshot) -> Catalog:
        if self._snapshot is not snapshot or self._catalog is None:
            self._snapshot, self._catalog = snapshot, Catalog.of(snapshot)
            self._pages.clear()
        return self._catalog

    def page(self, snapshot: Snapshot, key: tuple[str, ...], render: Callable[[Catalog], str]) -> Page:
        catalog = self.catalog(snapshot)
        found = self._pages.get(key)
        if found is None:
            found = self._pages[key] = Page(render(catalog))
            self.renders += 1
            PAGE_RENDERS.inc()
            if len(self._pages) > self.limit:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(key)
        return found
