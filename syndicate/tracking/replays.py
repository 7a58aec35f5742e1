"""Replay filter: the same click or pixel from the same client within a few seconds counts once.

Readers double-load pixels and people double-click; a script can replay a URL
in a loop. We remember (kind, token, client address, user agent) for a short
while as a salted BLAKE2b digest, so no address is kept, not even in memory,
and the salt dies with the process. A replay is still answered normally.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable


class RecentClients:
    """Digests seen in the last ``seconds``; bounded, and open (counting) when full."""

    def __init__(self, seconds: float, limit: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.limit = limit
        self.clock = clock
        self._salt = secrets.token_bytes(16)
        self._seen: dict[bytes, float] = {}  # digest -> expiry; insertion order is expiry order

    def first(self, *parts: str) -> bool:
        """True when ``parts`` were not seen within the window (and remembers them now)."""
        if self.seconds <= 0:
            return True
        now = self.clock()
        seen = self._seen
        while seen:
            oldest = next(iter(seen))
            if seen[oldest] > now:
                break
            del seen[oldest]
        digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8", "replace"), key=self._salt, digest_size=16).digest()
        if digest in seen:
            return False
        if len(seen) < self.limit:
            seen[digest] = now + self.seconds
        return True
