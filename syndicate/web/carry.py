"""Which rendered variants outlive a swap: those whose page reads nothing the swap changed.

A feed page is made from the config, the ad spaces, the ad files' change time (its Last-Modified when it
carries ads), the feed's header (title, links, paging, ``updated``) and the articles on that page; the
audience comes from the config, the cap state and rotation window are in the key already. When all of
them compare equal in the old and the new Snapshot, a render against the new one gives the same bytes, so
the variant is kept under the new generation. A space's ``name`` is shown only by the admin API, so a
change to it alone keeps the bytes; the ad files' change time then moved, and a variant with ads gets the
later Last-Modified a render would give. Anything else, or any doubt (a page gone, a change time that went
back), drops the variant: a stale page after a change is worse than a render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from syndicate.ads.model import AdSpace
from syndicate.publish import PageRequest, feed_header, page_articles
from syndicate.snapshot import Snapshot
from syndicate.web.variants import Variant, VariantKey


def shown(spaces: Mapping[str, AdSpace]) -> dict[str, AdSpace]:
    """The spaces as feeds see them: without the name, which only the admin API shows."""
    return {space_id: replace(space, name="") for space_id, space in spaces.items()}


def same_page(old: Snapshot, new: Snapshot, page: PageRequest) -> bool:
    """Whether ``page`` has the same header and the same articles in both Snapshots.

    A feed's header reads its newest ``updated``, a walk over all its articles: when the feed has the very
    same articles (a reload reuses what did not change), its other fields decide, compared without them."""
    before, after = old.feed(page.feed, page.kind, page.slug), new.feed(page.feed, page.kind, page.slug)
    if before is None or after is None:
        return False
    if before.articles is after.articles:
        return replace(before, articles=()) == replace(after, articles=())
    try:
        same_articles = page_articles(old, page) == page_articles(new, page)
        return same_articles and feed_header(old, page) == feed_header(new, page)
    except LookupError:  # the page is gone
        return False


class Carry:
    """A variant of ``old`` as kept for ``new``: under its key with the new generation, or None."""

    def __init__(self, old: Snapshot, new: Snapshot) -> None:
        self.old, self.new = old, new
        self.shared = (
            old.config == new.config and old.ads_changed <= new.ads_changed and shown(old.spaces) == shown(new.spaces)
        )
        self.ads_changed: dt.datetime | None = new.ads_changed if new.ads_changed != old.ads_changed else None
        self._pages: dict[PageRequest, bool] = {}

    def unchanged(self, page: PageRequest) -> bool:
        found = self._pages.get(page)
        if found is None:
            found = self._pages[page] = self.shared and same_page(self.old, self.new, page)
        return found

    def keeps(self, key: VariantKey) -> bool:
        """Whether the variant under ``key`` is kept (re-dated or not), not rendered anew."""
        generation, page = key[0], key[1]
        if generation == self.new.generation:
            return True  # rendered ahead of the swap, for the new Snapshot
        return generation == self.old.generation and isinstance(page, PageRequest) and self.unchanged(page)

    def __call__(self, key: VariantKey, variant: Variant) -> tuple[VariantKey, Variant] | None:
        if not self.keeps(key):
            return None
        if key[0] == self.new.generation:
            return key, variant
        if variant.served and self.ads_changed is not None and self.ads_changed > variant.last_modified:
            variant = replace(variant, last_modified=self.ads_changed, answers=None)  # the same bytes, dated anew
        return (self.new.generation, *key[1:]), variant
