"""Which rendered variants outlive a swap: those whose page reads nothing the swap changed.

A feed page is made from the config, the ad spaces, the ad files' change time (its Last-Modified), the
feed's header (title, links, paging, ``updated``) and the articles on that page; the audience comes from
the config, the cap state and rotation window are in the key already. When all of them compare equal in
the old and the new Snapshot, a render against the new one gives the same bytes, so the variant is kept
under the new generation. Anything else, or any doubt (a page gone), drops it: a stale page after a
change is worse than a render.
"""

from __future__ import annotations

from syndicate.publish import PageRequest, feed_header, page_articles
from syndicate.snapshot import Snapshot
from syndicate.web.variants import VariantKey


def same_ads_and_config(old: Snapshot, new: Snapshot) -> bool:
    """Whether what every page reads besides its feed is unchanged."""
    return old.config == new.config and old.spaces == new.spaces and old.ads_changed == new.ads_changed


def same_page(old: Snapshot, new: Snapshot, page: PageRequest) -> bool:
    """Whether ``page`` has the same header and the same articles in both Snapshots."""
    try:
        return feed_header(old, page) == feed_header(new, page) and page_articles(old, page) == page_articles(new, page)
    except LookupError:  # the feed or the page is gone
        return False


class Carry:
    """The keys of ``old``'s variants under ``new``: the same key with the new generation, or None."""

    def __init__(self, old: Snapshot, new: Snapshot) -> None:
        self.old, self.new = old, new
        self.shared = same_ads_and_config(old, new)
        self._pages: dict[PageRequest, bool] = {}

    def unchanged(self, page: PageRequest) -> bool:
        found = self._pages.get(page)
        if found is None:
            found = self._pages[page] = self.shared and same_page(self.old, self.new, page)
        return found

    def __call__(self, key: VariantKey) -> VariantKey | None:
        generation, page = key[0], key[1]
        if generation == self.new.generation:
            return key  # rendered ahead of the swap, for the new Snapshot
        if generation != self.old.generation or not isinstance(page, PageRequest) or not self.unchanged(page):
            return None
        return (self.new.generation, *key[1:])
