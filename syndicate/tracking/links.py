"""Ad links that count: ``/c/<token>`` for the click and ``/i/<token>.gif`` for the pixel.

Called from render worker threads, so it holds no mutable state but a
thread-safe LRU cache (the click and the pixel of one unit share one token), keyed by
the claim's plain fields: a key of strings and numbers is untracked by the cycle
collector, as thousands of them are kept.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Hashable

from syndicate.ads.markup import with_query
from syndicate.ads.model import AdSpace, AdUnit
from syndicate.ads.selection import Slot
from syndicate.tracking.tokens import Claim, SigningKeys

log = logging.getLogger("syndicate.tracking")


class SignedLinks:
    """A ``syndicate.ads.resolver.Links`` that signs every target; falls back to the direct link if it cannot."""

    def __init__(self, keys: SigningKeys, public_url: Callable[[], str], pixel: bool = True) -> None:
        self.keys = keys
        self.public_url = public_url  # read per call: a reload may change it
        self.pixel = pixel
        self._token = functools.lru_cache(maxsize=4096)(self._sign)

    def _sign(self, space: str, unit: str, partner: str, article: str, window: int, target: str) -> str | None:
        claim = Claim(space, unit, partner, article, window, target)
        try:
            return self.keys.sign(claim)
        except ValueError as exc:
            log.warning("ad %s/%s is linked untracked: %s", claim.space, claim.unit, exc)
            return None

    def memo_key(self) -> Hashable:
        """The keys are fixed for this object's life; the public URL is read per call, so it is part of it."""
        return (id(self), self.public_url(), self.pixel)

    def signed(self, unit: AdUnit, space: AdSpace, slot: Slot, article_id: str) -> tuple[str | None, str]:
        """The token of this ad in this slot (None if it cannot be signed), and the direct link."""
        target = with_query(unit.url, slot.audience.query)
        return self._token(space.id, unit.id, slot.audience.id, article_id, slot.window, target), target

    def click_url(self, unit: AdUnit, space: AdSpace, slot: Slot, article_id: str) -> str:
        token, target = self.signed(unit, space, slot, article_id)
        return f"{self.public_url()}/c/{token}" if token else target

    def pixel_url(self, unit: AdUnit, space: AdSpace, slot: Slot, article_id: str) -> str | None:
        if not self.pixel:
            return None
        token, _ = self.signed(unit, space, slot, article_id)
        return f"{self.public_url()}/i/{token}.gif" if token else None
