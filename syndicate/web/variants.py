"""The rendered-variant cache: a feed's bytes are built once per variant and served many times.

A variant is (Snapshot generation, feed, filter, page, format, audience, rotation
window). A reload or a new window simply starts new keys; old ones age out of
the LRU, which is bounded by total bytes. The gzip body and both ETags are made
once, with the entry. Concurrent misses for one key share a single render.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from syndicate.ads.resolver import Placed
from syndicate.metrics import CACHE_LOOKUPS, RENDERS

VariantKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Variant:
    body: bytes
    gzipped: bytes
    etag: str  # strong, of the identity body
    gzip_etag: str  # strong, of the gzip body: a different representation needs a different tag
    last_modified: dt.datetime
    served: tuple[Placed, ...]  # the ad placements this body carries, counted on every response
    headers: dict[str, str]  # what every response of this variant says, made once with it

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
    headers: dict[str, str] = field(default_factory=dict)


def make_variant(rendered: Rendered) -> Variant:
    digest = hashlib.blake2b(rendered.body, digest_size=12).hexdigest()
    # mtime=0 keeps the gzip bytes (and so their ETag) identical for identical bodies.
    gzipped = gzip.compress(rendered.body, compresslevel=6, mtime=0)
    return Variant(rendered.body, gzipped, f'"{digest}"', f'"{digest}-gz"', rendered.last_modified,
                   rendered.served, rendered.headers)


class VariantCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[VariantKey, Variant] = OrderedDict()
        self.pending: dict[VariantKey, asyncio.Future[Variant]] = {}
        self.hits = self.misses = self.renders = 0

    async def get(self, key: VariantKey, render: Callable[[], Rendered]) -> Variant:
        """The cached variant, or one rendered off the event loop by exactly one caller."""
        found = self.entries.get(key)
        if found is not None:
            self.hits += 1
            CACHE_LOOKUPS.labels("hit").inc()
            self.entries.move_to_end(key)
            return found
        waiting = self.pending.get(key)
        if waiting is not None:
            self.hits += 1
            CACHE_LOOKUPS.labels("hit").inc()
            return await asyncio.shield(waiting)
        self.misses += 1
        CACHE_LOOKUPS.labels("miss").inc()
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
