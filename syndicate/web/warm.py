"""The pages most asked for, rendered against a new Snapshot before it goes live.

Right after a swap every request for a changed page would wait for its render, and pollers hit the
busiest pages within a millisecond. So the Reloader, holding the new Snapshot and before swapping it
in, has the variants that answered most of the requests since the last swap rendered anew in a worker
thread (the old Snapshot keeps serving meanwhile), and stores them under the new generation, starting
none after ``BUDGET`` seconds. Pages the swap does not change are kept as they are (``web/carry.py``);
rarely asked pages wait for a request.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from syndicate.ads.caps import CapView
from syndicate.partners import Audience
from syndicate.publish import PageRequest
from syndicate.snapshot import Snapshot
from syndicate.web.carry import Carry
from syndicate.web.state import CAPS, FRAGMENTS, LINKS, SLOTS, VARIANTS
from syndicate.web.variants import Variant, VariantKey, make_variant
from syndicate.web.views import render, variant_key

log = logging.getLogger("syndicate.warm")

#: Render ahead the fewest variants that answered this share of the requests, and at most this many,
#: starting no render after this many seconds: the swap waits for them.
SHARE = 0.9
MOST = 8
BUDGET = 0.5

_Job = tuple[VariantKey, PageRequest, Audience, int, CapView | None]


def _jobs(app: web.Application, old: Snapshot, new: Snapshot) -> list[_Job]:
    """What to render: the busiest variants of ``old`` that the swap changes, keyed for ``new``."""
    carry = Carry(old, new)
    jobs: list[_Job] = []
    for key in app[VARIANTS].busiest(old.generation, SHARE, MOST):
        page, audience_id = key[1], key[2]
        if carry.keeps(key) or not isinstance(page, PageRequest) or not isinstance(audience_id, str):
            continue  # kept as it is, or not a key this module made
        audience = new.audience(audience_id)
        if audience is None:
            continue
        new_key, window, caps = variant_key(app.get(CAPS), new, page, audience_id)
        jobs.append((new_key, page, audience, window, caps))
    return jobs


async def warm(app: web.Application, old: Snapshot, new: Snapshot) -> int:
    """Render the busiest changed variants for ``new`` (not yet live); how many were made."""
    jobs = _jobs(app, old, new)
    if not jobs:
        return 0
    links, fragments, slots = app.get(LINKS), app[FRAGMENTS], app[SLOTS]

    def render_all() -> list[tuple[VariantKey, Variant]]:
        made = []
        begun = time.monotonic()
        for key, page, audience, window, caps in jobs:
            if time.monotonic() - begun >= BUDGET:
                break  # the rest are left to their first requests
            try:
                made.append((key, make_variant(render(new, page, audience, window, links, fragments, caps, slots))))
            except LookupError:
                continue  # the feed or the page is gone from the new Snapshot
            except Exception:
                log.exception(
                    "rendering %s.%s ahead of the swap failed; left to its first request", page.path, page.format
                )
        return made

    made = await asyncio.get_running_loop().run_in_executor(None, render_all)
    cache = app[VARIANTS]
    for key, variant in made:
        cache.ahead(key, variant)
    return len(made)
