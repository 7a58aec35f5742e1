"""Typed application state: every ``web.AppKey`` lives here, plus the Snapshot holder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from aiohttp import web

from syndicate.ads.resolver import Links, Placed
from syndicate.ads.slotcache import SlotCache
from syndicate.credentials import AdminToken
from syndicate.formats.assembly import FragmentCache
from syndicate.reload import Reloader
from syndicate.snapshot import Snapshot
from syndicate.tracking.caps import CapState
from syndicate.tracking.tokens import SigningKeys
from syndicate.tracking.tracker import Tracker
from syndicate.web.pagecache import PageCache
from syndicate.web.ratelimit import RateLimiter
from syndicate.web.variants import VariantCache
from syndicate.web.wanted import KnownRequests

if TYPE_CHECKING:
    from syndicate.fleet.replica import Fleet


class SnapshotHolder:
    """Owns the current Snapshot. Replacing it is one reference assignment: atomic for
    every request, which reads ``current`` once and keeps using what it got."""

    def __init__(self, snapshot: Snapshot, config_path: Path) -> None:
        self.current = snapshot
        self.config_path = config_path
        #: Called with (old, new) after each swap: WebSub pings, cache resets.
        self.listeners: list[Callable[[Snapshot, Snapshot], None]] = []

    def replace(self, snapshot: Snapshot) -> None:
        old, self.current = self.current, snapshot
        for listener in self.listeners:
            listener(old, snapshot)


SNAPSHOTS = web.AppKey("snapshots", SnapshotHolder)
VARIANTS = web.AppKey("variants", VariantCache)
FRAGMENTS = web.AppKey("fragments", FragmentCache)
#: Ad slots resolved per article and context, reused by later renders (``ads/slotcache.py``).
SLOTS = web.AppKey("slots", SlotCache)
LIMITER = web.AppKey("limiter", RateLimiter)
#: Feed requests already checked, by target and credentials (``web/wanted.py``).
WANTED = web.AppKey("wanted", KnownRequests)
#: ``/`` and the feed pages, rendered once per Snapshot (``web/pages.py``).
PAGES = web.AppKey("pages", PageCache)
#: Every reload (file watcher, SIGHUP, admin API) goes through this one object.
RELOADER = web.AppKey("reloader", Reloader)
#: On the /admin/ sub-application only; absent when no admin token is configured.
ADMIN_TOKEN = web.AppKey("admin_token", AdminToken)
#: Set by the tracking layer: signed click and pixel URLs in ad markup (absent: direct links).
LINKS = web.AppKey("links", Links)


class ServedHook(Protocol):
    """Called for every feed response (cached or not) with the ad placements it carried and the User-Agent."""

    def __call__(self, served: Sequence[Placed], user_agent: str) -> None: ...


#: Set by the tracking layer to count ``served`` events.
ON_SERVED = web.AppKey("on_served", ServedHook)
#: The tracking layer (syndicate/web/tracking_views.py): the event tracker and its store, the keys that
#: sign and verify /c/ and /i/ tokens. /admin/stats reads them from the /admin/ sub-application.
TRACKER = web.AppKey("tracker", Tracker)
SIGNING_KEYS = web.AppKey("signing_keys", SigningKeys)
#: Set when tracking is on: the counts ad caps are judged on, frozen per rotation window (absent: no caps).
CAPS = web.AppKey("caps", CapState)


class Serving(NamedTuple):
    """What answering a checked feed request reads, looked up once when the app starts rather than per
    request: ``views.feed`` and the fast lane (``web/fastlane.py``) both answer through it."""

    snapshots: SnapshotHolder
    known: KnownRequests
    variants: VariantCache
    limiter: RateLimiter
    caps: CapState | None
    on_served: ServedHook | None


async def start_serving(app: web.Application) -> None:
    """``on_startup``: the app's state is final now (a test may still replace a part of it before)."""
    app[SERVING] = Serving(app[SNAPSHOTS], app[WANTED], app[VARIANTS], app[LIMITER], app.get(CAPS), app.get(ON_SERVED))


SERVING = web.AppKey("serving", Serving)


class HealthParts(list[Callable[[], dict[str, object]]]):
    """Sections added to /healthz by the layers that have something to report (the shared store)."""


HEALTH = web.AppKey("health", HealthParts)
#: With a shared store only (``fleet/setup.py``): this replica's link to the others.
FLEET: web.AppKey[Fleet] = web.AppKey("fleet")
