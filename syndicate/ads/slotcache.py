"""Ad slots resolved once per article and context, kept across renders, pages, feeds and reloads.

What an article's calls resolve to depends on the article, and otherwise only on its ``Context``: the ad
spaces, the ad settings, the audience, the format, the links, the rotation window (``rotation: window``
only: ``per_item`` draws in the article's own window) and whether caps are judged. Caps are the exception:
a render's ``Budget`` changes as it places capped units, so an article whose resolution asked the budget
about a capped unit is never kept and is resolved afresh, in document order, by every render. The others
spent nothing and read no count, so their escaped texts and placements hold for every render of the context: a new
variant, another page or feed holding the article, the first render after a reload that left the article
and the ads as they were. Articles are keyed by value, as item fragments are (``formats/assembly.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from syndicate.content.article_numbers import ArticleNumbers
from syndicate.content.model import Article

if TYPE_CHECKING:
    from syndicate.ads.resolver import ServedAd

#: Everything but the article a resolution reads, compared by value (it holds dicts, so it is not hashed).
Context = tuple[object, ...]
#: Contexts remembered at once: audiences × formats × rotation windows in use, and a few ad configs.
MAX_CONTEXTS = 256


#: One article's calls as resolved: their texts in call order, escaped as the context's format writes them
#: (so a render only joins them), and the ads placed, in order.
Resolved = tuple[tuple[bytes, ...], tuple["ServedAd", ...]]


def size_of(resolved: Resolved) -> int:
    texts, served = resolved
    return sum(len(text) for text in texts) + 64 * len(served) + 100


class SlotCache:
    """Resolutions by (context, article), LRU-bounded by bytes; safe across render threads and Snapshots."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.contexts: list[tuple[Context, int]] = []  # most recently used first
        self.next_token = 0
        self.numbers = ArticleNumbers()  # keys of plain numbers (``content/article_numbers.py``)
        self.entries: OrderedDict[tuple[int, int], Resolved] = OrderedDict()
        self.lock = threading.Lock()
        self.resolved = 0  # articles resolved by a resolver and kept: a measure of misses

    def token(self, context: Context) -> int:
        """A small number standing for ``context``: the same for an equal context, while it is remembered."""
        with self.lock:
            for position, (known, token) in enumerate(self.contexts):
                if known == context:
                    if position:
                        self.contexts.insert(0, self.contexts.pop(position))
                    return token
            token = self.next_token
            self.next_token += 1
            self.contexts.insert(0, (context, token))
            del self.contexts[MAX_CONTEXTS:]  # their entries age out of the LRU
            return token

    def get_many(self, token: int, articles: Sequence[Article]) -> list[Resolved | None]:
        with self.lock:
            entries, find = self.entries, self.numbers.find
            found: list[Resolved | None] = []
            for article in articles:
                number = find(article)
                resolved = None
                if number is not None and (resolved := entries.get((token, number))) is not None:
                    entries.move_to_end((token, number))
                found.append(resolved)
            return found

    def put_many(self, token: int, pairs: Sequence[tuple[Article, Resolved]]) -> None:
        with self.lock:
            numbers = self.numbers
            for article, resolved in pairs:
                known = numbers.find(article)
                if known is not None and (token, known) in self.entries:
                    continue
                self.entries[(token, numbers.acquire(article))] = resolved
                self.bytes += size_of(resolved)
            self.resolved += len(pairs)
            while self.bytes > self.max_bytes and self.entries:
                (_, number), evicted = self.entries.popitem(last=False)
                numbers.release(number)
                self.bytes -= size_of(evicted)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.numbers.clear()
            self.contexts.clear()
            self.bytes = 0
