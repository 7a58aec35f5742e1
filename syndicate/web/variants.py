"""The rendered-variant cache: a feed's bytes are built once per variant and served many times.

A variant is (Snapshot generation, feed, filter, page, format, audience, rotation
window, cap state). A new window simply starts new keys; old ones age out of
the LRU, which is bounded by total bytes. A swap re-keys the variants whose page did
not change to the new generation and drops the others (``web/carry.py``). The gzip body
and both ETags are made once, with the entry; the response headers once too, by the first
response that needs them (``web/respond.py``). Concurrent misses for one key share a single render.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syndicate.ads.resolver import Placed
from syndicate.metrics import CACHE_LOOKUPS, RENDERS

if TYPE_CHECKING:
    from syndicate.web.respond import Answers

VariantKey = tuple[object, ...]
#: Bound once: a labelled child looked up per request costs a lock and a tuple.
_HITS = CACHE_LOOKUPS.labels("hit")
_MISSES = CACHE_LOOKUPS.labels("miss")


@dataclass(frozen=True, slots=True)
class Representation:
    """What the response headers say about a body, as facts; ``web/respond.py`` writes them as headers."""

    content_type: str = "application/octet-stream"
    public: bool = True  # shared caches may keep it (else private: it was made for one partner)
    max_age: int = 0
    links: tuple[tuple[str, str], ...] = ()  # (URL, rel) for the Link header: WebSub hubs, then self


@dataclass(slots=True)
class Variant:
    body: bytes
    gzipped: bytes
    etag: str  # strong, of the identity body
    gzip_etag: str  # strong, of the gzip body: a different representation needs a different tag
    last_modified: dt.datetime
    served: tuple[Placed, ...]  # the ad placements this body carries, counted on every response
    representation: Representation
    answers: Answers | None = field(default=None, compare=False)  # the response headers, made once on the loop
    hits: int = field(default=0, compare=False)  # requests it answered since the last swap: what to render first

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped) + 64 * len(self.served) + 512

    @property
    def etags(self) -> tuple[str, str]:
        return (self.etag, self.gzip_etag)


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a render produces before the cache adds compression and validators."""

    body: bytes
    last_modified: dt.datetime
    served: tuple[Placed, ...]
    representation: Representation = Representation()


def make_variant(rendered: Rendered) -> Variant:
    digest = hashlib.blake2b(rendered.body, digest_size=12).hexdigest()
    # mtime=0 keeps the gzip bytes (and so their ETag) identical for identical bodies.
    gzipped = gzip.compress(rendered.body, compresslevel=6, mtime=0)
    return Variant(
        rendered.body,
        gzipped,
        f'"{digest}"',
        f'"{digest}-gz"',
        rendered.last_modified,
        rendered.served,
        rendered.representation,
    )


class VariantCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[VariantKey, Variant] = OrderedDict()
        self.pending: dict[VariantKey, asyncio.Future[Variant]] = {}
        self.hits = self.misses = self.renders = 0

    def cached(self, key: VariantKey) -> Variant | None:
        """The variant when it is already made (counted as a hit), else None: the hot path, no await."""
        found = self.entries.get(key)
        if found is not None:
            self.hits += 1
            found.hits += 1
            _HITS.inc()
            self.entries.move_to_end(key)
        return found

    async def get(self, key: VariantKey, render: Callable[[], Rendered]) -> Variant:
        """The cached variant, or one rendered off the event loop by exactly one caller."""
        found = self.cached(key)
        if found is not None:
            return found
        waiting = self.pending.get(key)
        if waiting is not None:
            self.hits += 1
            _HITS.inc()
            return await asyncio.shield(waiting)
        self.misses += 1
        _MISSES.inc()
        future: asyncio.Future[Variant] = asyncio.get_running_loop().create_future()
        self.pending[key] = future
        try:
            self.renders += 1
            RENDERS.inc()
            variant = await asyncio.get_running_loop().run_in_executor(None, lambda: make_variant(render()))
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marks it retrieved when nobody else waits
            raise
        finally:
            del self.pending[key]
        future.set_result(variant)
        self._store(key, variant)
        return variant

    def ahead(self, key: VariantKey, variant: Variant) -> None:
        """Keep ``variant``, rendered before any request asked for it (``web/warm.py``): counted as a render."""
        self.renders += 1
        RENDERS.inc()
        self._store(key, variant)

    def _store(self, key: VariantKey, variant: Variant) -> None:
        if variant.size > self.max_bytes:
            return
        self.entries[key] = variant
        self.bytes += variant.size
        while self.bytes > self.max_bytes:
            _, evicted = self.entries.popitem(last=False)
            self.bytes -= evicted.size

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0

    def busiest(self, generation: int, share: float, most: int) -> list[VariantKey]:
        """The keys of ``generation`` that answered the most requests since the last swap, busiest first:
        the fewest that answered ``share`` of them, at most ``most``; none that answered nothing."""
        asked = sorted(
            ((v.hits, k) for k, v in self.entries.items() if k[0] == generation and v.hits), key=lambda hk: -hk[0]
        )
        total = sum(hits for hits, _ in asked)
        chosen: list[VariantKey] = []
        covered = 0
        for hits, key in asked[:most]:
            if covered >= share * total:
                break
            chosen.append(key)
            covered += hits
        return chosen

    def rekey(self, carry: Callable[[VariantKey, Variant], tuple[VariantKey, Variant] | None]) -> None:
        """After a swap: each entry as ``carry`` keeps it (under a new key, maybe re-dated), or dropped when it
        says None; hit counts start over."""
        kept: OrderedDict[VariantKey, Variant] = OrderedDict()
        for key, variant in self.entries.items():
            carried = carry(key, variant)
            if carried is not None:
                new, variant = carried
                variant.hits = 0
                kept[new] = variant
        self.entries = kept
        self.bytes = sum(v.size for v in kept.values())
