"""Typed application state: every ``web.AppKey`` lives here, plus the Snapshot holder."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from aiohttp import web

from syndicate.ads.resolver import Links, ServedAd
from syndicate.snapshot import Snapshot
from syndicate.web.ratelimit import RateLimiter
from syndicate.web.variants import VariantCache

log = logging.getLogger("syndicate")


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
LIMITER = web.AppKey("limiter", RateLimiter)
#: Set by the tracking layer: signed click and pixel URLs in ad markup (absent: direct links).
LINKS = web.AppKey("links", Links)


class ServedHook(Protocol):
    """Called for every feed response (cached or not) with the ads it carried and the User-Agent."""

    def __call__(self, served: Sequence[ServedAd], user_agent: str) -> None: ...


#: Set by the tracking layer to count ``served`` events.
ON_SERVED = web.AppKey("on_served", ServedHook)
