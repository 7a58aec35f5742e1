"""Cap state for the request path: stored counts of capped units, refreshed off the loop, frozen per window.

The tracker refreshes the counts after each flush (``Store.lifetime``, on its
worker thread), so a request never waits for the store. Each rotation window
reads the ``CapView`` frozen the first time it asked, so every variant of a
window is judged on the same counts and its bytes stay identical.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from syndicate.ads.caps import CapView, Used, capped_units
from syndicate.ads.model import AdSpace
from syndicate.config import Config
from syndicate.problems import Level, Problem
from syndicate.storage.backend import store_for
from syndicate.tracking.store import Lifetime, SqliteStore

#: Windows whose frozen view is kept: the current one and a few before it (late renders of the last one).
KEEP_WINDOWS = 4


class CapState:
    """The latest counts of capped units, and each window's frozen view of them. Event-loop only."""

    def __init__(self, units: Callable[[], frozenset[tuple[str, str]]] = frozenset) -> None:
        self.units = units  # (space, unit) pairs with a cap in the current Snapshot
        self.used: Used = {}  # replaced whole on each refresh, never changed in place
        self.refreshes = 0
        self._windows: OrderedDict[int, CapView] = OrderedDict()

    def update(self, rows: Iterable[Lifetime]) -> None:
        self.used = {(row.space, row.unit, row.partner, row.kind): row.n for row in rows}
        self.refreshes += 1

    def for_window(self, start: int) -> CapView:
        """The view of the window starting at unix time ``start``: frozen at its first call."""
        view = self._windows.get(start)
        if view is None:
            view = self._windows[start] = CapView(self.used, start)
            while len(self._windows) > KEEP_WINDOWS:
                self._windows.popitem(last=False)
        return view

    def latest(self) -> CapView:
        """The counts as last refreshed: what /admin/status reports."""
        return CapView(self.used)


def stored_view(config: Config, spaces: Mapping[str, AdSpace]) -> tuple[CapView, Problem | None]:
    """The counts of capped units read straight from the store, for ``syndicate check``; never creates a store.

    On failure: no counts, and a warning saying why (caps are then not reported, only enforced by the server).
    """
    units = capped_units(spaces)
    if not units:
        return CapView(), None
    if not config.tracking.enabled:
        return CapView(), Problem(
            config.path,
            0,
            Level.WARNING,
            "tracking is off, so ad caps (max_impressions, "
            "max_clicks) are not enforced: they are judged on the tracked counts",
        )
    try:
        store = store_for(config, server=False)
        if isinstance(store, SqliteStore) and not store.path.exists():
            return CapView(), None  # nothing counted yet
        try:
            return CapView({(r.space, r.unit, r.partner, r.kind): r.n for r in store.lifetime(units)}), None
        finally:
            store.close()
    except Exception as exc:
        return CapView(), Problem(
            config.path,
            0,
            Level.WARNING,
            f"cannot read the tracking store to report ad caps: {type(exc).__name__}: {exc}",
        )
