"""When the cycle collector may run: not while a build makes its objects.

A build (the first one at start, each reload's) makes up to millions of objects and next to no garbage.
An automatic collection during it walks the young objects made so far, holding the GIL on whichever
thread set it off. At 100,000 articles a reload's build set off about 110 of them, of up to 2 ms each:
the longest waits a request had for a build thread (the switch interval is 0.5 ms). A first start spent
2.35 s in them. Paused, a first build's objects are walked once, by the full collection before the
first Snapshot is frozen (``serving.tune_for_serving``). A reload's are not walked at all: the young
generations are collected as the reload begins (``young``), while they hold only what requests left,
and the swap freezes what the build made without a collection (one took 16-24 ms at 100,000 articles).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic collections inside; on leaving, on again unless they were off on entering."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def young() -> int:
    """Collect the young generations now; how many unreachable objects were found."""
    return gc.collect(1)
